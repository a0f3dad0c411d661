package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

func TestAppJWTMintsInstallationTokens(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFixture(t, Config{AppID: appID, AppPublicKey: &key.PublicKey})
	f.AddRepo(t, org, repoName, "main")
	f.Emulator.AddInstallation(instID, org, org+"/"+repoName)

	tests := []struct {
		name    string
		appID   int64
		key     *rsa.PrivateKey
		wantErr bool
	}{
		{name: "right app and key", appID: appID, key: key},
		{name: "wrong key", appID: appID, key: otherKey, wantErr: true},
		{name: "wrong app id", appID: appID + 1, key: key, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			appTransport := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, tt.appID, tt.key)
			appTransport.BaseURL = f.Server.URL + "/api/v3"
			itr := ghinstallation.NewFromAppsTransport(appTransport, instID)
			itr.BaseURL = appTransport.BaseURL
			client, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(f.Server.URL, f.Server.URL)
			if err != nil {
				t.Fatal(err)
			}
			repo, _, err := client.Repositories.Get(t.Context(), org, repoName)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Get repo error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && repo.GetFullName() != org+"/"+repoName {
				t.Errorf("full_name = %q", repo.GetFullName())
			}
			appClient, err := github.NewClient(&http.Client{Transport: appTransport}).WithEnterpriseURLs(f.Server.URL, f.Server.URL)
			if err != nil {
				t.Fatal(err)
			}
			insts, _, err := appClient.Apps.ListInstallations(t.Context(), nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ListInstallations error = %v", err)
			}
			if err == nil && (len(insts) != 1 || insts[0].GetID() != instID || insts[0].GetAccount().GetLogin() != org) {
				t.Errorf("installations = %v", insts)
			}
			inst, _, err := appClient.Apps.FindRepositoryInstallation(t.Context(), org, repoName)
			if (err != nil) != tt.wantErr {
				t.Fatalf("FindRepositoryInstallation error = %v", err)
			}
			if err == nil && inst.GetID() != instID {
				t.Errorf("repository installation = %d", inst.GetID())
			}
		})
	}
}

func TestInstallationTokenExpiresAfterAnHour(t *testing.T) {
	e := newEnv(t)
	if _, _, err := e.app.Repositories.Get(t.Context(), org, repoName); err != nil {
		t.Fatalf("fresh token rejected: %v", err)
	}
	e.advance(time.Hour)
	_, resp, err := e.app.Repositories.Get(t.Context(), org, repoName)
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired token: resp %v err %v, want 401", resp, err)
	}
}

func TestTokenAuth(t *testing.T) {
	e := newEnv(t)
	revoked := e.Emulator.UserToken("carol")
	e.Emulator.RevokeToken(revoked)
	tests := []struct {
		name       string
		token      string
		owner      string
		wantStatus int
	}{
		{name: "installation token", token: e.instToken, owner: org, wantStatus: 200},
		{name: "user token", token: e.bob, owner: org, wantStatus: 200},
		{name: "no token", token: "", owner: org, wantStatus: 401},
		{name: "unknown token", token: "ghs_nope", owner: org, wantStatus: 401},
		{name: "revoked token", token: revoked, owner: org, wantStatus: 401},
		{name: "repository outside the installation", token: e.instToken, owner: "other", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := repoName
			if tt.owner == "other" {
				name = "secret"
			}
			_, resp, err := e.Client(t, tt.token).Repositories.Get(t.Context(), tt.owner, name)
			if resp == nil || resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %v (err %v), want %d", resp, err, tt.wantStatus)
			}
			var errResp *github.ErrorResponse
			if tt.wantStatus == 401 && (!errors.As(err, &errResp) || errResp.DocumentationURL == "") {
				t.Errorf("401 body = %v, want GitHub error shape", err)
			}
		})
	}
}

func TestBothPrefixesServeTheAPI(t *testing.T) {
	e := newEnv(t)
	for _, prefix := range []string{"", "/api/v3"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.Server.URL+prefix+"/repos/acme/models", nil)
		req.Header.Set("Authorization", "Bearer "+e.instToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 200 || body["full_name"] != "acme/models" || body["default_branch"] != "main" {
			t.Errorf("prefix %q: status %d body %v", prefix, resp.StatusCode, body["full_name"])
		}
		wantHTML := e.Server.URL + "/acme/models"
		if body["html_url"] != wantHTML {
			t.Errorf("prefix %q: html_url = %v, want %s", prefix, body["html_url"], wantHTML)
		}
	}
	want := map[string]int{"GET /repos/{owner}/{repo}": 2}
	if diff := cmp.Diff(want, e.Emulator.Counts()); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
}

func TestNarrowedInstallationToken(t *testing.T) {
	e := newEnv(t)
	if err := e.Emulator.AddRepo(Repo{Owner: org, Name: "infra", Path: e.path, CloneURL: "unused"}); err != nil {
		t.Fatal(err)
	}
	e.Emulator.AddInstallation(instID, org, org+"/"+repoName, org+"/infra")
	jwtClaims := fmt.Sprintf(`{"iss":"%d","exp":%d}`, appID, t0.Unix()+300)
	jwt := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(jwtClaims)) + ".unsigned"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Server.URL+"/app/installations/77/access_tokens", strings.NewReader(`{"repositories":["infra"]}`))
	req.Header.Set("Authorization", "Bearer "+jwt)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Token        string `json:"token"`
		Repositories []struct {
			FullName string `json:"full_name"`
		} `json:"repositories"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || len(body.Repositories) != 1 || body.Repositories[0].FullName != "acme/infra" {
		t.Fatalf("token response %d %+v", resp.StatusCode, body)
	}
	client := e.Client(t, body.Token)
	if _, _, err := client.Repositories.Get(t.Context(), org, "infra"); err != nil {
		t.Errorf("narrowed token on its repository: %v", err)
	}
	if _, resp, _ := client.Repositories.Get(t.Context(), org, repoName); resp.StatusCode != http.StatusNotFound {
		t.Errorf("narrowed token on another repository: %d, want 404", resp.StatusCode)
	}
}
