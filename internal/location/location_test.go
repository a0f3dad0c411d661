package location

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testAllowed = []string{
	"https://prodmodels.blob.core.windows.net/models/",
	"https://shared.blob.core.windows.net/team-a/fraud",
	"http://127.0.0.1:10000/devstoreaccount1/models/",
	"http://[::1]:10000/devstoreaccount1/models/",
	"http://localhost:10000/devstoreaccount1/models/",
	"file:///opt/promobot/default/",
}

func TestCheckAccepts(t *testing.T) {
	tests := []struct {
		name       string
		uri        string
		allowLocal bool
		want       string
	}{
		{name: "plain blob", uri: "https://prodmodels.blob.core.windows.net/models/fraud/v3/model.pkl", want: "https://prodmodels.blob.core.windows.net/models/fraud/v3/model.pkl"},
		{name: "host case is normalised", uri: "HTTPS://ProdModels.Blob.Core.Windows.Net/models/m.pkl", want: "https://prodmodels.blob.core.windows.net/models/m.pkl"},
		{name: "default port is removed", uri: "https://prodmodels.blob.core.windows.net:443/models/m.pkl", want: "https://prodmodels.blob.core.windows.net/models/m.pkl"},
		{name: "prefix without trailing slash matches a sub-path", uri: "https://shared.blob.core.windows.net/team-a/fraud/v1/model.pkl", want: "https://shared.blob.core.windows.net/team-a/fraud/v1/model.pkl"},
		{name: "prefix without trailing slash matches itself", uri: "https://shared.blob.core.windows.net/team-a/fraud", want: "https://shared.blob.core.windows.net/team-a/fraud"},
		{name: "percent-encoded space is kept", uri: "https://prodmodels.blob.core.windows.net/models/my%20model.pkl", want: "https://prodmodels.blob.core.windows.net/models/my%20model.pkl"},
		{name: "encoded unreserved character names the same object", uri: "https://prodmodels.blob.core.windows.net/%6dodels/m.pkl", want: "https://prodmodels.blob.core.windows.net/%6dodels/m.pkl"},
		{name: "azurite on IPv4 loopback", uri: "http://127.0.0.1:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "http://127.0.0.1:10000/devstoreaccount1/models/m.pkl"},
		{name: "azurite on IPv6 loopback", uri: "http://[::1]:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "http://[::1]:10000/devstoreaccount1/models/m.pkl"},
		{name: "azurite on localhost", uri: "http://LOCALHOST:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "http://localhost:10000/devstoreaccount1/models/m.pkl"},
		{name: "local file", uri: "file:///opt/promobot/default/model.pkl", allowLocal: true, want: "file:///opt/promobot/default/model.pkl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(tt.uri, testAllowed, tt.allowLocal)
			if err != nil {
				t.Fatalf("Check(%q) returned error: %v", tt.uri, err)
			}
			if diff := cmp.Diff(tt.want, got.String()); diff != "" {
				t.Errorf("Check(%q) mismatch (-want +got):\n%s", tt.uri, diff)
			}
		})
	}
}

func TestCheckRefuses(t *testing.T) {
	tests := []struct {
		name       string
		uri        string
		allowLocal bool
		want       string // the reason
	}{
		{name: "empty", uri: "", want: "it is empty"},
		{name: "other account", uri: "https://evil.blob.core.windows.net/models/m.pkl", want: "it is not under any allowed location"},
		{name: "other container", uri: "https://prodmodels.blob.core.windows.net/other/m.pkl", want: "it is not under any allowed location"},
		{name: "prefix is not on a segment boundary", uri: "https://shared.blob.core.windows.net/team-a/fraud-evil/m.pkl", want: "it is not under any allowed location"},
		{name: "path prefix is case sensitive", uri: "https://prodmodels.blob.core.windows.net/Models/m.pkl", want: "it is not under any allowed location"},
		{name: "allowed host as a subdomain of another host", uri: "https://prodmodels.blob.core.windows.net.evil.com/models/m.pkl", want: "it is not under any allowed location"},
		{name: "non default port", uri: "https://prodmodels.blob.core.windows.net:8443/models/m.pkl", want: "it is not under any allowed location"},
		{name: "dot dot segment", uri: "https://prodmodels.blob.core.windows.net/models/../secrets/k.pem", want: "\".\" or \"..\" segment"},
		{name: "dot segment", uri: "https://prodmodels.blob.core.windows.net/models/./m.pkl", want: "\".\" or \"..\" segment"},
		{name: "encoded dot dot", uri: "https://prodmodels.blob.core.windows.net/models/%2e%2e/secrets/k.pem", want: "\".\" or \"..\" segment"},
		{name: "mixed encoded dot dot", uri: "https://prodmodels.blob.core.windows.net/models/.%2E/secrets/k.pem", want: "\".\" or \"..\" segment"},
		{name: "trailing dot dot", uri: "https://prodmodels.blob.core.windows.net/models/x/..", want: "\".\" or \"..\" segment"},
		{name: "encoded slash", uri: "https://prodmodels.blob.core.windows.net/models%2F..%2Fsecrets/k.pem", want: "encoded slash or backslash"},
		{name: "encoded backslash", uri: "https://prodmodels.blob.core.windows.net/models/..%5Csecrets", want: "encoded slash or backslash"},
		{name: "backslash", uri: "https://prodmodels.blob.core.windows.net/models\\..\\secrets", want: "it contains a backslash"},
		{name: "backslash in authority", uri: "https://evil.com\\@prodmodels.blob.core.windows.net/models/m.pkl", want: "it contains a backslash"},
		{name: "user info", uri: "https://prodmodels.blob.core.windows.net@evil.com/models/m.pkl", want: "user information"},
		{name: "user and password", uri: "https://user:pass@prodmodels.blob.core.windows.net/models/m.pkl", want: "user information"},
		{name: "empty user info", uri: "https://@prodmodels.blob.core.windows.net/models/m.pkl", want: "user information"},
		{name: "encoded at sign in host", uri: "https://evil.com%40prodmodels.blob.core.windows.net/models/m.pkl", want: "cannot be parsed"},
		{name: "query string", uri: "https://prodmodels.blob.core.windows.net/models/m.pkl?sv=2020&sig=abc", want: "query string"},
		{name: "empty query", uri: "https://prodmodels.blob.core.windows.net/models/m.pkl?", want: "query string"},
		{name: "fragment", uri: "https://prodmodels.blob.core.windows.net/models/m.pkl#x", want: "fragment"},
		{name: "plain http to a real host", uri: "http://prodmodels.blob.core.windows.net/models/m.pkl", want: "plain http is not allowed"},
		{name: "plain http to a public host with local allowed", uri: "http://prodmodels.blob.core.windows.net/models/m.pkl", allowLocal: true, want: "only allowed to a loopback host"},
		{name: "http to loopback when local is not allowed", uri: "http://127.0.0.1:10000/devstoreaccount1/models/m.pkl", want: "plain http is not allowed"},
		{name: "http to another loopback address is loopback but not allowed", uri: "http://127.0.0.2:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "it is not under any allowed location"},
		{name: "http to an IPv4-mapped loopback", uri: "http://[::ffff:127.0.0.1]:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "only allowed to a loopback host"},
		{name: "http to a name under localhost", uri: "http://a.localhost:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "only allowed to a loopback host"},
		{name: "short IPv4 form", uri: "http://127.1:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "non-canonical form"},
		{name: "hex IPv4 form", uri: "http://0x7f.0.0.1:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "non-canonical form"},
		{name: "IPv4 in brackets", uri: "http://[127.0.0.1]:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "cannot be parsed"},
		{name: "IPv6 zone", uri: "http://[fe80::1%25eth0]:10000/devstoreaccount1/models/m.pkl", allowLocal: true, want: "IPv6 zone"},
		{name: "loopback on another port", uri: "http://127.0.0.1:10001/devstoreaccount1/models/m.pkl", allowLocal: true, want: "it is not under any allowed location"},
		{name: "file when local is not allowed", uri: "file:///opt/promobot/default/model.pkl", want: "local file URIs are not allowed"},
		{name: "file outside the allowed directory", uri: "file:///etc/passwd", allowLocal: true, want: "it is not under any allowed location"},
		{name: "file with a host", uri: "file://server/opt/promobot/default/model.pkl", allowLocal: true, want: "empty host"},
		{name: "file without slashes", uri: "file:/opt/promobot/default/model.pkl", allowLocal: true, want: "must start with file://"},
		{name: "opaque", uri: "https:prodmodels.blob.core.windows.net/models/m.pkl", want: "not a hierarchical URL"},
		{name: "scheme relative", uri: "//prodmodels.blob.core.windows.net/models/m.pkl", want: "it has no scheme"},
		{name: "relative path", uri: "models/m.pkl", want: "it has no scheme"},
		{name: "unsupported scheme", uri: "ftp://prodmodels.blob.core.windows.net/models/m.pkl", want: "scheme \"ftp\" is not supported"},
		{name: "javascript", uri: "javascript:alert(1)", want: "scheme \"javascript\" is not supported"},
		{name: "empty host", uri: "https:///models/m.pkl", want: "it has no host"},
		{name: "empty port", uri: "https://prodmodels.blob.core.windows.net:/models/m.pkl", want: "empty port"},
		{name: "port with leading zero", uri: "https://prodmodels.blob.core.windows.net:0443/models/m.pkl", want: "not a valid port number"},
		{name: "port out of range", uri: "https://prodmodels.blob.core.windows.net:70000/models/m.pkl", want: "not a valid port number"},
		{name: "host with trailing dot", uri: "https://prodmodels.blob.core.windows.net./models/m.pkl", want: "ends with a dot"},
		{name: "host with underscore", uri: "https://prod_models.blob.core.windows.net/models/m.pkl", want: "contains the character"},
		{name: "non-ASCII host", uri: "https://prodmodels.blob.core.windоws.net/models/m.pkl", want: "non-ASCII"},
		{name: "space", uri: "https://prodmodels.blob.core.windows.net/models/my model.pkl", want: "space or control character"},
		{name: "encoded NUL", uri: "https://prodmodels.blob.core.windows.net/models/m.pkl%00.txt", want: "encoded control character"},
		{name: "encoded newline", uri: "https://prodmodels.blob.core.windows.net/models/m%0a.pkl", want: "encoded control character"},
		{name: "bad percent encoding", uri: "https://prodmodels.blob.core.windows.net/models/m%zz.pkl", want: "cannot be parsed"},
		{name: "double slash", uri: "https://prodmodels.blob.core.windows.net/models//m.pkl", want: "empty segment"},
		{name: "directory", uri: "https://prodmodels.blob.core.windows.net/models/fraud/", want: "names a directory"},
		{name: "no path", uri: "https://prodmodels.blob.core.windows.net", want: "it has no path"},
		{name: "root path", uri: "https://prodmodels.blob.core.windows.net/", want: "it has no path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(tt.uri, testAllowed, tt.allowLocal)
			if err == nil {
				t.Fatalf("Check(%q) = %v, want an error containing %q", tt.uri, got, tt.want)
			}
			var refused *RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("Check(%q) error %v is a %T, want *RefusedError", tt.uri, err, err)
			}
			if !strings.Contains(refused.Reason, tt.want) {
				t.Errorf("Check(%q) reason = %q, want it to contain %q", tt.uri, refused.Reason, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "artifact URI ") {
				t.Errorf("error %q does not start by naming the URI", err)
			}
		})
	}
}

func TestCheckRedactsSecrets(t *testing.T) {
	tests := []struct {
		name   string
		uri    string
		secret string
		want   string
	}{
		{
			name:   "SAS token",
			uri:    "https://prodmodels.blob.core.windows.net/models/m.pkl?sv=2022&sig=SECRETSIG",
			secret: "SECRETSIG",
			want:   `artifact URI "https://prodmodels.blob.core.windows.net/models/m.pkl?REDACTED" is refused: it has a query string, which is not allowed (credentials such as SAS tokens are configured separately)`,
		},
		{
			name:   "password",
			uri:    "https://user:SECRETPW@prodmodels.blob.core.windows.net/models/m.pkl",
			secret: "SECRETPW",
			want:   `artifact URI "https://REDACTED@prodmodels.blob.core.windows.net/models/m.pkl" is refused: it contains user information (user@ or user:password@), which is not allowed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(tt.uri, testAllowed, false)
			if err == nil {
				t.Fatal("Check succeeded, want an error")
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q leaks the secret", err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckAllowList(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		uri     string
		wantErr string
	}{
		{
			name:    "empty allow-list refuses everything",
			uri:     "https://prodmodels.blob.core.windows.net/models/m.pkl",
			wantErr: `artifact URI "https://prodmodels.blob.core.windows.net/models/m.pkl" is refused: no artifact locations are allowed by the policy`,
		},
		{
			name:    "whole account",
			allowed: []string{"https://prodmodels.blob.core.windows.net"},
			uri:     "https://prodmodels.blob.core.windows.net/anything/m.pkl",
		},
		{
			name:    "invalid entry is reported",
			allowed: []string{"https://prodmodels.blob.core.windows.net/models/../"},
			uri:     "https://prodmodels.blob.core.windows.net/models/m.pkl",
			wantErr: `allowed location "https://prodmodels.blob.core.windows.net/models/../" is invalid: the path contains a "." or ".." segment`,
		},
		{
			name:    "message lists the allowed locations",
			allowed: []string{"https://a.blob.core.windows.net/x/", "https://b.blob.core.windows.net/y/"},
			uri:     "https://c.blob.core.windows.net/x/m.pkl",
			wantErr: `artifact URI "https://c.blob.core.windows.net/x/m.pkl" is refused: it is not under any allowed location (https://a.blob.core.windows.net/x/, https://b.blob.core.windows.net/y/)`,
		},
		{
			name:    "loopback names are not interchangeable",
			allowed: []string{"http://127.0.0.1:10000/devstoreaccount1/"},
			uri:     "http://localhost:10000/devstoreaccount1/c/m.pkl",
			wantErr: `artifact URI "http://localhost:10000/devstoreaccount1/c/m.pkl" is refused: it is not under any allowed location (http://127.0.0.1:10000/devstoreaccount1/)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(tt.uri, tt.allowed, true)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.2", true},
		{"127.255.255.254", true},
		{"::1", true},
		{"0:0:0:0:0:0:0:1", true},
		{"localhost", true},
		{"LocalHost", true},
		{"128.0.0.1", false},
		{"126.255.255.255", false},
		{"127.1", false},
		{"0x7f.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::2", false},
		{"a.localhost", false},
		{"localhost.", false},
		{"example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsLoopbackHost(tt.host); got != tt.want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

// TestCheckAllowedAgreesWithCheck proves that an allowed location accepted
// by CheckAllowed (which the policy loader uses) is one Check can match
// URIs under: the loader and the check share one notion of loopback.
func TestCheckAllowedAgreesWithCheck(t *testing.T) {
	tests := []struct {
		name       string
		allowed    string
		allowLocal bool
		uri        string // a URI under allowed, accepted when the entry is
		wantErr    string
	}{
		{name: "https", allowed: "https://acct.blob.core.windows.net/models/", uri: "https://acct.blob.core.windows.net/models/m.pkl"},
		{name: "127.0.0.1", allowed: "http://127.0.0.1:10000/devstoreaccount1/", allowLocal: true, uri: "http://127.0.0.1:10000/devstoreaccount1/m.pkl"},
		{name: "another address in 127/8", allowed: "http://127.0.0.2:10000/devstoreaccount1/", allowLocal: true, uri: "http://127.0.0.2:10000/devstoreaccount1/m.pkl"},
		{name: "IPv6 loopback", allowed: "http://[::1]:10000/devstoreaccount1/", allowLocal: true, uri: "http://[::1]:10000/devstoreaccount1/m.pkl"},
		{name: "localhost", allowed: "http://localhost:10000/devstoreaccount1/", allowLocal: true, uri: "http://localhost:10000/devstoreaccount1/m.pkl"},
		{name: "file", allowed: "file:///srv/models/", allowLocal: true, uri: "file:///srv/models/m.pkl"},
		{name: "short IPv4 form", allowed: "http://127.1:10000/devstoreaccount1/", allowLocal: true,
			wantErr: `allowed location "http://127.1:10000/devstoreaccount1/" is invalid: the host looks like an IP address in a non-canonical form`},
		{name: "http on a remote host", allowed: "http://example.com/models/", allowLocal: true,
			wantErr: `allowed location "http://example.com/models/" is invalid: plain http is only allowed to a loopback host (an address in 127.0.0.0/8, ::1 or localhost)`},
		{name: "http without allowLocal", allowed: "http://127.0.0.1:10000/devstoreaccount1/",
			wantErr: `allowed location "http://127.0.0.1:10000/devstoreaccount1/" is invalid: it uses http, which needs artifacts.allowLocal: true (development only)`},
		{name: "user-info", allowed: "https://user@acct.blob.core.windows.net/models/",
			wantErr: `allowed location "https://REDACTED@acct.blob.core.windows.net/models/" is invalid: it contains user information (user@ or user:password@), which is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAllowed(tt.allowed, tt.allowLocal)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Fatalf("CheckAllowed error mismatch (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if _, err := Check(tt.uri, []string{tt.allowed}, tt.allowLocal); err != nil {
				t.Errorf("CheckAllowed accepts %q, but Check refuses %q under it: %v", tt.allowed, tt.uri, err)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	seeds := []string{
		"https://prodmodels.blob.core.windows.net/models/m.pkl",
		"https://prodmodels.blob.core.windows.net/models/%2e%2e/x",
		"https://prodmodels.blob.core.windows.net/models/a%20b",
		"http://127.0.0.1:10000/devstoreaccount1/models/m.pkl",
		"http://[::1]:10000/devstoreaccount1/models/m.pkl",
		"file:///opt/promobot/default/model.pkl",
		"https://u@prodmodels.blob.core.windows.net/models/m.pkl",
		"https://prodmodels.blob.core.windows.net/models\\m.pkl",
	}
	for _, s := range seeds {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowLocal bool) {
		got, err := Check(raw, testAllowed, allowLocal)
		if err != nil {
			if got != nil {
				t.Fatalf("Check(%q) returned both a URL and an error", raw)
			}
			return
		}
		s := got.String()
		if got.User != nil || got.RawQuery != "" || got.Fragment != "" || got.ForceQuery {
			t.Fatalf("Check(%q) = %q keeps user-info, query or fragment", raw, s)
		}
		for _, seg := range strings.Split(got.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("Check(%q) = %q keeps a dot segment", raw, s)
			}
		}
		if strings.Contains(got.Path, "\\") {
			t.Fatalf("Check(%q) = %q keeps a backslash", raw, s)
		}
		if !allowLocal && got.Scheme != "https" {
			t.Fatalf("Check(%q) = %q is not https although local locations are not allowed", raw, s)
		}
		// The normalised form must be stable and still allowed.
		again, err := Check(s, testAllowed, allowLocal)
		if err != nil {
			t.Fatalf("Check(%q) = %q, but checking that again fails: %v", raw, s, err)
		}
		if again.String() != s {
			t.Fatalf("normalisation is not stable: %q -> %q -> %q", raw, s, again.String())
		}
		// The decoded path must start with an allowed decoded path on a
		// segment boundary, and the host must be one of the allowed hosts.
		ok := false
		for _, a := range testAllowed {
			ap, _ := parse(a, true)
			prefix := strings.TrimSuffix(ap.url.Path, "/")
			if got.Scheme == ap.scheme && got.Host == ap.host &&
				(got.Path == prefix || strings.HasPrefix(got.Path, prefix+"/")) {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("Check(%q) = %q, which is not under any allowed location", raw, s)
		}
	})
}

func TestAzureSchemesShowTheAcceptedForm(t *testing.T) {
	allowed := []string{"https://mlartifacts.blob.core.windows.net/models/"}
	cases := []struct{ uri, want string }{
		{"wasbs://models@mlartifacts.blob.core.windows.net/fraud/1/model.pkl", `the scheme "wasbs" is not supported; name the blob by its https URL, here https://mlartifacts.blob.core.windows.net/models/fraud/1/model.pkl`},
		{"abfss://models@mlartifacts.dfs.core.windows.net/fraud/model.pkl", `here https://mlartifacts.blob.core.windows.net/models/fraud/model.pkl`},
		{"azureml://subscriptions/s/resourcegroups/g/workspaces/w/datastores/d/paths/m.pkl", `the scheme "azureml" is not supported; name the blob by its https URL, of the form https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH`},
	}
	for _, c := range cases {
		_, err := Check(c.uri, allowed, false)
		var refused *RefusedError
		if !errors.As(err, &refused) || !strings.Contains(refused.Reason, c.want) || strings.Contains(refused.Reason, "user information") {
			t.Errorf("%s: %v, want a refusal containing %q", c.uri, err, c.want)
		}
	}
}
