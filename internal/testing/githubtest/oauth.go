package githubtest

// The OAuth web application flow of a GitHub App's user authorization, at
// GitHub's web root rather than its REST API, so GitHub's OpenAPI
// description does not cover it. It follows GitHub's documentation
// ("Generating a user access token for a GitHub App" and "Authorizing
// OAuth apps", docs.github.com):
//
//   - GET /login/oauth/authorize with client_id, redirect_uri, state and the
//     optional login: GitHub signs the person in, asks them to authorize
//     the App once, then redirects to redirect_uri with code and state, or
//     with error=redirect_uri_mismatch when redirect_uri is not the
//     registered callback URL or below it. An unknown client_id is a 404
//     page.
//   - POST /login/oauth/access_token with client_id, client_secret, code and
//     redirect_uri as a form or query: answered 200 in every case, as
//     application/x-www-form-urlencoded unless the request accepts JSON
//     (Accept: application/json) or XML. A user access token of an App with
//     expiring tokens comes with expires_in (28800), refresh_token and
//     refresh_token_expires_in (15897600). Refusals are error,
//     error_description and error_uri: bad_verification_code (a code
//     unknown, used or older than ten minutes), incorrect_client_credentials
//     and redirect_uri_mismatch.
//
// The emulator has no login form: the person who signs in is the login
// query parameter, or else the browser user set with SetBrowserUser; with
// neither, the authorize page asks for a login in a plain form. User access
// tokens ("ghu_") act as their user, limited like GitHub to repositories the
// App is installed on.

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	oauthCodeTTL          = 10 * time.Minute
	userTokenTTL          = 8 * time.Hour
	refreshTokenExpiresIn = 15897600
	oauthErrorsDocs       = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
	authorizeErrorsDocs   = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/"
)

// oauthState holds the codes of the OAuth web flow; nil until first used.
type oauthState struct {
	browserUser string
	codes       map[string]*oauthCode
}

type oauthCode struct {
	login       string
	redirectURI string
	expires     time.Time
}

func (e *Emulator) oauthLocked() *oauthState {
	if e.oauth == nil {
		e.oauth = &oauthState{codes: map[string]*oauthCode{}}
	}
	return e.oauth
}

// OAuthClientID returns the App's OAuth client id: Config.OAuthClientID, or
// the one the emulator derives from the App id.
func (e *Emulator) OAuthClientID() string {
	if e.cfg.OAuthClientID != "" {
		return e.cfg.OAuthClientID
	}
	return "Iv1." + strconv.FormatInt(e.cfg.AppID, 16)
}

// SetBrowserUser signs login in to the emulated github.com in "the
// browser": the authorize page then authorizes the App for login without
// asking. An empty login signs out, so the page asks for a login.
func (e *Emulator) SetBrowserUser(login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if login != "" {
		e.userLocked(login)
	}
	e.oauthLocked().browserUser = login
}

// serveOAuth serves the OAuth web flow's endpoints and reports whether the
// request was one of them. It is called with e.mu held.
func (e *Emulator) serveOAuth(w http.ResponseWriter, r *http.Request, body []byte) (string, int, bool) {
	switch {
	case r.URL.Path == "/login/oauth/authorize" && r.Method == http.MethodGet:
		return "GET /login/oauth/authorize", e.handleAuthorize(w, r), true
	case r.URL.Path == "/login/oauth/access_token" && r.Method == http.MethodPost:
		return "POST /login/oauth/access_token", e.handleOAuthAccessToken(w, r, body), true
	}
	return "", 0, false
}

var authorizeForm = template.Must(template.New("authorize").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to GitHub</title></head>
<body><main><h1>Sign in to GitHub to continue to {{.App}}</h1>
<form method="get" action="/login/oauth/authorize">
{{range $k, $v := .Query}}{{if ne $k "login"}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">{{end}}{{end}}
<label for="login">Username</label> <input id="login" name="login" autocomplete="username">
<button type="submit">Sign in</button>
</form></main></body></html>
`))

// handleAuthorize serves GET /login/oauth/authorize.
func (e *Emulator) handleAuthorize(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	if q.Get("client_id") != e.OAuthClientID() {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<!DOCTYPE html><title>Page not found · GitHub</title><h1>404</h1>\n"))
		return http.StatusNotFound
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		redirect = e.cfg.OAuthCallbackURL
	}
	target, err := url.Parse(redirect)
	if err != nil || target.Scheme == "" || target.Host == "" {
		writeJSON(w, http.StatusBadRequest, obj{"message": "redirect_uri is not a URL"}, nil)
		return http.StatusBadRequest
	}
	back := target.Query()
	if !e.callbackAllowed(redirect) {
		back.Set("error", "redirect_uri_mismatch")
		back.Set("error_description", "The redirect_uri MUST match the registered callback URL for this application.")
		back.Set("error_uri", authorizeErrorsDocs+"#redirect-uri-mismatch")
		back.Set("state", q.Get("state"))
		target.RawQuery = back.Encode()
		http.Redirect(w, r, target.String(), http.StatusFound)
		return http.StatusFound
	}
	state := e.oauthLocked()
	login := q.Get("login")
	if login == "" {
		login = state.browserUser
	}
	if login == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = authorizeForm.Execute(w, struct {
			App   string
			Query url.Values
		}{e.cfg.AppSlug, q})
		return http.StatusOK
	}
	e.userLocked(login)
	code := randomToken("")[:20]
	state.codes[code] = &oauthCode{login: login, redirectURI: redirect, expires: e.cfg.Now().Add(oauthCodeTTL)}
	back.Set("code", code)
	if s := q.Get("state"); s != "" {
		back.Set("state", s)
	}
	target.RawQuery = back.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
	return http.StatusFound
}

// callbackAllowed applies GitHub's rule: with a registered callback URL,
// redirect_uri must have its scheme, host and port and a path at or below
// its path. Without one, anything is allowed.
func (e *Emulator) callbackAllowed(redirect string) bool {
	if e.cfg.OAuthCallbackURL == "" {
		return true
	}
	reg, err1 := url.Parse(e.cfg.OAuthCallbackURL)
	got, err2 := url.Parse(redirect)
	if err1 != nil || err2 != nil {
		return false
	}
	if reg.Scheme != got.Scheme || reg.Host != got.Host {
		return false
	}
	base := strings.TrimSuffix(reg.Path, "/")
	return got.Path == reg.Path || got.Path == base || strings.HasPrefix(got.Path, base+"/")
}

// handleOAuthAccessToken serves POST /login/oauth/access_token.
func (e *Emulator) handleOAuthAccessToken(w http.ResponseWriter, r *http.Request, body []byte) int {
	params := r.URL.Query()
	if form, err := url.ParseQuery(string(body)); err == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		for k, v := range form {
			params[k] = v
		}
	} else if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var fields map[string]string
		if json.Unmarshal(body, &fields) == nil {
			for k, v := range fields {
				params.Set(k, v)
			}
		}
	}
	answer := func(fields [][2]string) int {
		writeOAuthAnswer(w, r, fields)
		return http.StatusOK
	}
	refuse := func(code, description, anchor string) int {
		return answer([][2]string{{"error", code}, {"error_description", description}, {"error_uri", oauthErrorsDocs + anchor}})
	}
	if params.Get("client_id") != e.OAuthClientID() || (e.cfg.OAuthClientSecret != "" && params.Get("client_secret") != e.cfg.OAuthClientSecret) {
		return refuse("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", "#incorrect-client-credentials")
	}
	state := e.oauthLocked()
	code := state.codes[params.Get("code")]
	if code == nil || !e.cfg.Now().Before(code.expires) {
		return refuse("bad_verification_code", "The code passed is incorrect or expired.", "#bad-verification-code")
	}
	if ru := params.Get("redirect_uri"); ru != "" && ru != code.redirectURI {
		return answer([][2]string{{"error", "redirect_uri_mismatch"},
			{"error_description", "The redirect_uri MUST match the registered callback URL for this application."},
			{"error_uri", authorizeErrorsDocs + "#redirect-uri-mismatch2"}})
	}
	delete(state.codes, params.Get("code"))
	t := &token{value: randomToken("ghu_"), login: code.login, userToServer: true, expires: e.now().Add(userTokenTTL)}
	e.tokens[t.value] = t
	return answer([][2]string{
		{"access_token", t.value},
		{"expires_in", strconv.Itoa(int(userTokenTTL / time.Second))},
		{"refresh_token", randomToken("ghr_") + randomToken("")},
		{"refresh_token_expires_in", strconv.Itoa(refreshTokenExpiresIn)},
		{"scope", ""},
		{"token_type", "bearer"},
	})
}

// writeOAuthAnswer answers like GitHub's token endpoint: JSON when the
// request accepts it, otherwise a form-encoded body.
func writeOAuthAnswer(w http.ResponseWriter, r *http.Request, fields [][2]string) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		out := obj{}
		for _, f := range fields {
			switch f[0] {
			case "expires_in", "refresh_token_expires_in":
				out[f[0]] = json.Number(f[1])
			default:
				out[f[0]] = f[1]
			}
		}
		writeJSON(w, http.StatusOK, out, nil)
		return
	}
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(f[0]) + "=" + url.QueryEscape(f[1]))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}

// checkUserRepoAccess hides from a user token a private repository its
// user cannot read, and from a user access token of the App any repository
// the App is not installed on, as GitHub answers 404 for both.
func (e *Emulator) checkUserRepoAccess(t *token, r *repo) error {
	if t.userToServer && !e.installedOnLocked(r) {
		return errors.New("repository outside the App's installations")
	}
	if r.Private && e.userRoleLocked(r, t.login) == "" {
		return errors.New("private repository the user cannot read")
	}
	return nil
}

func (e *Emulator) installedOnLocked(r *repo) bool {
	for _, inst := range e.installations {
		if containsFold(inst.repos, r.fullName()) {
			return true
		}
	}
	return false
}

// userRoleLocked returns login's role on r: admin for the owner, the
// collaborator role, read for an active member of the owning organization,
// or "" for none.
func (e *Emulator) userRoleLocked(r *repo, login string) string {
	switch {
	case login == r.Owner:
		return "admin"
	case r.collaborators[login] != "":
		return r.collaborators[login]
	case e.isOrgMember(r.Owner, login):
		return "read"
	}
	return ""
}

// userRepoPermissions is the permissions object of a repository as its
// user sees it: from their role, and pull alone on a public repository
// they have no role on.
func (e *Emulator) userRepoPermissions(r *repo, login string) obj {
	role := e.userRoleLocked(r, login)
	return obj{
		"admin":    role == "admin",
		"maintain": role == "admin" || role == "maintain",
		"push":     role == "admin" || role == "maintain" || role == "write",
		"triage":   role != "" && role != "read",
		"pull":     role != "" || !r.Private,
	}
}

// handleGetAuthenticatedUser serves GET /user: the user a user token acts
// as. An installation token is refused like GitHub does.
func (e *Emulator) handleGetAuthenticatedUser(c *call) response {
	if c.token == nil || c.token.installation != 0 {
		return errorResponse(http.StatusForbidden, "Resource not accessible by integration")
	}
	u := e.userLocked(c.token.login)
	out := e.userJSON(c.urls, u.login).(obj)
	created := "2020-01-01T00:00:00Z"
	extra := obj{
		"name": nil, "company": nil, "blog": "", "location": nil, "email": nil, "hireable": nil, "bio": nil,
		"twitter_username": nil, "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": created, "updated_at": created,
		"private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0, "disk_usage": 0,
		"collaborators": 0, "two_factor_authentication": true,
		"plan": obj{"name": "free", "space": 976562499, "private_repos": 10000, "collaborators": 0},
	}
	for k, v := range extra {
		out[k] = v
	}
	return ok(out)
}
