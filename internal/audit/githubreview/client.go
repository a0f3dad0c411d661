package githubreview

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// DefaultBaseURL is the API root of github.com.
const DefaultBaseURL = "https://api.github.com/"

// Auth says how to reach and authenticate to GitHub: a token, or a GitHub
// App installation.
type Auth struct {
	// BaseURL is the REST API root; empty means DefaultBaseURL. GitHub
	// Enterprise Server uses https://HOST/api/v3/.
	BaseURL string
	// Token is a personal, fine-grained or installation access token.
	Token string
	// AppID, InstallationID and PrivateKey (PEM) authenticate as an App
	// installation when Token is empty.
	AppID, InstallationID int64
	PrivateKey            []byte
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// NewClient builds a go-github client from auth. Its errors are
// configuration errors: retrying does not help.
func NewClient(auth Auth) (*github.Client, error) {
	base := auth.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("githubreview: the GitHub API URL %q must be an http(s) URL with a host and no credentials", base)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	rt := auth.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	switch {
	case auth.Token != "":
		rt = bearer{token: auth.Token, next: rt}
	case auth.AppID > 0 && auth.InstallationID > 0 && len(auth.PrivateKey) > 0:
		itr, err := ghinstallation.New(rt, auth.AppID, auth.InstallationID, auth.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("githubreview: the App private key: %w", err)
		}
		itr.BaseURL = strings.TrimSuffix(u.String(), "/")
		rt = itr
	default:
		return nil, errors.New("githubreview: no GitHub credentials: give a token, or an App id, installation id and private key")
	}
	c := github.NewClient(&http.Client{Transport: rt})
	api := *u
	c.BaseURL = &api
	upload := *u
	c.UploadURL = &upload
	return c, nil
}

// bearer adds a token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
