package main

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// TestServeFeatures keeps the flags and the features they turn on in step:
// --chatops is autoPropose and the rollback command, --bypass-issues and
// --audit-sink the audit, --access-review-issue the scheduled access
// review, --drift-reports the drift monitor, --attest-key (or
// --attest-keyvault-key) with --attest-store the attestations.
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
		{name: "access review issue", flags: serveFlags{accessReviewIssue: true}, want: []string{"access-review"}},
		{name: "drift metrics", flags: serveFlags{driftReports: "file:" + t.TempDir()}, want: []string{"drift"}},
		{name: "drift issue", flags: serveFlags{driftReports: "file:" + t.TempDir(), driftIssue: true}, want: []string{"drift"}},
		{name: "attestations", flags: serveFlags{attest: attestations}, want: []string{"attest"}},
		{name: "all", flags: serveFlags{chatOps: true, bypassIssues: true, accessReviewIssue: true, driftReports: "file:" + t.TempDir(), attest: attestations},
			want: []string{"audit", "chatops", "rollback", "access-review", "drift", "attest"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.flags.cacheDir, tc.flags.auditDelay = t.TempDir(), time.Minute
			features, err := serveFeatures(t.Context(), &env{}, &serveConfig{flags: tc.flags}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
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
