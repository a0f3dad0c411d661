package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newKeyFiles writes a fresh P-256 key pair and returns the private and
// public PEM files.
func newKeyFiles(t *testing.T) (priv, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	der, _ := x509.MarshalECPrivateKey(k)
	priv, pub = filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func TestAttestResignRotatesTheKey(t *testing.T) {
	f := newAttestFixture(t)
	c1, b1 := f.commit(f.manifest("1.0.0", "weights one", "CHG-1"))
	f.put(f.bot, "1.0.0", b1, f.bundle(f.bot, pin{repo: attestRepo, env: "prod", version: "1.0.0", weights: "weights one", blob: b1, merge: c1}))
	newPriv, newPub := newKeyFiles(t)
	resign := func(trusted ...string) cliResult {
		args := []string{"attest", "resign", "--ref", "main", "--key", newPriv, "--attestations", "file:" + f.storeDir, "--expected-repo", attestRepo}
		for _, k := range trusted {
			args = append(args, "--trusted-key", k)
		}
		return f.run(t, nil, nil, args...)
	}
	resolveWith := func(key string) cliResult {
		return f.run(t, nil, nil, "resolve", "--env", "prod", "--model", "ranker", "--ref", "main",
			"--trusted-key", key, "--attestations", "file:"+f.storeDir, "--expected-repo", attestRepo)
	}
	if got := resolveWith(newPub); got.code != exitUnavailable {
		t.Fatalf("before resign, the new key alone: exit %d, want 4; %s", got.code, got.stderr)
	}
	got := resign(f.bot.pub)
	if got.code != 0 || !strings.Contains(got.stdout, "resigned  prod/ranker 1.0.0") {
		t.Fatalf("resign: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	// The old key can now be retired from the trust root.
	if got := resolveWith(newPub); got.code != 0 {
		t.Fatalf("after resign, the new key alone: exit %d; %s", got.code, got.stderr)
	}
	// Both keys trusted at once also resolves (the rotation window).
	got = f.run(t, nil, nil, "resolve", "--env", "prod", "--model", "ranker", "--ref", "main",
		"--trusted-key", f.bot.pub, "--trusted-key", newPub, "--attestations", "file:"+f.storeDir, "--expected-repo", attestRepo)
	if got.code != 0 {
		t.Fatalf("both keys: exit %d; %s", got.code, got.stderr)
	}
	audit := func() cliResult {
		return f.run(t, nil, nil, "audit", "--ref", "main", "--trusted-key", newPub, "--attestations", "file:"+f.storeDir, "--expected-repo", attestRepo)
	}
	if got := audit(); got.code != 0 || !strings.Contains(got.stdout, "verified       prod/ranker 1.0.0") {
		t.Fatalf("audit: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	if got := resign(f.bot.pub); got.code != 0 || !strings.Contains(got.stdout, "present   prod/ranker") {
		t.Fatalf("resign again: exit %d, stdout %q", got.code, got.stdout)
	}

	// A pin whose existing attestation does not verify (it names another
	// merge) is refused, not re-signed.
	_, b2 := f.commit(f.manifest("1.1.0", "weights two", "CHG-2"))
	f.put(f.bot, "1.1.0", b2, f.bundle(f.bot, pin{repo: attestRepo, env: "prod", version: "1.1.0", weights: "weights two", blob: b2, merge: c1}))
	if got := resign(f.bot.pub); got.code != exitFailed || !strings.Contains(got.stdout, "refused   prod/ranker") {
		t.Fatalf("tampered pin: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	if got := audit(); got.code != 0 || !strings.Contains(got.stdout, "not attested   prod/ranker 1.1.0") {
		t.Errorf("audit of the tampered pin: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	if got := resolveWith(newPub); got.code != exitUnavailable {
		t.Errorf("tampered pin with the new key: exit %d, want 4 (never re-signed)", got.code)
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no new key", []string{"attest", "resign", "--trusted-key", f.bot.pub, "--attestations", "file:" + f.storeDir, "--expected-repo", attestRepo}},
		{"no trust root", []string{"attest", "resign", "--key", newPriv, "--attestations", "file:" + f.storeDir, "--expected-repo", attestRepo}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.run(t, nil, nil, tc.args...); got.code != exitUsage {
				t.Errorf("exit %d, want 2: %s", got.code, got.stderr)
			}
		})
	}
}
