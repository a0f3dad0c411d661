// Package dashboard serves promobot's read-only pages for approvers and
// auditors: what every environment pins of every model, since when and
// through which pull request; a model's timeline across environments; the
// open promotion pull requests with what each still lacks and from whom; and
// the latest access-review and drift findings.
//
// Everything shown is derived on demand from a local git repository (the
// bot's mirror or a checkout), the audit records rebuilt from it
// (internal/audit), GitHub through internal/githubapi, and the evaluation
// rules of internal/evaluate; nothing new is stored. Derived data is cached
// per repository and keyed by the head commit, so a push is seen at once.
//
// Who may see what is the business of a Gate: the local command allows
// everything on a loopback address; the server asks its sign-in package.
// Pages are html/template, readable without JavaScript; htmx, embedded and
// pinned, only enhances navigation.
package dashboard

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Access is what the person asking may see of one repository.
type Access struct {
	// Login is the person's GitHub login, empty in local mode.
	Login string
	// Read lets the person see the repository's pages; Admin also the
	// access-review findings.
	Read, Admin bool
}

// Gate answers who is asking and what they may see of owner/repo. An error
// means the answer is unknown: the page fails closed with 503.
type Gate interface {
	Access(r *http.Request, owner, repo string) (Access, error)
}

// GateFunc adapts a function to Gate.
type GateFunc func(r *http.Request, owner, repo string) (Access, error)

// Access calls f.
func (f GateFunc) Access(r *http.Request, owner, repo string) (Access, error) {
	return f(r, owner, repo)
}

// AllowAll is the gate of local mode: no sign-in, everyone reads everything
// and is an admin. Use it only on a loopback listener.
var AllowAll Gate = GateFunc(func(*http.Request, string, string) (Access, error) {
	return Access{Read: true, Admin: true}, nil
})

// Options configure New.
type Options struct {
	// Gate decides who sees what; required.
	Gate Gate
	// Middleware, when set, wraps every page except the static files and
	// /healthz (sign-in: redirect to the login page without a session).
	Middleware func(http.Handler) http.Handler
	// Routes, when set, adds routes to the mux (sign-in: login, callback,
	// logout); they get the security headers but not Middleware.
	Routes func(mux *http.ServeMux)
	// Repositories are the repositories served: at least one, unless List
	// is set instead.
	Repositories []*Repository
	// List, when set instead of Repositories, lists the repositories
	// served, on the first request and again once ListTTL has passed.
	List Lister
	// ListTTL is how long a listing is kept; zero means DefaultListTTL.
	ListTTL time.Duration
	// Local sends / straight to the only repository.
	Local bool
	// FindingsTTL is how long drift and access-review findings, and the
	// open pull requests, are kept; zero means one minute.
	FindingsTTL time.Duration
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the dashboard's http.Handler.
type Server struct {
	opts    Options
	handler http.Handler
	repos   *repositories
}

// New checks opts and returns the dashboard.
func New(opts Options) (*Server, error) {
	if opts.Gate == nil {
		return nil, errors.New("dashboard: no gate: who may see what is unknown")
	}
	if opts.FindingsTTL <= 0 {
		opts.FindingsTTL = time.Minute
	}
	if opts.ListTTL <= 0 {
		opts.ListTTL = DefaultListTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Local && opts.List != nil {
		return nil, errors.New("dashboard: local mode serves a fixed list of repositories")
	}
	repos, err := newRepositories(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, repos: repos}
	pages := http.NewServeMux()
	pages.HandleFunc("GET /{$}", s.home)
	pages.HandleFunc("GET /r/{owner}/{repo}/{$}", s.withRepo(s.matrix))
	pages.HandleFunc("GET /r/{owner}/{repo}/models/{model}", s.withRepo(s.model))
	pages.HandleFunc("GET /r/{owner}/{repo}/pulls", s.withRepo(s.pulls))
	pages.HandleFunc("GET /r/{owner}/{repo}/findings", s.withRepo(s.findings))
	var guarded http.Handler = pages
	if opts.Middleware != nil {
		guarded = opts.Middleware(pages)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	if opts.Routes != nil {
		opts.Routes(mux)
	}
	mux.Handle("/", guarded)
	s.handler = SecurityHeaders(mux)
	return s, nil
}

// ServeHTTP serves the dashboard.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// ContentSecurityPolicy is the policy sent with every response: scripts,
// styles and requests only from the dashboard itself, no framing, no inline
// code.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// SecurityHeaders sets the dashboard's security headers on every response
// of next.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// repoHandler serves a page of one repository the person may read.
type repoHandler func(w http.ResponseWriter, r *http.Request, repo *Repository, access Access)

// withRepo looks the repository up and asks the gate. An unknown repository
// and one the person cannot read answer the same 404, so that the answer
// never reveals that a repository exists; a gate error answers 503.
func (s *Server) withRepo(h repoHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.repos.get(r.Context())
		if err != nil {
			s.catalogUnavailable(w, r)
			return
		}
		repo := c.byKey[key(r.PathValue("owner"), r.PathValue("repo"))]
		if repo == nil {
			s.notFound(w, r)
			return
		}
		access, err := s.opts.Gate.Access(r, repo.Owner, repo.Name)
		if err != nil {
			s.opts.Logger.Error("dashboard: the gate could not answer", "repo", repo.Owner+"/"+repo.Name, "err", err)
			s.errorPage(w, r, http.StatusServiceUnavailable, "Access cannot be checked right now; try again shortly.")
			return
		}
		if !access.Read {
			s.notFound(w, r)
			return
		}
		h(w, r, repo, access)
	}
}

// home lists the repositories the person can read, or, in local mode,
// redirects to the only one.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if s.opts.Local && len(s.opts.Repositories) == 1 {
		repo := s.opts.Repositories[0]
		http.Redirect(w, r, repo.Base(), http.StatusFound)
		return
	}
	c, err := s.repos.get(r.Context())
	if err != nil {
		s.catalogUnavailable(w, r)
		return
	}
	var list []*Repository
	for _, repo := range c.list {
		access, err := s.opts.Gate.Access(r, repo.Owner, repo.Name)
		if err != nil {
			s.opts.Logger.Error("dashboard: the gate could not answer", "repo", repo.Owner+"/"+repo.Name, "err", err)
			s.errorPage(w, r, http.StatusServiceUnavailable, "Access cannot be checked right now; try again shortly.")
			return
		}
		if access.Read {
			list = append(list, repo)
		}
	}
	slices.SortFunc(list, func(a, b *Repository) int { return strings.Compare(a.Owner+"/"+a.Name, b.Owner+"/"+b.Name) })
	s.render(w, r, http.StatusOK, "home", page{Title: "Repositories", Data: list})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "There is no such page, or you cannot see it.")
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", page{Title: http.StatusText(status), Data: msg})
}
