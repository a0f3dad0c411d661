package webauth

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSessionKeys(t *testing.T) {
	oldKey, newKeyBytes, otherKey := newKey(t), newKey(t), newKey(t)
	tests := []struct {
		name string
		// keys the server holds after the browser signed in under oldKey.
		keys   [][]byte
		tamper func(string) string
		want   int
	}{
		{"same key", [][]byte{oldKey}, nil, http.StatusOK},
		{"old key still opens after rotation", [][]byte{newKeyBytes, oldKey}, nil, http.StatusOK},
		{"removed key no longer opens", [][]byte{newKeyBytes}, nil, http.StatusSeeOther},
		{"another deployment's key", [][]byte{otherKey}, nil, http.StatusSeeOther},
		{"tampered ciphertext", [][]byte{oldKey}, flipLast, http.StatusSeeOther},
		{"tampered key id", [][]byte{oldKey}, func(s string) string {
			parts := strings.SplitN(s, ".", 3)
			return parts[0] + ".00000000." + parts[2]
		}, http.StatusSeeOther},
		{"other version", [][]byte{oldKey}, func(s string) string { return "v2" + strings.TrimPrefix(s, "v1") }, http.StatusSeeOther},
		{"not sealed", [][]byte{oldKey}, func(string) string {
			return base64.RawURLEncoding.EncodeToString([]byte(`{"l":"erin","t":"ghu_x","c":"x","e":9999999999}`))
		}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, oldKey)
			h.signIn(t, "/")
			keys, err := NewKeys(tt.keys...)
			if err != nil {
				t.Fatal(err)
			}
			h.auth.cfg.Keys = keys
			if tt.tamper != nil {
				h.jar[SessionCookie].Value = tt.tamper(h.jar[SessionCookie].Value)
			}
			rec := h.do(t, http.MethodGet, "/r/acme/models/", nil, nil)
			if rec.Code != tt.want {
				t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want != http.StatusOK && h.jar[SessionCookie] != nil {
				t.Error("a session cookie that does not open was kept")
			}
		})
	}
}

func TestRotationSealsWithTheFirstKey(t *testing.T) {
	a, b := newKey(t), newKey(t)
	old, _ := NewKeys(a)
	rotated, _ := NewKeys(b, a)
	onlyNew, _ := NewKeys(b)
	sealed := rotated.seal(SessionCookie, []byte("x"))
	if _, err := onlyNew.open(SessionCookie, sealed); err != nil {
		t.Errorf("a value sealed after rotation does not open with the new key alone: %v", err)
	}
	if _, err := old.open(SessionCookie, sealed); err == nil {
		t.Error("a value sealed after rotation opens with the old key alone")
	}
	if _, err := rotated.open(StateCookie, sealed); err == nil {
		t.Error("a session opens as a state: the purpose is not bound")
	}
}

func TestParseKeys(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	k2 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	tests := []struct {
		name, in string
		want     int
		err      string
	}{
		{"one", k1, 1, ""},
		{"comma separated", k2 + "," + k1, 2, ""},
		{"lines with a comment", "# current\n" + k2 + "\n\n# previous\n" + k1 + "\n", 2, ""},
		{"url alphabet", base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 32))), 1, ""},
		{"empty", " \n", 0, "no session key given"},
		{"short", base64.StdEncoding.EncodeToString([]byte("short")), 0, "session key 1 has 5 bytes, want 32"},
		{"not base64", k1 + ",***", 0, "session key 2 is not base64"},
		{"repeated", k1 + "," + k1, 0, "session key 2 repeats an earlier key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeys(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), k1) {
					t.Error("the error echoes a key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(k.keys) != tt.want {
				t.Errorf("%d keys, want %d", len(k.keys), tt.want)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		form   func(token string) url.Values
		header func(token string) map[string]string
		want   int
	}{
		{"logout without token", LogoutPath, func(string) url.Values { return url.Values{} }, nil, http.StatusForbidden},
		{"logout with a wrong token", LogoutPath, func(string) url.Values { return url.Values{CSRFField: {"wrong"}} }, nil, http.StatusForbidden},
		{"logout from another origin", LogoutPath, func(tok string) url.Values { return url.Values{CSRFField: {tok}} },
			func(string) map[string]string { return map[string]string{"Origin": "https://evil.example.com"} }, http.StatusForbidden},
		{"logout from another site", LogoutPath, func(tok string) url.Values { return url.Values{CSRFField: {tok}} },
			func(string) map[string]string { return map[string]string{"Sec-Fetch-Site": "cross-site"} }, http.StatusForbidden},
		{"logout", LogoutPath, func(tok string) url.Values { return url.Values{CSRFField: {tok}} },
			func(string) map[string]string { return map[string]string{"Origin": dashboardURL} }, http.StatusOK},
		{"form without token", "/r/acme/models/refresh", func(string) url.Values { return url.Values{} }, nil, http.StatusForbidden},
		{"form with a wrong token", "/r/acme/models/refresh", func(string) url.Values { return url.Values{CSRFField: {"x"}} }, nil, http.StatusForbidden},
		{"form with the token", "/r/acme/models/refresh", func(tok string) url.Values { return url.Values{CSRFField: {tok}} }, nil, http.StatusOK},
		{"script with the token in the header", "/r/acme/models/refresh", nil,
			func(tok string) map[string]string { return map[string]string{CSRFHeader: tok} }, http.StatusOK},
		{"script with a wrong header", "/r/acme/models/refresh", nil,
			func(string) map[string]string { return map[string]string{CSRFHeader: "x"} }, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.signIn(t, "/")
			token := h.csrf(t)
			var form url.Values
			if tt.form != nil {
				form = tt.form(token)
			}
			var header map[string]string
			if tt.header != nil {
				header = tt.header(token)
			}
			rec := h.do(t, http.MethodPost, tt.path, form, header)
			if rec.Code != tt.want {
				t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			signedIn := h.jar[SessionCookie] != nil
			if wantOut := tt.path == LogoutPath && tt.want == http.StatusOK; signedIn == wantOut {
				t.Errorf("signed in afterwards: %v", signedIn)
			}
		})
	}
}

func TestCSRFTokenBelongsToTheSession(t *testing.T) {
	h := newHarness(t)
	h.signIn(t, "/")
	first := h.csrf(t)
	delete(h.jar, SessionCookie)
	h.signIn(t, "/")
	if second := h.csrf(t); second == first {
		t.Fatal("two sessions share a CSRF token")
	}
	if rec := h.do(t, http.MethodPost, "/r/acme/models/refresh", url.Values{CSRFField: {first}}, nil); rec.Code != http.StatusForbidden {
		t.Errorf("the previous session's token: %d, want 403", rec.Code)
	}
}

func TestSignOut(t *testing.T) {
	h := newHarness(t)
	h.signIn(t, "/")
	page := h.do(t, http.MethodGet, LogoutPath, nil, nil)
	token := h.csrf(t)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `<form method="post" action="/logout" hx-boost="false">`) ||
		!strings.Contains(page.Body.String(), `name="csrf_token" value="`+token+`"`) {
		t.Fatalf("GET /logout: %d %s", page.Code, page.Body)
	}
	if h.jar[SessionCookie] == nil {
		t.Fatal("GET /logout signed out")
	}
	rec := h.do(t, http.MethodPost, LogoutPath, url.Values{CSRFField: {token}}, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "signed out") {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	var cleared *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			cleared = c
		}
	}
	if cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Fatalf("logout did not clear the session cookie: %+v", cleared)
	}
	checkCookieAttributes(t, cleared)
	if rec := h.do(t, http.MethodGet, "/r/acme/models/", nil, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", rec.Code)
	}
	// Without a session, logout only clears; a POST elsewhere is refused.
	if rec := h.do(t, http.MethodPost, LogoutPath, nil, nil); rec.Code != http.StatusOK {
		t.Errorf("logout without a session: %d", rec.Code)
	}
	if rec := h.do(t, http.MethodPost, "/r/acme/models/refresh", nil, nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("a form without a session: %d, want 401", rec.Code)
	}
}

func TestPermissionCache(t *testing.T) {
	const endpoint = "GET /repos/{owner}/{repo}"
	h := newHarness(t)
	h.signIn(t, "/")
	em := h.fx.Emulator
	get := func(repo string) int { return h.do(t, http.MethodGet, "/r/acme/"+repo+"/", nil, nil).Code }

	em.ResetCounts()
	steps := []struct {
		name    string
		before  func()
		repo    string
		want    int
		githubs int // requests GitHub received so far
	}{
		{"first look asks GitHub", nil, "models", http.StatusOK, 1},
		{"within the TTL the answer is reused", func() { h.advance(30 * time.Second) }, "models", http.StatusOK, 1},
		{"another repository is asked", nil, "secret", http.StatusNotFound, 2},
		{"a refusal is reused too", nil, "secret", http.StatusNotFound, 2},
		{"access removed: still seen until the TTL ends", func() { _ = em.SetPermission(org, "models", "carol", "") }, "models", http.StatusOK, 2},
		{"after the TTL GitHub is asked again", func() { h.advance(31 * time.Second) }, "models", http.StatusOK, 3},
		{"access granted shows after the TTL", func() {
			_ = em.SetPermission(org, "secret", "carol", "read")
			h.advance(DefaultAccessTTL)
		}, "secret", http.StatusOK, 4},
		{"GitHub failing refuses", func() {
			h.advance(DefaultAccessTTL)
			em.FailNext(endpoint, http.StatusBadGateway, nil, 1)
		}, "secret", http.StatusServiceUnavailable, 5},
		{"a failure is not remembered", nil, "secret", http.StatusOK, 6},
		{"rate limited refuses", func() {
			h.advance(DefaultAccessTTL)
			em.FailNext(endpoint, http.StatusForbidden, map[string]string{"X-RateLimit-Remaining": "0"}, 1)
		}, "secret", http.StatusServiceUnavailable, 7},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		if got := get(s.repo); got != s.want {
			t.Fatalf("%s: status %d, want %d", s.name, got, s.want)
		}
		if got := em.Counts()[endpoint]; got != s.githubs {
			t.Fatalf("%s: GitHub received %d requests, want %d", s.name, got, s.githubs)
		}
	}
}

func TestRevokedTokenFailsClosed(t *testing.T) {
	h := newHarness(t)
	h.signIn(t, "/")
	// GitHub forgets the token (the person revoked the App's authorization).
	session, err := h.auth.sessionOf(sessionRequest(h))
	if err != nil {
		t.Fatal(err)
	}
	h.fx.Emulator.RevokeToken(session.Token)
	if rec := h.do(t, http.MethodGet, "/r/acme/models/", nil, nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("with a revoked token: %d, want 503", rec.Code)
	}
	// The next request is sent to sign in again, and the cookie cleared.
	if rec := h.do(t, http.MethodGet, "/r/acme/models/", nil, nil); rec.Code != http.StatusSeeOther || h.jar[SessionCookie] != nil {
		t.Errorf("after GitHub refused the token: %d, session kept %v", rec.Code, h.jar[SessionCookie] != nil)
	}
	h.signIn(t, "/")
	if rec := h.do(t, http.MethodGet, "/r/acme/models/", nil, nil); rec.Code != http.StatusOK {
		t.Errorf("signed in again: %d", rec.Code)
	}
}

func sessionRequest(h *harness) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, dashboardURL+"/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: h.jar[SessionCookie].Value})
	return r
}

func TestSessionNeverOutlivesItsToken(t *testing.T) {
	h := newHarness(t)
	h.auth.cfg.SessionTTL = 24 * time.Hour
	h.signIn(t, "/")
	// The emulator's user tokens last 8 hours.
	if got := h.jar[SessionCookie].MaxAge; got > int((8*time.Hour)/time.Second)+5 {
		t.Errorf("session Max-Age %ds outlives the 8h token", got)
	}
}
