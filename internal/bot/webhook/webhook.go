// Package webhook receives GitHub webhook deliveries over HTTP and routes
// them to one handler per event type.
//
// The Dispatcher is an http.Handler. It verifies the X-Hub-Signature-256
// HMAC of the raw body before reading anything else from the request, so an
// unsigned or forged delivery is refused with 401 and reaches no handler.
// It may hold several secrets, so that the secret rotates without a window
// of refused deliveries: a delivery signed with any of them is accepted.
// It then hands the payload to the handler registered for the event and
// maps the handler's answer to a status: 202 when the delivery was accepted
// or deliberately ignored (including events nobody handles), 400 for a
// malformed payload, 503 when the bot is too busy to take the work, 500 for
// anything else. Handlers are expected to parse, enqueue and return within
// milliseconds; GitHub gives up on a delivery after ten seconds.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Log keys used by the dispatcher and, by convention, by handlers.
const (
	KeyDeliveryID = "delivery_id"
	KeyEvent      = "event"
)

// Delivery is one verified webhook delivery.
type Delivery struct {
	// ID is the X-GitHub-Delivery header: unique per delivery, kept across
	// redeliveries of the same event.
	ID string
	// Event is the X-GitHub-Event header, such as "pull_request".
	Event string
	// Payload is the JSON payload (extracted from the form for
	// application/x-www-form-urlencoded deliveries).
	Payload []byte
	// Logger is enriched with the delivery id and the event.
	Logger *slog.Logger
}

// Handler handles the deliveries of one event type. Handle returns nil when
// the delivery was accepted, an error wrapping ErrIgnored when it was
// deliberately not acted upon, and an *Error (see BadRequest and
// Unavailable) to choose the status code. ctx is the request's context: it
// ends with the response, so work that outlives the request must not use
// it.
type Handler interface {
	Handle(ctx context.Context, d Delivery) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, d Delivery) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, d Delivery) error { return f(ctx, d) }

// ErrIgnored is wrapped by handler errors that mean "nothing to do"; the
// delivery is answered 202. Use Ignore to say why.
var ErrIgnored = errors.New("ignored")

// Ignore returns an error wrapping ErrIgnored with the reason, which is
// logged and sent back in the response body.
func Ignore(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrIgnored, fmt.Sprintf(format, args...))
}

// Error is a delivery refused with a status code. Message is sent to the
// caller; Err, the cause, is only logged.
type Error struct {
	Status  int
	Message string
	Err     error
}

// Error returns the message and the cause.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// BadRequest returns a 400 error for a payload that cannot be used.
// Redelivering the same payload cannot help.
func BadRequest(err error) error {
	return &Error{Status: http.StatusBadRequest, Message: "malformed payload", Err: err}
}

// Unavailable returns a 503 error for a delivery the bot cannot take now;
// GitHub (or an operator) may redeliver it later.
func Unavailable(err error) error {
	return &Error{Status: http.StatusServiceUnavailable, Message: "busy, redeliver later", Err: err}
}

// Outcomes of a delivery, as reported to Options.Observe.
const (
	OutcomeAccepted     = "accepted"
	OutcomeIgnored      = "ignored"
	OutcomeUnauthorized = "unauthorized"
	OutcomeBadRequest   = "bad_request"
	OutcomeBusy         = "busy"
	OutcomeError        = "error"
	// OutcomeDuplicate is a delivery whose id was already processed; it is
	// answered 202 without calling the handler.
	OutcomeDuplicate = "duplicate"
)

// Options configure a Dispatcher.
type Options struct {
	// Logger is the base logger; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes bounds a delivery's body; zero means 25 MiB, GitHub's
	// own limit.
	MaxBodyBytes int64
	// Observe, when set, is called once per delivery with the event (empty
	// when unknown) and the outcome.
	Observe func(event, outcome string)
	// Deliveries, when set, makes a delivery whose X-GitHub-Delivery id was
	// already processed a no-op answered 202. Ids are remembered only once
	// the signature is verified and only when the handler took or
	// deliberately ignored the delivery (or it was malformed); a delivery
	// refused with 5xx may be redelivered and is then processed.
	Deliveries *DeliverySet
}

// Dispatcher verifies and routes webhook deliveries.
type Dispatcher struct {
	secrets  [][]byte
	handlers map[string]Handler
	opts     Options
}

// NewDispatcher returns a dispatcher routing each event type to its
// handler. A delivery is accepted when its signature matches one of
// secrets: during a rotation they are the old and the new secret. No
// secret, or an empty one, is refused: the dispatcher never accepts
// unsigned deliveries.
func NewDispatcher(secrets [][]byte, handlers map[string]Handler, opts Options) (*Dispatcher, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhook: no secret: the dispatcher would accept no delivery")
	}
	kept := make([][]byte, len(secrets))
	for i, secret := range secrets {
		if len(secret) == 0 {
			return nil, fmt.Errorf("webhook: secret %d of %d is empty: it would accept unsigned deliveries", i+1, len(secrets))
		}
		kept[i] = bytes.Clone(secret)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 25 << 20
	}
	hs := make(map[string]Handler, len(handlers))
	for event, h := range handlers {
		hs[event] = h
	}
	return &Dispatcher{secrets: kept, handlers: hs, opts: opts}, nil
}

// response is the small JSON body every answer carries.
const responseFormat = `{"status":%d,"message":%q}` + "\n"

// ServeHTTP verifies, routes and answers one delivery.
func (d *Dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	event := github.WebHookType(r)
	logger := d.opts.Logger.With(KeyDeliveryID, github.DeliveryID(r), KeyEvent, event)
	outcome, status, message := d.serve(r, event, logger)
	if outcome == OutcomeUnauthorized {
		event = "" // never trust an unsigned header, not even for a metric label
	}
	if d.opts.Observe != nil {
		d.opts.Observe(event, outcome)
	}
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "10")
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, responseFormat, status, message)
	logger.Debug("webhook delivery", "outcome", outcome, "status", status, "elapsed", time.Since(start))
}

// serve returns the outcome, the status and the message of a delivery.
func (d *Dispatcher) serve(r *http.Request, event string, logger *slog.Logger) (outcome string, status int, message string) {
	if r.Method != http.MethodPost {
		return OutcomeBadRequest, http.StatusMethodNotAllowed, "POST only"
	}
	signature := r.Header.Get(github.SHA256SignatureHeader)
	if signature == "" {
		logger.Warn("webhook delivery without " + github.SHA256SignatureHeader)
		return OutcomeUnauthorized, http.StatusUnauthorized, "missing signature"
	}
	if !strings.HasPrefix(signature, "sha256=") {
		logger.Warn("webhook delivery with a signature that is not HMAC-SHA256")
		return OutcomeUnauthorized, http.StatusUnauthorized, "wrong signature"
	}
	body, err := readBody(r, d.opts.MaxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return OutcomeBadRequest, http.StatusRequestEntityTooLarge, "payload too large"
		}
		return OutcomeBadRequest, http.StatusBadRequest, "could not read the body"
	}
	if !d.signedWithASecret(signature, body) {
		logger.Warn("webhook delivery with a wrong signature", "secrets", len(d.secrets))
		return OutcomeUnauthorized, http.StatusUnauthorized, "wrong signature"
	}

	// Signed: from here on the headers and the body come from GitHub.
	if event == "" {
		return OutcomeBadRequest, http.StatusBadRequest, "missing " + github.EventTypeHeader
	}
	contentType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return OutcomeBadRequest, http.StatusBadRequest, "bad Content-Type"
	}
	payload, err := extractPayload(contentType, body)
	if err != nil {
		logger.Info("webhook delivery refused", "error", err)
		return OutcomeBadRequest, http.StatusBadRequest, err.Error()
	}
	h, ok := d.handlers[event]
	if !ok {
		return OutcomeIgnored, http.StatusAccepted, "event not handled"
	}
	id := github.DeliveryID(r)
	if d.opts.Deliveries != nil && id != "" {
		if !d.opts.Deliveries.begin(id) {
			logger.Info("webhook delivery already processed")
			return OutcomeDuplicate, http.StatusAccepted, "duplicate delivery"
		}
		defer func() { d.opts.Deliveries.finish(id, status < http.StatusInternalServerError) }()
	}
	err = h.Handle(r.Context(), Delivery{ID: id, Event: event, Payload: payload, Logger: logger})
	var herr *Error
	switch {
	case err == nil:
		return OutcomeAccepted, http.StatusAccepted, "accepted"
	case errors.Is(err, ErrIgnored):
		logger.Debug("webhook delivery ignored", "reason", err)
		return OutcomeIgnored, http.StatusAccepted, err.Error()
	case errors.As(err, &herr):
		outcome := OutcomeError
		switch herr.Status {
		case http.StatusBadRequest:
			outcome = OutcomeBadRequest
		case http.StatusServiceUnavailable:
			outcome = OutcomeBusy
		}
		logger.Warn("webhook delivery refused", "status", herr.Status, "error", err)
		return outcome, herr.Status, herr.Message
	default:
		logger.Error("webhook handler failed", "error", err)
		return OutcomeError, http.StatusInternalServerError, "internal error"
	}
}

// signedWithASecret reports whether signature, "sha256=" and the hex
// HMAC-SHA256 of body, was made with one of the secrets. Each comparison is
// constant-time, and every secret is tried, so the time taken tells
// nothing about which one matched or how much of a guess was right.
func (d *Dispatcher) signedWithASecret(signature string, body []byte) bool {
	got, err := hex.DecodeString(strings.TrimPrefix(signature, "sha256="))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	matched := false
	for _, secret := range d.secrets {
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), got) {
			matched = true
		}
	}
	return matched
}

// readBody reads a request body of at most limit bytes into a buffer sized
// from Content-Length, so that a delivery costs one allocation, not a
// series of doublings.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	size := r.ContentLength
	if size < 0 || size > limit {
		size = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	return buf.Bytes(), err
}

// extractPayload returns the JSON payload of a delivery whose body's
// signature was verified: the body itself, or its "payload" form field.
func extractPayload(contentType string, body []byte) ([]byte, error) {
	switch contentType {
	case "application/json":
		return body, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("webhook request has a malformed form body: %w", err)
		}
		return []byte(form.Get("payload")), nil
	}
	return nil, fmt.Errorf("webhook request has unsupported Content-Type %q", contentType)
}
