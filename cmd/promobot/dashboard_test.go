package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/dashboard"
	"github.com/example-org/promobot/internal/testing/audittest"
)

// runDashboardCLI runs "promobot dashboard" until ctx ends.
func runDashboardCLI(ctx context.Context, stdout, stderr io.Writer, vars map[string]string, args ...string) int {
	e := &env{
		stdin: strings.NewReader(""), stdout: stdout, stderr: stderr,
		getenv: func(k string) string { return vars[k] },
		getwd:  os.Getwd,
	}
	return run(ctx, append([]string{"dashboard"}, args...), e)
}

func TestDashboardRefusesNonLoopbackAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8090", ":8090", "192.0.2.1:8090", "localhost:8090", "[::]:8090", "example.com:80", "127.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			var stderr syncBuffer
			if code := runDashboardCLI(t.Context(), io.Discard, &stderr, nil, "--repo", t.TempDir(), "--addr", addr); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), "--addr") {
				t.Errorf("stderr does not name --addr:\n%s", stderr.String())
			}
		})
	}
}

var dashboardURL = regexp.MustCompile(`dashboard: (http://\S+/)`)

func TestDashboardServesLocalRepository(t *testing.T) {
	t.Parallel()
	h := audittest.BuildHistory(t)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var stdout, stderr syncBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- runDashboardCLI(ctx, &stdout, &stderr, map[string]string{"GITHUB_TOKEN": h.Token(t)},
			"--repo", h.Path, "--cache-dir", t.TempDir(), "--addr", "127.0.0.1:0",
			"--github-repo", audittest.Owner+"/"+audittest.Name, "--github-url", h.Fixture.URL())
	}()
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := dashboardURL.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		select {
		case code := <-exited:
			t.Fatalf("exited %d before listening:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dashboard address printed; stderr:\n%s", stderr.String())
		}
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/r/acme/models/" {
		t.Fatalf("GET %s = %d at %s", base, resp.StatusCode, resp.Request.URL)
	}
	for _, want := range []string{"forecaster", "1.2.0", "Pull requests and approvers are verified on GitHub"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the matrix lacks %q", want)
		}
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
	stop()
	if code := <-exited; code != 0 {
		t.Errorf("exit %d after the interrupt, want 0; stderr:\n%s", code, stderr.String())
	}
}

// Without its sign-in settings, serve refuses to start the dashboard rather
// than serve it to anyone.
func TestDashboardServeFailsClosedWithoutSignIn(t *testing.T) {
	vars := listenFailingVars(t)
	vars["PROMOBOT_DASHBOARD_ADDR"] = "127.0.0.1:0"
	wantServeUsageError(t, vars, nil, nil, "--oauth-client-id (PROMOBOT_OAUTH_CLIENT_ID) is required with --dashboard-addr")
}

// The serve listener asks the sign-in's gate about every page: a person
// who cannot read the repository gets 404, a gate that cannot answer 503,
// and the sign-in's middleware and routes are in place.
func TestDashboardServeListenerUsesTheGate(t *testing.T) {
	t.Parallel()
	h := audittest.BuildHistory(t)
	repos := func(context.Context) ([]*dashboard.Repository, error) {
		return []*dashboard.Repository{{Owner: audittest.Owner, Name: audittest.Name, Path: h.Path, CacheDir: t.TempDir()}}, nil
	}
	signIn := func(access dashboard.Access, err error) *dashboardSignIn {
		return &dashboardSignIn{
			Gate: dashboard.GateFunc(func(*http.Request, string, string) (dashboard.Access, error) { return access, err }),
			Middleware: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Signed-In", "yes")
					next.ServeHTTP(w, r)
				})
			},
			Routes: func(mux *http.ServeMux) {
				mux.HandleFunc("GET /login", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "sign in") })
			},
		}
	}
	tests := []struct {
		name   string
		signIn *dashboardSignIn
		path   string
		status int
	}{
		{"reader", signIn(dashboard.Access{Login: "bob", Read: true}, nil), "/r/acme/models/", http.StatusOK},
		{"not a reader", signIn(dashboard.Access{Login: "eve"}, nil), "/r/acme/models/", http.StatusNotFound},
		{"gate error", signIn(dashboard.Access{}, errors.New("GitHub is down")), "/r/acme/models/", http.StatusServiceUnavailable},
		{"sign-in route", signIn(dashboard.Access{}, nil), "/login", http.StatusOK},
	}
	logger := slog.New(slog.DiscardHandler)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, stop, err := listenDashboard("127.0.0.1:0", tc.signIn, repos, logger)
			if err != nil {
				t.Fatal(err)
			}
			defer stop(context.Background())
			resp, err := http.Get("http://" + addr.String() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.status)
			}
			if resp.Header.Get("Content-Security-Policy") != dashboard.ContentSecurityPolicy {
				t.Error("no Content-Security-Policy")
			}
			if tc.path != "/login" && resp.Header.Get("X-Signed-In") != "yes" {
				t.Error("the sign-in middleware did not run")
			}
		})
	}
	if _, _, err := listenDashboard("127.0.0.1:0", nil, repos, logger); err == nil {
		t.Error("a dashboard without a gate was started")
	}
}
