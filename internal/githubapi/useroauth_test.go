package githubapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

func TestUserOAuthAgainstTheEmulator(t *testing.T) {
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: 9, OAuthClientSecret: "shh"})
	fx.AddRepo(t, "acme", "models", "main")
	fx.Emulator.AddInstallation(1, "acme", "acme/models")
	if err := fx.Emulator.SetPermission("acme", "models", "carol", "admin"); err != nil {
		t.Fatal(err)
	}
	o, err := NewUserOAuth(UserOAuthConfig{WebURL: fx.Server.URL, APIURL: fx.URL(), ClientID: fx.Emulator.OAuthClientID(), ClientSecret: "shh"})
	if err != nil {
		t.Fatal(err)
	}
	const callback = "https://dashboard.example.com/oauth/callback"
	authorize, _ := url.Parse(o.AuthorizeURL("st", callback))
	authorize.RawQuery += "&login=carol"
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(authorize.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	code := back.Query().Get("code")

	tok, err := o.Exchange(t.Context(), code, callback)
	if err != nil || tok.Value == "" || tok.ExpiresIn != 8*time.Hour {
		t.Fatalf("exchange: %+v %v", tok, err)
	}
	_, err = o.Exchange(t.Context(), code, callback)
	var refused *OAuthError
	if !errors.As(err, &refused) || refused.Code != "bad_verification_code" {
		t.Errorf("a used code: %v, want bad_verification_code", err)
	}
	if login, err := o.Login(t.Context(), tok.Value); err != nil || login != "carol" {
		t.Errorf("login %q %v", login, err)
	}
	if acc, err := o.RepoAccess(t.Context(), tok.Value, "acme", "models"); err != nil || acc != (RepoAccess{Read: true, Admin: true}) {
		t.Errorf("access to acme/models %+v %v", acc, err)
	}
	if acc, err := o.RepoAccess(t.Context(), tok.Value, "acme", "absent"); err != nil || acc != (RepoAccess{}) {
		t.Errorf("access to a hidden repository %+v %v, want none and no error", acc, err)
	}
	fx.Emulator.FailNext("GET /repos/{owner}/{repo}", http.StatusBadGateway, nil, 1)
	if _, err := o.RepoAccess(t.Context(), tok.Value, "acme", "models"); failure.KindOf(err) != failure.Unavailable {
		t.Errorf("GitHub failing: %v, want an unavailable error", err)
	}
	fx.Emulator.RevokeToken(tok.Value)
	if _, err := o.RepoAccess(t.Context(), tok.Value, "acme", "models"); err == nil {
		t.Error("a revoked token reads")
	}
}

func TestUserOAuthExchangeAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"server error", http.StatusBadGateway, "", "githubapi: exchange the OAuth code: GitHub answered 502 Bad Gateway"},
		{"not JSON", http.StatusOK, "<html>", "githubapi: exchange the OAuth code: GitHub's answer is not JSON: invalid character '<' looking for beginning of value"},
		{"no token", http.StatusOK, `{"token_type":"bearer"}`, "githubapi: exchange the OAuth code: GitHub's answer holds no access token"},
		{"refused", http.StatusOK, `{"error":"incorrect_client_credentials","error_description":"The client_id and/or client_secret passed are incorrect."}`,
			"githubapi: exchange the OAuth code: incorrect_client_credentials: The client_id and/or client_secret passed are incorrect."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/login/oauth/access_token" || r.Header.Get("Accept") != "application/json" {
					t.Errorf("request %s %s Accept %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			o, err := NewUserOAuth(UserOAuthConfig{WebURL: srv.URL, APIURL: srv.URL, ClientID: "id", ClientSecret: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = o.Exchange(t.Context(), "code", "https://dashboard.example.com/oauth/callback")
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

func TestNewUserOAuthChecksItsSettings(t *testing.T) {
	for _, cfg := range []UserOAuthConfig{
		{ClientID: "", ClientSecret: "s"},
		{ClientID: "id", ClientSecret: ""},
		{ClientID: "id", ClientSecret: "s", WebURL: "github.com"},
		{ClientID: "id", ClientSecret: "s", WebURL: "https://github.com/?x=1"},
		{ClientID: "id", ClientSecret: "s", APIURL: "ftp://api.github.com"},
	} {
		if _, err := NewUserOAuth(cfg); err == nil {
			t.Errorf("NewUserOAuth(%+v) accepted", cfg)
		}
	}
	o, err := NewUserOAuth(UserOAuthConfig{ClientID: "Iv1.x", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	got := o.AuthorizeURL("st&ate", "https://d.example.com/oauth/callback")
	want := "https://github.com/login/oauth/authorize?client_id=Iv1.x&redirect_uri=https%3A%2F%2Fd.example.com%2Foauth%2Fcallback&state=st%26ate"
	if got != want {
		t.Errorf("AuthorizeURL = %s, want %s", got, want)
	}
}
