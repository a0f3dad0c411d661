package main

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestServeFeatures keeps the flags and the features they turn on in step:
// --chatops is autoPropose and the rollback command, --bypass-issues and
// --audit-sink the audit, --attest-key (or --attest-keyvault-key) with
// --attest-store the attestations.
func TestServeFeatures(t *testing.T) {
	key, _ := newKeyFiles(t)
	attestations := attestFlags{key: key, store: "file:" + t.TempDir()}
	tests := []struct {
		name  string
		flags serveFlags
		want  []string
	}{
		{name: "none"},
		{name: "chat-ops", flags: serveFlags{chatOps: true}, want: []string{"chatops", "rollback"}},
		{name: "bypass issues", flags: serveFlags{bypassIssues: true}, want: []string{"audit"}},
		{name: "an audit sink", flags: serveFlags{auditSink: "file:" + filepath.Join(t.TempDir(), "{repo}.jsonl")}, want: []string{"audit"}},
		{name: "attestations", flags: serveFlags{attest: attestations}, want: []string{"attest"}},
		{name: "all", flags: serveFlags{chatOps: true, bypassIssues: true, attest: attestations}, want: []string{"audit", "chatops", "rollback", "attest"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.flags.cacheDir, tc.flags.auditDelay = t.TempDir(), time.Minute
			features, err := serveFeatures(t.Context(), &env{}, &serveConfig{flags: tc.flags}, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range features {
				got = append(got, f.Name())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("features (-want +got):\n%s", diff)
			}
		})
	}
}
