package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// hotfixNote is what the admin's direct push appends (story.bypass).
const hotfixNote = "notes: hotfix, calibrated by hand\n"

// attestationKey writes the bot's attestation signing key (a PEM file, as
// for development; production uses a Key Vault key) and returns the
// private and public key files and the store.
func (w *world) attestationKey() (priv, pub, store string, err error) {
	dir := filepath.Join(w.work, "attest")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", err
	}
	priv, pub, store = filepath.Join(dir, "bot.pem"), filepath.Join(dir, "bot.pub"), "file:"+filepath.Join(w.work, "attestations")
	if _, err := os.Stat(priv); err == nil {
		return priv, pub, store, nil
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return "", "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", "", "", err
	}
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", "", "", err
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return "", "", "", err
	}
	return priv, pub, store, nil
}

// offline runs promobot as the scoring job does once attestations are
// required: its trust root from its own configuration, the repository
// read from a mirror (the bare repository on the git server's disk), and
// no GitHub at all (the API URL leads nowhere and there is no token).
func (s *story) offline(ctx context.Context, args ...string) (stdout, stderr string, code int, err error) {
	_, pub, store, err := s.w.attestationKey()
	if err != nil {
		return "", "", 0, err
	}
	cmd := exec.CommandContext(ctx, s.w.opts.Promobot, args...)
	cmd.Dir = s.w.work
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GITHUB_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"GITHUB_API_URL=http://127.0.0.1:1/",
		"AZURE_STORAGE_CONNECTION_STRING="+s.w.azurite.ConnectionString,
		"PROMOBOT_TRUSTED_KEYS="+pub,
		"PROMOBOT_ATTESTATIONS="+store,
		"PROMOBOT_EXPECTED_REPO="+Org+"/"+RepoName)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode(), nil
	}
	return out.String(), errOut.String(), 0, err
}

// attested waits for the bot to attest the prod merge, then shows the
// scoring job resolving with the attestation and no GitHub API.
func (s *story) attested(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	verify := []string{"attest", "verify", "--repo", s.w.barePath, "--env", "prod", "--model", forecaster, "--format", "json"}
	for {
		stdout, stderr, code, err := s.offline(ctx, verify...)
		if err != nil {
			return err
		}
		if code == 0 {
			s.say("the bot judged the prod merge again and signed an attestation of each pin it changed: %s", oneLineJSON(stdout))
			break
		}
		if code != 4 || time.Now().After(deadline) {
			return fmt.Errorf("attest verify of the prod merge: exit %d: %s (see serve.log)", code, stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stdout, stderr, code, err := s.offline(ctx, "resolve", "--repo", s.w.barePath, "--env", "prod", "--model", forecaster, "--format", "env")
	if err != nil || code != 0 {
		return fmt.Errorf("resolve with the attestation: exit %d: %v: %s", code, err, stderr)
	}
	s.say("scoring job, no GitHub API: promobot resolve with PROMOBOT_TRUSTED_KEYS -> %s %s, attested (%s)", forecaster,
		envValue(stdout, "MODEL_VERSION"), envValue(stdout, "MODEL_ATTESTATION"))
	return nil
}

// offlineRefusal shows the admin's pushes around review refused offline:
// the hotfix has no attestation (the bot judged the push and signed
// nothing), and the approved manifest pushed back byte for byte is refused
// because its attestation names another merge.
func (s *story) offlineRefusal(ctx context.Context) error {
	args := []string{"resolve", "--repo", s.w.barePath, "--env", "prod", "--model", calibrator, "--format", "env"}
	_, stderr, code, err := s.offline(ctx, args...)
	if err != nil {
		return err
	}
	if code != 4 {
		return fmt.Errorf("resolve of the admin's hotfix with attestations required: exit %d, want 4: %s", code, stderr)
	}
	s.say("scoring job, no GitHub API: resolve of pat's hotfix refuses to load it (exit 4, no attestation will come): %s", strings.TrimSpace(stderr))

	p := manifest.Path("prod", calibrator)
	tip, texts, err := s.readMain(p)
	if err != nil {
		return err
	}
	approved, ok := strings.CutSuffix(texts[0], hotfixNote)
	if !ok {
		return fmt.Errorf("%s does not end with the hotfix note", p)
	}
	sig := gittest.Signature{Name: "Pat Platform", Email: email("pat"), When: time.Now()}
	after, err := gittest.CommitFiles(s.w.barePath, gittest.Commit{Branch: "main", Files: map[string]string{p: approved},
		Author: sig, Message: "Revert the hotfix\n"})
	if err != nil {
		return err
	}
	push, err := s.w.github.PushEvent(ctx, Org, RepoName, "refs/heads/main", tip.String(), after, "pat")
	if err != nil {
		return err
	}
	if err := s.w.deliver(ctx, "push", push); err != nil {
		return err
	}
	s.say("pat pushes the approved %s back, byte for byte, straight to main", p)
	_, stderr, code, err = s.offline(ctx, args...)
	if err != nil {
		return err
	}
	if code != 1 {
		return fmt.Errorf("resolve of the re-pushed manifest: exit %d, want 1: %s", code, stderr)
	}
	s.say("scoring job, no GitHub API: resolve refuses (exit 1): %s", strings.TrimSpace(stderr))
	return nil
}

// oneLineJSON squeezes JSON output onto one line for the log.
func oneLineJSON(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
