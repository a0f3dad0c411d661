package rollbackcmd

import "testing"

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
