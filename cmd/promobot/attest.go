package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/resolve"
)

func init() { subcommands = append(subcommands, newAttestCommand) }

// trustFlags are the scoring job's own attestation configuration: the keys
// it trusts, the store and the repository attestations must name. They
// come from flags or PROMOBOT_* variables, never from the repository.
type trustFlags struct {
	trusted, trustedVault, baseline, baselineVault []string
	store, expectedRepo                            string
	require                                        bool
}

// trustEnv maps each trust flag to the variable that sets it when the flag
// is not given. List variables hold comma-separated values.
var trustEnv = []struct{ flag, env string }{
	{"trusted-key", "PROMOBOT_TRUSTED_KEYS"},
	{"trusted-keyvault-key", "PROMOBOT_TRUSTED_KEYVAULT_KEYS"},
	{"baseline-key", "PROMOBOT_BASELINE_KEYS"},
	{"baseline-keyvault-key", "PROMOBOT_BASELINE_KEYVAULT_KEYS"},
	{"attestations", "PROMOBOT_ATTESTATIONS"},
	{"expected-repo", "PROMOBOT_EXPECTED_REPO"},
	{"require-attestation", "PROMOBOT_REQUIRE_ATTESTATION"},
}

// register adds the trust flags to fl.
func (t *trustFlags) register(fl *pflag.FlagSet) {
	fl.StringArrayVar(&t.trusted, "trusted-key", nil, "PEM public key file of a key trusted for attestations issued at merge (repeatable; env PROMOBOT_TRUSTED_KEYS, comma-separated)")
	fl.StringArrayVar(&t.trustedVault, "trusted-keyvault-key", nil, "Key Vault key id with its version, https://VAULT/keys/NAME/VERSION, trusted for attestations issued at merge (repeatable; env PROMOBOT_TRUSTED_KEYVAULT_KEYS)")
	fl.StringArrayVar(&t.baseline, "baseline-key", nil, "PEM public key file of an operator key trusted for baseline attestations only (repeatable; env PROMOBOT_BASELINE_KEYS)")
	fl.StringArrayVar(&t.baselineVault, "baseline-keyvault-key", nil, "Key Vault key id with its version trusted for baseline attestations only (repeatable; env PROMOBOT_BASELINE_KEYVAULT_KEYS)")
	fl.StringVar(&t.store, "attestations", "", "attestation store: azblob://ACCOUNT/CONTAINER/PREFIX or file:DIR (env PROMOBOT_ATTESTATIONS)")
	fl.StringVar(&t.expectedRepo, "expected-repo", "", "OWNER/REPO every attestation must name (env PROMOBOT_EXPECTED_REPO)")
	fl.BoolVar(&t.require, "require-attestation", false, "refuse unless a trusted attestation binds the manifest (on whenever a trusted key is given; env PROMOBOT_REQUIRE_ATTESTATION)")
}

// applyEnv fills every trust flag not given on the command line from its
// environment variable.
func (t *trustFlags) applyEnv(fl *pflag.FlagSet, getenv func(string) string) error {
	for _, m := range trustEnv {
		v := strings.TrimSpace(getenv(m.env))
		if v == "" || fl.Changed(m.flag) {
			continue
		}
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			if err := fl.Set(m.flag, item); err != nil {
				return usageError("%s: %v", m.env, err)
			}
		}
	}
	return nil
}

// configured reports whether any trusted key is given.
func (t *trustFlags) configured() bool {
	return len(t.trusted)+len(t.trustedVault)+len(t.baseline)+len(t.baselineVault) > 0
}

// load builds the attestation configuration once, fetching Key Vault keys
// with the default Azure credential. It returns nil when attestations are
// neither configured nor required. A missing or unreadable key, store or
// repository is a configuration error (exit 2); a vault that cannot answer
// is unavailable (exit 4).
func (t *trustFlags) load(ctx context.Context, e *env) (*resolve.Attestations, error) {
	if !t.configured() {
		if t.require {
			return nil, usageError("--require-attestation needs a trust root: give --trusted-key or --trusted-keyvault-key (or a baseline key)")
		}
		return nil, nil
	}
	switch {
	case t.store == "":
		return nil, usageError("a trust root needs --attestations azblob://ACCOUNT/CONTAINER/PREFIX or file:DIR")
	case t.expectedRepo == "":
		return nil, usageError("a trust root needs --expected-repo OWNER/REPO, the repository attestations must name")
	}
	if _, err := (attest.Location{Repository: t.expectedRepo, Environment: "e", Model: "m", Version: "v", ManifestBlob: strings.Repeat("0", 40), KeyID: "k"}).Path(); err != nil {
		return nil, usageError("--expected-repo: %v", err)
	}
	keys, err := t.keys(ctx, e)
	if err != nil {
		return nil, err
	}
	root, err := attest.NewTrustRoot(keys...)
	if err != nil {
		return nil, usageError("trust root: %v", err)
	}
	var creds artifact.Credentials
	if strings.HasPrefix(t.store, "azblob:") {
		if creds, err = artifact.CredentialsFromEnv(e.getenv); err != nil {
			return nil, usageError("attestation store: %v", err)
		}
	}
	store, err := attest.OpenStore(t.store, creds, e.attestStoreOptions)
	if err != nil {
		return nil, usageError("--attestations: %v", err)
	}
	return &resolve.Attestations{Root: root, Store: store, Repository: t.expectedRepo}, nil
}

// keys reads the PEM keys and fetches the Key Vault keys.
func (t *trustFlags) keys(ctx context.Context, e *env) ([]attest.TrustedKey, error) {
	var keys []attest.TrustedKey
	for _, f := range []struct {
		paths    []string
		baseline bool
		flag     string
	}{{t.trusted, false, "--trusted-key"}, {t.baseline, true, "--baseline-key"}} {
		for _, p := range f.paths {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, usageError("%s: %v", f.flag, err)
			}
			k, err := attest.TrustedPEMKey(data, f.baseline)
			if err != nil {
				return nil, usageError("%s %s: %v", f.flag, p, err)
			}
			keys = append(keys, k)
		}
	}
	if len(t.trustedVault)+len(t.baselineVault) == 0 {
		return keys, nil
	}
	cred := e.keyVaultCredential
	if cred == nil {
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, usageError("Key Vault credential: %v", err)
		}
		cred = c
	}
	for _, f := range []struct {
		ids      []string
		baseline bool
		flag     string
	}{{t.trustedVault, false, "--trusted-keyvault-key"}, {t.baselineVault, true, "--baseline-keyvault-key"}} {
		for _, id := range f.ids {
			k, err := attest.TrustedKeyVaultKey(ctx, id, f.baseline, cred, e.keyVaultOptions)
			if err != nil {
				if errors.Is(err, attest.ErrUnavailable) {
					return nil, failure.UnavailableError(fmt.Errorf("%s: %w", f.flag, err))
				}
				return nil, usageError("%s: %v", f.flag, err)
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func newAttestCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attest",
		Short: "Verify signed promotion attestations, and sign baselines for existing pins",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newAttestVerifyCommand(e), newAttestBackfillCommand(e), newAttestResignCommand(e))
	return cmd
}

// attestVerifyFlags are the raw flag values of promobot attest verify.
type attestVerifyFlags struct {
	trust                                      trustFlags
	format, repo, ref, env, model              string
	version, manifestBlob, sha256, mergeCommit string
}

func newAttestVerifyCommand(e *env) *cobra.Command {
	var f attestVerifyFlags
	cmd := &cobra.Command{
		Use:   "verify [BUNDLE] --trusted-key PEM...",
		Short: "Verify an attestation bundle file, or the one in the store for a pin",
		Long: `Verify checks a Sigstore bundle against the trust root given by
--trusted-key, --trusted-keyvault-key, --baseline-key and
--baseline-keyvault-key (or their PROMOBOT_* variables).

With a BUNDLE file, its signature and key role are checked, and every
--expected-repo, --env, --model, --version, --manifest-blob, --sha256 and
--merge-commit given must match what it binds.

Without one, --env and --model name a pin of the repository (--repo, --ref
as for resolve) and the attestation is looked up in --attestations exactly as
resolve does: it must bind the repository, environment, model, version,
manifest blob, artifact digest and the commit that last changed the manifest
on the first-parent history.

Exit status: 0 verified; 1 refused (invalid, tampered, untrusted or about
something else); 2 usage or configuration error; 3 unknown environment,
model or revision; 4 not yet attested, or the store or vault could not
answer (a retry may help).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runAttestVerify(cmd, e, &f, args) },
	}
	fl := cmd.Flags()
	f.trust.register(fl)
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.StringVar(&f.repo, "repo", "", "local repository path or clone URL, when no BUNDLE is given")
	fl.StringVar(&f.ref, "ref", "", "revision to read (default: origin/HEAD, origin/main, then HEAD)")
	fl.StringVar(&f.env, "env", "", "environment")
	fl.StringVar(&f.model, "model", "", "model")
	fl.StringVar(&f.version, "version", "", "version a BUNDLE must bind")
	fl.StringVar(&f.manifestBlob, "manifest-blob", "", "manifest git blob id a BUNDLE must bind")
	fl.StringVar(&f.sha256, "sha256", "", "artifact sha256 a BUNDLE must bind")
	fl.StringVar(&f.mergeCommit, "merge-commit", "", "merge commit a BUNDLE must bind")
	return cmd
}

// attestVerifyJSON is the --format json output of attest verify.
type attestVerifyJSON struct {
	Status       string   `json:"status"`
	KeyID        string   `json:"keyId"`
	Baseline     bool     `json:"baseline"`
	Repository   string   `json:"repository"`
	Environment  string   `json:"environment"`
	Model        string   `json:"model"`
	Version      string   `json:"version"`
	ManifestBlob string   `json:"manifestBlob"`
	SHA256       string   `json:"sha256"`
	MergeCommit  string   `json:"mergeCommit"`
	Approvers    []string `json:"approvers"`
	Location     string   `json:"location,omitempty"`
}

func runAttestVerify(cmd *cobra.Command, e *env, f *attestVerifyFlags, args []string) error {
	if f.format != "text" && f.format != "json" {
		return usageError("unknown format %q: want text or json", f.format)
	}
	ctx := cmd.Context()
	if err := f.trust.applyEnv(cmd.Flags(), e.getenv); err != nil {
		return err
	}
	if !f.trust.configured() {
		return usageError("attest verify needs a trust root: --trusted-key, --trusted-keyvault-key, --baseline-key or --baseline-keyvault-key")
	}
	var out attestVerifyJSON
	if len(args) == 1 {
		keys, err := f.trust.keys(ctx, e)
		if err != nil {
			return err
		}
		root, err := attest.NewTrustRoot(keys...)
		if err != nil {
			return usageError("trust root: %v", err)
		}
		data, err := os.ReadFile(args[0])
		if err != nil {
			return usageError("%v", err)
		}
		v, err := attest.Open(data, root)
		if err != nil {
			return refusedError(err)
		}
		if err := checkGiven(v, f); err != nil {
			return refusedError(err)
		}
		out = verifiedJSON(v)
	} else {
		if f.env == "" || f.model == "" {
			return usageError("attest verify needs a BUNDLE file, or --env and --model to look one up in --attestations")
		}
		cfg, err := f.trust.load(ctx, e)
		if err != nil {
			return err
		}
		repo, _, commit, cleanup, err := openResolveRepoAt(ctx, e, f.repo, f.ref)
		if err != nil {
			return err
		}
		defer cleanup()
		res, err := resolve.CheckAttestation(ctx, repo, commit, f.env, f.model, cfg)
		if err != nil {
			return err
		}
		out = verifiedJSON(res.Verified)
		out.Location = cfg.Store.String() + " " + res.Location
	}
	return writeAttestVerify(e.stdout, f.format, out)
}

// checkGiven refuses a bundle that does not bind every value given.
func checkGiven(v *attest.Verified, f *attestVerifyFlags) error {
	p, s := v.Statement.Predicate, v.Statement.Subject
	for _, c := range []struct{ what, got, want string }{
		{"repository", strings.ToLower(p.Repository), strings.ToLower(f.trust.expectedRepo)},
		{"environment", p.Environment, f.env},
		{"model", p.Model, f.model},
		{"version", p.Version, f.version},
		{"manifest blob", s.ManifestBlob, f.manifestBlob},
		{"artifact sha256", s.ArtifactSHA256, f.sha256},
		{"merge commit", p.Commits.Merge, f.mergeCommit},
	} {
		if c.want != "" && c.got != c.want {
			return fmt.Errorf("attestation refused: the attestation is for %s %q, expected %q", c.what, c.got, c.want)
		}
	}
	return nil
}

// verifiedJSON summarizes a verified bundle.
func verifiedJSON(v *attest.Verified) attestVerifyJSON {
	p, s := v.Statement.Predicate, v.Statement.Subject
	out := attestVerifyJSON{
		Status: resolve.AttestationVerified, KeyID: v.Key.ID, Baseline: p.Baseline,
		Repository: p.Repository, Environment: p.Environment, Model: p.Model, Version: p.Version,
		ManifestBlob: s.ManifestBlob, SHA256: s.ArtifactSHA256, MergeCommit: p.Commits.Merge,
		Approvers: []string{},
	}
	if p.Baseline {
		out.Status = resolve.AttestationBaseline
	}
	for _, a := range p.Approvers {
		out.Approvers = append(out.Approvers, a.Login)
	}
	return out
}

func writeAttestVerify(w io.Writer, format string, out attestVerifyJSON) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s %s in %s\n", out.Status, out.Repository, out.Model, out.Version, out.Environment)
	fmt.Fprintf(&b, "  key:      %s\n", out.KeyID)
	fmt.Fprintf(&b, "  manifest: blob %s, merge %s\n", out.ManifestBlob, out.MergeCommit)
	fmt.Fprintf(&b, "  sha256:   %s\n", out.SHA256)
	approvers := "none"
	if len(out.Approvers) > 0 {
		approvers = strings.Join(out.Approvers, ", ")
	}
	fmt.Fprintf(&b, "  approved: %s\n", approvers)
	if out.Location != "" {
		fmt.Fprintf(&b, "  stored:   %s\n", out.Location)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
