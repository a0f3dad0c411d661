package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// story is one demo run.
type story struct {
	w       *world
	seed    *seeder
	started time.Time
	clone   string // the engineer's working copy
	checks  int    // check-run summaries written so far
	// dashboardURL is where promobot dashboard serves the demo repository.
	dashboardURL string
}

// Run plays the whole story and returns an error as soon as a step does not
// behave as promobot promises. Services are stopped before it returns.
func Run(ctx context.Context, opts Options) (err error) {
	for _, p := range []*string{&opts.Promobot, &opts.Out, &opts.Dir} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(opts.Out, "checks"), 0o755); err != nil {
		return err
	}
	s := &story{started: time.Now()}
	w, err := start(ctx, opts)
	if w != nil {
		defer w.stop()
	}
	if err != nil {
		return err
	}
	s.w = w
	s.say("started Azurite at %s, a GitHub emulator at %s and promobot serve at %s", w.azurite.Endpoint, w.apiURL, w.botURL)
	if s.seed, err = newSeeder(w); err != nil {
		return err
	}
	if _, err := s.seed.bootstrap(ctx); err != nil {
		return err
	}
	s.say("seeded %s/%s: prod runs %s %s, test and dev run %s, artifacts signed in Azurite", Org, RepoName, forecaster, prodRelease.version, testRelease.version)
	if err := s.cloneWorkingCopy(ctx); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{s.register, s.validate, s.promoteToTest, s.promoteToProd, s.attested, s.score, s.bypass, s.audit, s.offlineRefusal, s.governance, s.dashboard} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	s.say("done in %s; check-run summaries in %s, audit page in %s, dashboard at %s", time.Since(s.started).Round(100*time.Millisecond),
		filepath.Join(opts.Out, "checks"), filepath.Join(opts.Out, "audit.html"), s.dashboardURL)
	if opts.KeepDashboard != nil {
		s.say("the dashboard stays up at %s until interrupted (Ctrl-C)", s.dashboardURL)
		<-opts.KeepDashboard
	}
	return nil
}

func (s *story) say(format string, args ...any) {
	fmt.Fprintf(s.w.opts.Log, "[%5.1fs] %s\n", time.Since(s.started).Seconds(), fmt.Sprintf(format, args...))
}

// cloneWorkingCopy clones the repository as the engineer dana.
func (s *story) cloneWorkingCopy(ctx context.Context) error {
	s.clone = filepath.Join(s.w.work, "dana", RepoName)
	_, err := git.PlainCloneContext(ctx, s.clone, false, &git.CloneOptions{
		URL:  s.w.cloneURL,
		Auth: &githttp.BasicAuth{Username: "x-access-token", Password: s.w.github.UserToken("dana")},
	})
	return err
}

// changeOutcome is the part of promobot's --format json the demo reads.
type changeOutcome struct {
	Branch      string `json:"branch"`
	Commit      string `json:"commit"`
	PullRequest *struct {
		Number int    `json:"number"`
		URL    string `json:"url"`
	} `json:"pullRequest"`
}

// openChange runs a promobot register/promote command as dana and tells the
// bot about the pull request it opened.
func (s *story) openChange(ctx context.Context, args ...string) (*changeOutcome, error) {
	args = append(args, "--format", "json", "--github-repo", Org+"/"+RepoName)
	stdout, stderr, code, err := s.w.run(ctx, "dana", s.clone, args...)
	if err != nil || code != 0 {
		return nil, fmt.Errorf("promobot %s: exit %d: %v\n%s%s", args[0], code, err, stdout, stderr)
	}
	var out changeOutcome
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.PullRequest == nil {
		return nil, fmt.Errorf("promobot %s printed no pull request: %v\n%s", args[0], err, stdout)
	}
	return &out, s.notify(ctx, out.PullRequest.Number, "opened", "dana")
}

// notify delivers a pull_request event.
func (s *story) notify(ctx context.Context, number int, action, sender string) error {
	p, err := s.w.github.PullRequestEvent(ctx, Org, RepoName, number, action, sender)
	if err != nil {
		return err
	}
	return s.w.deliver(ctx, "pull_request", p)
}

// review submits a review by login and delivers it.
func (s *story) review(ctx context.Context, number int, login string) error {
	id, err := s.w.github.Review(Org, RepoName, number, login, "APPROVED", "Reviewed the metrics and the validation report.")
	if err != nil {
		return err
	}
	p, err := s.w.github.PullRequestReviewEvent(ctx, Org, RepoName, number, id, "submitted", login)
	if err != nil {
		return err
	}
	return s.w.deliver(ctx, "pull_request_review", p)
}

// expectCheck waits for the promobot check run on sha to complete after
// since, saves its summary and checks its conclusion and title.
func (s *story) expectCheck(ctx context.Context, number int, sha string, since time.Time, conclusion, titleHas string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var latest *githubtest.CheckRun
		for _, r := range s.w.github.CheckRuns(Org, RepoName, sha) {
			if r.Name == "promobot" && r.Status == "completed" && !r.CompletedAt.Before(since) {
				if latest == nil || r.CompletedAt.After(latest.CompletedAt) || r.ID > latest.ID {
					latest = &r
				}
			}
		}
		if latest != nil {
			s.checks++
			name := fmt.Sprintf("%02d-pr%d-%s.md", s.checks, number, latest.Conclusion)
			body := fmt.Sprintf("# %s\n\n%s\n", latest.Title, latest.Summary)
			if err := os.WriteFile(filepath.Join(s.w.opts.Out, "checks", name), []byte(body), 0o644); err != nil {
				return err
			}
			s.say("  check run on PR #%d: %s: %s", number, latest.Conclusion, latest.Title)
			if latest.Conclusion != conclusion || !strings.Contains(latest.Title, titleHas) {
				return fmt.Errorf("PR #%d: check %s %q, want %s with %q", number, latest.Conclusion, latest.Title, conclusion, titleHas)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("PR #%d: no completed promobot check run on %s after 30s (see serve.log)", number, sha)
}

// merge merges a pull request as login and tells the bot.
func (s *story) merge(ctx context.Context, number int, login string) error {
	before, err := s.w.github.PullRequest(Org, RepoName, number)
	if err != nil {
		return err
	}
	sha, err := s.w.github.Merge(Org, RepoName, number, githubtest.MergeOptions{User: login})
	if err != nil {
		return err
	}
	if err := s.notify(ctx, number, "closed", login); err != nil {
		return err
	}
	p, err := s.w.github.PushEvent(ctx, Org, RepoName, "refs/heads/main", before.BaseSHA, sha, login)
	if err != nil {
		return err
	}
	if err := s.w.deliver(ctx, "push", p); err != nil {
		return err
	}
	s.say("  %s merged PR #%d into main (%s)", login, number, sha[:8])
	return nil
}

func (s *story) register(ctx context.Context) error {
	dir := filepath.Join(s.w.work, "pipeline")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	paths, err := s.seed.candidates(ctx, dir, func(p, text string) error { return os.WriteFile(p, []byte(text), 0o644) })
	if err != nil {
		return err
	}
	s.say("training pipeline uploaded %s %s and its calibrator to Azurite", forecaster, newRelease.version)
	since := time.Now()
	out, err := s.openChange(ctx, "register", "--from-file", paths[0], "--from-file", paths[1])
	if err != nil {
		return err
	}
	s.say("dana: promobot register -> PR #%d %s", out.PullRequest.Number, out.Branch)
	if err := s.expectCheck(ctx, out.PullRequest.Number, out.Commit, since, "success", ""); err != nil {
		return err
	}
	return s.merge(ctx, out.PullRequest.Number, "dana")
}

// validate records the validation outcome in dev, as the validation
// pipeline does after its backtests.
func (s *story) validate(ctx context.Context) error {
	dev := []string{manifest.Path("dev", forecaster), manifest.Path("dev", calibrator)}
	tip, texts, err := s.readMain(dev...)
	if err != nil {
		return err
	}
	files := map[string]string{}
	for i, model := range []string{forecaster, calibrator} {
		p, data := dev[i], texts[i]
		passed, err := s.seed.validationBlock(ctx, model, newRelease.version, time.Now().UTC().Format(time.RFC3339))
		if err != nil {
			return err
		}
		files[p] = strings.Replace(data, "status: pending\n", passed, 1)
	}
	sig := gittest.Signature{Name: "Victor Validator", Email: email("victor"), When: time.Now()}
	branch := "validation/" + newRelease.version
	if _, err := gittest.CommitFiles(s.w.barePath, gittest.Commit{Branch: branch, Parents: []string{tip.String()}, Files: files,
		Author: sig, Message: "Record validation of " + newRelease.version + ": backtests passed\n"}); err != nil {
		return err
	}
	number, err := s.w.github.OpenPR(Org, RepoName, githubtest.NewPullRequest{Title: "Validation passed for " + newRelease.version, Head: branch, User: "victor"})
	if err != nil {
		return err
	}
	pr, err := s.w.github.PullRequest(Org, RepoName, number)
	if err != nil {
		return err
	}
	since := time.Now()
	if err := s.notify(ctx, number, "opened", "victor"); err != nil {
		return err
	}
	s.say("validation pipeline: backtests passed -> PR #%d marks %s passed in dev", number, newRelease.version)
	if err := s.expectCheck(ctx, number, pr.HeadSHA, since, "success", ""); err != nil {
		return err
	}
	return s.merge(ctx, number, "victor")
}

func (s *story) promoteToTest(ctx context.Context) error {
	since := time.Now()
	out, err := s.openChange(ctx, "promote", "--model", forecaster, "--model", calibrator, "--to", "test")
	if err != nil {
		return err
	}
	n := out.PullRequest.Number
	s.say("dana: promobot promote --to test -> PR #%d", n)
	if err := s.expectCheck(ctx, n, out.Commit, since, "failure", "approval"); err != nil {
		return err
	}
	since = time.Now()
	if err := s.review(ctx, n, "victor"); err != nil {
		return err
	}
	s.say("victor (@%s/model-validators) approves PR #%d", Org, n)
	if err := s.expectCheck(ctx, n, out.Commit, since, "success", ""); err != nil {
		return err
	}
	return s.merge(ctx, n, "victor")
}

func (s *story) promoteToProd(ctx context.Context) error {
	since := time.Now()
	out, err := s.openChange(ctx, "promote", "--model", forecaster, "--model", calibrator, "--to", "prod", "--ticket", "CHG-4903",
		"--rationale", "Weekly retrain: lower rmse and higher r2 on the November window.")
	if err != nil {
		return err
	}
	n := out.PullRequest.Number
	s.say("dana: promobot promote --to prod --ticket CHG-4903 --rationale ... -> PR #%d", n)
	if err := s.expectCheck(ctx, n, out.Commit, since, "failure", "2"); err != nil {
		return err
	}
	for _, step := range []struct{ login, says, titleHas, conclusion string }{
		{"rita", "rita (@example-org/model-risk) approves", "1", "failure"},
		{"dana", "dana approves her own PR: ignored, she is the author", "1", "failure"},
		{"remy", "remy (@example-org/release-managers) approves: the sharpe gate still blocks", "sharpe", "failure"},
	} {
		since = time.Now()
		if err := s.review(ctx, n, step.login); err != nil {
			return err
		}
		s.say("%s", step.says)
		if err := s.expectCheck(ctx, n, out.Commit, since, step.conclusion, step.titleHas); err != nil {
			return err
		}
	}
	if err := s.governMetricException(ctx, n, out.Commit); err != nil {
		return err
	}
	return s.merge(ctx, n, "remy")
}

// score plays the scoring job: resolve and download, then a tampered blob.
func (s *story) score(ctx context.Context) error {
	dest := filepath.Join(s.w.opts.Out, "models", forecaster+".pkl")
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	args := []string{"resolve", "--repo", s.w.cloneURL, "--env", "prod", "--model", forecaster, "--download", dest, "--format", "env"}
	stdout, stderr, code, err := s.w.run(ctx, "scoring-job", s.w.work, args...)
	if err != nil || code != 0 {
		return fmt.Errorf("resolve: exit %d: %v: %s", code, err, stderr)
	}
	version := envValue(stdout, "MODEL_VERSION")
	s.say("scoring job: promobot resolve --download -> %s %s verified and saved to %s", forecaster, version, dest)
	if version != newRelease.version {
		return fmt.Errorf("resolve gave version %q, want %s", version, newRelease.version)
	}

	tampered := append([]byte(nil), []byte("not the approved model")...)
	if _, err := s.w.blobs.UploadBuffer(ctx, container, forecaster+"/"+newRelease.version+"/model.pkl", tampered, nil); err != nil {
		return err
	}
	s.say("someone overwrites the prod blob in Azurite")
	_, stderr, code, err = s.w.run(ctx, "scoring-job", s.w.work, args...)
	if err != nil {
		return err
	}
	if code != 1 {
		return fmt.Errorf("resolve of a tampered blob: exit %d, want 1", code)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		return fmt.Errorf("a refused download left %s behind", dest)
	}
	s.say("scoring job: promobot resolve refuses (exit 1): %s", strings.TrimSpace(stderr))
	return nil
}

// bypass shows that a change pushed around review is caught: the scoring
// job's --require-reviewed refuses it, and the audit flags it.
func (s *story) bypass(ctx context.Context) error {
	args := []string{"resolve", "--repo", s.w.cloneURL, "--env", "prod", "--model", calibrator, "--require-reviewed", "--github-repo", Org + "/" + RepoName, "--format", "env"}
	_, stderr, code, err := s.w.run(ctx, "scoring-job", s.w.work, args...)
	if err != nil || code != 0 {
		return fmt.Errorf("resolve --require-reviewed of a reviewed manifest: exit %d: %v: %s", code, err, stderr)
	}
	s.say("scoring job: promobot resolve --require-reviewed -> %s came through reviewed PR #4", calibrator)

	p := manifest.Path("prod", calibrator)
	tip, texts, err := s.readMain(p)
	if err != nil {
		return err
	}
	data := texts[0]
	sig := gittest.Signature{Name: "Pat Platform", Email: email("pat"), When: time.Now()}
	after, err := gittest.CommitFiles(s.w.barePath, gittest.Commit{Branch: "main", Files: map[string]string{
		p: data + hotfixNote,
	}, Author: sig, Message: "Hotfix: lower the prod threshold\n"})
	if err != nil {
		return err
	}
	push, err := s.w.github.PushEvent(ctx, Org, RepoName, "refs/heads/main", tip.String(), after, "pat")
	if err != nil {
		return err
	}
	if err := s.w.deliver(ctx, "push", push); err != nil {
		return err
	}
	s.say("pat (admin) pushes an edit of %s straight to main, around review", p)
	_, stderr, code, err = s.w.run(ctx, "scoring-job", s.w.work, args...)
	if err != nil {
		return err
	}
	if code != 1 {
		return fmt.Errorf("resolve --require-reviewed of a bypassed manifest: exit %d, want 1: %s", code, stderr)
	}
	s.say("scoring job: promobot resolve --require-reviewed refuses (exit 1): %s", strings.TrimSpace(stderr))
	return nil
}

func envValue(out, key string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	return ""
}

// audit rebuilds who promoted what from the repository and GitHub, writes
// the HTML page and a hash-chained log, and answers "what ran in prod now,
// and who approved it?".
func (s *story) audit(ctx context.Context) error {
	common := []string{"--repo", s.w.barePath, "--github-repo", Org + "/" + RepoName, "--cache-dir", filepath.Join(s.w.work, "audit-cache")}
	auditor := func(args ...string) (string, error) {
		stdout, stderr, code, err := s.w.run(ctx, "pat", s.w.work, args...)
		if err != nil || code != 0 {
			return "", fmt.Errorf("promobot %s: exit %d: %v: %s", strings.Join(args, " "), code, err, stderr)
		}
		return stdout, nil
	}
	table, err := auditor(append([]string{"audit"}, common...)...)
	if err != nil {
		return err
	}
	s.say("promobot audit:")
	for _, line := range strings.Split(strings.TrimRight(table, "\n"), "\n") {
		fmt.Fprintf(s.w.opts.Log, "         %s\n", line)
	}
	s.say("the bootstrap import was pushed to main directly, so the audit flags it as a bypass; every promotion since came through a reviewed PR")
	page, err := auditor(append([]string{"audit", "--format", "html"}, common...)...)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.w.opts.Out, "audit.html"), []byte(page), 0o644); err != nil {
		return err
	}
	at, err := auditor(append([]string{"audit", "--env", "prod", "--model", forecaster, "--at", time.Now().UTC().Format(time.RFC3339)}, common...)...)
	if err != nil {
		return err
	}
	s.say("promobot audit --env prod --at now:")
	for _, line := range strings.Split(strings.TrimRight(at, "\n"), "\n") {
		fmt.Fprintf(s.w.opts.Log, "         %s\n", line)
	}
	logPath := filepath.Join(s.w.opts.Out, "audit-log.jsonl")
	os.Remove(logPath)
	if _, err := auditor(append([]string{"audit", "export", "--to", "file:" + logPath}, common...)...); err != nil {
		return err
	}
	verified, err := auditor("audit", "verify", "--from", "file:"+logPath)
	if err != nil {
		return err
	}
	s.say("promobot audit export + verify: %s", strings.TrimSpace(verified))
	return nil
}

// readMain reads files at the tip of main on the server, as the validation
// pipeline or an admin with a clone would, and returns that tip.
func (s *story) readMain(paths ...string) (plumbing.Hash, []string, error) {
	repo, err := gitrepo.Open(s.w.barePath)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	defer repo.Close()
	tip, err := repo.Resolve("main")
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	fsys, err := repo.FS(tip)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	texts := make([]string, len(paths))
	for i, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return plumbing.ZeroHash, nil, err
		}
		texts[i] = string(data)
	}
	return tip, texts, nil
}
