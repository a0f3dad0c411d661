package githubtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	testClientSecret = "s3cret"
	testCallback     = "https://dashboard.example.com/oauth/callback"
)

func newOAuthFixture(t *testing.T) *Fixture {
	t.Helper()
	f := NewFixture(t, Config{AppID: appID, OAuthClientSecret: testClientSecret, OAuthCallbackURL: testCallback})
	path := f.AddRepo(t, org, repoName, "main")
	for _, r := range []Repo{
		{Owner: org, Name: "private", Path: path, CloneURL: "x", Private: true},
		{Owner: org, Name: "uninstalled", Path: path, CloneURL: "x"},
	} {
		if err := f.Emulator.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	f.Emulator.AddInstallation(instID, org, org+"/"+repoName, org+"/private")
	return f
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize asks the authorize page and returns the redirect's query, or
// fails unless it answers status.
func authorize(t *testing.T, f *Fixture, query url.Values, status int) url.Values {
	t.Helper()
	resp, err := noRedirects.Get(f.Server.URL + "/login/oauth/authorize?" + query.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize: status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if status != http.StatusFound {
		return nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

func exchangeCode(t *testing.T, f *Fixture, form url.Values, accept string) (string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.Server.URL+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("access_token: status %d: %s", resp.StatusCode, body)
	}
	out := map[string]any{}
	if accept == "application/json" {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("access_token: %v: %s", err, body)
		}
	} else {
		values, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatalf("access_token: %v: %s", err, body)
		}
		for k := range values {
			out[k] = values.Get(k)
		}
	}
	return resp.Header.Get("Content-Type"), out
}

func TestOAuthWebFlow(t *testing.T) {
	f := newOAuthFixture(t)
	em := f.Emulator
	em.SetBrowserUser("carol")
	q := url.Values{"client_id": {em.OAuthClientID()}, "redirect_uri": {testCallback}, "state": {"xyz"}}

	back := authorize(t, f, q, http.StatusFound)
	if back.Get("state") != "xyz" || back.Get("code") == "" {
		t.Fatalf("authorize redirected with %v, want the state and a code", back)
	}
	form := url.Values{"client_id": {em.OAuthClientID()}, "client_secret": {testClientSecret}, "code": {back.Get("code")}, "redirect_uri": {testCallback}}
	ctype, answer := exchangeCode(t, f, form, "application/json")
	if !strings.HasPrefix(ctype, "application/json") {
		t.Errorf("JSON answer has Content-Type %q", ctype)
	}
	tok, _ := answer["access_token"].(string)
	if !strings.HasPrefix(tok, "ghu_") || answer["token_type"] != "bearer" || answer["expires_in"] != float64(28800) || answer["refresh_token_expires_in"] != float64(15897600) {
		t.Errorf("token answer %v", answer)
	}
	_, again := exchangeCode(t, f, form, "application/json")
	if again["error"] != "bad_verification_code" {
		t.Errorf("a code used twice: %v, want bad_verification_code", again)
	}

	// The default answer is form-encoded.
	back = authorize(t, f, url.Values{"client_id": {em.OAuthClientID()}, "redirect_uri": {testCallback}, "login": {"dave"}}, http.StatusFound)
	form.Set("code", back.Get("code"))
	ctype, formAnswer := exchangeCode(t, f, form, "")
	if !strings.HasPrefix(ctype, "application/x-www-form-urlencoded") || formAnswer["token_type"] != "bearer" || formAnswer["access_token"] == "" {
		t.Errorf("form answer %q %v", ctype, formAnswer)
	}

	// The token acts as carol, on the repositories the App is installed on.
	if err := em.SetPermission(org, repoName, "carol", "read"); err != nil {
		t.Fatal(err)
	}
	gh := f.Client(t, tok)
	me, _, err := gh.Users.Get(t.Context(), "")
	if err != nil || me.GetLogin() != "carol" {
		t.Fatalf("GET /user: %v %v", me.GetLogin(), err)
	}
	repo, _, err := gh.Repositories.Get(t.Context(), org, repoName)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"admin": false, "maintain": false, "push": false, "triage": false, "pull": true}
	if diff := cmp.Diff(want, repo.GetPermissions()); diff != "" {
		t.Errorf("permissions of a reader (-want +got):\n%s", diff)
	}
	for _, name := range []string{"private", "uninstalled"} {
		if _, resp, err := gh.Repositories.Get(t.Context(), org, name); err == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s/%s as carol: %v, want 404", org, name, err)
		}
	}
	if err := em.SetPermission(org, "private", "carol", "admin"); err != nil {
		t.Fatal(err)
	}
	repo, _, err = gh.Repositories.Get(t.Context(), org, "private")
	if err != nil || !repo.GetPermissions()["admin"] {
		t.Errorf("GET the private repository as its admin: %v %v", repo.GetPermissions(), err)
	}
}

func TestOAuthRefusals(t *testing.T) {
	f := newOAuthFixture(t)
	em := f.Emulator
	id := em.OAuthClientID()

	authorize(t, f, url.Values{"client_id": {"Iv1.unknown"}, "redirect_uri": {testCallback}}, http.StatusNotFound)
	back := authorize(t, f, url.Values{"client_id": {id}, "redirect_uri": {"https://evil.example.com/oauth/callback"}, "state": {"s"}, "login": {"carol"}}, http.StatusFound)
	if back.Get("error") != "redirect_uri_mismatch" || back.Get("code") != "" {
		t.Errorf("a foreign redirect_uri: %v", back)
	}
	// Nobody signed in: the page asks for a login.
	authorize(t, f, url.Values{"client_id": {id}, "redirect_uri": {testCallback}}, http.StatusOK)

	back = authorize(t, f, url.Values{"client_id": {id}, "redirect_uri": {testCallback}, "login": {"carol"}}, http.StatusFound)
	good := url.Values{"client_id": {id}, "client_secret": {testClientSecret}, "code": {back.Get("code")}, "redirect_uri": {testCallback}}
	tests := []struct {
		name, field, value, want string
	}{
		{"wrong secret", "client_secret", "nope", "incorrect_client_credentials"},
		{"wrong client", "client_id", "Iv1.other", "incorrect_client_credentials"},
		{"unknown code", "code", "0000", "bad_verification_code"},
		{"other redirect", "redirect_uri", testCallback + "/elsewhere", "redirect_uri_mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			form.Set(tt.field, tt.value)
			_, answer := exchangeCode(t, f, form, "")
			if answer["error"] != tt.want || answer["error_description"] == "" || !strings.HasPrefix(answer["error_uri"].(string), "https://docs.github.com/") {
				t.Errorf("answer %v, want error %s with a description and a link", answer, tt.want)
			}
		})
	}
	// The refusals left the code usable.
	_, answer := exchangeCode(t, f, good, "application/json")
	if answer["access_token"] == nil {
		t.Errorf("the code after refusals: %v", answer)
	}
	if got := em.Counts()["POST /login/oauth/access_token"]; got != 5 {
		t.Errorf("counted %d token requests, want 5", got)
	}
}
