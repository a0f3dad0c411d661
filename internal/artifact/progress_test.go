package artifact

import (
	"context"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/progress"
)

// TestVerifyReportsProgress verifies with a progress sink in the context
// and expects the bytes read to be reported; without one, nothing is.
func TestVerifyReportsProgress(t *testing.T) {
	data := testData(3 << 20)
	store := newFakeStore()
	store.put(fakeURI, data)
	v := newFakeVerifier(t, store)
	var out strings.Builder
	sink := progress.New(&out)
	sink.Interval = 0 // a line for every write
	ctx := progress.WithSink(t.Context(), sink)
	if _, err := v.Verify(ctx, Spec{URI: fakeURI, SHA256: sha256Hex(data)}, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "promobot: verifying "+fakeURI+": ") || !strings.Contains(out.String(), "3.0 MiB done in") {
		t.Errorf("progress lines:\n%s", out.String())
	}
	if _, err := v.Verify(context.Background(), Spec{URI: fakeURI, SHA256: sha256Hex(data)}, false); err != nil {
		t.Fatal(err)
	}
}
