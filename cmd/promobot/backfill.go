package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// backfillFlags are the raw flag values of promobot attest backfill.
type backfillFlags struct {
	src              auditSource
	key, vaultKey    string
	store            string
	acceptUnreviewed []string
}

func newAttestBackfillCommand(e *env) *cobra.Command {
	var f backfillFlags
	cmd := &cobra.Command{
		Use:   "backfill --github-repo OWNER/REPO --attestations STORE --key PEM|--keyvault-key ID",
		Short: "Sign baseline attestations for what each environment pins today",
		Long: `Backfill signs, with an operator key, a baseline attestation for every
manifest the default branch pins today, so that scoring jobs can require
attestations in a repository that had pins before the bot issued any.

Each pin is first checked as resolve --require-reviewed checks it (asks
GitHub): a pin whose pinning change or a later edit bypassed review is
refused unless named with --accept-unreviewed ENV/MODEL, which the
attestation records (acceptUnreviewed). A pin already attested by this key
is left as it is (the store is write-once).

Scoring jobs accept baseline attestations only from keys they configure as
baseline keys (--baseline-key, --baseline-keyvault-key).

Exit status: 0 every pin attested; 1 a pin was refused as unreviewed (the
others were attested); 2 usage or configuration error; 4 GitHub, the
store or the vault could not answer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBackfill(cmd.Context(), e, &f) },
	}
	fl := cmd.Flags()
	f.src.register(fl)
	fl.StringVar(&f.key, "key", "", "PEM private key file of the operator's baseline key")
	fl.StringVar(&f.vaultKey, "keyvault-key", "", "Key Vault key id of the operator's baseline key, https://VAULT/keys/NAME[/VERSION]")
	fl.StringVar(&f.store, "attestations", "", "attestation store: azblob://ACCOUNT/CONTAINER/PREFIX or file:DIR")
	fl.StringArrayVar(&f.acceptUnreviewed, "accept-unreviewed", nil, "ENV/MODEL whose pin bypassed review and is attested anyway, recorded in the attestation (repeatable)")
	return cmd
}

// backfillSigner opens the operator's key.
func backfillSigner(ctx context.Context, e *env, f *backfillFlags) (attest.Signer, error) {
	switch {
	case (f.key == "") == (f.vaultKey == ""):
		return nil, usageError("backfill needs exactly one of --key PEM and --keyvault-key ID")
	case f.key != "":
		data, err := os.ReadFile(f.key)
		if err != nil {
			return nil, usageError("--key: %v", err)
		}
		s, err := attest.NewPEMSigner(data)
		if err != nil {
			return nil, usageError("--key %s: %v", f.key, err)
		}
		return s, nil
	}
	cred := e.keyVaultCredential
	if cred == nil {
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, usageError("Key Vault credential: %v", err)
		}
		cred = c
	}
	s, err := attest.NewKeyVaultSigner(ctx, f.vaultKey, cred, e.keyVaultOptions)
	if err != nil {
		return nil, storeOrUsage("--keyvault-key", err)
	}
	return s, nil
}

// storeOrUsage marks a store or vault failure as unavailable when a retry
// can help, else as a configuration error.
func storeOrUsage(what string, err error) error {
	if errors.Is(err, attest.ErrUnavailable) {
		return failure.UnavailableError(fmt.Errorf("%s: %w", what, err))
	}
	return usageError("%s: %v", what, err)
}

func runBackfill(ctx context.Context, e *env, f *backfillFlags) error {
	if f.src.githubRepo == "" {
		return usageError("backfill needs --github-repo OWNER/REPO: it asks GitHub whether each pin was reviewed, and names the repository in the attestations")
	}
	if f.store == "" {
		return usageError("backfill needs --attestations azblob://ACCOUNT/CONTAINER/PREFIX or file:DIR")
	}
	accepted := map[string]bool{}
	for _, a := range f.acceptUnreviewed {
		if env, model, ok := strings.Cut(a, "/"); !ok || env == "" || model == "" {
			return usageError("--accept-unreviewed %q: want ENV/MODEL", a)
		}
		accepted[a] = false
	}
	signer, err := backfillSigner(ctx, e, f)
	if err != nil {
		return err
	}
	var creds artifact.Credentials
	if strings.HasPrefix(f.store, "azblob:") {
		if creds, err = artifact.CredentialsFromEnv(e.getenv); err != nil {
			return usageError("attestation store: %v", err)
		}
	}
	store, err := attest.OpenStore(f.store, creds, e.attestStoreOptions)
	if err != nil {
		return usageError("--attestations: %v", err)
	}
	f.src.noCache = true
	run, err := f.src.load(ctx, e)
	if err != nil {
		return err
	}
	repoPath, err := repoOrEnclosing(e, f.src.repo)
	if err != nil {
		return usageError("%v", err)
	}
	repo, err := gitrepo.Open(repoPath)
	if err != nil {
		return usageError("%v", err)
	}
	defer repo.Close()
	commit, err := resolveRef(repo, f.src.ref)
	if err != nil {
		return err
	}
	in, err := repo.BuildInput(ctx, commit, commit, gitrepo.InputOptions{})
	if err != nil {
		return err
	}
	var policyBlob string
	if _, b, err := repo.LastChange(ctx, policy.Path, commit); err == nil {
		policyBlob = b.String()
	}
	paths := make([]string, 0, len(in.Base))
	for p, doc := range in.Base {
		if doc != nil && doc.Manifest != nil {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var refused []string
	for _, p := range paths {
		m := in.Base[p].Manifest
		name := m.Environment + "/" + m.Model
		_, rerr := audit.RequireReviewed(ctx, run.history, run.reviewer, m.Environment, m.Model)
		var unreviewed *audit.UnreviewedError
		accept := false
		switch {
		case errors.As(rerr, &unreviewed):
			if _, ok := accepted[name]; !ok {
				refused = append(refused, name)
				fmt.Fprintf(e.stdout, "refused   %s %s: %v (name it with --accept-unreviewed %s to attest it anyway)\n", name, m.Version, oneLine(rerr.Error()), name)
				continue
			}
			accepted[name], accept = true, true
		case rerr != nil:
			return fmt.Errorf("could not check the review history of %s: %w", name, rerr)
		}
		status, err := backfillPin(ctx, repo, commit, store, signer, f.src.githubRepo, p, m, policyBlob, accept)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%-9s %s %s\n", status, name, m.Version)
	}
	for name, used := range accepted {
		if !used {
			fmt.Fprintf(e.stderr, "warning: --accept-unreviewed %s names no unreviewed pin\n", name)
		}
	}
	if len(refused) > 0 {
		return refusedError(fmt.Errorf("refused: %d %s bypassed review and %s not attested: %s", len(refused), pluralWord(len(refused), "pin", "pins"), pluralWord(len(refused), "was", "were"), strings.Join(refused, ", ")))
	}
	return nil
}

// backfillPin signs and stores the baseline attestation of the manifest m
// at path p, and says what it did: "attested" or "present" (this key had
// already attested it).
func backfillPin(ctx context.Context, repo *gitrepo.Repo, commit plumbing.Hash, store attest.Store, signer attest.Signer, ghRepo, p string, m *manifest.Manifest, policyBlob string, accept bool) (string, error) {
	merge, blob, err := repo.LastChange(ctx, p, commit)
	if err != nil {
		return "", err
	}
	pred := attest.Predicate{
		Repository: ghRepo, Environment: m.Environment, Model: m.Model, Version: m.Version,
		ChangeKind: attest.ChangeBaseline, ManifestPath: p, Approvers: []attest.Approver{},
		Commits: attest.Commits{Merge: merge.String()}, Policy: attest.PolicyRef{PolicyBlob: policyBlob},
		Rules: []attest.RuleOutcome{}, Ticket: m.Approval.Ticket, Rationale: m.Approval.Rationale, BotVersion: version,
		SignedAt: time.Now().UTC().Truncate(time.Second), Baseline: true, AcceptUnreviewed: accept,
	}
	loc, err := attest.Location{Repository: ghRepo, Environment: m.Environment, Model: m.Model, Version: m.Version, ManifestBlob: blob.String(), KeyID: signer.KeyID()}.Path()
	if err != nil {
		return "", usageError("%s: %v", p, err)
	}
	bundle, err := attest.Issue(ctx, signer, attest.Subject{ArtifactURI: m.Artifact.URI, ArtifactSHA256: m.Artifact.SHA256, ManifestBlob: blob.String()}, pred)
	if err != nil {
		return "", storeOrUsage("signing "+p, err)
	}
	switch err := store.Put(ctx, loc, bundle); {
	case errors.Is(err, attest.ErrExists):
		return "present", nil
	case err != nil:
		return "", storeOrUsage("storing the attestation of "+p, err)
	}
	return "attested", nil
}
