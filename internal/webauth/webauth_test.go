package webauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignIn(t *testing.T) {
	h := newHarness(t)

	// A page without a session sends the browser to sign in and back.
	rec := h.do(t, http.MethodGet, "/r/acme/models/", nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?next=%2Fr%2Facme%2Fmodels%2F" {
		t.Fatalf("without a session: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = h.do(t, http.MethodGet, "/login?next=%2Fr%2Facme%2Fmodels%2F", nil, nil)
	authorize, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || authorize.Path != "/login/oauth/authorize" {
		t.Fatalf("/login redirected to %q", rec.Header().Get("Location"))
	}
	q := authorize.Query()
	if q.Get("client_id") != h.fx.Emulator.OAuthClientID() || q.Get("redirect_uri") != dashboardURL+CallbackPath || len(q.Get("state")) < 40 {
		t.Errorf("authorize query %v", q)
	}
	state := h.jar[StateCookie]
	if state == nil || strings.Contains(state.Value, q.Get("state")) || state.MaxAge != int(stateTTL/time.Second) {
		t.Fatalf("state cookie %+v: want one sealed, short-lived", state)
	}
	checkCookieAttributes(t, state)

	rec = h.signIn(t, "/r/acme/models/")
	if got := rec.Header().Get("Location"); got != "/r/acme/models/" {
		t.Errorf("after sign-in the browser goes to %q, want back to the page", got)
	}
	if h.jar[StateCookie] != nil {
		t.Error("the state cookie outlived the callback")
	}
	session := h.jar[SessionCookie]
	if session == nil {
		t.Fatal("no session cookie")
	}
	checkCookieAttributes(t, session)
	if strings.Contains(session.Value, "ghu_") || strings.Contains(session.Value, "carol") {
		t.Errorf("the session cookie shows its content: %s", session.Value)
	}
	if session.MaxAge != int(DefaultSessionTTL/time.Second) {
		t.Errorf("session Max-Age %d, want %d", session.MaxAge, int(DefaultSessionTTL/time.Second))
	}

	rec = h.do(t, http.MethodGet, "/r/acme/models/", nil, nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "carol reads acme/models admin=false") {
		t.Errorf("signed in: %d %s", rec.Code, rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on a signed-in page", cc)
	}
	// A request htmx sends is told to load the sign-in as a whole page.
	delete(h.jar, SessionCookie)
	rec = h.do(t, http.MethodGet, "/r/acme/models/", nil, map[string]string{"HX-Request": "true"})
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("HX-Redirect") != "/login?next=%2Fr%2Facme%2Fmodels%2F" {
		t.Errorf("htmx without a session: %d HX-Redirect %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	h.signIn(t, "/")
	// A repository GitHub hides from carol is one that does not exist.
	for _, repo := range []string{"secret", "nonexistent"} {
		if rec := h.do(t, http.MethodGet, "/r/acme/"+repo+"/", nil, nil); rec.Code != http.StatusNotFound {
			t.Errorf("acme/%s for carol: %d %s, want 404", repo, rec.Code, rec.Body)
		}
	}
	// The session expires.
	h.advance(DefaultSessionTTL)
	if rec := h.do(t, http.MethodGet, "/r/acme/models/", nil, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("after the session's end: %d, want a redirect to sign in", rec.Code)
	}
}

func TestAdminSeesAdmin(t *testing.T) {
	h := newHarness(t)
	h.fx.Emulator.SetBrowserUser("erin")
	h.signIn(t, "/")
	for _, repo := range []string{"models", "secret"} {
		rec := h.do(t, http.MethodGet, "/r/acme/"+repo+"/", nil, nil)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "erin reads acme/"+repo+" admin=true") {
			t.Errorf("erin on acme/%s: %d %s", repo, rec.Code, rec.Body)
		}
	}
}

func checkCookieAttributes(t *testing.T, c *http.Cookie) {
	t.Helper()
	if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie %s: Secure=%v HttpOnly=%v SameSite=%v Path=%q Domain=%q; want a __Host- cookie, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain",
			c.Name, c.Secure, c.HttpOnly, c.SameSite, c.Path, c.Domain)
	}
}

func TestCallbackRefusals(t *testing.T) {
	tests := []struct {
		name string
		// tamper changes the callback's path and query or the jar.
		tamper func(t *testing.T, h *harness, callback string) string
		want   int
	}{
		{"state mismatch", func(t *testing.T, h *harness, callback string) string {
			return replaceQuery(t, callback, "state", "forged")
		}, http.StatusBadRequest},
		{"no state", func(t *testing.T, h *harness, callback string) string {
			return replaceQuery(t, callback, "state", "")
		}, http.StatusBadRequest},
		{"another browser", func(t *testing.T, h *harness, callback string) string {
			delete(h.jar, StateCookie)
			return callback
		}, http.StatusBadRequest},
		{"tampered state cookie", func(t *testing.T, h *harness, callback string) string {
			h.jar[StateCookie].Value = flipLast(h.jar[StateCookie].Value)
			return callback
		}, http.StatusBadRequest},
		{"state cookie expired", func(t *testing.T, h *harness, callback string) string {
			h.advance(stateTTL + time.Second)
			return callback
		}, http.StatusBadRequest},
		{"the session cookie's value as state", func(t *testing.T, h *harness, callback string) string {
			h.signIn(t, "/")
			h.jar[StateCookie] = &http.Cookie{Name: StateCookie, Value: h.jar[SessionCookie].Value}
			delete(h.jar, SessionCookie)
			return callback
		}, http.StatusBadRequest},
		{"replayed state", func(t *testing.T, h *harness, callback string) string {
			kept := *h.jar[StateCookie]
			if rec := h.do(t, http.MethodGet, callback, nil, nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("first callback: %d", rec.Code)
			}
			delete(h.jar, SessionCookie)
			h.jar[StateCookie] = &kept
			return callback
		}, http.StatusBadRequest},
		{"code used twice", func(t *testing.T, h *harness, callback string) string {
			h.do(t, http.MethodGet, callback, nil, nil)
			delete(h.jar, SessionCookie)
			// A fresh sign-in whose callback carries the used code:
			// GitHub answers bad_verification_code.
			fresh := h.startSignIn(t, "/")
			return replaceQuery(t, fresh, "code", queryOf(t, callback).Get("code"))
		}, http.StatusBadRequest},
		{"no code", func(t *testing.T, h *harness, callback string) string {
			return replaceQuery(t, callback, "code", "")
		}, http.StatusBadRequest},
		{"authorization denied", func(t *testing.T, h *harness, callback string) string {
			return replaceQuery(t, replaceQuery(t, callback, "code", ""), "error", "access_denied")
		}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			callback := tt.tamper(t, h, h.startSignIn(t, "/"))
			rec := h.do(t, http.MethodGet, callback, nil, nil)
			if rec.Code != tt.want {
				t.Fatalf("callback: %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if h.jar[SessionCookie] != nil {
				t.Error("a refused callback set a session")
			}
			if h.jar[StateCookie] != nil {
				t.Error("the state cookie survived a callback")
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(rec.Body.String(), `href="/login" hx-boost="false"`) {
				t.Errorf("the refusal is not a page offering to start again: %s %s", ct, rec.Body)
			}
		})
	}
}

func queryOf(t *testing.T, pathAndQuery string) url.Values {
	t.Helper()
	u, err := url.Parse(pathAndQuery)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func replaceQuery(t *testing.T, pathAndQuery, key, value string) string {
	t.Helper()
	u, _ := url.Parse(pathAndQuery)
	q := u.Query()
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// flipLast changes the last character of a sealed value.
func flipLast(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return s[:len(s)-1] + string(repl)
}

func TestLocalPath(t *testing.T) {
	tests := map[string]string{
		"":                         "/",
		"/r/acme/models/":          "/r/acme/models/",
		"/r/acme/models/?x=1":      "/r/acme/models/?x=1",
		"//evil.example.com/":      "/",
		"/\\evil.example.com":      "/",
		"https://evil.example.com": "/",
		"relative":                 "/",
		"/\t/evil.example.com":     "/",
		"/\n/evil.example.com":     "/",
		"/x/..\\evil":              "/",
		"/r/acme/models/?q=a%20b":  "/r/acme/models/?q=a%20b",
	}
	for in, want := range tests {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewChecksTheDashboardURL(t *testing.T) {
	keys, _ := NewKeys(newKey(t))
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://dashboard.example.com", true},
		{"https://dashboard.example.com/", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://dashboard.example.com", false},
		{"https://dashboard.example.com/promobot", false},
		{"https://user@dashboard.example.com", false},
		{"dashboard.example.com", false},
	}
	for _, tt := range tests {
		a, err := New(Config{GitHub: nil, BaseURL: tt.url, Keys: keys})
		if err == nil {
			t.Fatalf("New without GitHub succeeded: %v", a)
		}
		_, err = parseOrigin(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("dashboard URL %q: error %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}
