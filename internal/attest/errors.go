package attest

import (
	"errors"
	"fmt"

	"github.com/example-org/promobot/internal/failure"
)

// Store and signing errors. Callers map them with errors.Is: ErrNotFound
// means "not yet attested" (retry later), ErrUnavailable means the store,
// vault or network failed (retry), ErrExists means a different attestation
// already holds the path (terminal until a human looks).
var (
	// ErrNotFound reports that no attestation is stored at the path.
	ErrNotFound = errors.New("no attestation is stored there")
	// ErrUnavailable wraps transport and service failures of the store or
	// the signing service; a retry can help.
	ErrUnavailable = errors.New("the attestation store or signing service is unavailable")
	// ErrExists reports that a different attestation is already stored at
	// the path; write-once storage never replaces it.
	ErrExists = errors.New("a different attestation is already stored there")
)

// Reason classifies why Verify refused an attestation.
type Reason int

// Reasons a bundle is refused.
const (
	// ReasonMalformed: the bundle, envelope or statement is not the format
	// promobot writes (wrong media or payload type, not JSON, extra fields).
	ReasonMalformed Reason = iota + 1
	// ReasonUntrustedKey: the key hint names no key of the trust root.
	ReasonUntrustedKey
	// ReasonSignature: the signature does not verify with the named key.
	ReasonSignature
	// ReasonKeyRole: a baseline attestation signed by a non-baseline key,
	// or a merge attestation signed by a baseline-only key.
	ReasonKeyRole
	// ReasonMismatch: a genuine attestation about something else (another
	// repository, environment, model, version, manifest blob, artifact or
	// merge commit).
	ReasonMismatch
)

var reasonNames = map[Reason]string{
	ReasonMalformed:    "malformed",
	ReasonUntrustedKey: "untrusted-key",
	ReasonSignature:    "bad-signature",
	ReasonKeyRole:      "key-role",
	ReasonMismatch:     "mismatch",
}

// String returns the reason's stable name, used in JSON output.
func (r Reason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// VerifyError is a refusal: no retry changes it.
type VerifyError struct {
	// Reason classifies the refusal.
	Reason Reason
	// Message is one sentence for the user.
	Message string
}

// Error returns the message.
func (e *VerifyError) Error() string { return "attestation refused: " + e.Message }

// FailureKind makes a refusal terminal in the one notion the queue and
// the command line share (failure.IsTerminal, exit 1).
func (e *VerifyError) FailureKind() failure.Kind { return failure.Refused }

// refuse returns a *VerifyError.
func refuse(r Reason, format string, args ...any) error {
	return &VerifyError{Reason: r, Message: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the reason of a refusal, or false for other errors.
func ReasonOf(err error) (Reason, bool) {
	var ve *VerifyError
	if errors.As(err, &ve) {
		return ve.Reason, true
	}
	return 0, false
}
