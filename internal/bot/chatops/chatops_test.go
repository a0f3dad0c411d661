package chatops

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/audit"
)

func TestProposalOf(t *testing.T) {
	rec := func(env, model string, kind audit.Kind, version string) audit.Record {
		return audit.Record{Environment: env, Model: model, Path: "environments/" + env + "/" + model + ".yaml", Kind: kind, ToVersion: version}
	}
	tests := []struct {
		name    string
		records []audit.Record
		want    proposal
		why     string
	}{
		{name: "a bundle promoted", records: []audit.Record{rec("test", "b", audit.KindPromote, "2"), rec("test", "a", audit.KindPromote, "2")},
			want: proposal{env: "test", models: []string{"a", "b"}, version: "2"}},
		{name: "a registration", records: []audit.Record{rec("dev", "a", audit.KindRegister, "3")},
			want: proposal{env: "dev", models: []string{"a"}, version: "3"}},
		{name: "different versions", records: []audit.Record{rec("test", "a", audit.KindPromote, "2"), rec("test", "b", audit.KindPromote, "3")},
			want: proposal{env: "test", models: []string{"a", "b"}}},
		{name: "nothing", why: "the merge changed no manifest"},
		{name: "a rollback", records: []audit.Record{rec("test", "a", audit.KindRollback, "1")},
			why: "the merge's change of environments/test/a.yaml is a rollback, not a promotion"},
		{name: "two environments", records: []audit.Record{rec("test", "a", audit.KindPromote, "2"), rec("prod", "a", audit.KindPromote, "2")},
			why: "the merge changed manifests in test and prod"},
		{name: "unreadable", records: []audit.Record{{Environment: "test", Model: "a", Path: "p", Kind: audit.KindPromote, Problem: "bad YAML"}},
			why: "p cannot be read: bad YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := proposalOf(tc.records)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(proposal{})); diff != "" || why != tc.why {
				t.Errorf("proposalOf: why %q (want %q), proposal (-want +got):\n%s", why, tc.why, diff)
			}
		})
	}
}
