package webauth

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
)

// Routes registers the sign-in routes: GET /login, GET /oauth/callback,
// GET /logout (a page asking to confirm, so a link can sign out) and
// POST /logout.
func (a *Auth) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+LoginPath, a.handleLogin)
	mux.HandleFunc("GET "+CallbackPath, a.handleCallback)
	mux.HandleFunc("GET "+LogoutPath, a.handleLogoutPage)
	mux.HandleFunc("POST "+LogoutPath, a.handleLogout)
}

// open paths are served without a session.
func openPath(p string) bool {
	switch p {
	case LoginPath, CallbackPath, LogoutPath, "/healthz":
		return true
	}
	return strings.HasPrefix(p, "/static/")
}

// Require lets through only requests with a valid session, except the
// sign-in routes, /healthz and /static/. A page asked for without one is
// redirected to sign-in, which comes back to it; anything else is refused
// with 401. Every request that may change something (not GET, HEAD or
// OPTIONS) must carry the session's CSRF token, or is refused with 403.
func (a *Auth) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		s, err := a.sessionOf(r)
		if err != nil {
			if _, had := r.Cookie(SessionCookie); had == nil {
				http.SetCookie(w, a.clearCookie(SessionCookie))
			}
			w.Header().Set("Cache-Control", "no-store")
			login := LoginPath + "?" + url.Values{"next": {r.URL.RequestURI()}}.Encode()
			if r.Header.Get("HX-Request") == "true" {
				// A request htmx sent cannot follow a redirect to GitHub
				// (another origin); htmx loads the whole page instead.
				w.Header().Set("HX-Redirect", login)
				a.page(w, http.StatusUnauthorized, "Sign-in required", "Sign in to continue.", true)
				return
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, login, http.StatusSeeOther)
				return
			}
			a.page(w, http.StatusUnauthorized, "Sign-in required", "Sign in to continue.", true)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), contextKey{}, s))
		if !safeMethod(r.Method) {
			if err := a.CheckCSRF(r); err != nil {
				a.cfg.Logger.Warn("webauth: refused a request without a valid CSRF token", "login", s.Login, "method", r.Method, "path", r.URL.Path, "error", err)
				a.page(w, http.StatusForbidden, "Refused", "This form has expired. Reload the page and try again.", false)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// CSRFToken returns the token forms of the signed-in person must send in
// the csrf_token field (or the X-CSRF-Token header), or "" without a
// session.
func (a *Auth) CSRFToken(r *http.Request) string {
	s, err := a.sessionOf(r)
	if err != nil {
		return ""
	}
	return s.CSRF
}

// CheckCSRF returns an error unless the request carries its session's CSRF
// token and, when the browser says where it comes from, comes from the
// dashboard itself.
func (a *Auth) CheckCSRF(r *http.Request) error {
	s, err := a.sessionOf(r)
	if err != nil {
		return err
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != a.origin {
		return errors.New("webauth: the request comes from another origin")
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errors.New("webauth: the request comes from another site")
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		got = r.PostFormValue(CSRFField)
	}
	if got == "" {
		return errors.New("webauth: the request carries no CSRF token")
	}
	if !equal(got, s.CSRF) {
		return errors.New("webauth: the CSRF token does not match the session")
	}
	return nil
}

// cookie returns a __Host- cookie: Secure, HttpOnly, SameSite=Lax, Path=/.
func (a *Auth) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

func (a *Auth) clearCookie(name string) *http.Cookie {
	c := a.cookie(name, "", 0)
	c.MaxAge = -1
	return c
}

// localPath returns next when it is a path on this site, otherwise "/".
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	// Browsers drop tabs and newlines from URLs and read a backslash as a
	// slash, so "/\t/evil.example.com" would leave the site.
	if strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (a *Auth) handleLogin(w http.ResponseWriter, r *http.Request) {
	state := randomString(32)
	now := a.cfg.Now()
	pending, _ := json.Marshal(pendingSignIn{
		StateHash: hashOf(state), Next: localPath(r.URL.Query().Get("next")), Expires: now.Add(stateTTL).Unix(),
	})
	http.SetCookie(w, a.cookie(StateCookie, a.cfg.Keys.seal(StateCookie, pending), stateTTL))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.cfg.GitHub.AuthorizeURL(state, a.callback), http.StatusSeeOther)
}

// useState records a state's hash as used and reports whether it was
// unused; it forgets hashes once their sign-in could no longer finish.
func (a *Auth) useState(hash string, expires time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	for h, exp := range a.states {
		if !now.Before(exp) {
			delete(a.states, h)
		}
	}
	if _, used := a.states[hash]; used {
		return false
	}
	a.states[hash] = expires
	return true
}

func (a *Auth) handleCallback(w http.ResponseWriter, r *http.Request) {
	// The state cookie is good for one attempt, whatever its outcome.
	http.SetCookie(w, a.clearCookie(StateCookie))
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	const again = "Sign-in did not complete. Start again."
	pending, err := a.pendingOf(r)
	if err != nil {
		a.cfg.Logger.Info("webauth: sign-in callback refused", "reason", err)
		a.page(w, http.StatusBadRequest, "Sign-in expired", "This sign-in was started in another browser or has expired. Start again.", true)
		return
	}
	if e := q.Get("error"); e != "" {
		a.cfg.Logger.Info("webauth: GitHub did not authorize the sign-in", "error", e, "description", q.Get("error_description"))
		a.page(w, http.StatusForbidden, "Sign-in refused", "GitHub did not authorize the sign-in ("+e+").", true)
		return
	}
	state := q.Get("state")
	if state == "" || !equal(hashOf(state), pending.StateHash) {
		a.cfg.Logger.Warn("webauth: sign-in callback with a state that does not match the browser's")
		a.page(w, http.StatusBadRequest, "Sign-in refused", again, true)
		return
	}
	if !a.useState(pending.StateHash, time.Unix(pending.Expires, 0)) {
		a.cfg.Logger.Warn("webauth: sign-in callback replayed")
		a.page(w, http.StatusBadRequest, "Sign-in refused", again, true)
		return
	}
	code := q.Get("code")
	if code == "" {
		a.page(w, http.StatusBadRequest, "Sign-in refused", again, true)
		return
	}
	tok, err := a.cfg.GitHub.Exchange(r.Context(), code, a.callback)
	if err != nil {
		var refused *githubapi.OAuthError
		if errors.As(err, &refused) {
			a.cfg.Logger.Warn("webauth: GitHub refused the sign-in code", "error", err)
			a.page(w, http.StatusBadRequest, "Sign-in refused", "GitHub refused the sign-in ("+refused.Code+"). Start again.", true)
			return
		}
		a.cfg.Logger.Error("webauth: exchange the sign-in code", "error", err)
		a.page(w, http.StatusServiceUnavailable, "GitHub unavailable", "GitHub could not be reached to complete the sign-in. Try again in a moment.", true)
		return
	}
	login, err := a.cfg.GitHub.Login(r.Context(), tok.Value)
	if err != nil {
		a.cfg.Logger.Error("webauth: ask GitHub who signed in", "error", err)
		a.page(w, http.StatusServiceUnavailable, "GitHub unavailable", "GitHub could not be reached to complete the sign-in. Try again in a moment.", true)
		return
	}
	now := a.cfg.Now()
	expires := now.Add(a.cfg.SessionTTL)
	if tok.ExpiresIn > 0 && now.Add(tok.ExpiresIn).Before(expires) {
		expires = now.Add(tok.ExpiresIn)
	}
	sealed, _ := json.Marshal(session{Login: login, Token: tok.Value, CSRF: randomString(32), Expires: expires.Unix()})
	http.SetCookie(w, a.cookie(SessionCookie, a.cfg.Keys.seal(SessionCookie, sealed), expires.Sub(now)))
	a.cfg.Logger.Info("webauth: signed in", "login", login)
	http.Redirect(w, r, pending.Next, http.StatusSeeOther)
}

// pendingOf opens the state cookie of a sign-in in progress.
func (a *Auth) pendingOf(r *http.Request) (*pendingSignIn, error) {
	c, err := r.Cookie(StateCookie)
	if err != nil {
		return nil, errors.New("no state cookie")
	}
	plain, err := a.cfg.Keys.open(StateCookie, c.Value)
	if err != nil {
		return nil, err
	}
	var p pendingSignIn
	if err := json.Unmarshal(plain, &p); err != nil || p.StateHash == "" {
		return nil, errors.New("malformed state cookie")
	}
	if !a.cfg.Now().Before(time.Unix(p.Expires, 0)) {
		return nil, errors.New("state cookie expired")
	}
	p.Next = localPath(p.Next)
	return &p, nil
}

func (a *Auth) handleLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, err := a.sessionOf(r); err == nil {
		if err := a.CheckCSRF(r); err != nil {
			a.cfg.Logger.Warn("webauth: refused a sign-out without a valid CSRF token", "error", err)
			a.page(w, http.StatusForbidden, "Refused", "This form has expired. Reload the page and try again.", false)
			return
		}
	}
	http.SetCookie(w, a.clearCookie(SessionCookie))
	a.page(w, http.StatusOK, "Signed out", "You are signed out.", true)
}

var logoutTemplate = template.Must(template.New("logout").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign out · promobot</title>
<link rel="stylesheet" href="/static/dashboard.css">
</head>
<body>
<header class="top"><a class="brand" href="/">promobot</a></header>
<main id="main">
<h1>Sign out</h1>
<p>Signed in as {{.Login}}.</p>
<form method="post" action="/logout" hx-boost="false">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<button type="submit">Sign out</button>
</form>
</main>
</body>
</html>
`))

// handleLogoutPage serves GET /logout: a form that signs out, carrying the
// session's CSRF token, since signing out changes state and a link must not.
func (a *Auth) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s, err := a.sessionOf(r)
	if err != nil {
		a.page(w, http.StatusOK, "Signed out", "You are not signed in.", true)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = logoutTemplate.Execute(w, struct{ Login, CSRF string }{s.Login, s.CSRF})
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · promobot</title>
<link rel="stylesheet" href="/static/dashboard.css">
</head>
<body>
<header class="top"><a class="brand" href="/">promobot</a></header>
<main id="main">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .SignIn}}<p><a href="/login" hx-boost="false">Sign in with GitHub</a></p>{{end}}
</main>
</body>
</html>
`))

// page writes a small HTML page of the sign-in flow.
func (a *Auth) page(w http.ResponseWriter, status int, title, message string, signIn bool) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct {
		Title, Message string
		SignIn         bool
	}{title, message, signIn})
}
