package githubreview

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/githubapi"
)

// Auth says how to reach and authenticate to GitHub: a token, or a GitHub
// App installation.
type Auth struct {
	// BaseURL is the REST API root; empty means github.com's. GitHub
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
	u, err := githubapi.ParseBaseURL(auth.BaseURL)
	if err != nil {
		return nil, err
	}
	rt := auth.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	var c *github.Client
	switch {
	case auth.Token != "":
		c = github.NewClient(&http.Client{Transport: rt}).WithAuthToken(auth.Token)
	case auth.AppID > 0 && auth.InstallationID > 0 && len(auth.PrivateKey) > 0:
		itr, err := ghinstallation.New(rt, auth.AppID, auth.InstallationID, auth.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("the GitHub App private key: %w", err)
		}
		itr.BaseURL = strings.TrimSuffix(u.String(), "/")
		c = github.NewClient(&http.Client{Transport: itr})
	default:
		return nil, errors.New("no GitHub credentials: give a token, or an App id, installation id and private key")
	}
	c.BaseURL = u
	upload := *u
	c.UploadURL = &upload
	return c, nil
}
