package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/resolve"
)

// resignFlags are the raw flag values of promobot attest resign.
type resignFlags struct {
	trust         trustFlags
	repo, ref     string
	key, vaultKey string
}

func newAttestResignCommand(e *env) *cobra.Command {
	var f resignFlags
	cmd := &cobra.Command{
		Use:   "resign --attestations STORE --expected-repo OWNER/REPO --trusted-key OLD.pub... --key NEW.pem|--keyvault-key ID",
		Short: "Re-sign the current pins' attestations with a new key, after verifying them",
		Long: `Resign rotates the signing key without an outage. For every manifest the
revision (--repo, --ref as for resolve) pins, it first verifies the pin's
existing attestation exactly as resolve does, against the trust root given
by --trusted-key and --trusted-keyvault-key (the keys in use today); then it
signs the same statement, with a new signing time, with the new key (--key
PEM or --keyvault-key ID) and stores it next to the old one. A pin already
re-signed by the new key is left as it is.

Rotate in this order: add the new public key to every scoring job's trust
root, point the bot at the new key, run resign, then remove the old key from
the trust roots. Baseline attestations are re-signed only with
--baseline-signer (the new key must then be a baseline key in the jobs).

Exit status: 0 every pin carries an attestation by the new key; 1 a pin's
existing attestation was refused, so it was not re-signed (the others
were); 2 usage or configuration error; 4 a pin is not yet attested, or the
store or vault could not answer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runResign(cmd, e, &f) },
	}
	fl := cmd.Flags()
	f.trust.register(fl)
	fl.StringVar(&f.repo, "repo", "", "local repository path or clone URL (default: the repository around the working directory)")
	fl.StringVar(&f.ref, "ref", "", "revision whose pins are re-signed (default: origin/HEAD, origin/main, then HEAD)")
	fl.StringVar(&f.key, "key", "", "PEM private key file of the new signing key")
	fl.StringVar(&f.vaultKey, "keyvault-key", "", "Key Vault key id of the new signing key, https://VAULT/keys/NAME/VERSION")
	fl.Bool("baseline-signer", false, "the new key is a baseline key: re-sign baseline attestations (and only those)")
	return cmd
}

func runResign(cmd *cobra.Command, e *env, f *resignFlags) error {
	ctx := cmd.Context()
	if err := f.trust.applyEnv(cmd.Flags(), e.getenv); err != nil {
		return err
	}
	if (f.key == "") == (f.vaultKey == "") {
		return usageError("resign needs exactly one of --key PEM and --keyvault-key ID: the new signing key")
	}
	if !f.trust.configured() {
		return usageError("resign needs the trust root in use: --trusted-key or --trusted-keyvault-key")
	}
	baselineSigner, _ := cmd.Flags().GetBool("baseline-signer")
	cfg, err := f.trust.load(ctx, e)
	if err != nil {
		return err
	}
	signer, err := openSigner(ctx, e, f.key, f.vaultKey, "--key", "--keyvault-key")
	if err != nil {
		return err
	}
	repo, _, commit, cleanup, err := openResolveRepoAt(ctx, e, f.repo, f.ref)
	if err != nil {
		return err
	}
	defer cleanup()
	in, err := repo.BuildInput(ctx, commit, commit, gitrepo.InputOptions{})
	if err != nil {
		return err
	}
	var pins []string
	for p, doc := range in.Base {
		if doc != nil && doc.Manifest != nil {
			pins = append(pins, p)
		}
	}
	slices.Sort(pins)
	var refused, unavailable []string
	for _, p := range pins {
		m := in.Base[p].Manifest
		name := m.Environment + "/" + m.Model
		res, err := resolve.CheckAttestation(ctx, repo, commit, m.Environment, m.Model, cfg)
		switch {
		case err != nil && failure.KindOf(err) == failure.Unavailable:
			unavailable = append(unavailable, name)
			fmt.Fprintf(e.stdout, "%-9s %s %s: %s\n", "waiting", name, m.Version, oneLine(err.Error()))
			continue
		case err != nil:
			refused = append(refused, name)
			fmt.Fprintf(e.stdout, "%-9s %s %s: %s\n", "refused", name, m.Version, oneLine(err.Error()))
			continue
		}
		st := res.Verified.Statement
		if st.Predicate.Baseline != baselineSigner {
			fmt.Fprintf(e.stdout, "%-9s %s %s: %s\n", "skipped", name, m.Version, skipReason(st.Predicate.Baseline))
			continue
		}
		status, err := resignPin(ctx, cfg, signer, st)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(e.stdout, "%-9s %s %s\n", status, name, m.Version)
	}
	switch {
	case len(refused) > 0:
		return refusedError(fmt.Errorf("refused: the attestations of %s did not verify and were not re-signed", strings.Join(refused, ", ")))
	case len(unavailable) > 0:
		return failure.UnavailableError(fmt.Errorf("not re-signed yet: %s (not yet attested, or the store could not answer)", strings.Join(unavailable, ", ")))
	}
	return nil
}

func skipReason(baseline bool) string {
	if baseline {
		return "a baseline attestation; re-sign it with --baseline-signer and a baseline key"
	}
	return "attested at merge; --baseline-signer re-signs baselines only"
}

// resignPin signs st again with signer and stores it at the new key's
// location: "resigned", or "present" when the new key's attestation is
// already there.
func resignPin(ctx context.Context, cfg *resolve.Attestations, signer attest.Signer, st attest.Statement) (string, error) {
	p := st.Predicate
	loc, err := attest.Location{Repository: cfg.Repository, Environment: p.Environment, Model: p.Model, Version: p.Version,
		ManifestBlob: st.Subject.ManifestBlob, KeyID: signer.KeyID()}.Path()
	if err != nil {
		return "", err
	}
	switch _, err := cfg.Store.Get(ctx, loc); {
	case err == nil:
		return "present", nil
	case !errors.Is(err, attest.ErrNotFound):
		return "", storeOrUsage("reading "+loc, err)
	}
	p.SignedAt = time.Now().UTC().Truncate(time.Second)
	bundle, err := attest.Issue(ctx, signer, st.Subject, p)
	if err != nil {
		return "", storeOrUsage("signing", err)
	}
	switch err := cfg.Store.Put(ctx, loc, bundle); {
	case errors.Is(err, attest.ErrExists):
		return "present", nil
	case err != nil:
		return "", storeOrUsage("storing "+loc, err)
	}
	return "resigned", nil
}
