package azuritetest

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

func TestStart(t *testing.T) {
	a := Start(t)
	if !strings.HasPrefix(a.Endpoint, "http://127.0.0.1:") || !strings.HasSuffix(a.Endpoint, "/"+AccountName) {
		t.Errorf("Endpoint = %q, want http://127.0.0.1:<port>/%s", a.Endpoint, AccountName)
	}
	if got, want := a.BlobURL("c", "a/b.bin"), a.Endpoint+"/c/a/b.bin"; got != want {
		t.Errorf("BlobURL = %q, want %q", got, want)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.Endpoint+"?comp=list", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatalf("Azurite does not answer: %v", err)
	}
	resp.Body.Close()
	// Without credentials Azurite refuses the request, which proves it is
	// the storage emulator answering.
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous list status = %d, want %d", resp.StatusCode, http.StatusForbidden)
	}
}

func TestStartTwice(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Host == b.Host {
		t.Errorf("two instances share the host %s", a.Host)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// TestShared hands each test an account of its own on one service: the
// same container name in two accounts holds different blobs.
func TestShared(t *testing.T) {
	a, b := Shared(t), Shared(t)
	if a.Host != b.Host || a.Account == b.Account {
		t.Fatalf("accounts %s at %s and %s at %s: want two accounts on one service", a.Account, a.Host, b.Account, b.Host)
	}
	for _, az := range []*Azurite{a, b} {
		if want := "http://" + az.Host + "/" + az.Account; az.Endpoint != want {
			t.Errorf("Endpoint = %q, want %q", az.Endpoint, want)
		}
		client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.CreateContainer(t.Context(), "models", nil); err != nil {
			t.Fatalf("%s: create the container: %v", az.Account, err)
		}
		if _, err := client.UploadBuffer(t.Context(), "models", "owner", []byte(az.Account), nil); err != nil {
			t.Fatalf("%s: upload: %v", az.Account, err)
		}
	}
	for _, az := range []*Azurite{a, b} {
		client, _ := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
		resp, err := client.DownloadStream(t.Context(), "models", "owner", nil)
		if err != nil {
			t.Fatalf("%s: download: %v", az.Account, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != az.Account {
			t.Errorf("%s: models/owner = %q, %v; want its own blob", az.Account, got, err)
		}
	}
}
