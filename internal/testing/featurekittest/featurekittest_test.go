package featurekittest_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/bottest"
	"github.com/example-org/promobot/internal/testing/featurekittest"
)

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestWantContains(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  []string
	}{
		{name: "every part there", parts: []string{"opened", "#3"}},
		{name: "no parts", parts: nil},
		{
			name:  "one error per missing part",
			parts: []string{"opened", "rollback", "#9"},
			want:  []string{"the reply lacks \"rollback\":\nopened #3", "the reply lacks \"#9\":\nopened #3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			featurekittest.WantContains(r, "the reply", "opened #3", tt.parts...)
			if diff := cmp.Diff(tt.want, r.errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChatOpsBuildsBothHalves: the chat-ops bot has autoPropose and the
// rollback command, in that order.
func TestChatOpsBuildsBothHalves(t *testing.T) {
	var names []string
	for _, f := range featurekittest.ChatOps.Features(bottest.Env{WorkDir: t.TempDir()}) {
		names = append(names, f.Name())
	}
	if diff := cmp.Diff([]string{"chatops", "rollback"}, names); diff != "" {
		t.Errorf("features (-want +got):\n%s", diff)
	}
}
