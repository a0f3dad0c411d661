// Package keyvaulttest runs a local Azure Key Vault for tests: an HTTPS
// server on 127.0.0.1 with its own test certificate authority, speaking
// the key operations promobot uses (get key, sign) as Azure's published
// REST specification (Microsoft.KeyVault keys, api-version 2025-07-01)
// shapes them, including the bearer challenge the SDK expects before it
// sends a token. It is a server, not a mock of the Go client: tests use the
// real azkeys client against it.
//
// The only relaxations the SDK needs are in ClientOptions: trusting the
// test CA and not requiring the challenge resource to match the vault's
// host name (the server is 127.0.0.1, not *.vault.azure.net). They exist
// only here, for tests.
package keyvaulttest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
)

// APIVersion is the api-version the server accepts: the one azkeys sends.
const APIVersion = "2025-07-01"

// challenge is the WWW-Authenticate header Key Vault sends to a request
// without a valid bearer token.
const challenge = `Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"`

// Vault is a running local Key Vault.
type Vault struct {
	// URL is the vault URL, https://127.0.0.1:<port>.
	URL string

	t      testing.TB
	server *httptest.Server
	token  string

	mu       sync.Mutex
	keys     map[string][]*keyVersion // name -> versions, the last is current
	requests map[string]int           // "GET keys", "POST sign", "401" -> count
	down     bool
}

type keyVersion struct {
	version string
	key     *ecdsa.PrivateKey
	enabled bool
	created time.Time
}

// Start starts a vault that stops when the test ends.
func Start(t testing.TB) *Vault {
	t.Helper()
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		t.Fatal(err)
	}
	v := &Vault{t: t, token: hex.EncodeToString(token), keys: map[string][]*keyVersion{}, requests: map[string]int{}}
	v.server = httptest.NewUnstartedServer(http.HandlerFunc(v.serve))
	v.server.StartTLS()
	t.Cleanup(v.server.Close)
	v.URL = v.server.URL
	return v
}

// CreateKey adds a new enabled EC P-256 version of key name (creating the
// key if needed) and returns its key id, <vault>/keys/<name>/<version>.
func (v *Vault) CreateKey(name string) string {
	v.t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		v.t.Fatal(err)
	}
	ver := make([]byte, 16)
	if _, err := rand.Read(ver); err != nil {
		v.t.Fatal(err)
	}
	kv := &keyVersion{version: hex.EncodeToString(ver), key: k, enabled: true, created: time.Now()}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keys[name] = append(v.keys[name], kv)
	return v.URL + "/keys/" + name + "/" + kv.version
}

// Disable disables a key version, as an operator retiring it would.
func (v *Vault) Disable(name, version string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, kv := range v.keys[name] {
		if kv.version == version {
			kv.enabled = false
		}
	}
}

// SetDown makes every request fail with 503, as during an outage.
func (v *Vault) SetDown(down bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.down = down
}

// Requests returns how many requests each operation received: "get",
// "sign" and "challenge" (a 401 sent to elicit a token).
func (v *Vault) Requests() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]int, len(v.requests))
	for k, n := range v.requests {
		out[k] = n
	}
	return out
}

// Credential returns a token credential whose tokens the vault accepts,
// standing in for Microsoft Entra ID.
func (v *Vault) Credential() azcore.TokenCredential { return credential{token: v.token} }

// ClientOptions returns azkeys options that trust the test CA and accept
// the challenge of a vault that is not on vault.azure.net. Test-only.
func (v *Vault) ClientOptions() *azkeys.ClientOptions {
	return &azkeys.ClientOptions{
		ClientOptions:                        azcore.ClientOptions{Transport: v.server.Client(), Retry: policy.RetryOptions{MaxRetries: -1}},
		DisableChallengeResourceVerification: true,
	}
}

type credential struct{ token string }

func (c credential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(o.Scopes) != 1 || o.Scopes[0] != "https://vault.azure.net/.default" {
		return azcore.AccessToken{}, fmt.Errorf("keyvaulttest: unexpected token scopes %v", o.Scopes)
	}
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// serve routes GET /keys/{name}/{version?} and POST /keys/{name}/{version}/sign.
func (v *Vault) serve(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	down := v.down
	v.mu.Unlock()
	if down {
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "The service is unavailable.")
		return
	}
	if r.URL.Query().Get("api-version") != APIVersion {
		writeError(w, http.StatusBadRequest, "BadParameter", "The api-version is missing or not supported.")
		return
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(v.token)) != 1 {
		v.count("challenge")
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Request is missing a Bearer or PoP token.")
		return
	}
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && (len(segs) == 2 || len(segs) == 3) && segs[0] == "keys":
		v.count("get")
		version := ""
		if len(segs) == 3 {
			version = segs[2]
		}
		v.getKey(w, segs[1], version)
	case r.Method == http.MethodPost && len(segs) == 4 && segs[0] == "keys" && segs[3] == "sign":
		v.count("sign")
		v.sign(w, r, segs[1], segs[2])
	default:
		v.t.Errorf("keyvaulttest: unexpected request %s %s", r.Method, r.URL.Path)
		writeError(w, http.StatusNotFound, "NotFound", "No such operation.")
	}
}

func (v *Vault) count(op string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.requests[op]++
}

// find returns a key version; an empty version means the current one.
func (v *Vault) find(name, version string) *keyVersion {
	v.mu.Lock()
	defer v.mu.Unlock()
	versions := v.keys[name]
	if len(versions) == 0 {
		return nil
	}
	if version == "" {
		return versions[len(versions)-1]
	}
	for _, kv := range versions {
		if kv.version == version {
			return kv
		}
	}
	return nil
}

// getKey answers with a KeyBundle: the JSON web key's public part and
// its attributes.
func (v *Vault) getKey(w http.ResponseWriter, name, version string) {
	kv := v.find(name, version)
	if kv == nil {
		writeError(w, http.StatusNotFound, "KeyNotFound", fmt.Sprintf("A key with (name/id) %s/%s was not found in this key vault.", name, version))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"key": map[string]any{
			"kid":     v.URL + "/keys/" + name + "/" + kv.version,
			"kty":     "EC",
			"key_ops": []string{"sign", "verify"},
			"crv":     "P-256",
			"x":       b64url(kv.key.X, 32),
			"y":       b64url(kv.key.Y, 32),
		},
		"attributes": map[string]any{
			"enabled":         kv.enabled,
			"created":         kv.created.Unix(),
			"updated":         kv.created.Unix(),
			"recoveryLevel":   "Recoverable+Purgeable",
			"recoverableDays": 90,
		},
	})
}

// sign answers a KeySignParameters request with a KeyOperationResult whose
// value is the raw r||s signature, base64url without padding.
func (v *Vault) sign(w http.ResponseWriter, r *http.Request, name, version string) {
	var req struct {
		Alg   string `json:"alg"`
		Value string `json:"value"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "BadParameter", "The request body is not valid KeySignParameters.")
		return
	}
	kv := v.find(name, version)
	if kv == nil {
		writeError(w, http.StatusNotFound, "KeyNotFound", fmt.Sprintf("A key with (name/id) %s/%s was not found in this key vault.", name, version))
		return
	}
	if !kv.enabled {
		writeError(w, http.StatusForbidden, "Forbidden", "Operation sign is not allowed on a disabled key.")
		return
	}
	digest, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(req.Value, "="))
	if req.Alg != "ES256" || err != nil || len(digest) != 32 {
		writeError(w, http.StatusBadRequest, "BadParameter", "ES256 signs a 32-byte SHA-256 digest.")
		return
	}
	rr, ss, err := ecdsa.Sign(rand.Reader, kv.key, digest)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	raw := append(rr.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32))...)
	writeJSON(w, http.StatusOK, map[string]any{
		"kid":   v.URL + "/keys/" + name + "/" + kv.version,
		"value": base64.RawURLEncoding.EncodeToString(raw),
	})
}

func b64url(n *big.Int, size int) string {
	return base64.RawURLEncoding.EncodeToString(n.FillBytes(make([]byte, size)))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
