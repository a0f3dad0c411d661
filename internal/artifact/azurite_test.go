package artifact

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

const testContainer = "models"

// azuriteEnv is a running Azurite with a container and a client to fill it.
type azuriteEnv struct {
	az     *azuritetest.Azurite
	client *azblob.Client
}

func startAzurite(t *testing.T) *azuriteEnv {
	t.Helper()
	az := azuritetest.Start(t)
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(t.Context(), testContainer, nil); err != nil {
		t.Fatal(err)
	}
	return &azuriteEnv{az: az, client: client}
}

// upload stores data as blob name and returns its URI.
func (e *azuriteEnv) upload(t testing.TB, name string, data []byte) string {
	t.Helper()
	if _, err := e.client.UploadBuffer(context.Background(), testContainer, name, data, nil); err != nil {
		t.Fatalf("uploading %s: %v", name, err)
	}
	return e.az.BlobURL(testContainer, name)
}

// countingTransport counts requests and refuses any host but Azurite's, so
// a test fails loudly if a request ever goes elsewhere.
type countingTransport struct {
	host     string
	base     http.RoundTripper
	requests atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	if r.URL.Host != c.host {
		return nil, fmt.Errorf("test transport: request to unexpected host %q", r.URL.Host)
	}
	return c.base.RoundTrip(r)
}

// verifier returns a verifier over Azurite that trusts keys, and the
// transport its requests go through.
func (e *azuriteEnv) verifier(t *testing.T, creds Credentials, keys ...*ecdsa.PublicKey) (*Verifier, *countingTransport) {
	t.Helper()
	ct := &countingTransport{host: e.az.Host, base: &http.Transport{}}
	store, err := NewBlobStore(creds, &BlobStoreOptions{HTTPClient: &http.Client{Transport: ct}, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(Config{
		AllowedLocations: []string{e.az.Endpoint + "/" + testContainer + "/"},
		AllowLocal:       true,
		TrustedKeys:      keys,
		Stores:           SchemeResolver{"http": store},
	})
	if err != nil {
		t.Fatal(err)
	}
	v.stream.retryDelay = func(int) time.Duration { return 0 }
	return v, ct
}

func (e *azuriteEnv) sharedKey() Credentials {
	return Credentials{ConnectionString: e.az.ConnectionString}
}

// TestAzurite runs every storage scenario against one Azurite instance;
// starting Azurite costs more than most scenarios.
func TestAzurite(t *testing.T) {
	env := startAzurite(t)
	t.Run("Scenarios", func(t *testing.T) { testAzuriteScenarios(t, env) })
	t.Run("MissingContainer", func(t *testing.T) { testAzuriteMissingContainer(t, env) })
	t.Run("BlobReplacedDuringDownload", func(t *testing.T) { testAzuriteBlobReplacedDuringDownload(t, env) })
	t.Run("SAS", func(t *testing.T) { testAzuriteSAS(t, env) })
	t.Run("Download", func(t *testing.T) { testAzuriteDownload(t, env) })
	t.Run("LargeArtifactBoundedMemory", func(t *testing.T) { testAzuriteLargeArtifactBoundedMemory(t, env) })
}

func testAzuriteScenarios(t *testing.T, env *azuriteEnv) {
	trusted, untrusted := newKey(t), newKey(t)
	data := testData(3<<20 + 123)
	digest := sha256Hex(data)
	size := ptr(int64(len(data)))

	goodURI := env.upload(t, "fraud/v1/model.pkl", data)
	tampered := bytes.Clone(data)
	tampered[len(tampered)/2] ^= 0x01
	tamperedURI := env.upload(t, "fraud/v1/tampered.pkl", tampered)
	truncatedURI := env.upload(t, "fraud/v1/truncated.pkl", data[:len(data)-1])

	base := "http://" + env.az.Host
	tests := []struct {
		name         string
		spec         Spec
		require      bool
		wantReason   Reason
		wantOK       bool
		wantRequests int // -1: any
	}{
		{name: "good artifact", spec: Spec{URI: goodURI, SHA256: digest, Size: size, Signature: signDER(t, trusted, data)}, require: true, wantOK: true, wantRequests: -1},
		{name: "good artifact with P1363 signature", spec: Spec{URI: goodURI, SHA256: digest, Signature: signP1363(t, trusted, data)}, wantOK: true, wantRequests: -1},
		{name: "tampered artifact", spec: Spec{URI: tamperedURI, SHA256: digest, Size: size}, wantReason: ReasonDigestMismatch, wantRequests: -1},
		{name: "truncated artifact with size", spec: Spec{URI: truncatedURI, SHA256: digest, Size: size}, wantReason: ReasonSizeMismatch, wantRequests: 1},
		{name: "truncated artifact without size", spec: Spec{URI: truncatedURI, SHA256: digest}, wantReason: ReasonDigestMismatch, wantRequests: -1},
		{name: "missing blob", spec: Spec{URI: env.az.BlobURL(testContainer, "fraud/v1/absent.pkl"), SHA256: digest}, wantReason: ReasonNotFound, wantRequests: 1},
		{name: "wrong signature", spec: Spec{URI: goodURI, SHA256: digest, Signature: signDER(t, trusted, tampered)}, wantReason: ReasonSignatureInvalid, wantRequests: -1},
		{name: "signature by an untrusted key", spec: Spec{URI: goodURI, SHA256: digest, Signature: signDER(t, untrusted, data)}, wantReason: ReasonSignatureInvalid, wantRequests: -1},
		{name: "required signature missing", spec: Spec{URI: goodURI, SHA256: digest}, require: true, wantReason: ReasonSignatureMissing, wantRequests: 0},
		{name: "disallowed account on the same host", spec: Spec{URI: base + "/otheraccount/" + testContainer + "/fraud/v1/model.pkl", SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "disallowed container", spec: Spec{URI: env.az.BlobURL("secrets", "model.pkl"), SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "disallowed Azure account", spec: Spec{URI: "https://evil.blob.core.windows.net/models/model.pkl", SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "dot dot out of the container", spec: Spec{URI: env.az.BlobURL(testContainer, "../secrets/model.pkl"), SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "encoded dot dot", spec: Spec{URI: env.az.BlobURL(testContainer, "%2E%2e/secrets/model.pkl"), SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "encoded slash", spec: Spec{URI: env.az.BlobURL(testContainer, "..%2fsecrets%2fmodel.pkl"), SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "user info in front of the allowed host", spec: Spec{URI: "http://user:pw@" + env.az.Host + "/devstoreaccount1/models/fraud/v1/model.pkl", SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "allowed host as user info of another host", spec: Spec{URI: "http://" + env.az.Host + "@evil.example/devstoreaccount1/models/fraud/v1/model.pkl", SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "backslash", spec: Spec{URI: env.az.Endpoint + "/models\\..\\secrets/model.pkl", SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
		{name: "SAS in the URI", spec: Spec{URI: goodURI + "?sv=2022&sig=abc", SHA256: digest}, wantReason: ReasonLocationRefused, wantRequests: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ct := env.verifier(t, env.sharedKey(), &trusted.PublicKey)
			res, err := v.Verify(t.Context(), tt.spec, tt.require)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Verify failed: %v\n%s", err, res)
				}
				if !res.Verified() || res.SHA256 != digest || res.Info.ETag == "" {
					t.Errorf("unexpected result:\n%s%+v", res, res.Info)
				}
			} else {
				if got, _ := ReasonOf(err); err == nil || got != tt.wantReason {
					t.Fatalf("error = %v, want reason %s\n%s", err, tt.wantReason, res)
				}
				if !failure.IsTerminal(err) {
					t.Errorf("error %v is not terminal", err)
				}
			}
			if n := ct.requests.Load(); tt.wantRequests >= 0 && n != int64(tt.wantRequests) {
				t.Errorf("made %d requests, want %d", n, tt.wantRequests)
			}
		})
	}
}

func testAzuriteMissingContainer(t *testing.T, env *azuriteEnv) {
	v, err := NewVerifier(Config{
		AllowedLocations: []string{env.az.Endpoint + "/"},
		AllowLocal:       true,
		Stores:           SchemeResolver{"http": mustBlobStore(t, env.sharedKey())},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), Spec{URI: env.az.BlobURL("nocontainer", "m.pkl"), SHA256: sha256Hex(nil)}, false)
	if got, _ := ReasonOf(err); got != ReasonNotFound {
		t.Fatalf("error = %v, want %s", err, ReasonNotFound)
	}
}

func mustBlobStore(t *testing.T, c Credentials) *BlobStore {
	t.Helper()
	s, err := NewBlobStore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hookStore wraps a store to act on the blob while it is being read.
type hookStore struct {
	Store
	mu    sync.Mutex
	opens int
	// wrap may replace the body of the n-th (1-based) OpenRange.
	wrap func(n int, body io.ReadCloser) io.ReadCloser
}

func (h *hookStore) OpenRange(ctx context.Context, u *url.URL, etag string, offset, length int64) (io.ReadCloser, error) {
	body, err := h.Store.OpenRange(ctx, u, etag, offset, length)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.opens++
	n := h.opens
	h.mu.Unlock()
	return h.wrap(n, body), nil
}

// afterBytes runs fn once after n bytes have been read through it, then
// optionally fails the read as a dropped connection would.
type afterBytes struct {
	io.ReadCloser
	n    int64
	fn   func()
	drop bool
	done bool
}

func (a *afterBytes) Read(p []byte) (int, error) {
	if !a.done && a.n <= 0 {
		a.done = true
		a.fn()
		if a.drop {
			return 0, errors.New("test: connection reset by peer")
		}
	}
	if !a.done && int64(len(p)) > a.n {
		p = p[:a.n]
	}
	k, err := a.ReadCloser.Read(p)
	a.n -= int64(k)
	return k, err
}

func testAzuriteBlobReplacedDuringDownload(t *testing.T, env *azuriteEnv) {
	data := testData(5 << 20)
	replacement := bytes.Clone(data)
	replacement[4<<20] ^= 0xff // same size, one byte differs late in the blob

	tests := []struct {
		name       string
		replace    bool
		drop       bool
		wantReason Reason
		wantOK     bool
	}{
		{name: "replaced between ranges", replace: true, wantReason: ReasonChanged},
		{name: "replaced, then the connection drops", replace: true, drop: true, wantReason: ReasonChanged},
		{name: "connection drops, blob unchanged", drop: true, wantOK: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("replaced-%d.pkl", i)
			uri := env.upload(t, name, data)
			v, _ := env.verifier(t, env.sharedKey())
			v.stream.rangeSize = 1 << 20
			inner := v.cfg.Stores.(SchemeResolver)["http"]
			hs := &hookStore{Store: inner, wrap: func(n int, body io.ReadCloser) io.ReadCloser {
				if n != 1 {
					return body
				}
				return &afterBytes{ReadCloser: body, n: 512 << 10, drop: tt.drop, fn: func() {
					if !tt.replace {
						return
					}
					// Runs on the reading goroutine: report, do not Fatal.
					if _, err := env.client.UploadBuffer(context.Background(), testContainer, name, replacement, nil); err != nil {
						t.Errorf("replacing the blob: %v", err)
					}
				}}
			}}
			v.cfg.Stores = SchemeResolver{"http": hs}

			res, err := v.Verify(t.Context(), Spec{URI: uri, SHA256: sha256Hex(data)}, false)
			t.Logf("Verify: %v", err)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Verify failed: %v", err)
				}
				if hs.opens < 2 {
					t.Errorf("only %d ranged reads; the drop was not retried", hs.opens)
				}
				return
			}
			if got, _ := ReasonOf(err); got != tt.wantReason || !failure.IsTerminal(err) {
				t.Fatalf("error = %v, want a terminal %s\n%s", err, tt.wantReason, res)
			}
			if res.SHA256 != "" {
				t.Errorf("a digest was computed over mixed content")
			}
		})
	}
}

func testAzuriteSAS(t *testing.T, env *azuriteEnv) {
	data := testData(100_000)
	uri := env.upload(t, "sas/model.pkl", data)
	cred, err := azblob.NewSharedKeyCredential(azuritetest.AccountName, azuritetest.AccountKey)
	if err != nil {
		t.Fatal(err)
	}
	sasFor := func(container string) string {
		q, err := sas.BlobSignatureValues{
			Protocol:      sas.ProtocolHTTPSandHTTP,
			ExpiryTime:    time.Now().Add(time.Hour),
			Permissions:   (&sas.ContainerPermissions{Read: true}).String(),
			ContainerName: container,
		}.SignWithSharedKey(cred)
		if err != nil {
			t.Fatal(err)
		}
		return q.Encode()
	}

	t.Run("read-only SAS on the container", func(t *testing.T) {
		v, _ := env.verifier(t, Credentials{SASToken: "?" + sasFor(testContainer)})
		if _, err := v.Verify(t.Context(), Spec{URI: uri, SHA256: sha256Hex(data)}, false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SAS for another container", func(t *testing.T) {
		v, _ := env.verifier(t, Credentials{SASToken: sasFor("other")})
		_, err := v.Verify(t.Context(), Spec{URI: uri, SHA256: sha256Hex(data)}, false)
		if err == nil || failure.IsTerminal(err) {
			t.Fatalf("error = %v, want a non-terminal authorisation error", err)
		}
		if strings.Contains(err.Error(), "sig=") {
			t.Errorf("error %v leaks the SAS", err)
		}
	})
	t.Run("connection string for another account", func(t *testing.T) {
		v, _ := env.verifier(t, Credentials{ConnectionString: "AccountName=someoneelse;AccountKey=" + azuritetest.AccountKey})
		_, err := v.Verify(t.Context(), Spec{URI: uri, SHA256: sha256Hex(data)}, false)
		if err == nil || failure.IsTerminal(err) || !strings.Contains(err.Error(), `account "someoneelse"`) {
			t.Fatalf("error = %v, want a non-terminal account mismatch", err)
		}
	})
}

func testAzuriteDownload(t *testing.T, env *azuriteEnv) {
	data := testData(2<<20 + 7)
	uri := env.upload(t, "dl/model.pkl", data)
	v, _ := env.verifier(t, env.sharedKey())
	dir := t.TempDir()

	dest := filepath.Join(dir, "model.pkl")
	if _, err := v.Download(t.Context(), Spec{URI: uri, SHA256: sha256Hex(data)}, false, dest); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(dest); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded file differs (%v)", err)
	}

	bad := filepath.Join(dir, "bad.pkl")
	if _, err := v.Download(t.Context(), Spec{URI: uri, SHA256: sha256Hex(data[1:])}, false, bad); !failure.IsTerminal(err) {
		t.Fatalf("error = %v, want a terminal mismatch", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed download, want only model.pkl", len(entries))
	}
}
