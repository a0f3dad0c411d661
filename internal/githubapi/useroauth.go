package githubapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// DefaultWebURL is GitHub.com's web root, where the OAuth web flow's pages
// live. A GitHub Enterprise Server serves them at https://HOST/.
const DefaultWebURL = "https://github.com/"

// UserOAuthConfig configures UserOAuth.
type UserOAuthConfig struct {
	// WebURL is GitHub's web root (DefaultWebURL, or https://HOST/ for
	// GitHub Enterprise Server); empty means DefaultWebURL.
	WebURL string
	// APIURL is the REST API root (DefaultBaseURL, or https://HOST/api/v3/);
	// empty means DefaultBaseURL.
	APIURL string
	// ClientID and ClientSecret are the GitHub App's OAuth credentials.
	ClientID     string
	ClientSecret string
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// UserAgent is sent with every request when set.
	UserAgent string
}

// UserOAuth signs people in with a GitHub App's user authorization (the
// OAuth web application flow) and asks GitHub, with the person's token,
// what they may see. It is safe for concurrent use.
type UserOAuth struct {
	cfg    UserOAuthConfig
	web    *url.URL
	api    *url.URL
	client *http.Client
}

// NewUserOAuth checks cfg and returns a UserOAuth.
func NewUserOAuth(cfg UserOAuthConfig) (*UserOAuth, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("githubapi: the OAuth client id and client secret are required")
	}
	if cfg.WebURL == "" {
		cfg.WebURL = DefaultWebURL
	}
	web, err := url.Parse(cfg.WebURL)
	if err != nil || (web.Scheme != "https" && web.Scheme != "http") || web.Host == "" || web.User != nil || web.RawQuery != "" || web.Fragment != "" {
		return nil, fmt.Errorf("githubapi: the GitHub web URL %q must be an http(s) URL with a host and nothing after the path, such as %s", cfg.WebURL, DefaultWebURL)
	}
	if !strings.HasSuffix(web.Path, "/") {
		web.Path += "/"
	}
	api, err := ParseBaseURL(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	rt := cfg.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &UserOAuth{cfg: cfg, web: web, api: api, client: &http.Client{Transport: rt, Timeout: 30 * time.Second}}, nil
}

// AuthorizeURL returns the page of GitHub where the person authorizes the
// App; GitHub then sends the browser to redirectURI with a code and state.
func (o *UserOAuth) AuthorizeURL(state, redirectURI string) string {
	u := o.web.JoinPath("login", "oauth", "authorize")
	u.RawQuery = url.Values{"client_id": {o.cfg.ClientID}, "redirect_uri": {redirectURI}, "state": {state}}.Encode()
	return u.String()
}

// UserToken is a user access token of the App. Never log Value.
type UserToken struct {
	// Value is the token.
	Value string
	// ExpiresIn is how long it works from when GitHub answered; zero when
	// GitHub did not say (expiring user tokens switched off for the App).
	ExpiresIn time.Duration
}

// OAuthError is GitHub's refusal of a code exchange, such as
// "bad_verification_code".
type OAuthError struct {
	// Code is GitHub's error code.
	Code string
	// Description is GitHub's explanation.
	Description string
}

// Error returns the code and description.
func (e *OAuthError) Error() string {
	return "githubapi: exchange the OAuth code: " + e.Code + ": " + e.Description
}

// Exchange trades the code GitHub sent to redirectURI for a user access
// token. GitHub's refusals, which it answers with status 200, come back as
// an *OAuthError.
func (o *UserOAuth) Exchange(ctx context.Context, code, redirectURI string) (UserToken, error) {
	form := url.Values{
		"client_id": {o.cfg.ClientID}, "client_secret": {o.cfg.ClientSecret},
		"code": {code}, "redirect_uri": {redirectURI},
	}
	endpoint := o.web.JoinPath("login", "oauth", "access_token").String()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return UserToken{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if o.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", o.cfg.UserAgent)
	}
	const op = "exchange the OAuth code"
	resp, err := o.client.Do(req)
	if err != nil {
		return UserToken{}, &Error{Op: op, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return UserToken{}, &Error{Op: op, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return UserToken{}, &Error{Op: op, Status: resp.StatusCode, Terminal: terminalStatus(resp.StatusCode), Err: fmt.Errorf("GitHub answered %s", resp.Status)}
	}
	var answer struct {
		AccessToken      string `json:"access_token"`
		ExpiresIn        int64  `json:"expires_in"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return UserToken{}, &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("GitHub's answer is not JSON: %w", err)}
	}
	if answer.Error != "" {
		return UserToken{}, &OAuthError{Code: answer.Error, Description: answer.ErrorDescription}
	}
	if answer.AccessToken == "" {
		return UserToken{}, &Error{Op: op, Status: resp.StatusCode, Terminal: true, Err: errors.New("GitHub's answer holds no access token")}
	}
	tok := UserToken{Value: answer.AccessToken}
	if answer.ExpiresIn > 0 {
		tok.ExpiresIn = time.Duration(answer.ExpiresIn) * time.Second
	}
	return tok, nil
}

// userClient returns a go-github client acting with the person's token.
func (o *UserOAuth) userClient(token string) *github.Client {
	gh := github.NewClient(o.client).WithAuthToken(token)
	base := *o.api
	gh.BaseURL = &base
	gh.UploadURL = uploadURL(o.api)
	if o.cfg.UserAgent != "" {
		gh.UserAgent = o.cfg.UserAgent
	}
	return gh
}

// Login returns the login of the person token belongs to (GET /user).
func (o *UserOAuth) Login(ctx context.Context, token string) (string, error) {
	u, _, err := o.userClient(token).Users.Get(ctx, "")
	if err != nil {
		return "", classify("get the signed-in user", err)
	}
	if u.GetLogin() == "" {
		return "", &Error{Op: "get the signed-in user", Err: errors.New("GitHub's answer names no login")}
	}
	return u.GetLogin(), nil
}

// RepoAccess is what a person may do in one repository.
type RepoAccess struct {
	// Read is true when they may read it (pull).
	Read bool
	// Admin is true when they administer it.
	Admin bool
}

// RepoAccess asks GitHub what the person token belongs to may do in
// owner/repo (GET /repos/{owner}/{repo}). A repository GitHub hides from
// them (404) is no access and no error; any other failure is an error.
func (o *UserOAuth) RepoAccess(ctx context.Context, token, owner, repo string) (RepoAccess, error) {
	r, _, err := o.userClient(token).Repositories.Get(ctx, owner, repo)
	if err != nil {
		err = classify("get "+owner+"/"+repo+" as the signed-in user", err)
		if IsNotFound(err) {
			return RepoAccess{}, nil
		}
		return RepoAccess{}, err
	}
	p := r.GetPermissions()
	if p == nil {
		return RepoAccess{}, &Error{Op: "get " + owner + "/" + repo + " as the signed-in user", Err: errors.New("GitHub's answer holds no permissions")}
	}
	return RepoAccess{Read: p["pull"] || p["admin"], Admin: p["admin"]}, nil
}
