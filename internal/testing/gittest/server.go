// Package gittest runs a real git smart-HTTP server on loopback and builds
// commits in bare repositories quickly, for tests and for the local demo.
//
// The server is `git http-backend` behind net/http/cgi, so clients talk to
// the same protocol implementation they would meet on a real forge. The
// package does not import "testing": helpers that need a test accept the
// small TB interface, which *testing.T satisfies.
package gittest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Authorizer decides whether a request for repository path repo (relative to
// the server root, for example "org/app.git") carrying HTTP basic-auth
// credentials user and password may proceed.
type Authorizer func(repo, user, password string) bool

// Option configures a Server.
type Option func(*Server)

// WithToken requires HTTP basic authentication whose password is token, with
// any user name, the way GitHub accepts "x-access-token:<token>".
func WithToken(token string) Option {
	return WithAuthorizer(func(_, _, password string) bool { return password == token })
}

// WithAuthorizer requires HTTP basic authentication checked by authorize.
func WithAuthorizer(authorize Authorizer) Option {
	return func(s *Server) { s.authorize = authorize }
}

// Request records one HTTP request the server received.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, for example "/org/app.git/info/refs".
	Path string
	// User is the basic-auth user name, empty when none was sent.
	User string
	// HasCredentials reports whether basic-auth credentials were sent.
	HasCredentials bool
	// Status is the HTTP status code of the response.
	Status int
}

// Server serves the bare repositories under a root directory over git smart
// HTTP on 127.0.0.1.
type Server struct {
	root      string
	authorize Authorizer
	server    *http.Server
	backend   *cgi.Handler
	url       string

	mu       sync.Mutex
	requests []Request
}

// NewServer starts a server for the bare repositories under root. Clone URLs
// are URL() + "/" + the repository path relative to root.
func NewServer(root string, opts ...Option) (*Server, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("gittest: git binary not found: %w", err)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("gittest: resolve root: %w", err)
	}
	s := &Server{root: absRoot}
	for _, opt := range opts {
		opt(s)
	}
	s.backend = &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + absRoot,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
			"HOME=" + absRoot,
		},
		InheritEnv: []string{"PATH"},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gittest: listen on loopback: %w", err)
	}
	s.url = "http://" + ln.Addr().String()
	s.server = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(ln) }()
	return s, nil
}

// URL returns the base URL of the server, without a trailing slash.
func (s *Server) URL() string { return s.url }

// RepoURL returns the clone URL of the repository at path rel under the root,
// for example RepoURL("org/app.git").
func (s *Server) RepoURL(rel string) string {
	return s.url + "/" + strings.TrimPrefix(filepath.ToSlash(rel), "/")
}

// Root returns the absolute directory holding the served repositories.
func (s *Server) Root() string { return s.root }

// Requests returns a copy of the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Close stops the server, closing its listener and any open connections.
func (s *Server) Close() error {
	err := s.server.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeHTTP checks credentials when an Authorizer is configured and hands the
// request to git http-backend.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: r.URL.Path, User: user, HasCredentials: ok, Status: rec.status,
		})
		s.mu.Unlock()
	}()
	if strings.Contains(r.URL.Path, "..") {
		http.Error(rec, "invalid path", http.StatusBadRequest)
		return
	}
	if s.authorize != nil && (!ok || !s.authorize(repoOf(r.URL.Path), user, password)) {
		rec.Header().Set("WWW-Authenticate", `Basic realm="gittest"`)
		http.Error(rec, "authentication required", http.StatusUnauthorized)
		return
	}
	s.backend.ServeHTTP(rec, r)
}

// repoOf extracts the repository part of a smart-HTTP path such as
// "/org/app.git/info/refs".
func repoOf(path string) string {
	path = strings.TrimPrefix(path, "/")
	for _, suffix := range []string{"/info/refs", "/git-upload-pack", "/git-receive-pack", "/HEAD"} {
		if i := strings.Index(path, suffix); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.Index(path, "/objects/"); i >= 0 {
		return path[:i]
	}
	return path
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
