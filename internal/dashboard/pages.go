package dashboard

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/drift"
)

// page is what every template receives.
type page struct {
	Title  string
	Repo   *Repository
	Access Access
	// Nav names the current section: matrix, models, pulls or findings.
	Nav  string
	Data any
}

// matrixView is the environment × model matrix.
type matrixView struct {
	Snap         *Snapshot
	Rows         []matrixRow
	DriftChecked bool
	DriftProblem string
	Attested     bool
	// Table is the rendered table, kept with the view.
	Table template.HTML
}

type matrixRow struct {
	Model string
	Cells []cellView
}

// cellView is what one environment pins of one model.
type cellView struct {
	Environment                    string
	Pin                            *audit.Pin
	Attestation, AttestationDetail string
	Drift                          bool
}

func (s *Server) matrix(w http.ResponseWriter, r *http.Request, repo *Repository, access Access) {
	snap, err := repo.Snapshot(r.Context())
	if err != nil {
		s.unavailable(w, r, repo, err)
		return
	}
	df := repo.DriftFindings(r.Context(), snap)
	key := "matrix|" + df.at.String()
	view, ok := cachedView[*matrixView](repo, snap, key)
	if !ok {
		if view, err = s.matrixView(r.Context(), repo, snap, df); err != nil {
			s.opts.Logger.Error("dashboard: render", "page", "matrix", "err", err)
			http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
			return
		}
		keepView(repo, snap, key, view)
	}
	s.render(w, r, http.StatusOK, "matrix", page{Title: repo.FullName(), Repo: repo, Access: access, Nav: "matrix", Data: view})
}

func (s *Server) matrixView(ctx context.Context, repo *Repository, snap *Snapshot, df finding[drift.Result]) (*matrixView, error) {
	view := &matrixView{Snap: snap, DriftChecked: df.value != nil, DriftProblem: df.problem, Attested: repo.Attestations != nil}
	view.Rows = make([]matrixRow, 0, len(snap.Models))
	for _, m := range snap.Models {
		row := matrixRow{Model: m, Cells: make([]cellView, len(snap.Environments))}
		for i, env := range snap.Environments {
			c := cellView{Environment: env, Pin: snap.Pins[m][env]}
			if c.Pin != nil {
				c.Drift = drifted(df.value, env, m)
				if repo.Attestations != nil {
					c.Attestation, c.AttestationDetail = repo.Attestations.Status(ctx, snap.Tip, env, m)
				}
			}
			row.Cells[i] = c
		}
		view.Rows = append(view.Rows, row)
	}
	view.Table, view.Rows = matrixTable(repo, view), nil
	return view, nil
}

// modelView is one model's timeline.
type modelView struct {
	Snap    *Snapshot
	Model   string
	Current []cellView
	Events  []event
}

// event is one change of the model, newest first.
type event struct {
	audit.Record
	Metrics []metricChange
}

func (s *Server) model(w http.ResponseWriter, r *http.Request, repo *Repository, access Access) {
	snap, err := repo.Snapshot(r.Context())
	if err != nil {
		s.unavailable(w, r, repo, err)
		return
	}
	name := r.PathValue("model")
	if snap.Pins[name] == nil && !slices.ContainsFunc(snap.History.Records, func(rec audit.Record) bool { return rec.Model == name }) {
		s.notFound(w, r)
		return
	}
	key := "model|" + name
	view, ok := cachedView[*modelView](repo, snap, key)
	if !ok {
		view = repo.modelView(r.Context(), snap, name)
		keepView(repo, snap, key, view)
	}
	s.render(w, r, http.StatusOK, "model", page{Title: name + " · " + repo.FullName(), Repo: repo, Access: access, Nav: "models", Data: view})
}

func (repo *Repository) modelView(ctx context.Context, snap *Snapshot, name string) *modelView {
	view := &modelView{Snap: snap, Model: name}
	for _, env := range snap.Environments {
		view.Current = append(view.Current, cellView{Environment: env, Pin: snap.Pins[name][env]})
	}
	records := slices.Clone((audit.Filter{Models: []string{name}}).Apply(snap.History.Records))
	metrics := repo.explain(ctx, records)
	for i := len(records) - 1; i >= 0; i-- {
		view.Events = append(view.Events, event{Record: records[i], Metrics: metrics[i]})
	}
	return view
}

// pullsView lists the open promotion pull requests.
type pullsView struct {
	Snap    *Snapshot
	Pulls   []PullRequest
	Problem string
}

func (s *Server) pulls(w http.ResponseWriter, r *http.Request, repo *Repository, access Access) {
	snap, err := repo.Snapshot(r.Context())
	if err != nil {
		s.unavailable(w, r, repo, err)
		return
	}
	view := pullsView{Snap: snap}
	if view.Pulls, err = repo.PullRequests(r.Context(), snap); err != nil {
		view.Problem = err.Error()
		s.opts.Logger.Warn("dashboard: open pull requests", "repo", repo.FullName(), "err", err)
	}
	s.render(w, r, http.StatusOK, "pulls", page{Title: "Open promotions · " + repo.FullName(), Repo: repo, Access: access, Nav: "pulls", Data: view})
}

// findingsView shows the drift and, to admins, access-review findings.
type findingsView struct {
	Snap         *Snapshot
	DriftChecked bool
	Findings
}

func (s *Server) findings(w http.ResponseWriter, r *http.Request, repo *Repository, access Access) {
	snap, err := repo.Snapshot(r.Context())
	if err != nil {
		s.unavailable(w, r, repo, err)
		return
	}
	view := findingsView{Snap: snap, DriftChecked: repo.Drift != nil}
	df := repo.DriftFindings(r.Context(), snap)
	view.Drift, view.DriftProblem, view.DriftAt = df.value, df.problem, df.at
	if access.Admin {
		af := repo.AccessFindings(r.Context(), snap)
		view.Access, view.AccessProblem, view.AccessAt = af.value, af.problem, af.at
	}
	s.render(w, r, http.StatusOK, "findings", page{Title: "Findings · " + repo.FullName(), Repo: repo, Access: access, Nav: "findings", Data: view})
}

// unavailable answers 503 when the repository cannot be read.
// A failure to fetch it from GitHub says so.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, repo *Repository, err error) {
	s.opts.Logger.Error("dashboard: read the repository", "repo", repo.FullName(), "err", err)
	msg := "The repository cannot be read right now; try again shortly."
	if errors.As(err, new(*SyncError)) {
		msg = "promobot could not fetch this repository from GitHub, so it cannot show it right now; try again shortly."
	}
	s.errorPage(w, r, http.StatusServiceUnavailable, msg)
}

// cachedView returns the view kept under key for snap, if any.
func cachedView[T any](repo *Repository, snap *Snapshot, key string) (T, bool) {
	repo.mu.Lock()
	defer repo.mu.Unlock()
	v, ok := repo.views[key].(T)
	return v, ok && repo.snap == snap
}

// keepView keeps a view under key while snap is current. Views kept depend
// only on the head and the findings, never on who asks.
func keepView(repo *Repository, snap *Snapshot, key string, v any) {
	repo.mu.Lock()
	defer repo.mu.Unlock()
	if repo.snap == snap {
		repo.views[key] = v
	}
}

// render renders a page.
func (s *Server) render(w http.ResponseWriter, _ *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, p); err != nil {
		s.opts.Logger.Error("dashboard: render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	writeHTML(w, status, buf.Bytes())
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// Warm builds every repository's snapshot, so that the first page is fast.
func (s *Server) Warm(ctx context.Context) error {
	c, err := s.repos.get(ctx)
	if err != nil {
		return err
	}
	for _, repo := range c.list {
		if _, err := repo.Snapshot(ctx); err != nil {
			return err
		}
	}
	return nil
}

func sortStrings(s []string) { slices.SortFunc(s, strings.Compare) }
