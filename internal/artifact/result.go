package artifact

import (
	"errors"
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/failure"
)

// Reason classifies why verification did not succeed.
type Reason int

// The reasons a verification can end without success. All but
// ReasonUnavailable are terminal: retrying cannot change the outcome.
const (
	// ReasonUnavailable means the artifact could not be verified because
	// storage could not be reached or answered with an error; a retry may
	// help.
	ReasonUnavailable Reason = iota
	// ReasonInvalidSpec means the expected digest, size or signature is
	// malformed.
	ReasonInvalidSpec
	// ReasonLocationRefused means the URI is not under an allowed location
	// or is malformed; no request was made.
	ReasonLocationRefused
	// ReasonNotFound means the artifact does not exist.
	ReasonNotFound
	// ReasonSizeMismatch means the artifact's size differs from the
	// expected size.
	ReasonSizeMismatch
	// ReasonDigestMismatch means the artifact's sha256 differs from the
	// expected digest.
	ReasonDigestMismatch
	// ReasonChanged means the artifact changed or disappeared while it was
	// being read.
	ReasonChanged
	// ReasonSignatureMissing means a signature is required but absent.
	ReasonSignatureMissing
	// ReasonSignatureInvalid means the signature does not verify with any
	// trusted key.
	ReasonSignatureInvalid
)

var reasonNames = map[Reason]string{
	ReasonUnavailable:      "unavailable",
	ReasonInvalidSpec:      "invalid-spec",
	ReasonLocationRefused:  "location-refused",
	ReasonNotFound:         "not-found",
	ReasonSizeMismatch:     "size-mismatch",
	ReasonDigestMismatch:   "digest-mismatch",
	ReasonChanged:          "changed",
	ReasonSignatureMissing: "signature-missing",
	ReasonSignatureInvalid: "signature-invalid",
}

// String returns a stable kebab-case name for the reason.
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// Error is returned when an artifact could not be verified or failed
// verification. Message is a sentence fit to show a user; Err is the
// underlying cause, for logs.
type Error struct {
	// Reason classifies the failure.
	Reason Reason
	// URI is the artifact URI as given in the spec, with any query string
	// or user-info redacted.
	URI string
	// Message explains the failure to a user.
	Message string
	// Err is the underlying cause, or nil.
	Err error
}

// Error returns the user message followed by the cause, if any.
func (e *Error) Error() string {
	if e.Err != nil && !strings.HasSuffix(e.Message, e.Err.Error()) {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Terminal reports whether retrying cannot change the outcome: the
// artifact failed verification rather than being unreachable.
func (e *Error) Terminal() bool { return e.Reason != ReasonUnavailable }

// FailureKind classifies e for failure.IsTerminal and the command line's
// exit codes: a verification failure that retrying cannot fix (a
// mismatch, a missing artifact, a bad signature, a refused location) is
// Refused, a storage or network error Unavailable. Cancellations and
// errors from other packages are not terminal.
func (e *Error) FailureKind() failure.Kind {
	if e.Terminal() {
		return failure.Refused
	}
	return failure.Unavailable
}

// ReasonOf returns the Reason carried by err, and false when err is not an
// *Error.
func ReasonOf(err error) (Reason, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return 0, false
}

// CheckStatus is the outcome of one verification step.
type CheckStatus int

// The outcomes of a verification step.
const (
	// CheckNotRun means the step was not reached because an earlier one
	// failed.
	CheckNotRun CheckStatus = iota
	// CheckPassed means the step succeeded.
	CheckPassed
	// CheckFailed means the step failed.
	CheckFailed
	// CheckSkipped means the step does not apply (e.g. no size was given).
	CheckSkipped
)

// String returns "not-run", "passed", "failed" or "skipped".
func (s CheckStatus) String() string {
	switch s {
	case CheckNotRun:
		return "not-run"
	case CheckPassed:
		return "passed"
	case CheckFailed:
		return "failed"
	case CheckSkipped:
		return "skipped"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// The names of the verification steps, in the order they run.
const (
	// CheckLocation is the allow-list check on the URI, made before any
	// request.
	CheckLocation = "location"
	// CheckExists is the lookup of the object in its store.
	CheckExists = "exists"
	// CheckSize compares the object's size with the expected size.
	CheckSize = "size"
	// CheckSHA256 compares the digest of the streamed bytes with the
	// expected digest.
	CheckSHA256 = "sha256"
	// CheckSignature verifies the signature with the trusted keys.
	CheckSignature = "signature"
)

// Check is the outcome of one verification step with a human explanation.
type Check struct {
	// Name is one of the Check* step names.
	Name string
	// Status is the outcome.
	Status CheckStatus
	// Detail explains the outcome in a sentence fragment.
	Detail string
}

// Result explains what was checked and what was observed.
type Result struct {
	// URI is the normalised artifact URI, or the spec's URI when it was
	// refused.
	URI string
	// Checks lists every verification step in order.
	Checks []Check
	// Info is what the store reported about the object, when it was found.
	Info Info
	// BytesRead is how many bytes were streamed and hashed.
	BytesRead int64
	// SHA256 is the lower-case hex digest of the bytes read, when they
	// were read completely.
	SHA256 string
	// SignedBy is the fingerprint of the trusted key that verified the
	// signature, when one did.
	SignedBy string
}

// Verified reports whether every step passed or was skipped.
func (r Result) Verified() bool {
	if len(r.Checks) == 0 {
		return false
	}
	for _, c := range r.Checks {
		if c.Status != CheckPassed && c.Status != CheckSkipped {
			return false
		}
	}
	return true
}

// String renders the result as a few lines of text, one per step.
func (r Result) String() string {
	var b strings.Builder
	verdict := "verified"
	if !r.Verified() {
		verdict = "NOT verified"
	}
	fmt.Fprintf(&b, "%s: %s\n", r.URI, verdict)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %-9s %-7s %s\n", c.Name, c.Status, c.Detail)
	}
	return b.String()
}

// newResult returns a result with every step not yet run.
func newResult(uri string) *Result {
	r := &Result{URI: uri}
	for _, name := range []string{CheckLocation, CheckExists, CheckSize, CheckSHA256, CheckSignature} {
		r.Checks = append(r.Checks, Check{Name: name, Status: CheckNotRun})
	}
	return r
}

// set records the outcome of a step.
func (r *Result) set(name string, status CheckStatus, format string, args ...any) {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			r.Checks[i].Status = status
			r.Checks[i].Detail = fmt.Sprintf(format, args...)
			return
		}
	}
}
