package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/testing/sample"
)

// governance runs the periodic controls: the access review of who can
// approve what, and drift between what scoring jobs report they loaded and
// what the manifests pin.
func (s *story) governance(ctx context.Context) error {
	common := []string{"--repo", s.w.barePath, "--github-repo", Org + "/" + RepoName, "--cache-dir", filepath.Join(s.w.work, "audit-cache")}
	stdout, stderr, code, err := s.w.run(ctx, "pat", s.w.work, append([]string{"access-review", "--format", "json"}, common...)...)
	if err != nil || (code != 0 && code != 1) {
		return fmt.Errorf("access-review: exit %d: %v: %s", code, err, stderr)
	}
	var review struct {
		Findings []struct{ Kind, Message string } `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &review); err != nil {
		return fmt.Errorf("access-review output: %w", err)
	}
	if len(review.Findings) == 0 {
		return fmt.Errorf("access-review found nothing, yet prod depends on rita and remy both")
	}
	s.say("promobot access-review (exit %d, %d findings), first: %s: %s", code, len(review.Findings), review.Findings[0].Kind, review.Findings[0].Message)

	reports := filepath.Join(s.w.work, "scoring-reports")
	args := []string{"resolve", "--repo", s.w.cloneURL, "--env", "prod", "--model", calibrator, "--format", "env", "--report", "file:" + reports, "--job-id", "scoring-prod-1"}
	if _, stderr, code, err := s.w.run(ctx, "scoring-job", s.w.work, args...); err != nil || code != 0 {
		return fmt.Errorf("resolve --report: exit %d: %v: %s", code, err, stderr)
	}
	// A second job missed the promotion and still loads the version prod
	// pinned before; its resolve reports that, as every job's does.
	store := &drift.FileStore{Dir: reports}
	if err := store.Append(ctx, drift.Load{
		Repository: Org + "/" + RepoName, Environment: "prod", Model: forecaster, Version: prodRelease.version,
		SHA256: artifactDigest(forecaster, prodRelease.version), Verified: true, Attestation: drift.AttestationNone, Job: "scoring-prod-2", Time: time.Now().UTC(),
	}); err != nil {
		return err
	}
	stdout, stderr, code, err = s.w.run(ctx, "pat", s.w.work, "drift", "--reports", "file:"+reports, "--repo", s.w.barePath, "--grace", "1s", "--env", "prod", "--format", "json")
	if err != nil || code != 1 {
		return fmt.Errorf("drift: exit %d, want 1: %v: %s", code, err, stderr)
	}
	var res drift.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		return fmt.Errorf("drift output: %w", err)
	}
	for _, f := range res.Findings {
		if f.Kind == drift.KindNotPinned {
			s.say("promobot drift (exit 1, grace shortened to 1s for the demo): %s: %s", f.Kind, f.Message)
			return nil
		}
	}
	return fmt.Errorf("drift did not report scoring-prod-2 loading %s: %s", prodRelease.version, stdout)
}

// artifactDigest is the sha256 of the demo's artifact of model at version.
func artifactDigest(model, version string) string {
	sum := sha256.Sum256(sample.ArtifactBytes(model, version))
	return hex.EncodeToString(sum[:])
}
