package bot

import (
	"errors"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/githubapi/retry"
)

func TestUserMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "answered", err: &githubapi.Error{Op: "list reviews", Status: 502}, want: "GitHub answered 502 to list reviews"},
		{name: "unreachable", err: &githubapi.Error{Op: "list reviews"}, want: "GitHub could not be reached to list reviews"},
		{name: "held by the rate limit gate", err: &githubapi.Error{Op: "list reviews", RetryAfter: 42 * time.Second, Err: &retry.PausedError{Wait: 42 * time.Second}},
			want: "GitHub's rate limit for this installation was reached (list reviews), retry after 42s"},
		{name: "other", err: errors.New("boom"), want: "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := userMessage(tc.err); got != tc.want {
				t.Errorf("userMessage = %q, want %q", got, tc.want)
			}
		})
	}
}
