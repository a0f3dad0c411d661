package attest

import (
	"fmt"
	"testing"

	"github.com/example-org/promobot/internal/failure"
)

// TestVerifyErrorIsARefusal checks that a refused attestation is terminal
// in the shared notion, however it is wrapped.
func TestVerifyErrorIsARefusal(t *testing.T) {
	err := fmt.Errorf("resolve: %w", refuse(ReasonMismatch, "another environment"))
	if got := failure.KindOf(err); got != failure.Refused || !failure.IsTerminal(err) {
		t.Errorf("kind %v, terminal %v; want refused and terminal", got, failure.IsTerminal(err))
	}
}
