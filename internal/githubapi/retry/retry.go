// Package retry is an http.RoundTripper that retries GitHub API requests
// when a retry can help, and otherwise gets out of the way.
//
// It retries:
//
//   - server errors (5xx but 501) and failed connections, with exponential
//     backoff and jitter, for the methods a repeat cannot harm (GET, HEAD,
//     OPTIONS, PUT, PATCH, DELETE; see idempotent). A POST is retried only
//     when it certainly never reached GitHub;
//   - secondary rate limits (403 or 429 with Retry-After, or with GitHub's
//     "secondary rate limit" message) after the time GitHub asks for, for
//     every method, since GitHub did nothing with the request;
//   - primary rate limits (403 or 429 with X-RateLimit-Remaining: 0) after
//     X-RateLimit-Reset, also for every method.
//
// A rate limit closes the installation's Gate, so that its other requests
// wait too instead of hammering GitHub. Waiting is bounded by
// Options.MaxWait and by the request context's deadline: when the wait
// does not fit, the limited response is returned as it is (so the caller
// sees GitHub's answer), and requests that find the gate closed for longer
// than they may wait fail at once with *PausedError without being sent.
//
// The clock and the sleep are injectable, so tests never really wait.
package retry

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Reason says why a request was retried or waited.
type Reason string

// The reasons, used as metric labels.
const (
	// ReasonServerError is a 5xx answer.
	ReasonServerError Reason = "server_error"
	// ReasonNetwork is a request that got no answer.
	ReasonNetwork Reason = "network_error"
	// ReasonSecondaryRateLimit is GitHub's secondary ("abuse") limit.
	ReasonSecondaryRateLimit Reason = "secondary_rate_limit"
	// ReasonRateLimit is the primary, hourly limit.
	ReasonRateLimit Reason = "rate_limit"
	// ReasonPaused is a request that waited at the gate because another
	// request of its installation was limited.
	ReasonPaused Reason = "paused"
)

// ErrorKind says whether a request that failed without an answer may be
// sent again.
type ErrorKind int

// The kinds of transport errors.
const (
	// Permanent errors are returned at once.
	Permanent ErrorKind = iota
	// Transient errors are retried for idempotent methods only: the
	// request may have reached GitHub.
	Transient
	// NotSent errors are retried for every method: the request never left
	// (a refused connection, or an installation token that could not be
	// fetched).
	NotSent
)

// Defaults of Options.
const (
	DefaultMaxAttempts   = 4
	DefaultBaseDelay     = time.Second
	DefaultMaxDelay      = 20 * time.Second
	DefaultMaxWait       = 2 * time.Minute
	DefaultSecondaryWait = time.Minute
)

// peekLimit bounds how much of an error body is read to recognise a
// secondary rate limit, or drained before a retry.
const peekLimit = 64 << 10

// Options tunes the transport. Zero values pick the defaults.
type Options struct {
	// MaxAttempts bounds the attempts of one request, the first included.
	MaxAttempts int
	// BaseDelay is the first backoff after a server or network error; it
	// doubles with each attempt, up to MaxDelay, and is jittered down to
	// half.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxWait bounds the total time one request spends waiting (backoff,
	// Retry-After, rate limit resets and the gate). A wait beyond it, or
	// beyond the context's deadline, is not started.
	MaxWait time.Duration
	// SecondaryWait is the wait after a secondary rate limit that names no
	// Retry-After, doubled for each further one of the same request
	// (GitHub asks for at least a minute).
	SecondaryWait time.Duration
	// Gate is shared by the installation's requests; nil gives the
	// transport a gate of its own.
	Gate *Gate
	// ClassifyError sorts transport errors; nil means ClassifyError.
	ClassifyError func(error) ErrorKind
	// Observe, when set, is told about every retry and gate wait before
	// the wait starts.
	Observe func(reason Reason, wait time.Duration)
	// Now and Sleep are the clock; nil means time.Now and a timer that
	// stops when ctx ends. Context deadlines are always checked against
	// the real clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1); nil means math/rand/v2.
	Jitter func() float64
}

func (o Options) withDefaults() Options {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultBaseDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.SecondaryWait <= 0 {
		o.SecondaryWait = DefaultSecondaryWait
	}
	if o.Gate == nil {
		o.Gate = &Gate{}
	}
	if o.ClassifyError == nil {
		o.ClassifyError = ClassifyError
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	return o
}

// New returns a transport that sends requests through next and retries
// them as the package comment describes.
func New(next http.RoundTripper, opts Options) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, o: opts.withDefaults()}
}

type transport struct {
	next http.RoundTripper
	o    Options
}

// decision is what to do after one attempt.
type decision struct {
	retry  bool
	reason Reason
	wait   time.Duration
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var (
		waited    time.Duration
		secondary int
	)
	for attempt := 1; ; attempt++ {
		if err := t.pass(ctx, &waited); err != nil {
			if attempt == 1 && req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
		r := req
		if attempt > 1 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, err
			}
		}
		resp, err := t.next.RoundTrip(r)
		d := t.decide(req, resp, err, attempt, &secondary)
		if !d.retry || attempt >= t.o.MaxAttempts || !t.fits(ctx, waited, d.wait) {
			return resp, err
		}
		discard(resp)
		if t.o.Observe != nil {
			t.o.Observe(d.reason, d.wait)
		}
		if err := t.o.Sleep(ctx, d.wait); err != nil {
			return nil, err
		}
		waited += d.wait
	}
}

// pass waits while the gate is closed, or fails with *PausedError when the
// wait does not fit.
func (t *transport) pass(ctx context.Context, waited *time.Duration) error {
	for {
		until := t.o.Gate.Until()
		wait := until.Sub(t.o.Now())
		if wait <= 0 {
			return nil
		}
		if !t.fits(ctx, *waited, wait) {
			return &PausedError{Until: until, Wait: wait}
		}
		if t.o.Observe != nil {
			t.o.Observe(ReasonPaused, wait)
		}
		if err := t.o.Sleep(ctx, wait); err != nil {
			return err
		}
		*waited += wait
	}
}

// fits reports whether a further wait stays within MaxWait and ends before
// the context's deadline.
func (t *transport) fits(ctx context.Context, waited, wait time.Duration) bool {
	if waited+wait > t.o.MaxWait {
		return false
	}
	if deadline, ok := ctx.Deadline(); ok && wait >= time.Until(deadline) {
		return false
	}
	return ctx.Err() == nil
}

// decide classifies one attempt's outcome. It closes the gate on rate
// limits, whether or not the request is retried.
func (t *transport) decide(req *http.Request, resp *http.Response, err error, attempt int, secondary *int) decision {
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if err != nil {
		if req.Context().Err() != nil || !replayable {
			return decision{}
		}
		switch t.o.ClassifyError(err) {
		case NotSent:
		case Transient:
			if !idempotent(req.Method) {
				return decision{}
			}
		default:
			return decision{}
		}
		return decision{retry: true, reason: ReasonNetwork, wait: t.backoff(attempt)}
	}
	now := t.o.Now()
	limited := resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, ok := parseReset(resp.Header.Get("X-RateLimit-Reset")); ok && reset.After(now) {
			// Clock skew between us and GitHub: a second of margin.
			until := reset.Add(time.Second)
			// Other resources (search, graphql) have limits of their own
			// that must not pause the core API.
			if res := resp.Header.Get("X-RateLimit-Resource"); res == "" || res == "core" {
				t.o.Gate.Close(until)
			}
			if limited {
				return decision{retry: replayable, reason: ReasonRateLimit, wait: until.Sub(now)}
			}
			return decision{}
		}
	}
	if limited {
		wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now)
		if !ok {
			if resp.StatusCode != http.StatusTooManyRequests && !secondaryMessage(resp) {
				return decision{} // forbidden for real
			}
			*secondary++
			wait = t.o.SecondaryWait << min(*secondary-1, 10)
		}
		wait = max(wait, t.o.BaseDelay)
		t.o.Gate.Close(now.Add(wait))
		return decision{retry: replayable, reason: ReasonSecondaryRateLimit, wait: wait}
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		if !replayable || !idempotent(req.Method) {
			return decision{}
		}
		wait := t.backoff(attempt)
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			wait = max(wait, ra)
		}
		return decision{retry: true, reason: ReasonServerError, wait: wait}
	}
	return decision{}
}

// backoff is the jittered exponential delay before attempt+1.
func (t *transport) backoff(attempt int) time.Duration {
	d := t.o.BaseDelay
	for i := 1; i < attempt && d < t.o.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, t.o.MaxDelay)
	return d/2 + time.Duration(t.o.Jitter()*float64(d/2))
}

// idempotent reports whether sending a request twice has the effect of
// sending it once, near enough. PATCH is included because the bot's only
// PATCH, a check run update, sets fields; the one exception, annotations
// (which GitHub appends), may then show twice, which is better than a
// check run left in progress.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// ClassifyError is the default Options.ClassifyError: context ends and
// certificate failures are permanent, failures to connect were not sent,
// and anything else may have reached the server.
func ClassifyError(err error) ErrorKind {
	var (
		cert *tls.CertificateVerificationError
		op   *net.OpError
		dns  *net.DNSError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.As(err, &cert):
		return Permanent
	case errors.As(err, &dns), errors.As(err, &op) && op.Op == "dial":
		return NotSent
	}
	return Transient
}

// rewind returns a copy of req with a fresh body, for another attempt.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	return r, nil
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(max(min(s, 24*3600), 0)) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// parseReset reads X-RateLimit-Reset: Unix seconds.
func parseReset(v string) (time.Time, bool) {
	s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, false
	}
	return time.Unix(s, 0), true
}

// secondaryMessage reports whether an error body is GitHub's secondary rate
// limit message, leaving the body readable.
func secondaryMessage(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), Closer: resp.Body}
	if err != nil {
		return false
	}
	text := strings.ToLower(string(head))
	return strings.Contains(text, "secondary rate limit") || strings.Contains(text, "secondary-rate-limits") ||
		strings.Contains(text, "abuse-rate-limits") || strings.Contains(text, "abuse detection")
}

type replayBody struct {
	io.Reader
	io.Closer
}

// discard drains a little of a response that will not be returned, so its
// connection can be reused, and closes it.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, peekLimit))
	_ = resp.Body.Close()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
