package failure

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	base := errors.New("boom")
	cases := []struct {
		name string
		err  error
		want Kind
	}{
		{name: "nil", err: nil, want: Unknown},
		{name: "unmarked", err: base, want: Unknown},
		{name: "not found", err: NotFoundf("no model %q", "x"), want: NotFound},
		{name: "unavailable", err: UnavailableError(base), want: Unavailable},
		{name: "wrapped", err: fmt.Errorf("resolve: %w", NotFoundError(base)), want: NotFound},
		{name: "outermost wins", err: Mark(Refused, fmt.Errorf("ctx: %w", UnavailableError(base))), want: Refused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := KindOf(c.err); got != c.want {
				t.Errorf("KindOf = %v, want %v", got, c.want)
			}
		})
	}
}

func TestMarkKeepsMessageAndChain(t *testing.T) {
	base := errors.New("boom")
	err := UnavailableError(base)
	if err.Error() != "boom" || !errors.Is(err, base) {
		t.Errorf("got %q, errors.Is=%t", err, errors.Is(err, base))
	}
	if Mark(NotFound, nil) != nil {
		t.Error("Mark(nil) is not nil")
	}
}

func TestKindNames(t *testing.T) {
	for k, want := range map[Kind]string{Refused: "refused", Usage: "usage", NotFound: "notFound", Unavailable: "unavailable", Unknown: "unknown"} {
		if k.String() != want {
			t.Errorf("%d: %q, want %q", k, k, want)
		}
	}
}
