package bot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHintCheck: a message that names no job is refused before any work,
// whatever kind it claims.
func TestHintCheck(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	base := hint{V: hintVersion, Installation: 7, Owner: "acme", Repo: "models"}
	with := func(f func(*hint)) hint {
		h := base
		f(&h)
		return h
	}
	tests := []struct {
		name    string
		h       hint
		wantErr string
	}{
		{name: "pull request", h: with(func(h *hint) { h.Kind, h.Number = hintPullRequest, 3 })},
		{name: "pull request with its former head", h: with(func(h *hint) { h.Kind, h.Number, h.Before = hintPullRequest, 3, sha })},
		{name: "former head that is no commit", h: with(func(h *hint) { h.Kind, h.Number, h.Before = hintPullRequest, 3, "main" }), wantErr: "former head"},
		{name: "feature job", h: with(func(h *hint) {
			h.Kind, h.Feature, h.FeatureKind, h.FeatureRef = hintFeature, "rollback", "command", "42"
		})},
		{name: "feature job without a feature", h: with(func(h *hint) { h.Kind, h.FeatureKind = hintFeature, "command" }), wantErr: "no feature"},
		{name: "feature job without a kind", h: with(func(h *hint) { h.Kind, h.Feature = hintFeature, "rollback" }), wantErr: "no feature"},
		{name: "unknown kind", h: with(func(h *hint) { h.Kind = "superseded" }), wantErr: "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.check()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("check: %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}

// TestFeatureJobSurvivesTheQueue: a feature's job comes out of a message as
// it went in, and two jobs of one feature lock apart from each other and
// from the pipeline's.
func TestFeatureJobSurvivesTheQueue(t *testing.T) {
	job := FeatureJob{
		Repo:   Repo{Installation: 7, Owner: "Acme", Name: "Models", CloneURL: "https://git.example/acme/models.git", DefaultBranch: "main"},
		Number: 3, Kind: "command", Ref: "42",
	}
	h := hint{V: hintVersion, Kind: hintFeature, Feature: "rollback", FeatureKind: job.Kind, FeatureRef: job.Ref,
		Installation: 7, Owner: "Acme", Repo: "Models", CloneURL: job.Repo.CloneURL, DefaultBranch: "main", Number: 3}
	text, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back hint
	if err := json.Unmarshal(text, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(job, back.featureJob()); diff != "" {
		t.Errorf("job after the queue (-want +got):\n%s", diff)
	}
	other := back
	other.FeatureRef = "43"
	pipeline := hint{V: hintVersion, Kind: hintPullRequest, Installation: 7, Owner: "Acme", Repo: "Models", Number: 3}
	if back.lockKey() == other.lockKey() || back.lockKey() == pipeline.lockKey() {
		t.Errorf("lock keys meet: %q, %q, %q", back.lockKey(), other.lockKey(), pipeline.lockKey())
	}
	if got, want := job.Key(), (JobKey{Installation: 7, Repo: "acme/models", Number: 3, Kind: "command", Ref: "42"}); got != want {
		t.Errorf("Key() = %+v, want %+v", got, want)
	}
}
