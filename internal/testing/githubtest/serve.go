package githubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const docsURL = "https://docs.github.com/rest"

// obj is a JSON object under construction.
type obj = map[string]any

// call is one request being served.
type call struct {
	e      *Emulator
	r      *http.Request
	params map[string]string
	token  *token // nil for App JWT requests
	body   []byte
	urls   urls
	header http.Header // extra response headers, such as Link
}

// urls holds the base URLs for building API and HTML links.
type urls struct {
	api  string // "http://127.0.0.1:1234" or ".../api/v3"
	html string // "http://127.0.0.1:1234"
}

// response is what a route handler returns.
type response struct {
	status int
	body   any
}

func ok(body any) response      { return response{status: http.StatusOK, body: body} }
func created(body any) response { return response{status: http.StatusCreated, body: body} }

func errorResponse(status int, message string) response {
	return response{status: status, body: obj{"message": message, "documentation_url": docsURL, "status": strconv.Itoa(status)}}
}

func notFound() response { return errorResponse(http.StatusNotFound, "Not Found") }

// validationFailed mimics GitHub's 422 with an errors list.
func validationFailed(resource, field, code, message string) response {
	errObj := obj{"resource": resource, "code": code}
	if field != "" {
		errObj["field"] = field
	}
	if message != "" {
		errObj["message"] = message
	}
	return response{status: http.StatusUnprocessableEntity, body: obj{
		"message": "Validation Failed", "errors": []any{errObj}, "documentation_url": docsURL, "status": "422",
	}}
}

// unprocessable is the simple 422 shape with a custom message and errors of
// plain strings, as the reviews endpoints answer.
func unprocessable(message string, errs ...string) response {
	list := []any{}
	for _, e := range errs {
		list = append(list, e)
	}
	return response{status: http.StatusUnprocessableEntity, body: obj{
		"message": message, "errors": list, "documentation_url": docsURL, "status": "422",
	}}
}

func (c *call) decode(v any) error {
	if len(c.body) == 0 {
		return nil
	}
	return json.Unmarshal(c.body, v)
}

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

func (e *Emulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	prefix := ""
	if strings.HasPrefix(escaped, "/api/v3/") || escaped == "/api/v3" {
		prefix = "/api/v3"
		escaped = strings.TrimPrefix(escaped, prefix)
	}
	body, _ := readBody(r)

	var (
		rt     route
		params map[string]string
		found  bool
	)
	for _, candidate := range e.routes {
		if params, found = candidate.match(r.Method, escaped); found {
			rt = candidate
			break
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if prefix == "" {
		if template, status, served := e.serveOAuth(w, r, body); served {
			e.counts[template]++
			e.statusCounts[fmt.Sprintf("%s %d", template, status)]++
			return
		}
	}
	if !found {
		e.unexpected = append(e.unexpected, r.Method+" "+r.URL.Path)
		e.cfg.Logger.Warn("githubtest: unexpected request", "method", r.Method, "path", r.URL.Path)
		writeJSON(w, http.StatusNotFound, obj{"message": "Not Found", "documentation_url": docsURL, "status": "404"}, nil)
		return
	}
	status := e.dispatch(w, r, rt, params, body, prefix)
	e.counts[rt.template]++
	e.statusCounts[fmt.Sprintf("%s %d", rt.template, status)]++
	e.cfg.Logger.Debug("githubtest: request", "endpoint", rt.template, "path", r.URL.Path, "status", status)
}

// dispatch serves a matched request with e.mu held and returns the status.
func (e *Emulator) dispatch(w http.ResponseWriter, r *http.Request, rt route, params map[string]string, body []byte, prefix string) int {
	if f := e.takeFault(rt.template); f != nil {
		for k, v := range f.headers {
			w.Header().Set(k, v)
		}
		message, documentation := faultBody(f)
		writeJSON(w, f.status, obj{"message": message, "documentation_url": documentation}, nil)
		return f.status
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := scheme + "://" + r.Host
	c := &call{e: e, r: r, params: params, body: body, urls: urls{api: host + prefix, html: host}, header: http.Header{}}

	tok, rateKey, authErr := e.authenticate(r, rt.auth)
	if authErr != nil {
		writeJSON(w, http.StatusUnauthorized, obj{"message": authErr.Error(), "documentation_url": docsURL, "status": "401"}, nil)
		return http.StatusUnauthorized
	}
	c.token = tok

	window := e.rateWindowFor(rateKey)
	if window.used >= e.cfg.RateLimit {
		e.setRateHeaders(w.Header(), window)
		writeJSON(w, http.StatusForbidden, obj{
			"message":           "API rate limit exceeded for " + rateKey + ".",
			"documentation_url": rateLimitDocs + "#about-the-primary-rate-limit",
		}, nil)
		return http.StatusForbidden
	}

	if err := e.checkRepoAccess(c); err != nil {
		window.used++
		e.setRateHeaders(w.Header(), window)
		writeJSON(w, http.StatusNotFound, notFound().body, nil)
		return http.StatusNotFound
	}

	resp := rt.handle(c)
	for k, vs := range c.header {
		w.Header()[k] = vs
	}
	payload, err := json.Marshal(resp.body)
	if err != nil {
		resp = errorResponse(http.StatusInternalServerError, "githubtest: marshal response: "+err.Error())
		payload, _ = json.Marshal(resp.body)
	}
	if r.Method == http.MethodGet && resp.status == http.StatusOK {
		sum := sha256.Sum256(payload)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		w.Header().Set("ETag", etag)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			e.setRateHeaders(w.Header(), window)
			w.WriteHeader(http.StatusNotModified)
			return http.StatusNotModified
		}
	}
	window.used++
	e.setRateHeaders(w.Header(), window)
	writeJSON(w, resp.status, nil, payload)
	return resp.status
}

func etagMatches(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	for _, candidate := range strings.Split(ifNoneMatch, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}

// writeJSON writes v, or the already encoded payload when v is nil.
func writeJSON(w http.ResponseWriter, status int, v any, payload []byte) {
	if v != nil {
		payload, _ = json.Marshal(v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	w.WriteHeader(status)
	if status != http.StatusNoContent {
		_, _ = w.Write(payload)
	}
}

type rateWindow struct {
	used  int
	reset time.Time
}

func (e *Emulator) rateWindowFor(key string) *rateWindow {
	now := e.cfg.Now()
	w := e.rates[key]
	if w == nil || !now.Before(w.reset) {
		w = &rateWindow{reset: now.Add(time.Hour).Truncate(time.Second)}
		e.rates[key] = w
	}
	return w
}

func (e *Emulator) setRateHeaders(h http.Header, w *rateWindow) {
	remaining := e.cfg.RateLimit - w.used
	if remaining < 0 {
		remaining = 0
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(e.cfg.RateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(w.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(w.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// paginate applies per_page and page to a list of n items, sets the Link
// header like GitHub does and returns the slice bounds.
func (c *call) paginate(n int) (lo, hi int) {
	perPage := 30
	if v, err := strconv.Atoi(c.query("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(c.query("page")); err == nil && v > 0 {
		page = v
	}
	last := max(1, (n+perPage-1)/perPage)
	link := func(p int, rel string) string {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, c.urls.html, c.r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		c.header.Set("Link", strings.Join(links, ", "))
	}
	lo = min((page-1)*perPage, n)
	hi = min(lo+perPage, n)
	return lo, hi
}

// page returns the current page of items.
func page[T any](c *call, items []T) []T {
	lo, hi := c.paginate(len(items))
	out := make([]T, 0, hi-lo)
	return append(out, items[lo:hi]...)
}
