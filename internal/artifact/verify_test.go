package artifact

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
)

const fakeURI = "https://acct.blob.core.windows.net/models/fraud/model.pkl"

var fakeAllowed = []string{"https://acct.blob.core.windows.net/models/"}

// newFakeVerifier returns a verifier over store that trusts keys.
func newFakeVerifier(t *testing.T, store Store, keys ...*ecdsa.PublicKey) *Verifier {
	t.Helper()
	v, err := NewVerifier(Config{
		AllowedLocations: fakeAllowed,
		TrustedKeys:      keys,
		Stores:           SchemeResolver{"https": store},
	})
	if err != nil {
		t.Fatal(err)
	}
	v.stream = fastStreamer()
	return v
}

func TestVerifyOutcomes(t *testing.T) {
	data := testData(300 << 10)
	trusted, untrusted := newKey(t), newKey(t)
	good := Spec{URI: fakeURI, SHA256: sha256Hex(data), Size: ptr(int64(len(data)))}

	tests := []struct {
		name       string
		spec       Spec
		require    bool
		setup      func(s *fakeStore)
		wantReason Reason // ignored when wantOK
		wantOK     bool
		wantChecks map[string]CheckStatus
		wantCalls  int // -1: do not check
	}{
		{
			name: "good unsigned", spec: good, wantOK: true, wantCalls: -1,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckPassed, CheckSHA256: CheckPassed, CheckSignature: CheckSkipped},
		},
		{
			name: "good without size", spec: Spec{URI: fakeURI, SHA256: "sha256:" + strings.ToUpper(sha256Hex(data))}, wantOK: true, wantCalls: -1,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckSkipped, CheckSHA256: CheckPassed, CheckSignature: CheckSkipped},
		},
		{
			name: "good DER signature", spec: withSig(good, signDER(t, trusted, data)), require: true, wantOK: true, wantCalls: -1,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckPassed, CheckSHA256: CheckPassed, CheckSignature: CheckPassed},
		},
		{
			name: "good P1363 signature with trailing newline", spec: withSig(good, signP1363(t, trusted, data)+"\n"), wantOK: true, wantCalls: -1,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckPassed, CheckSHA256: CheckPassed, CheckSignature: CheckPassed},
		},
		{
			name: "tampered byte", spec: good, wantReason: ReasonDigestMismatch, wantCalls: -1,
			setup: func(s *fakeStore) {
				bad := append([]byte(nil), data...)
				bad[len(bad)/2] ^= 1
				s.put(fakeURI, bad)
			},
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckPassed, CheckSHA256: CheckFailed},
		},
		{
			name: "truncated with size", spec: good, wantReason: ReasonSizeMismatch, wantCalls: 1,
			setup:      func(s *fakeStore) { s.put(fakeURI, data[:len(data)-1]) },
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckFailed},
		},
		{
			name: "truncated without size", spec: Spec{URI: fakeURI, SHA256: good.SHA256}, wantReason: ReasonDigestMismatch, wantCalls: -1,
			setup:      func(s *fakeStore) { s.put(fakeURI, data[:len(data)-1]) },
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckSkipped, CheckSHA256: CheckFailed},
		},
		{
			name: "missing", spec: Spec{URI: fakeURI + ".gone", SHA256: good.SHA256}, wantReason: ReasonNotFound, wantCalls: 1,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckFailed},
		},
		{
			name: "wrong signature", spec: withSig(good, signDER(t, trusted, []byte("other bytes"))), wantReason: ReasonSignatureInvalid, wantCalls: -1,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckPassed, CheckSHA256: CheckPassed, CheckSignature: CheckFailed},
		},
		{
			name: "untrusted key", spec: withSig(good, signDER(t, untrusted, data)), wantReason: ReasonSignatureInvalid, wantCalls: -1,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckPassed, CheckSHA256: CheckPassed, CheckSignature: CheckFailed},
		},
		{
			name: "required signature missing", spec: good, require: true, wantReason: ReasonSignatureMissing, wantCalls: 0,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckSignature: CheckFailed},
		},
		{
			name: "signature not base64", spec: withSig(good, "not*base64"), wantReason: ReasonInvalidSpec, wantCalls: 0,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckSignature: CheckFailed},
		},
		{
			name: "bad digest", spec: Spec{URI: fakeURI, SHA256: "abc"}, wantReason: ReasonInvalidSpec, wantCalls: 0,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckSHA256: CheckFailed},
		},
		{
			name: "negative size", spec: Spec{URI: fakeURI, SHA256: good.SHA256, Size: ptr(int64(-1))}, wantReason: ReasonInvalidSpec, wantCalls: 0,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckSize: CheckFailed},
		},
		{
			name: "disallowed account", spec: Spec{URI: "https://evil.blob.core.windows.net/models/fraud/model.pkl", SHA256: good.SHA256}, wantReason: ReasonLocationRefused, wantCalls: 0,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckFailed},
		},
		{
			name: "dot dot escape", spec: Spec{URI: "https://acct.blob.core.windows.net/models/%2e%2e/secrets/model.pkl", SHA256: good.SHA256}, wantReason: ReasonLocationRefused, wantCalls: 0,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckFailed},
		},
		{
			name: "user info trick", spec: Spec{URI: "https://acct.blob.core.windows.net@evil.example/models/fraud/model.pkl", SHA256: good.SHA256}, wantReason: ReasonLocationRefused, wantCalls: 0,
			wantChecks: map[string]CheckStatus{CheckLocation: CheckFailed},
		},
		{
			name: "storage unavailable", spec: good, wantReason: ReasonUnavailable, wantCalls: -1,
			setup: func(s *fakeStore) {
				s.openErr = func(int, int64) error { return errors.New("fake: connection refused") }
			},
			wantChecks: map[string]CheckStatus{CheckLocation: CheckPassed, CheckExists: CheckPassed, CheckSize: CheckPassed, CheckSHA256: CheckNotRun},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			store.put(fakeURI, data)
			if tt.setup != nil {
				tt.setup(store)
			}
			v := newFakeVerifier(t, store, &trusted.PublicKey)
			res, err := v.Verify(t.Context(), tt.spec, tt.require)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Verify failed: %v", err)
				}
				if !res.Verified() {
					t.Errorf("Verify succeeded but the result is not verified:\n%s", res)
				}
				if res.SHA256 != sha256Hex(data) || res.BytesRead != int64(len(data)) {
					t.Errorf("result digest/bytes = %s/%d, want %s/%d", res.SHA256, res.BytesRead, sha256Hex(data), len(data))
				}
			} else {
				if err == nil {
					t.Fatalf("Verify succeeded, want %s:\n%s", tt.wantReason, res)
				}
				if got, _ := ReasonOf(err); got != tt.wantReason {
					t.Errorf("reason = %s, want %s (error: %v)", got, tt.wantReason, err)
				}
				if got, want := failure.IsTerminal(err), tt.wantReason != ReasonUnavailable; got != want {
					t.Errorf("IsTerminal = %v, want %v", got, want)
				}
				if res.Verified() {
					t.Errorf("result claims verified despite the error:\n%s", res)
				}
			}
			got := map[string]CheckStatus{}
			for _, c := range res.Checks {
				if c.Status != CheckNotRun {
					got[c.Name] = c.Status
				}
			}
			want := map[string]CheckStatus{}
			for k, v := range tt.wantChecks {
				if v != CheckNotRun {
					want[k] = v
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("checks mismatch (-want +got):\n%s\n%s", diff, res)
			}
			if tt.wantCalls >= 0 {
				if calls := store.callLog(); len(calls) != tt.wantCalls {
					t.Errorf("store calls = %q, want %d", calls, tt.wantCalls)
				}
			}
		})
	}
}

func withSig(s Spec, sig string) Spec {
	s.Signature = sig
	return s
}

func TestVerifyResultExplainsItself(t *testing.T) {
	data := []byte("model bytes")
	store := newFakeStore()
	store.put(fakeURI, data)
	store.objects[fakeURI] = fakeObject{data: data, etag: `"0x1"`}
	key := newKey(t)
	v := newFakeVerifier(t, store, &key.PublicKey)

	res, err := v.Verify(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex(data), Size: ptr(int64(len(data))), Signature: signDER(t, key, data)}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`%s: verified
  location  passed  under an allowed location
  exists    passed  11 bytes, ETag "0x1"
  size      passed  11 bytes as expected
  sha256    passed  %s as expected
  signature passed  verified with trusted key %s
`, fakeURI, sha256Hex(data), KeyFingerprint(&key.PublicKey))
	if diff := cmp.Diff(want, res.String()); diff != "" {
		t.Errorf("rendering mismatch (-want +got):\n%s", diff)
	}

	_, err = v.Verify(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex([]byte("other"))}, false)
	wantErr := fmt.Sprintf("artifact %s: the artifact's sha256 is %s but the manifest says %s", fakeURI, sha256Hex(data), sha256Hex([]byte("other")))
	if err == nil || err.Error() != wantErr {
		t.Errorf("error = %v, want %s", err, wantErr)
	}

	_, err = v.Verify(t.Context(), Spec{URI: "https://acct.blob.core.windows.net/models/m.pkl?sig=SECRET", SHA256: sha256Hex(data)}, false)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %v leaks the SAS signature", err)
	}
	var e *Error
	if !errors.As(err, &e) || strings.Contains(e.URI, "SECRET") {
		t.Errorf("Error.URI leaks the SAS signature: %+v", e)
	}
}

func TestVerifyRetriesInterruptedReads(t *testing.T) {
	data := testData(1 << 20)
	store := newFakeStore()
	store.put(fakeURI, data)
	store.cutAfter = 40 << 10 // every response dies after 40 KiB
	v := newFakeVerifier(t, store)

	res, err := v.Verify(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex(data)}, false)
	if err != nil {
		t.Fatalf("Verify failed although every read made progress: %v", err)
	}
	if res.SHA256 != sha256Hex(data) {
		t.Errorf("digest = %s, want %s", res.SHA256, sha256Hex(data))
	}
	// Every reopen must resume exactly where the previous read stopped.
	var offsets []string
	for _, c := range store.callLog() {
		if strings.HasPrefix(c, "open ") {
			f := strings.Fields(c)
			offsets = append(offsets, f[len(f)-1])
		}
	}
	if offsets[0] != "0+65536" || offsets[1] != "40960+65536" {
		t.Errorf("first ranges = %q, want a resume at 40960", offsets[:2])
	}
}

func TestVerifyGivesUpAfterRepeatedFailures(t *testing.T) {
	data := testData(200 << 10)
	store := newFakeStore()
	store.put(fakeURI, data)
	store.openErr = func(call int, offset int64) error {
		if offset > 0 {
			return fmt.Errorf("fake: 503 server busy (call %d)", call)
		}
		return nil
	}
	v := newFakeVerifier(t, store)
	_, err := v.Verify(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex(data)}, false)
	if err == nil || failure.IsTerminal(err) {
		t.Fatalf("error = %v, want a non-terminal error", err)
	}
	if !strings.Contains(err.Error(), "failed 5 times in a row") {
		t.Errorf("error %q does not say how often it tried", err)
	}
}

func TestVerifyDetectsChangeBetweenRanges(t *testing.T) {
	data := testData(300 << 10)
	store := newFakeStore()
	store.put(fakeURI, data)
	store.onOpen = func(call int) {
		if call == 1 {
			// Replaced with same-size content after the first range.
			store.put(fakeURI, testData(300<<10 + 1)[1:])
		}
	}
	v := newFakeVerifier(t, store)
	res, err := v.Verify(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex(data)}, false)
	if got, _ := ReasonOf(err); got != ReasonChanged || !failure.IsTerminal(err) {
		t.Fatalf("error = %v, want a terminal %s", err, ReasonChanged)
	}
	if res.SHA256 != "" {
		t.Errorf("a digest %s was reported for mixed content", res.SHA256)
	}
}

func TestVerifyDetectsDeletionDuringRead(t *testing.T) {
	data := testData(300 << 10)
	store := newFakeStore()
	store.put(fakeURI, data)
	store.onOpen = func(call int) {
		if call == 1 {
			store.mu.Lock()
			delete(store.objects, fakeURI)
			store.mu.Unlock()
		}
	}
	v := newFakeVerifier(t, store)
	_, err := v.Verify(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex(data)}, false)
	if got, _ := ReasonOf(err); got != ReasonChanged {
		t.Fatalf("error = %v, want %s", err, ReasonChanged)
	}
}

func TestVerifyCancelled(t *testing.T) {
	data := testData(1 << 20)
	store := newFakeStore()
	store.put(fakeURI, data)
	ctx, cancel := context.WithCancel(t.Context())
	store.onOpen = func(call int) {
		if call == 2 {
			cancel()
		}
	}
	v := newFakeVerifier(t, store)
	_, err := v.Verify(ctx, Spec{URI: fakeURI, SHA256: sha256Hex(data)}, false)
	if !errors.Is(err, context.Canceled) || failure.IsTerminal(err) {
		t.Fatalf("error = %v, want a non-terminal context.Canceled", err)
	}
}

func TestVerifySignedWithoutTrustedKeys(t *testing.T) {
	data := []byte("x")
	store := newFakeStore()
	store.put(fakeURI, data)
	v := newFakeVerifier(t, store)
	_, err := v.Verify(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex(data), Signature: signDER(t, newKey(t), data)}, false)
	if got, _ := ReasonOf(err); got != ReasonSignatureInvalid {
		t.Fatalf("error = %v, want %s", err, ReasonSignatureInvalid)
	}
	if len(store.callLog()) != 0 {
		t.Errorf("the store was called although the signature could never verify")
	}
}

func TestVerifyEmptyArtifact(t *testing.T) {
	store := newFakeStore()
	store.put(fakeURI, nil)
	v := newFakeVerifier(t, store)
	res, err := v.Verify(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex(nil), Size: ptr(int64(0))}, false)
	if err != nil || !res.Verified() {
		t.Fatalf("Verify(empty) = %v, %v", res, err)
	}
}

func TestDownload(t *testing.T) {
	data := testData(500 << 10)
	store := newFakeStore()
	store.put(fakeURI, data)
	v := newFakeVerifier(t, store)
	dir := t.TempDir()

	t.Run("verified artifact lands at dest", func(t *testing.T) {
		dest := filepath.Join(dir, "model.pkl")
		if _, err := v.Download(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex(data)}, false, dest); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(dest)
		if err != nil {
			t.Fatal(err)
		}
		if sha256Hex(got) != sha256Hex(data) {
			t.Error("downloaded content differs")
		}
	})
	t.Run("failed verification leaves nothing", func(t *testing.T) {
		dest := filepath.Join(dir, "bad.pkl")
		_, err := v.Download(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex([]byte("other"))}, false, dest)
		if got, _ := ReasonOf(err); got != ReasonDigestMismatch {
			t.Fatalf("error = %v, want %s", err, ReasonDigestMismatch)
		}
		if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dest exists after a failed download: %v", err)
		}
	})
	t.Run("an existing file is kept on failure", func(t *testing.T) {
		dest := filepath.Join(dir, "existing.pkl")
		if err := os.WriteFile(dest, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Download(t.Context(), Spec{URI: fakeURI, SHA256: sha256Hex([]byte("x"))}, false, dest); err == nil {
			t.Fatal("Download succeeded with a wrong digest")
		}
		if got, _ := os.ReadFile(dest); string(got) != "old" {
			t.Errorf("dest = %q, want the old content", got)
		}
	})
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"existing.pkl", "model.pkl"}, names); diff != "" {
		t.Errorf("temporary files left behind (-want +got):\n%s", diff)
	}
}

func TestNewVerifierValidates(t *testing.T) {
	if _, err := NewVerifier(Config{}); err == nil {
		t.Error("NewVerifier without stores succeeded")
	}
	if _, err := NewVerifier(Config{Stores: SchemeResolver{}, TrustedKeys: []*ecdsa.PublicKey{nil}}); err == nil {
		t.Error("NewVerifier with a nil key succeeded")
	}
}
