package chatops

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/audit"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name, body string
		want       string
		ok         bool
	}{
		{name: "alone", body: "/promobot rollback", want: "rollback", ok: true},
		{name: "after text, with spaces", body: "Broke the forecasts.\n  /promobot   ROLLBACK please\n", want: "rollback", ok: true},
		{name: "no word", body: "/promobot", want: "", ok: true},
		{name: "another word", body: "/promobot merge", want: "merge", ok: true},
		{name: "in a sentence", body: "run /promobot rollback to undo", ok: false},
		{name: "quoted", body: "> /promobot rollback\nno", ok: false},
		{name: "fenced", body: "```\n/promobot rollback\n```", ok: false},
		{name: "after a fence", body: "```\nx\n```\n/promobot rollback", want: "rollback", ok: true},
		{name: "a prefix only", body: "/promobotx rollback", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseCommand(tc.body)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseCommand = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

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

func TestRecentIDs(t *testing.T) {
	var r recentIDs
	if !r.add(7) || r.add(7) {
		t.Fatal("an id is new once")
	}
	r.forget(7)
	if !r.add(7) {
		t.Error("a forgotten id is new again")
	}
	for id := int64(100); id < 100+maxRecentIDs; id++ {
		r.add(id)
	}
	if !r.add(7) {
		t.Error("the oldest id was not dropped once the memory was full")
	}
}

func TestIsBotAccount(t *testing.T) {
	for login, want := range map[string]bool{"dependabot[bot]": true, "promobot[BOT]": true, "mara": false, "bot": false} {
		if got := isBotAccount(login, "User"); got != want {
			t.Errorf("isBotAccount(%q, User) = %v", login, got)
		}
	}
	if !isBotAccount("renovate", "Bot") {
		t.Error("an account of type Bot is a bot")
	}
}
