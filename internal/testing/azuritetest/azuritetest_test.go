package azuritetest

import (
	"net/http"
	"strings"
	"testing"
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
