package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// listing is a Lister whose answer the test changes, with a clock the test
// moves.
type listing struct {
	mu    sync.Mutex
	repos []*Repository
	err   error
	calls int
	now   time.Time
}

func (l *listing) list(context.Context) ([]*Repository, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.repos, l.err
}

func (l *listing) set(err error, repos ...*Repository) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.repos, l.err = repos, err
}

func (l *listing) clock() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

func (l *listing) advance(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = l.now.Add(d)
}

func (l *listing) called() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// unfetchable is a repository whose copy cannot be fetched.
func unfetchable(name string) *Repository {
	return &Repository{Owner: "acme", Name: name, Path: "/nonexistent",
		Sync: func(context.Context) error { return errors.New("GitHub is down") }}
}

func TestDashboardListsRepositoriesAgainAfterTheTTL(t *testing.T) {
	l := &listing{now: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	models, other := unfetchable("models"), unfetchable("other")
	l.set(nil, models)
	srv := server(t, Options{Gate: AllowAll, List: l.list, ListTTL: 5 * time.Minute, Now: l.clock})
	type want struct {
		listed    []string // on the home page
		notListed []string
		calls     int
	}
	check := func(step string, w want) {
		t.Helper()
		status, body, _ := get(t, srv, "/")
		if status != http.StatusOK {
			t.Fatalf("%s: GET / = %d:\n%.1000s", step, status, body)
		}
		for _, name := range w.listed {
			if !strings.Contains(body, `href="/r/acme/`+name+`/"`) {
				t.Errorf("%s: the home page does not list acme/%s:\n%.1000s", step, name, body)
			}
			// Listed and unfetchable: 503 that says why, not 404.
			if status, body, _ := get(t, srv, "/r/acme/"+name+"/"); status != http.StatusServiceUnavailable || !strings.Contains(body, "could not fetch this repository from GitHub") {
				t.Errorf("%s: GET /r/acme/%s/ = %d:\n%.1000s", step, name, status, body)
			}
		}
		for _, name := range w.notListed {
			if strings.Contains(body, "acme/"+name) {
				t.Errorf("%s: the home page lists acme/%s", step, name)
			}
			if status, _, _ := get(t, srv, "/r/acme/"+name+"/"); status != http.StatusNotFound {
				t.Errorf("%s: GET /r/acme/%s/ = %d, want 404", step, name, status)
			}
		}
		if got := l.called(); got != w.calls {
			t.Errorf("%s: listed %d times, want %d", step, got, w.calls)
		}
	}

	check("first request", want{listed: []string{"models"}, notListed: []string{"other"}, calls: 1})
	l.set(nil, models, other)
	l.advance(5*time.Minute - time.Second)
	check("added, within the TTL", want{listed: []string{"models"}, notListed: []string{"other"}, calls: 1})
	l.advance(time.Second)
	check("added, after the TTL", want{listed: []string{"models", "other"}, calls: 2})
	l.set(nil, other)
	l.advance(5 * time.Minute)
	check("removed, after the TTL", want{listed: []string{"other"}, notListed: []string{"models"}, calls: 3})

	// GitHub failing: the last listing stays, and is asked for again
	// after listRetry, not on every request.
	l.set(errors.New("GitHub is down"))
	l.advance(5 * time.Minute)
	check("listing fails", want{listed: []string{"other"}, notListed: []string{"models"}, calls: 4})
	l.advance(listRetry - time.Second)
	check("listing fails, retry not due", want{listed: []string{"other"}, calls: 4})
	l.set(nil, models)
	l.advance(time.Second)
	check("listing works again", want{listed: []string{"models"}, notListed: []string{"other"}, calls: 5})
}

func TestDashboardListKeepsWhatWasDerived(t *testing.T) {
	l := &listing{now: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	models := unfetchable("models")
	l.set(nil, models)
	s, err := New(Options{Gate: AllowAll, List: l.list, Now: l.clock})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.repos.get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	first.byKey["acme/models"].views["kept"] = true
	l.advance(DefaultListTTL)
	again, err := s.repos.get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if l.called() != 2 || again.byKey["acme/models"].views["kept"] != true {
		t.Errorf("after listing again (%d listings) the repository's views were dropped", l.called())
	}
}

func TestDashboardFirstListingFails(t *testing.T) {
	l := &listing{now: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	l.set(errors.New("GitHub is down"))
	srv := server(t, Options{Gate: AllowAll, List: l.list, Now: l.clock})
	for _, path := range []string{"/", "/r/acme/models/"} {
		if status, body, _ := get(t, srv, path); status != http.StatusServiceUnavailable || !strings.Contains(body, "list of repositories cannot be read") {
			t.Errorf("GET %s = %d:\n%.1000s", path, status, body)
		}
	}
}

func TestDashboardOptionsOfTheList(t *testing.T) {
	list := func(context.Context) ([]*Repository, error) { return nil, nil }
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"both", Options{Gate: AllowAll, List: list, Repositories: []*Repository{{Owner: "a", Name: "b"}}}, "both a list of repositories and a Lister"},
		{"local", Options{Gate: AllowAll, List: list, Local: true}, "local mode serves a fixed list"},
		{"neither", Options{Gate: AllowAll}, "no repository to show"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want %q", err, tc.want)
			}
		})
	}
}
