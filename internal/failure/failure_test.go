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
		{name: "classified", err: fmt.Errorf("ctx: %w", classified{NotFound}), want: NotFound},
		{name: "outermost classified wins", err: classifiedWrap{Unknown, classified{Usage}}, want: Unknown},
		{name: "a mark wins over a classified error", err: classifiedWrap{Refused, UnavailableError(base)}, want: Unavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := KindOf(c.err); got != c.want {
				t.Errorf("KindOf = %v, want %v", got, c.want)
			}
		})
	}
}

// classified is an error type that knows its kind.
type classified struct{ kind Kind }

func (c classified) Error() string     { return "classified " + c.kind.String() }
func (c classified) FailureKind() Kind { return c.kind }

// classifiedWrap is a classified error that wraps another.
type classifiedWrap struct {
	kind Kind
	err  error
}

func (c classifiedWrap) Error() string     { return "wrap: " + c.err.Error() }
func (c classifiedWrap) Unwrap() error     { return c.err }
func (c classifiedWrap) FailureKind() Kind { return c.kind }

func TestIsTerminal(t *testing.T) {
	base := errors.New("boom")
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "unmarked", err: base, want: false},
		{name: "refused", err: Mark(Refused, base), want: true},
		{name: "usage", err: Mark(Usage, base), want: true},
		{name: "not found", err: fmt.Errorf("ctx: %w", NotFoundError(base)), want: true},
		{name: "unavailable", err: UnavailableError(base), want: false},
		{name: "classified refused", err: classified{Refused}, want: true},
		{name: "classified unavailable", err: classified{Unavailable}, want: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := IsTerminal(c.err); got != c.want {
				t.Errorf("IsTerminal = %v, want %v", got, c.want)
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
