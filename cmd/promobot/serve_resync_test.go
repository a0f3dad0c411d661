package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestServeResyncFlags(t *testing.T) {
	vars := listenFailingVars(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "too often", args: []string{"--resync-interval", "10s"}, want: "--resync-interval (PROMOBOT_RESYNC_INTERVAL) must be 0 (off) or at least 1m, not 10s"},
		{name: "recheck more often than resync", args: []string{"--resync-interval", "30m", "--recheck-interval", "10m"},
			want: "--recheck-interval (PROMOBOT_RECHECK_INTERVAL) must be 0 (off) or at least --resync-interval (30m0s), not 10m0s"},
		{name: "recheck without resync", args: []string{"--resync-interval", "0"}, want: "--recheck-interval (PROMOBOT_RECHECK_INTERVAL) needs --resync-interval"},
		{name: "from the environment", env: map[string]string{"PROMOBOT_RESYNC_INTERVAL": "5s"}, want: "at least 1m, not 5s"},
		{name: "both off", args: []string{"--resync-interval", "0", "--recheck-interval", "0"}, want: "listen on 256.1.1.1:80"},
		{name: "defaults", want: "listen on 256.1.1.1:80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantServeUsageError(t, vars, tc.env, tc.args, tc.want) })
	}
}

func TestServeResyncDefaults(t *testing.T) {
	e := &env{getenv: func(k string) string { return map[string]string{"PROMOBOT_RECHECK_INTERVAL": "2h"}[k] }}
	cmd := newServeCommand(e)
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if err := fromEnv(cmd.Flags(), e); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, name := range []string{"resync-interval", "recheck-interval"} {
		got[name] = cmd.Flags().Lookup(name).Value.String()
	}
	if diff := cmp.Diff(map[string]string{"resync-interval": "10m0s", "recheck-interval": "2h0m0s"}, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}
