package attest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// editBundle decodes a bundle, lets edit change it and re-encodes it.
func editBundle(t testing.TB, b []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func envelope(m map[string]any) map[string]any { return m["dsseEnvelope"].(map[string]any) }

func signature(m map[string]any) map[string]any {
	return envelope(m)["signatures"].([]any)[0].(map[string]any)
}

// editStatement changes the signed statement and keeps the old signature.
func editStatement(t testing.TB, b []byte, edit func(st map[string]any)) []byte {
	t.Helper()
	return editBundle(t, b, func(m map[string]any) {
		env := envelope(m)
		raw, err := base64.StdEncoding.DecodeString(env["payload"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		edit(st)
		out, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		env["payload"] = base64.StdEncoding.EncodeToString(out)
	})
}

func predicateOf(st map[string]any) map[string]any { return st["predicate"].(map[string]any) }

func subjectDigest(st map[string]any, i int) map[string]any {
	return st["subject"].([]any)[i].(map[string]any)["digest"].(map[string]any)
}

// statementJSON returns the statement issued for sub and p, unsigned.
func statementJSON(t testing.TB, sub Subject, p Predicate, edit func(st map[string]any)) []byte {
	t.Helper()
	raw, err := encodeStatement(sub, p)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	edit(st)
	out, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyAccepts(t *testing.T) {
	bot, _, _ := newPEMSigner(t)
	operator, _, _ := newPEMSigner(t)
	root, err := NewTrustRoot(trusted(bot, false), trusted(operator, true))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(issue(t, bot, sampleSubject(), samplePredicate()), root, sampleExpectation())
	if err != nil {
		t.Fatalf("a genuine attestation was refused: %v", err)
	}
	if v.Key.ID != bot.KeyID() || v.Statement.Predicate.CheckRunID != 23_456_789_012 || v.Statement.Predicate.Approvers[0].ReviewID != 9_000_000_001 {
		t.Errorf("decoded %+v", v)
	}
	want := sampleExpectation()
	want.ManifestPath, want.ArtifactURI = "environments/prod/churn.yaml", artifactURI
	want.Repository = strings.ToUpper(testRepo)
	if _, err := Verify(issue(t, operator, sampleSubject(), sampleBaseline()), root, want); err != nil {
		t.Fatalf("a genuine baseline attestation was refused: %v", err)
	}
}

// TestVerifyTamper holds the tamper suite: every case must be refused,
// with the reason and message saying why.
func TestVerifyTamper(t *testing.T) {
	bot, _, _ := newPEMSigner(t)
	bot2, _, _ := newPEMSigner(t)
	operator, _, _ := newPEMSigner(t)
	stranger, _, _ := newPEMSigner(t)
	retired, _, _ := newPEMSigner(t)
	root, err := NewTrustRoot(trusted(bot, false), trusted(bot2, false), trusted(operator, true))
	if err != nil {
		t.Fatal(err)
	}
	good := issue(t, bot, sampleSubject(), samplePredicate())

	staging := samplePredicate()
	staging.Environment, staging.ManifestPath = "staging", "environments/staging/churn.yaml"
	otherVersion := samplePredicate()
	otherVersion.Version = "3.0.2"
	otherRepo := samplePredicate()
	otherRepo.Repository = "example-org/fork"
	otherModel := samplePredicate()
	otherModel.Model = "fraud"
	olderSubject := sampleSubject()
	olderSubject.ManifestBlob = olderBlob
	otherArtifact := sampleSubject()
	otherArtifact.ArtifactSHA256 = ArtifactSHA256([]byte("other bytes"))
	olderMerge := samplePredicate()
	olderMerge.Commits.Merge = parentCommit

	tests := []struct {
		name   string
		bundle []byte
		want   Expectation
		reason Reason
		msg    string
	}{
		{"edited repository", editStatement(t, good, func(st map[string]any) { predicateOf(st)["repository"] = "example-org/other" }), sampleExpectation(), ReasonSignature, "does not verify"},
		{"edited approver", editStatement(t, good, func(st map[string]any) {
			predicateOf(st)["approvers"].([]any)[0].(map[string]any)["login"] = "mallory"
		}), sampleExpectation(), ReasonSignature, "does not verify"},
		{"edited version", editStatement(t, good, func(st map[string]any) { predicateOf(st)["version"] = "9.9.9" }), sampleExpectation(), ReasonSignature, "does not verify"},
		{"edited baseline marker", editStatement(t, good, func(st map[string]any) { predicateOf(st)["acceptUnreviewed"] = true }), sampleExpectation(), ReasonSignature, "does not verify"},
		{"swapped artifact digest", editStatement(t, good, func(st map[string]any) { subjectDigest(st, 0)["sha256"] = otherArtifact.ArtifactSHA256 }), sampleExpectation(), ReasonSignature, "does not verify"},
		{"swapped manifest digest", editStatement(t, good, func(st map[string]any) { subjectDigest(st, 1)["gitBlob"] = olderBlob }), sampleExpectation(), ReasonSignature, "does not verify"},
		{"other environment replayed", issue(t, bot, sampleSubject(), staging), sampleExpectation(), ReasonMismatch, `environment "staging", expected "prod"`},
		{"other version replayed", issue(t, bot, sampleSubject(), otherVersion), sampleExpectation(), ReasonMismatch, `version "3.0.2", expected "3.1.0"`},
		{"other repository replayed", issue(t, bot, sampleSubject(), otherRepo), sampleExpectation(), ReasonMismatch, `repository "example-org/fork"`},
		{"other model replayed", issue(t, bot, sampleSubject(), otherModel), sampleExpectation(), ReasonMismatch, `model "fraud"`},
		{"older manifest blob of the same version", issue(t, bot, olderSubject, samplePredicate()), sampleExpectation(), ReasonMismatch, "manifest blob \"" + olderBlob},
		{"other artifact bytes", issue(t, bot, otherArtifact, samplePredicate()), sampleExpectation(), ReasonMismatch, "artifact sha256"},
		{"older approved manifest re-pushed", issue(t, bot, sampleSubject(), olderMerge), sampleExpectation(), ReasonMismatch, "merge commit \"" + parentCommit},
		{"untrusted key", issue(t, stranger, sampleSubject(), samplePredicate()), sampleExpectation(), ReasonUntrustedKey, "not trusted"},
		{"retired key", issue(t, retired, sampleSubject(), samplePredicate()), sampleExpectation(), ReasonUntrustedKey, "not trusted"},
		{"untrusted key naming a trusted key", editBundle(t, issue(t, stranger, sampleSubject(), samplePredicate()), func(m map[string]any) {
			m["verificationMaterial"].(map[string]any)["publicKey"].(map[string]any)["hint"] = bot.KeyID()
			signature(m)["keyid"] = bot.KeyID()
		}), sampleExpectation(), ReasonSignature, "does not verify"},
		{"hint naming another trusted key", editBundle(t, good, func(m map[string]any) {
			m["verificationMaterial"].(map[string]any)["publicKey"].(map[string]any)["hint"] = bot2.KeyID()
			signature(m)["keyid"] = bot2.KeyID()
		}), sampleExpectation(), ReasonSignature, "does not verify with trusted key " + bot2.KeyID()},
		{"signature keyid differs from hint", editBundle(t, good, func(m map[string]any) { signature(m)["keyid"] = bot2.KeyID() }), sampleExpectation(), ReasonMalformed, "signature names key"},
		{"baseline signed by a non-baseline key", issue(t, bot, sampleSubject(), sampleBaseline()), sampleExpectation(), ReasonKeyRole, "not a baseline key"},
		{"merge attestation signed by a baseline key", issue(t, operator, sampleSubject(), samplePredicate()), sampleExpectation(), ReasonKeyRole, "baseline attestations only"},
		{"truncated bundle", good[:len(good)/2], sampleExpectation(), ReasonMalformed, "not a Sigstore bundle"},
		{"truncated payload", editBundle(t, good, func(m map[string]any) {
			p := envelope(m)["payload"].(string)
			envelope(m)["payload"] = p[:len(p)/2]
		}), sampleExpectation(), ReasonSignature, "does not verify"},
		{"signature re-encoded as raw r||s", editBundle(t, good, func(m map[string]any) {
			der, _ := base64.StdEncoding.DecodeString(signature(m)["sig"].(string))
			signature(m)["sig"] = base64.StdEncoding.EncodeToString(derToRaw(t, der))
		}), sampleExpectation(), ReasonSignature, "does not verify"},
		{"signature with trailing bytes", editBundle(t, good, func(m map[string]any) {
			der, _ := base64.StdEncoding.DecodeString(signature(m)["sig"].(string))
			signature(m)["sig"] = base64.StdEncoding.EncodeToString(append(der, 0))
		}), sampleExpectation(), ReasonSignature, "does not verify"},
		{"payload type changed", editBundle(t, good, func(m map[string]any) { envelope(m)["payloadType"] = "application/json" }), sampleExpectation(), ReasonMalformed, "payload type"},
		{"media type changed", editBundle(t, good, func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1" }), sampleExpectation(), ReasonMalformed, "media type"},
		{"second signature", editBundle(t, good, func(m map[string]any) {
			envelope(m)["signatures"] = append(envelope(m)["signatures"].([]any), signature(m))
		}), sampleExpectation(), ReasonMalformed, "2 signatures"},
		{"unknown bundle field", editBundle(t, good, func(m map[string]any) { m["extra"] = true }), sampleExpectation(), ReasonMalformed, "not a Sigstore bundle"},
		{"no hint", editBundle(t, good, func(m map[string]any) { m["verificationMaterial"].(map[string]any)["publicKey"] = map[string]any{} }), sampleExpectation(), ReasonMalformed, "names no public key"},
		{"signed legacy statement type", signRaw(t, bot, statementJSON(t, sampleSubject(), samplePredicate(), func(st map[string]any) {
			st["_type"] = "https://in-toto.io/Statement/v0.1"
		})), sampleExpectation(), ReasonMalformed, "statement type"},
		{"signed other predicate type", signRaw(t, bot, statementJSON(t, sampleSubject(), samplePredicate(), func(st map[string]any) {
			st["predicateType"] = "https://slsa.dev/provenance/v1"
		})), sampleExpectation(), ReasonMalformed, "predicate type"},
		{"signed unknown predicate field", signRaw(t, bot, statementJSON(t, sampleSubject(), samplePredicate(), func(st map[string]any) {
			predicateOf(st)["approved"] = true
		})), sampleExpectation(), ReasonMalformed, `unknown field "approved"`},
		{"signed third subject", signRaw(t, bot, statementJSON(t, sampleSubject(), samplePredicate(), func(st map[string]any) {
			st["subject"] = append(st["subject"].([]any), map[string]any{"name": "x", "digest": map[string]any{"sha256": artifactDigest}})
		})), sampleExpectation(), ReasonMalformed, "3 subjects"},
		{"signed manifest subject naming another path", signRaw(t, bot, statementJSON(t, sampleSubject(), samplePredicate(), func(st map[string]any) {
			st["subject"].([]any)[1].(map[string]any)["name"] = "environments/dev/churn.yaml"
		})), sampleExpectation(), ReasonMalformed, "manifest subject"},
		{"artifact URI differs", good, func() Expectation { e := sampleExpectation(); e.ArtifactURI = "https://evil/model.onnx"; return e }(), ReasonMismatch, "artifact URI"},
		{"not JSON", []byte("not json"), sampleExpectation(), ReasonMalformed, "not a Sigstore bundle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.bundle, root, tc.want)
			if err == nil {
				t.Fatal("a tampered attestation was accepted")
			}
			if r, ok := ReasonOf(err); !ok || r != tc.reason {
				t.Errorf("reason = %v (%v), want %v; error: %v", r, ok, tc.reason, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

// derToRaw converts an ASN.1 DER signature to 64-byte r||s.
func derToRaw(t testing.TB, der []byte) []byte {
	t.Helper()
	var sig struct{ R, S []byte }
	// Decode by hand: SEQUENCE { INTEGER r, INTEGER s }.
	rest := der[2:]
	for _, dst := range []*[]byte{&sig.R, &sig.S} {
		n := int(rest[1])
		*dst = bytes.TrimLeft(rest[2:2+n], "\x00")
		rest = rest[2+n:]
	}
	out := make([]byte, 64)
	copy(out[32-len(sig.R):32], sig.R)
	copy(out[64-len(sig.S):], sig.S)
	return out
}

func TestVerifyNeedsEveryExpectation(t *testing.T) {
	bot, _, _ := newPEMSigner(t)
	root, err := NewTrustRoot(trusted(bot, false))
	if err != nil {
		t.Fatal(err)
	}
	want := sampleExpectation()
	want.MergeCommit, want.ManifestBlob = "", ""
	_, err = Verify(issue(t, bot, sampleSubject(), samplePredicate()), root, want)
	if err == nil || err.Error() != "cannot check an attestation without the expected manifest blob, merge commit" {
		t.Fatalf("err = %v", err)
	}
}

func TestNewTrustRoot(t *testing.T) {
	bot, _, _ := newPEMSigner(t)
	tests := []struct {
		name string
		keys []TrustedKey
		want string
	}{
		{"empty", nil, "the trust root holds no keys"},
		{"no id", []TrustedKey{{Public: bot.Public()}}, "a trusted key has no id"},
		{"no key", []TrustedKey{{ID: "k"}}, "trusted key k is not an ECDSA P-256 key"},
		{"duplicate", []TrustedKey{trusted(bot, false), trusted(bot, true)}, "trusted key " + bot.KeyID() + " is listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewTrustRoot(tc.keys...); err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkVerify measures verification of one bundle (no artifact hashing).
func BenchmarkVerify(b *testing.B) {
	bot, _, _ := newPEMSigner(b)
	root, err := NewTrustRoot(trusted(bot, false))
	if err != nil {
		b.Fatal(err)
	}
	bundle := issue(b, bot, sampleSubject(), samplePredicate())
	want := sampleExpectation()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(bundle, root, want); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzOpen feeds arbitrary bytes to the bundle parser: it must refuse
// without panicking, and accept only what the trusted key signed.
func FuzzOpen(f *testing.F) {
	bot, _, _ := newPEMSigner(f)
	root, err := NewTrustRoot(trusted(bot, false))
	if err != nil {
		f.Fatal(err)
	}
	good := issue(f, bot, sampleSubject(), samplePredicate())
	f.Add(good)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Open(data, root)
		if err == nil && v.Key.ID != bot.KeyID() {
			t.Fatalf("accepted with key %q", v.Key.ID)
		}
		if err != nil {
			if _, ok := ReasonOf(err); !ok {
				t.Fatalf("a refusal without a reason: %v", err)
			}
		}
	})
}
