package keyvaulttest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestProtocol checks the parts of the protocol the SDK relies on: a
// request without a token gets the bearer challenge, and the api-version
// is required.
func TestProtocol(t *testing.T) {
	v := Start(t)
	kid := v.CreateKey("k")
	client := v.ClientOptions().Transport.(*http.Client)
	tests := []struct {
		name, url, auth string
		status          int
		header, body    string
	}{
		{"no token", kid + "?api-version=" + APIVersion, "", http.StatusUnauthorized, `resource="https://vault.azure.net"`, `"Unauthorized"`},
		{"wrong token", kid + "?api-version=" + APIVersion, "Bearer nope", http.StatusUnauthorized, "Bearer authorization=", `"Unauthorized"`},
		{"no api-version", kid, "Bearer " + v.token, http.StatusBadRequest, "", `"BadParameter"`},
		{"get", kid + "?api-version=" + APIVersion, "Bearer " + v.token, http.StatusOK, "", `"crv":"P-256"`},
		{"missing key", v.URL + "/keys/none/1?api-version=" + APIVersion, "Bearer " + v.token, http.StatusNotFound, "", `"KeyNotFound"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.header) || !strings.Contains(string(body), tc.body) {
				t.Errorf("got %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
			}
		})
	}
	if got := v.Requests(); got["challenge"] != 2 || got["get"] != 2 {
		t.Errorf("requests = %v", got)
	}
}
