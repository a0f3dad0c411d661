package artifactcheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// memStore serves objects from memory; a missing object is ErrNotFound and
// a URL listed in down fails as storage trouble.
type memStore struct {
	objects map[string][]byte
	down    map[string]bool
}

func (s memStore) Stat(_ context.Context, u *url.URL) (artifact.Info, error) {
	if s.down[u.String()] {
		return artifact.Info{}, errors.New("503 server busy")
	}
	b, ok := s.objects[u.String()]
	if !ok {
		return artifact.Info{}, artifact.ErrNotFound
	}
	return artifact.Info{Size: int64(len(b)), ETag: "v1"}, nil
}

func (s memStore) OpenRange(_ context.Context, u *url.URL, _ string, off, n int64) (io.ReadCloser, error) {
	b := s.objects[u.String()]
	end := min(off+n, int64(len(b)))
	return io.NopCloser(bytes.NewReader(b[off:end])), nil
}

func doc(p, uri string, data []byte) *manifest.Document {
	sum := sha256.Sum256(data)
	return &manifest.Document{Path: p, Valid: true, Manifest: &manifest.Manifest{
		Model: "m", Environment: "dev", Version: "1",
		Artifact: manifest.Artifact{URI: uri, SHA256: hex.EncodeToString(sum[:])},
	}}
}

func TestFill(t *testing.T) {
	const loc = "https://acct.blob.core.windows.net/models/"
	store := memStore{
		objects: map[string][]byte{loc + "good": []byte("good"), loc + "bad": []byte("tampered")},
		down:    map[string]bool{loc + "down": true},
	}
	pol := &policy.Policy{Environments: []policy.Environment{{Name: "dev"}}, Artifacts: policy.Artifacts{AllowedLocations: []string{loc}}}
	v, err := NewVerifier(pol, fstest.MapFS{}, artifact.SchemeResolver{"https": store})
	if err != nil {
		t.Fatal(err)
	}
	in := &evaluate.Input{Policy: pol, Head: map[string]*manifest.Document{
		"environments/dev/good.yaml":    doc("environments/dev/good.yaml", loc+"good", []byte("good")),
		"environments/dev/bad.yaml":     doc("environments/dev/bad.yaml", loc+"bad", []byte("original")),
		"environments/dev/missing.yaml": doc("environments/dev/missing.yaml", loc+"missing", []byte("x")),
		"environments/dev/down.yaml":    doc("environments/dev/down.yaml", loc+"down", []byte("x")),
		"environments/dev/foreign.yaml": doc("environments/dev/foreign.yaml", "https://other.blob.core.windows.net/models/x", []byte("x")),
	}}
	Fill(t.Context(), in, v, 2)
	type outcome struct{ Verified, Unavailable bool }
	got := map[string]outcome{}
	for p, a := range in.Artifacts {
		got[strings.TrimPrefix(p, "environments/dev/")] = outcome{a.Verified, a.Unavailable}
		if a.Detail == "" {
			t.Errorf("%s: no detail", p)
		}
	}
	want := map[string]outcome{
		"good.yaml": {Verified: true}, "bad.yaml": {}, "missing.yaml": {}, "foreign.yaml": {},
		"down.yaml": {Unavailable: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestLoadTrustedKeys(t *testing.T) {
	fsys := fstest.MapFS{"keys/bad.pub": {Data: []byte("not a key")}}
	if _, err := LoadTrustedKeys(fsys, []string{"keys/missing.pub"}); err == nil || !strings.Contains(err.Error(), "keys/missing.pub") {
		t.Errorf("missing key: %v", err)
	}
	if _, err := LoadTrustedKeys(fsys, []string{"keys/bad.pub"}); err == nil || !strings.Contains(err.Error(), "keys/bad.pub") {
		t.Errorf("bad key: %v", err)
	}
	keys, err := LoadTrustedKeys(fsys, nil)
	if err != nil || len(keys) != 0 {
		t.Errorf("no keys: %v %v", keys, err)
	}
}
