package chain

import (
	"errors"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// azuriteSink takes an account of the package's Azurite, creates a
// container and returns a sink for a blob in it.
func azuriteSink(t *testing.T) (*azuritetest.Azurite, *AzureSink) {
	t.Helper()
	a := azuritetest.Shared(t)
	cred, err := blob.NewSharedKeyCredential(a.Account, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(a.Endpoint+"/audit", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	sink, err := NewAzureSink(a.BlobURL("audit", "promotions/log.jsonl"), artifact.Credentials{ConnectionString: a.ConnectionString}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a, sink
}

func TestAzureSinkExportVerify(t *testing.T) {
	_, sink := azuriteSink(t)
	sink.blockSize = 700 // several AppendBlock calls per export
	recs := records(12)
	first, err := Export(t.Context(), sink, recs[:5])
	if err != nil {
		t.Fatal(err)
	}
	again, err := Export(t.Context(), sink, recs[:5])
	if err != nil || again.Appended != 0 {
		t.Fatalf("re-export = %+v, %v; want nothing appended", again, err)
	}
	more, err := Export(t.Context(), sink, recs)
	if err != nil || more.Appended != 7 || more.Existing != 5 {
		t.Fatalf("third export = %+v, %v", more, err)
	}
	data, err := sink.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	v := Verify(data)
	if v.Broken != nil || v.Count != 12 || v.Head != more.Head || first.Head == more.Head {
		t.Fatalf("Verify = %d records, head %s, %v", v.Count, v.Head, v.Broken)
	}
}

func TestAzureSinkRefusesAStaleAppendPosition(t *testing.T) {
	_, sink := azuriteSink(t)
	if err := sink.Append(t.Context(), 0, []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	for _, offset := range []int64{0, 2, 10} {
		err := sink.Append(t.Context(), offset, []byte("two\n"))
		if !errors.Is(err, ErrConflict) {
			t.Errorf("append at %d: err = %v, want ErrConflict", offset, err)
		}
	}
	if err := sink.Append(t.Context(), 4, []byte("two\n")); err != nil {
		t.Fatal(err)
	}
	data, err := sink.Read(t.Context())
	if err != nil || string(data) != "one\ntwo\n" {
		t.Fatalf("blob = %q, %v", data, err)
	}
}

func TestAzureSinkConcurrentExporters(t *testing.T) {
	a, sink := azuriteSink(t)
	recs := records(20)
	exportConcurrently(t, 4, 4, recs, func() (Sink, error) {
		return NewAzureSink(a.BlobURL("audit", "promotions/log.jsonl"), artifact.Credentials{ConnectionString: a.ConnectionString}, nil)
	})
	data, err := sink.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v := Verify(data); v.Broken != nil || v.Count != 20 {
		t.Fatalf("Verify = %d records, %v", v.Count, v.Broken)
	}
}

// TestAzureSinkProtectionIsDetected asks the service about immutability:
// Azurite does not emulate it, and the sink must say so rather than claim
// protection.
func TestAzureSinkProtectionIsDetected(t *testing.T) {
	_, sink := azuriteSink(t)
	p, err := sink.Protection(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.ImmutabilityPolicy || p.LegalHold {
		t.Errorf("Azurite reported protection it does not have: %+v", p)
	}
	t.Logf("Azurite reports %+v", p)
}

func TestNewAzureSinkURLs(t *testing.T) {
	creds := artifact.Credentials{SASToken: "sv=2024&sig=secret"}
	for _, tc := range []struct {
		url, name, err string
	}{
		{url: "azblob://mlaudit/audit/log.jsonl", name: "https://mlaudit.blob.core.windows.net/audit/log.jsonl"},
		{url: "https://mlaudit.blob.core.windows.net/audit/a/b.jsonl?sv=1&sig=x", name: "https://mlaudit.blob.core.windows.net/audit/a/b.jsonl"},
		{url: "http://127.0.0.1:10000/devstoreaccount1/audit/log", name: "http://127.0.0.1:10000/devstoreaccount1/audit/log"},
		{url: "https://example.com/audit/log", err: "not an Azure Blob URL"},
		{url: "azblob://mlaudit/Bad_Container/log", err: "not a valid container name"},
	} {
		s, err := NewAzureSink(tc.url, creds, nil)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.url, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case s.String() != tc.name || strings.Contains(s.String(), "secret"):
			t.Errorf("%s: name %q, want %q", tc.url, s.String(), tc.name)
		}
	}
	if _, err := NewAzureSink("azblob://mlaudit/audit/log", artifact.Credentials{ConnectionString: "AccountName=other;AccountKey=a2V5"}, nil); err == nil || !strings.Contains(err.Error(), `account "other"`) {
		t.Errorf("mismatched connection string: err = %v", err)
	}
}
