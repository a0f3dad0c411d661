package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/retrytest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newClock() *retrytest.Clock { return retrytest.NewClock(epoch) }

// step is one scripted answer.
type step struct {
	status int
	header map[string]string
	body   string
	err    error
}

// sent is one request the wire saw.
type sent struct {
	Method string
	Body   string
	At     time.Time
}

// wire answers requests from a script, then 200 "ok".
type wire struct {
	clock *retrytest.Clock
	mu    sync.Mutex
	steps []step
	sent  []sent
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
	}
	w.mu.Lock()
	w.sent = append(w.sent, sent{Method: r.Method, Body: string(body), At: w.clock.Now()})
	s := step{status: http.StatusOK, body: "ok"}
	if len(w.steps) > 0 {
		s, w.steps = w.steps[0], w.steps[1:]
	}
	w.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	h := http.Header{}
	for k, v := range s.header {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: s.status, Header: h, Body: io.NopCloser(strings.NewReader(s.body)), Request: r}, nil
}

func (w *wire) Sent() []sent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sent(nil), w.sent...)
}

type fixture struct {
	clock   *retrytest.Clock
	wire    *wire
	gate    *Gate
	mu      sync.Mutex
	reasons []Reason
}

func newFixture(steps ...step) *fixture {
	c := newClock()
	return &fixture{clock: c, wire: &wire{clock: c, steps: steps}, gate: &Gate{}}
}

func (f *fixture) transport(opts Options) http.RoundTripper {
	opts.Now, opts.Sleep, opts.Gate = f.clock.Now, f.clock.Sleep, f.gate
	if opts.Jitter == nil {
		opts.Jitter = func() float64 { return 0 }
	}
	opts.Observe = func(r Reason, _ time.Duration) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.reasons = append(f.reasons, r)
	}
	return New(f.wire, opts)
}

func (f *fixture) Reasons() []Reason {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Reason(nil), f.reasons...)
}

func do(t *testing.T, ctx context.Context, rt http.RoundTripper, method, body string) (*http.Response, string, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://api.github.test/repos/a/b/pulls/1/reviews", rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

const secondaryBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`

func TestRetries(t *testing.T) {
	at := func(d time.Duration) string { return epoch.Add(d).UTC().Format(http.TimeFormat) }
	unix := func(d time.Duration) string { return strconv.FormatInt(epoch.Add(d).Unix(), 10) }
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	reset := errors.New("connection reset by peer")
	tests := []struct {
		name        string
		method      string
		body        string
		opts        Options
		steps       []step
		wantStatus  int
		wantErr     bool
		wantBody    string
		wantWaits   []time.Duration
		wantReasons []Reason
		wantSent    int
	}{
		{name: "502 then 200 on a GET", method: "GET", steps: []step{{status: 502}},
			wantStatus: 200, wantBody: "ok", wantWaits: []time.Duration{500 * time.Millisecond}, wantReasons: []Reason{ReasonServerError}, wantSent: 2},
		{name: "POST not retried on 502", method: "POST", body: "{}", steps: []step{{status: 502, body: "bad gateway"}},
			wantStatus: 502, wantBody: "bad gateway", wantSent: 1},
		{name: "PATCH retried on 503 with its body", method: "PATCH", body: `{"status":"completed"}`, steps: []step{{status: 503}},
			wantStatus: 200, wantWaits: []time.Duration{500 * time.Millisecond}, wantReasons: []Reason{ReasonServerError}, wantSent: 2},
		{name: "501 is not retried", method: "GET", steps: []step{{status: 501}}, wantStatus: 501, wantSent: 1},
		{name: "backoff doubles up to its cap", method: "GET", opts: Options{MaxDelay: 3 * time.Second},
			steps:      []step{{status: 500}, {status: 500}, {status: 500}, {status: 500}},
			wantStatus: 500, wantWaits: []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond},
			wantReasons: []Reason{ReasonServerError, ReasonServerError, ReasonServerError}, wantSent: 4},
		{name: "503 with a longer Retry-After", method: "GET", steps: []step{{status: 503, header: map[string]string{"Retry-After": "7"}}},
			wantStatus: 200, wantWaits: []time.Duration{7 * time.Second}, wantReasons: []Reason{ReasonServerError}, wantSent: 2},
		{name: "secondary limit, Retry-After in seconds", method: "GET",
			steps:      []step{{status: 403, header: map[string]string{"Retry-After": "30"}, body: secondaryBody}},
			wantStatus: 200, wantWaits: []time.Duration{30 * time.Second}, wantReasons: []Reason{ReasonSecondaryRateLimit}, wantSent: 2},
		{name: "secondary limit, Retry-After as an HTTP date", method: "GET",
			steps:      []step{{status: 429, header: map[string]string{"Retry-After": at(45 * time.Second)}}},
			wantStatus: 200, wantWaits: []time.Duration{45 * time.Second}, wantReasons: []Reason{ReasonSecondaryRateLimit}, wantSent: 2},
		{name: "secondary limit without Retry-After waits a minute, then two", method: "GET", opts: Options{MaxWait: 5 * time.Minute},
			steps:      []step{{status: 403, body: secondaryBody}, {status: 403, body: secondaryBody}},
			wantStatus: 200, wantWaits: []time.Duration{time.Minute, 2 * time.Minute},
			wantReasons: []Reason{ReasonSecondaryRateLimit, ReasonSecondaryRateLimit}, wantSent: 3},
		{name: "POST retried on a secondary limit: GitHub did nothing", method: "POST", body: `{"name":"promobot"}`,
			steps:      []step{{status: 403, header: map[string]string{"Retry-After": "2"}, body: secondaryBody}},
			wantStatus: 200, wantWaits: []time.Duration{2 * time.Second}, wantReasons: []Reason{ReasonSecondaryRateLimit}, wantSent: 2},
		{name: "a real 403 is not retried and keeps its body", method: "GET",
			steps:      []step{{status: 403, body: `{"message":"Resource not accessible by integration"}`}},
			wantStatus: 403, wantBody: `{"message":"Resource not accessible by integration"}`, wantSent: 1},
		{name: "primary limit waits for the reset", method: "GET",
			steps:      []step{{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": unix(100 * time.Second)}}},
			wantStatus: 200, wantWaits: []time.Duration{101 * time.Second}, wantReasons: []Reason{ReasonRateLimit}, wantSent: 2},
		{name: "primary limit beyond MaxWait is returned at once", method: "GET",
			steps:      []step{{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": unix(time.Hour)}, body: "limited"}},
			wantStatus: 403, wantBody: "limited", wantSent: 1},
		{name: "Retry-After beyond MaxWait is returned at once", method: "GET", opts: Options{MaxWait: 10 * time.Second},
			steps:      []step{{status: 403, header: map[string]string{"Retry-After": "60"}, body: secondaryBody}},
			wantStatus: 403, wantBody: secondaryBody, wantSent: 1},
		{name: "gives up after MaxAttempts", method: "GET", opts: Options{MaxAttempts: 2},
			steps:      []step{{status: 502}, {status: 502, body: "still bad"}},
			wantStatus: 502, wantBody: "still bad", wantWaits: []time.Duration{500 * time.Millisecond}, wantReasons: []Reason{ReasonServerError}, wantSent: 2},
		{name: "connection reset on a GET is retried", method: "GET", steps: []step{{err: reset}},
			wantStatus: 200, wantWaits: []time.Duration{500 * time.Millisecond}, wantReasons: []Reason{ReasonNetwork}, wantSent: 2},
		{name: "connection reset on a POST is not", method: "POST", body: "{}", steps: []step{{err: reset}}, wantErr: true, wantSent: 1},
		{name: "refused connection on a POST is retried: never sent", method: "POST", body: "{}", steps: []step{{err: refused}},
			wantStatus: 200, wantWaits: []time.Duration{500 * time.Millisecond}, wantReasons: []Reason{ReasonNetwork}, wantSent: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(tc.steps...)
			resp, body, err := do(t, t.Context(), f.transport(tc.opts), tc.method, tc.body)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("status %d, want an error", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
				}
				if tc.wantBody != "" && body != tc.wantBody {
					t.Errorf("body %q, want %q", body, tc.wantBody)
				}
			}
			if diff := cmp.Diff(tc.wantWaits, f.clock.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantReasons, f.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			got := f.wire.Sent()
			if len(got) != tc.wantSent {
				t.Fatalf("%d requests sent, want %d", len(got), tc.wantSent)
			}
			for i, s := range got {
				if s.Method != tc.method || s.Body != tc.body {
					t.Errorf("attempt %d sent %s %q, want %s %q", i+1, s.Method, s.Body, tc.method, tc.body)
				}
			}
		})
	}
}

func TestJitterStaysWithinHalfAndAllOfTheDelay(t *testing.T) {
	for _, j := range []float64{0, 0.5, 0.999} {
		f := newFixture(step{status: 500})
		rt := f.transport(Options{Jitter: func() float64 { return j }})
		if _, _, err := do(t, t.Context(), rt, "GET", ""); err != nil {
			t.Fatal(err)
		}
		w := f.clock.Waits()
		if len(w) != 1 || w[0] < 500*time.Millisecond || w[0] >= time.Second {
			t.Errorf("jitter %v: waits %v, want one in [0.5s, 1s)", j, w)
		}
	}
}

func TestContextEndsTheWait(t *testing.T) {
	t.Run("cancelled while waiting", func(t *testing.T) {
		f := newFixture(step{status: 502})
		ctx, cancel := context.WithCancel(t.Context())
		opts := Options{Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled }}
		rt := New(f.wire, Options{Now: f.clock.Now, Sleep: opts.Sleep, Gate: f.gate})
		if _, _, err := do(t, ctx, rt, "GET", ""); !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if n := len(f.wire.Sent()); n != 1 {
			t.Errorf("%d requests sent, want 1", n)
		}
	})
	t.Run("a wait past the deadline is not started", func(t *testing.T) {
		f := newFixture(step{status: 403, header: map[string]string{"Retry-After": "30"}, body: secondaryBody})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		resp, _, err := do(t, ctx, f.transport(Options{}), "GET", "")
		if err != nil || resp.StatusCode != 403 {
			t.Fatalf("%v, %v; want the 403 at once", resp, err)
		}
		if w := f.clock.Waits(); len(w) != 0 {
			t.Errorf("waited %v", w)
		}
	})
}

func TestGatePausesTheWholeInstallation(t *testing.T) {
	// The first request is limited for longer than it may wait: it returns
	// the 403 and closes the gate for 30s.
	f := newFixture(step{status: 403, header: map[string]string{"Retry-After": "30"}, body: secondaryBody})
	impatient := f.transport(Options{MaxWait: 10 * time.Second})
	resp, _, err := do(t, t.Context(), impatient, "GET", "")
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("%v, %v; want the 403", resp, err)
	}
	opens := epoch.Add(30 * time.Second)
	if got := f.gate.Until(); !got.Equal(opens) {
		t.Fatalf("gate closed until %v, want %v", got, opens)
	}

	// Others of the same installation that may not wait that long are
	// refused without being sent.
	_, _, err = do(t, t.Context(), impatient, "POST", "{}")
	var paused *PausedError
	if !errors.As(err, &paused) || paused.Wait != 30*time.Second {
		t.Fatalf("error %v, want a *PausedError of 30s", err)
	}
	if n := len(f.wire.Sent()); n != 1 {
		t.Fatalf("%d requests sent while paused, want 1", n)
	}

	// Patient ones, many at once, all wait for the gate and only then go.
	patient := f.transport(Options{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if resp, _, err := do(t, t.Context(), patient, "GET", ""); err != nil || resp.StatusCode != 200 {
				t.Errorf("%v, %v", resp, err)
			}
		})
	}
	wg.Wait()
	for _, s := range f.wire.Sent()[1:] {
		if s.At.Before(opens) {
			t.Errorf("a request was sent at %v, before the gate opened at %v", s.At, opens)
		}
	}
	if n := len(f.wire.Sent()); n != 9 {
		t.Errorf("%d requests sent, want 9: one each", n)
	}
}

func TestPrimaryLimitExhaustedBySuccessPausesTheRest(t *testing.T) {
	reset := strconv.FormatInt(epoch.Add(time.Hour).Unix(), 10)
	f := newFixture(step{status: 200, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, body: "last"})
	rt := f.transport(Options{})
	if resp, body, err := do(t, t.Context(), rt, "GET", ""); err != nil || resp.StatusCode != 200 || body != "last" {
		t.Fatalf("%v, %q, %v", resp, body, err)
	}
	_, _, err := do(t, t.Context(), rt, "GET", "")
	if !errors.As(err, new(*PausedError)) {
		t.Fatalf("error %v, want a *PausedError until the reset", err)
	}
	if n := len(f.wire.Sent()); n != 1 {
		t.Errorf("%d requests sent, want 1", n)
	}

	// A search limit does not pause the core API.
	f = newFixture(step{status: 200, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset, "X-RateLimit-Resource": "search"}})
	rt = f.transport(Options{})
	for range 2 {
		if _, _, err := do(t, t.Context(), rt, "GET", ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{in: "120", want: 2 * time.Minute, ok: true},
		{in: " 0 ", want: 0, ok: true},
		{in: "-5", want: 0, ok: true},
		{in: epoch.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, ok: true},
		{in: epoch.Add(-time.Minute).Format(http.TimeFormat), want: 0, ok: true},
		{in: "soon", ok: false},
		{in: "", ok: false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, epoch)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestABodyThatCannotBeReplayedIsNotRetried(t *testing.T) {
	f := newFixture(step{status: 502})
	req, err := http.NewRequestWithContext(t.Context(), "PUT", "https://api.github.test/x", io.MultiReader(strings.NewReader("once")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.transport(Options{}).RoundTrip(req)
	if err != nil || resp.StatusCode != 502 {
		t.Fatalf("%v, %v; want the 502", resp, err)
	}
	if n := len(f.wire.Sent()); n != 1 {
		t.Errorf("%d requests sent, want 1", n)
	}
}
