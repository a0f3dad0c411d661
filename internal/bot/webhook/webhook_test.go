package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const secret = "s3cret"

func sign(key, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func signSHA1(key, body string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(body))
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// recorder is a handler that records what it was given and returns err.
type recorder struct {
	err   error
	calls []Delivery
}

func (r *recorder) Handle(_ context.Context, d Delivery) error {
	r.calls = append(r.calls, d)
	return r.err
}

func TestDispatcher(t *testing.T) {
	const body = `{"action":"opened","number":1}`
	form := url.Values{"payload": {body}}.Encode()
	tests := []struct {
		name        string
		method      string
		event       string
		contentType string
		body        string
		signature   string
		handlerErr  error
		maxBody     int64

		wantStatus  int
		wantOutcome string
		wantEvent   string // as observed
		wantPayload string // empty: the handler must not be called
	}{
		{
			name: "accepted", event: "pull_request", body: body, signature: sign(secret, body),
			wantStatus: 202, wantOutcome: OutcomeAccepted, wantEvent: "pull_request", wantPayload: body,
		},
		{
			name: "form encoded payload", event: "pull_request", contentType: "application/x-www-form-urlencoded", body: form, signature: sign(secret, form),
			wantStatus: 202, wantOutcome: OutcomeAccepted, wantEvent: "pull_request", wantPayload: body,
		},
		{
			name: "missing signature", event: "pull_request", body: body,
			wantStatus: 401, wantOutcome: OutcomeUnauthorized,
		},
		{
			name: "wrong secret", event: "pull_request", body: body, signature: sign("guess", body),
			wantStatus: 401, wantOutcome: OutcomeUnauthorized,
		},
		{
			name: "body changed after signing", event: "pull_request", body: body + " ", signature: sign(secret, body),
			wantStatus: 401, wantOutcome: OutcomeUnauthorized,
		},
		{
			name: "sha1 signature in the sha256 header", event: "pull_request", body: body, signature: signSHA1(secret, body),
			wantStatus: 401, wantOutcome: OutcomeUnauthorized,
		},
		{
			name: "forged signature checked before the content type", event: "pull_request", contentType: "text/plain", body: body, signature: sign("guess", body),
			wantStatus: 401, wantOutcome: OutcomeUnauthorized,
		},
		{
			name: "unsupported content type", event: "pull_request", contentType: "text/plain", body: body, signature: sign(secret, body),
			wantStatus: 400, wantOutcome: OutcomeBadRequest, wantEvent: "pull_request",
		},
		{
			name: "missing event header", body: body, signature: sign(secret, body),
			wantStatus: 400, wantOutcome: OutcomeBadRequest,
		},
		{
			name: "event nobody handles", event: "star", body: body, signature: sign(secret, body),
			wantStatus: 202, wantOutcome: OutcomeIgnored, wantEvent: "star",
		},
		{
			name: "handler ignores", event: "pull_request", body: body, signature: sign(secret, body), handlerErr: Ignore("action %q", "closed"),
			wantStatus: 202, wantOutcome: OutcomeIgnored, wantEvent: "pull_request", wantPayload: body,
		},
		{
			name: "handler says malformed", event: "pull_request", body: body, signature: sign(secret, body), handlerErr: BadRequest(errors.New("no repository")),
			wantStatus: 400, wantOutcome: OutcomeBadRequest, wantEvent: "pull_request", wantPayload: body,
		},
		{
			name: "handler busy", event: "pull_request", body: body, signature: sign(secret, body), handlerErr: Unavailable(errors.New("queue full")),
			wantStatus: 503, wantOutcome: OutcomeBusy, wantEvent: "pull_request", wantPayload: body,
		},
		{
			name: "handler fails", event: "pull_request", body: body, signature: sign(secret, body), handlerErr: errors.New("bug"),
			wantStatus: 500, wantOutcome: OutcomeError, wantEvent: "pull_request", wantPayload: body,
		},
		{
			name: "too large", event: "pull_request", body: body, signature: sign(secret, body), maxBody: 5,
			wantStatus: 413, wantOutcome: OutcomeBadRequest, wantEvent: "pull_request",
		},
		{
			name: "GET", method: http.MethodGet, event: "pull_request",
			wantStatus: 405, wantOutcome: OutcomeBadRequest, wantEvent: "pull_request",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &recorder{err: tc.handlerErr}
			type observed struct{ Event, Outcome string }
			var seen []observed
			d, err := NewDispatcher([][]byte{[]byte(secret)}, map[string]Handler{"pull_request": h}, Options{
				MaxBodyBytes: tc.maxBody,
				Observe:      func(e, o string) { seen = append(seen, observed{e, o}) },
			})
			if err != nil {
				t.Fatal(err)
			}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequestWithContext(t.Context(), method, "/webhook", strings.NewReader(tc.body))
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			req.Header.Set("X-GitHub-Delivery", "d-1")
			if tc.event != "" {
				req.Header.Set("X-GitHub-Event", tc.event)
			}
			if tc.signature != "" {
				req.Header.Set("X-Hub-Signature-256", tc.signature)
			}
			rec := httptest.NewRecorder()
			d.ServeHTTP(rec, req)

			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d (body %s)", rec.Code, tc.wantStatus, rec.Body)
			}
			if diff := cmp.Diff([]observed{{tc.wantEvent, tc.wantOutcome}}, seen); diff != "" {
				t.Errorf("observed (-want +got):\n%s", diff)
			}
			var got []string
			for _, c := range h.calls {
				got = append(got, string(c.Payload))
				if c.ID != "d-1" || c.Event != tc.event || c.Logger == nil {
					t.Errorf("delivery %+v lacks its id, event or logger", c)
				}
			}
			var want []string
			if tc.wantPayload != "" {
				want = []string{tc.wantPayload}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("payloads handled (-want +got):\n%s", diff)
			}
			if tc.wantStatus == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

func TestNewDispatcherRefusesAnEmptySecret(t *testing.T) {
	tests := []struct {
		name    string
		secrets [][]byte
		want    string
	}{
		{name: "no secret", secrets: nil, want: "webhook: no secret: the dispatcher would accept no delivery"},
		{name: "one empty secret", secrets: [][]byte{{}}, want: "webhook: secret 1 of 1 is empty: it would accept unsigned deliveries"},
		{name: "an empty secret beside a good one", secrets: [][]byte{[]byte("old"), nil}, want: "webhook: secret 2 of 2 is empty: it would accept unsigned deliveries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDispatcher(tc.secrets, nil, Options{})
			if err == nil {
				t.Fatal("NewDispatcher accepted it")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDispatcherDuringASecretRotation serves a dispatcher holding the old
// and the new secret, as during a rotation: deliveries signed with either
// are handled, any other signature is refused before the handler.
func TestDispatcherDuringASecretRotation(t *testing.T) {
	const body = `{"action":"opened","number":1}`
	secrets := [][]byte{[]byte("old-secret"), []byte("new-secret")}
	tests := []struct {
		name      string
		signature string
		want      int
	}{
		{name: "signed with the old secret", signature: sign("old-secret", body), want: 202},
		{name: "signed with the new secret", signature: sign("new-secret", body), want: 202},
		{name: "signed with another secret", signature: sign("older-secret", body), want: 401},
		{name: "signed with both secrets joined", signature: sign("old-secret,new-secret", body), want: 401},
		{name: "signed with a prefix of a secret", signature: sign("new", body), want: 401},
		{name: "a truncated signature", signature: sign("new-secret", body)[:40], want: 401},
		{name: "not hex", signature: "sha256=" + strings.Repeat("zz", 32), want: 401},
		{name: "sha256= and nothing", signature: "sha256=", want: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &recorder{}
			d, err := NewDispatcher(secrets, map[string]Handler{"pull_request": h}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhook", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "pull_request")
			req.Header.Set("X-Hub-Signature-256", tc.signature)
			rec := httptest.NewRecorder()
			d.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d (body %s)", rec.Code, tc.want, rec.Body)
			}
			if handled := len(h.calls) > 0; handled != (tc.want == 202) {
				t.Errorf("handler called %d times for status %d", len(h.calls), rec.Code)
			}
		})
	}
}

// TestDispatcherKeepsItsOwnSecrets checks that changing the caller's
// slices after NewDispatcher changes nothing.
func TestDispatcherKeepsItsOwnSecrets(t *testing.T) {
	const body = `{}`
	key := []byte("secret")
	d, err := NewDispatcher([][]byte{key}, map[string]Handler{"ping": &recorder{}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	copy(key, "XXXXXX")
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-Hub-Signature-256", sign("secret", body))
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Errorf("status %d, want 202", rec.Code)
	}
}

func BenchmarkDispatchAccepted(b *testing.B) {
	b.Run("one secret", func(b *testing.B) { benchmarkDispatch(b, [][]byte{[]byte(secret)}) })
	b.Run("two secrets (rotation)", func(b *testing.B) { benchmarkDispatch(b, [][]byte{[]byte("old"), []byte(secret)}) })
}

func benchmarkDispatch(b *testing.B, secrets [][]byte) {
	body := strings.Repeat(`{"action":"submitted","pad":"xxxxxxxxxxxxxxxx"}`, 200)
	sig := sign(secret, body)
	d, err := NewDispatcher(secrets, map[string]Handler{
		"pull_request_review": HandlerFunc(func(context.Context, Delivery) error { return nil }),
	}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "pull_request_review")
		req.Header.Set("X-Hub-Signature-256", sig)
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatal(rec.Code)
		}
	}
}
