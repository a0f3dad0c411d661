package githubtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/testing/gittest"
)

//lint:ignore ST1005 GitHub's exact message.
var errBadCredentials = errors.New("Bad credentials")

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	return io.ReadAll(io.LimitReader(r.Body, 32<<20))
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"token ", "Bearer ", "bearer "} {
		if strings.HasPrefix(h, scheme) {
			return strings.TrimSpace(strings.TrimPrefix(h, scheme))
		}
	}
	return ""
}

// authenticate checks the Authorization header for the route's auth kind.
// It returns the token (nil for an App JWT) and the rate-limit bucket key.
func (e *Emulator) authenticate(r *http.Request, kind authKind) (*token, string, error) {
	value := bearer(r)
	if value == "" {
		//lint:ignore ST1005 GitHub's exact message.
		return nil, "", errors.New("Requires authentication")
	}
	if kind == authApp || (kind == authAppOrToken && strings.Count(value, ".") == 2) {
		if err := e.verifyAppJWT(value); err != nil {
			return nil, "", err
		}
		return nil, "app " + strconv.FormatInt(e.cfg.AppID, 10), nil
	}
	t := e.tokens[value]
	if t == nil || !e.cfg.Now().Before(t.expires) {
		return nil, "", errBadCredentials
	}
	if t.installation != 0 {
		return t, "installation ID " + strconv.FormatInt(t.installation, 10), nil
	}
	return t, "user " + t.login, nil
}

func (e *Emulator) verifyAppJWT(value string) error {
	parts := strings.Split(value, ".")
	if len(parts) != 3 {
		//lint:ignore ST1005 GitHub's exact message.
		return errors.New("A JSON web token could not be decoded")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Exp *int64          `json:"exp"`
		Iat *int64          `json:"iat"`
	}
	if decodeSegment(parts[0], &header) != nil || decodeSegment(parts[1], &claims) != nil {
		//lint:ignore ST1005 GitHub's exact message.
		return errors.New("A JSON web token could not be decoded")
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	if iss != strconv.FormatInt(e.cfg.AppID, 10) {
		return fmt.Errorf("'Issuer' claim ('iss') must be an Integer")
	}
	now := e.cfg.Now().Unix()
	if claims.Exp == nil || *claims.Exp <= now {
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	}
	if *claims.Exp > now+10*60+60 {
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	if e.cfg.AppPublicKey == nil {
		return nil
	}
	if header.Alg != "RS256" {
		//lint:ignore ST1005 GitHub's exact message.
		return errors.New("A JSON web token could not be decoded")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		//lint:ignore ST1005 GitHub's exact message.
		return errors.New("A JSON web token could not be decoded")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(e.cfg.AppPublicKey, crypto.SHA256, digest[:], sig) != nil {
		//lint:ignore ST1005 What GitHub answers for a JWT signed with the wrong key.
		return errors.New("Integration not found")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// checkRepoAccess returns an error when the request names a repository the
// caller cannot see: unknown, or outside the token's installation.
func (e *Emulator) checkRepoAccess(c *call) error {
	owner, name := c.params["owner"], c.params["repo"]
	if owner == "" || name == "" {
		return nil
	}
	r := e.repos[owner+"/"+name]
	if r == nil {
		return errors.New("unknown repository")
	}
	if c.token == nil {
		return nil
	}
	if c.token.installation == 0 {
		return e.checkUserRepoAccess(c.token, r)
	}
	for _, full := range e.tokenRepos(c.token) {
		if strings.EqualFold(full, r.fullName()) {
			return nil
		}
	}
	return errors.New("repository outside installation")
}

func (e *Emulator) tokenRepos(t *token) []string {
	if t.repos != nil {
		return t.repos
	}
	if inst := e.installations[t.installation]; inst != nil {
		return inst.repos
	}
	return nil
}

func randomToken(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 36)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func (e *Emulator) mintInstallationTokenLocked(id int64) (*token, error) {
	if e.installations[id] == nil {
		return nil, fmt.Errorf("githubtest: unknown installation %d", id)
	}
	t := &token{value: randomToken("ghs_"), installation: id, login: e.AppBotLogin(), expires: e.now().Add(time.Hour)}
	e.userLocked(t.login)
	e.tokens[t.value] = t
	return t, nil
}

// InstallationToken mints an installation access token the way
// POST /app/installations/{id}/access_tokens does. It expires after an
// hour of the emulator's clock.
func (e *Emulator) InstallationToken(id int64) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.mintInstallationTokenLocked(id)
	if err != nil {
		return "", err
	}
	return t.value, nil
}

// UserToken mints a token that acts as login, for example to submit reviews
// or open pull requests through the API.
func (e *Emulator) UserToken(login string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.userLocked(login)
	t := &token{value: randomToken("ghp_"), login: login, expires: e.now().Add(24 * 365 * time.Hour)}
	e.tokens[t.value] = t
	return t.value
}

// RevokeToken makes token unknown, so further use answers 401.
func (e *Emulator) RevokeToken(value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.tokens, value)
}

// GitAuthorizer returns a gittest.Authorizer accepting, as the basic-auth
// password, any live token the emulator issued. Installation tokens are
// only accepted for repositories of their installation, matched by clone
// URL path.
func (e *Emulator) GitAuthorizer() gittest.Authorizer {
	return func(repoPath, _, password string) bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		t := e.tokens[password]
		if t == nil || !e.cfg.Now().Before(t.expires) {
			return false
		}
		if t.installation == 0 {
			return true
		}
		for _, full := range e.tokenRepos(t) {
			if r := e.repos[full]; r != nil && strings.HasSuffix(r.CloneURL, "/"+repoPath) {
				return true
			}
		}
		return false
	}
}

func (e *Emulator) installationJSON(u urls, inst *installation) obj {
	account := e.userLocked(inst.account)
	accountJSON := e.userJSON(u, inst.account).(obj)
	// Enterprise accounts carry these too; sending them satisfies both
	// alternatives of the schema's account field.
	accountJSON["name"], accountJSON["slug"] = inst.account, inst.account
	accountJSON["created_at"], accountJSON["updated_at"] = timestamp(inst.createdAt), timestamp(inst.createdAt)
	return obj{
		"id":                   inst.id,
		"account":              accountJSON,
		"app_id":               e.cfg.AppID,
		"app_slug":             e.cfg.AppSlug,
		"client_id":            "Iv1." + strconv.FormatInt(e.cfg.AppID, 16),
		"target_id":            account.id,
		"target_type":          account.kind,
		"single_file_name":     nil,
		"repository_selection": "selected",
		"access_tokens_url":    fmt.Sprintf("%s/app/installations/%d/access_tokens", u.api, inst.id),
		"repositories_url":     u.api + "/installation/repositories",
		"html_url":             fmt.Sprintf("%s/organizations/%s/settings/installations/%d", u.html, inst.account, inst.id),
		"events":               []string{"check_run", "check_suite", "merge_group", "pull_request", "pull_request_review", "push"},
		"permissions":          appPermissions(),
		"created_at":           timestamp(inst.createdAt),
		"updated_at":           timestamp(inst.createdAt),
		"suspended_by":         nil,
		"suspended_at":         nil,
	}
}

func appPermissions() obj {
	return obj{
		"checks": "write", "contents": "write", "issues": "write", "members": "read",
		"metadata": "read", "pull_requests": "write", "statuses": "write",
	}
}

func (e *Emulator) handleCreateAccessToken(c *call) response {
	id, _ := strconv.ParseInt(c.params["installation_id"], 10, 64)
	inst := e.installations[id]
	if inst == nil {
		return notFound()
	}
	var req struct {
		Repositories []string `json:"repositories"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	t, err := e.mintInstallationTokenLocked(id)
	if err != nil {
		return notFound()
	}
	var repos []any
	for _, full := range inst.repos {
		r := e.repos[full]
		if r == nil {
			continue
		}
		if len(req.Repositories) > 0 && !containsFold(req.Repositories, r.Name) {
			continue
		}
		if len(req.Repositories) > 0 {
			t.repos = append(t.repos, full)
		}
		repos = append(repos, e.repoJSON(c.urls, r))
	}
	if len(req.Repositories) > 0 && t.repos == nil {
		t.repos = []string{}
	}
	body := obj{
		"token":                t.value,
		"expires_at":           timestamp(t.expires),
		"permissions":          appPermissions(),
		"repository_selection": "selected",
	}
	if repos != nil {
		body["repositories"] = repos
	}
	return created(body)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func (e *Emulator) handleListInstallations(c *call) response {
	out := []obj{}
	for _, id := range e.sortedInstallationIDs() {
		out = append(out, e.installationJSON(c.urls, e.installations[id]))
	}
	return ok(page(c, out))
}

func (e *Emulator) handleRepoInstallation(c *call) response {
	full := c.params["owner"] + "/" + c.params["repo"]
	for _, id := range e.sortedInstallationIDs() {
		inst := e.installations[id]
		if containsFold(inst.repos, full) {
			return ok(e.installationJSON(c.urls, inst))
		}
	}
	return notFound()
}

func (e *Emulator) sortedInstallationIDs() []int64 {
	ids := make([]int64, 0, len(e.installations))
	for id := range e.installations {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
