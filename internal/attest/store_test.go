package attest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

func sampleLocation() Location {
	return Location{Repository: "Example-Org/Models-GitOps", Environment: "prod", Model: "churn", Version: "3.1.0", ManifestBlob: testBlob, KeyID: "sha256:abc"}
}

func TestLocationPath(t *testing.T) {
	got, err := sampleLocation().Path()
	if err != nil {
		t.Fatal(err)
	}
	want := "v1/example-org/models-gitops/prod/churn/3.1.0/" + testBlob + "/" + ArtifactSHA256([]byte("sha256:abc")) + ".sigstore.json"
	if got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	bad := []func(l *Location){
		func(l *Location) { l.Repository = "no-slash" },
		func(l *Location) { l.Repository = "owner/.." },
		func(l *Location) { l.Environment = "../prod" },
		func(l *Location) { l.Model = "Churn" },
		func(l *Location) { l.Version = "../1" },
		func(l *Location) { l.ManifestBlob = "HEAD" },
		func(l *Location) { l.KeyID = "" },
	}
	for i, edit := range bad {
		l := sampleLocation()
		edit(&l)
		if p, err := l.Path(); err == nil {
			t.Errorf("case %d: %+v gave path %q", i, l, p)
		}
	}
}

// testStore runs the write-once contract against a store.
func testStore(t *testing.T, s Store) {
	ctx := t.Context()
	path, err := sampleLocation().Path()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, path); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing bundle: err = %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, path, []byte("bundle one")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Put(ctx, path, []byte("bundle one")); err != nil {
		t.Errorf("a retried Put of the same bytes failed: %v", err)
	}
	if err := s.Put(ctx, path, []byte("bundle two")); !errors.Is(err, ErrExists) {
		t.Errorf("Put of different bytes: err = %v, want ErrExists", err)
	}
	got, err := s.Get(ctx, path)
	if err != nil || string(got) != "bundle one" {
		t.Errorf("Get = %q, %v; want the first bundle", got, err)
	}
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore("file:"+dir, artifact.Credentials{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
	if _, err := s.Get(t.Context(), "../outside"); err == nil || !strings.Contains(err.Error(), "not a path inside the store") {
		t.Errorf("a path outside the store: err = %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "v1/example-org/models-gitops/prod/churn/3.1.0", testBlob))
	if err != nil || len(entries) != 1 {
		t.Errorf("the store left %v (%v), want exactly the bundle (no temporary files)", entries, err)
	}
}

func TestOpenStore(t *testing.T) {
	creds := artifact.Credentials{SASToken: "sv=1"}
	tests := []struct{ uri, want string }{
		{"azblob://acct/attestations/promobot", "azblob://acct/attestations/promobot"},
		{"azblob://acct/attestations", "azblob://acct/attestations"},
		{"file:/var/lib/promobot", "file:/var/lib/promobot"},
		{"azblob://acct", "error"},
		{"azblob://Acct/attestations", "error"},
		{"azblob://acct/x", "error"},
		{"s3://bucket/x", "error"},
		{"file:", "error"},
	}
	for _, tc := range tests {
		s, err := OpenStore(tc.uri, creds, nil)
		got := "error"
		if err == nil {
			got = s.String()
		}
		if got != tc.want {
			t.Errorf("OpenStore(%q) = %q (%v), want %q", tc.uri, got, err, tc.want)
		}
	}
	if _, err := OpenStore("azblob://acct/attestations", artifact.Credentials{}, nil); err == nil {
		t.Error("a blob store without credentials was accepted")
	}
}

func TestBlobStoreAzurite(t *testing.T) {
	az := azuritetest.Start(t)
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(context.Background(), "attestations", nil); err != nil {
		t.Fatal(err)
	}
	open := func(uri string) Store {
		s, err := OpenStore(uri, artifact.Credentials{ConnectionString: az.ConnectionString}, &StoreOptions{BlobServiceURL: az.Endpoint})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("WriteOnce", func(t *testing.T) {
		testStore(t, open("azblob://"+azuritetest.AccountName+"/attestations/promobot"))
	})
	t.Run("MissingContainer", func(t *testing.T) {
		s := open("azblob://" + azuritetest.AccountName + "/missing")
		_, err := s.Get(t.Context(), "v1/x.json")
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrUnavailable (a configuration problem, not 'not yet attested')", err)
		}
	})
	t.Run("Down", func(t *testing.T) {
		s, err := OpenStore("azblob://"+azuritetest.AccountName+"/attestations", artifact.Credentials{ConnectionString: az.ConnectionString}, &StoreOptions{BlobServiceURL: "http://127.0.0.1:1/" + azuritetest.AccountName, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(t.Context(), "v1/x.json"); !errors.Is(err, ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
	})
}

// TestIssueStoreVerify follows a bundle from signing through the store to
// verification by a reader that computes the path from what it knows.
func TestIssueStoreVerify(t *testing.T) {
	bot, _, _ := newPEMSigner(t)
	root, err := NewTrustRoot(trusted(bot, false))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store := FileStore{Dir: dir}
	loc := Location{Repository: testRepo, Environment: "prod", Model: "churn", Version: "3.1.0", ManifestBlob: testBlob, KeyID: bot.KeyID()}
	path, err := loc.Path()
	if err != nil {
		t.Fatal(err)
	}
	read := func() error {
		b, err := store.Get(t.Context(), path)
		if err != nil {
			return err
		}
		_, err = Verify(b, root, sampleExpectation())
		return err
	}
	if err := read(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before issuing: err = %v, want ErrNotFound", err)
	}
	if err := store.Put(t.Context(), path, issue(t, bot, sampleSubject(), samplePredicate())); err != nil {
		t.Fatal(err)
	}
	if err := read(); err != nil {
		t.Fatalf("after issuing: %v", err)
	}
	// Someone with write access to the directory replaces the object with a
	// genuine attestation of another environment: it is still refused.
	staging := samplePredicate()
	staging.Environment, staging.ManifestPath = "staging", "environments/staging/churn.yaml"
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(path)), issue(t, bot, sampleSubject(), staging), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, _ := ReasonOf(read()); r != ReasonMismatch {
		t.Errorf("a replaced object was not refused as a mismatch: %v", read())
	}
}
