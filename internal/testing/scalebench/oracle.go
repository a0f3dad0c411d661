package scalebench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"

	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// verdict is what a check run on a head says, or what it should say.
type verdict struct {
	conclusion string // success or failure
	title      string
}

// expected computes, independently of the replicas, the verdict pull
// request p should carry on its head now: it runs `promobot check` on the
// bare repository with the pull request's reviews, labels and author as
// GitHub holds them, exactly as a person would check a change locally.
func (w *world) expected(ctx context.Context, bin string, p githubtest.PullRequest) (verdict, error) {
	args := []string{"check", "--repo", w.RepoPath, "--base", w.tip(p.BaseRef), "--head", p.HeadSHA,
		"--author", p.User, "--committer", author, "--format", "json"}
	for _, login := range []string{author, "pat"} {
		args = append(args, "--identity", login+"@users.noreply.github.com="+login)
	}
	for team, members := range evaltest.Teams() {
		args = append(args, "--team", team+"="+strings.Join(members, ","))
	}
	for _, rv := range p.Reviews {
		args = append(args, "--review", fmt.Sprintf("%s=%s@%s", rv.User, strings.ToLower(rv.State), rv.CommitID))
	}
	for _, l := range p.Labels {
		args = append(args, "--label", l)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = baseEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return verdict{}, fmt.Errorf("promobot check of #%d: %v\n%s", p.Number, err, stderr.String())
	}
	var out struct{ Verdict, Title string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return verdict{}, fmt.Errorf("promobot check of #%d: %v\n%s", p.Number, err, stdout.String())
	}
	v := verdict{conclusion: "failure", title: out.Title}
	if out.Verdict == "pass" {
		v.conclusion = "success"
	}
	return v, nil
}

// correctNow reports whether the newest check run on pull request
// number's head is completed with the verdict expected from its state now.
// Expected verdicts are remembered per state (head, base, reviews,
// labels), so that asking again costs no `promobot check`.
func (w *world) correctNow(ctx context.Context, latest map[string]githubtest.CheckRun, number int) bool {
	snap, err := w.Em.PullRequest(owner, repoName, number)
	if err != nil {
		return false
	}
	run, ok := latest[snap.HeadSHA]
	if !ok || run.Status != "completed" {
		return false
	}
	var key strings.Builder
	fmt.Fprintf(&key, "%s %s %s", snap.HeadSHA, w.tip(snap.BaseRef), strings.Join(snap.Labels, ","))
	for _, rv := range snap.Reviews {
		fmt.Fprintf(&key, " %d:%s", rv.ID, rv.State)
	}
	w.oracleMu.Lock()
	want, known := w.oracle[key.String()]
	w.oracleMu.Unlock()
	if !known {
		if want, err = w.expected(ctx, w.bin, snap); err != nil {
			return false
		}
		w.oracleMu.Lock()
		w.oracle[key.String()] = want
		w.oracleMu.Unlock()
	}
	return run.Conclusion == want.conclusion && run.Title == want.title
}

// audit is the state of every pull request once the replicas are quiet.
type audit struct {
	correct    int
	inProgress int
	wrong      []string // one line per pull request whose head is wrong
}

// verify compares the newest check run on every pull request's head with
// its expected verdict, two pull requests at a time.
func (w *world) verify(ctx context.Context, bin string) (audit, error) {
	type outcome struct {
		line       string
		inProgress bool
		err        error
	}
	outcomes := make([]outcome, len(w.prs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 3)
	for i, p := range w.prs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			snap, err := w.Em.PullRequest(owner, repoName, p.number)
			if err != nil {
				outcomes[i].err = err
				return
			}
			want, err := w.expected(ctx, bin, snap)
			if err != nil {
				outcomes[i].err = err
				return
			}
			runs := w.Em.CheckRuns(owner, repoName, snap.HeadSHA)
			switch {
			case len(runs) == 0:
				outcomes[i].line = fmt.Sprintf("#%d: no check run on %.7s, want %s %q", p.number, snap.HeadSHA, want.conclusion, want.title)
			case runs[len(runs)-1].Status != "completed":
				outcomes[i].inProgress = true
				outcomes[i].line = fmt.Sprintf("#%d: check run %d left %s on %.7s", p.number, runs[len(runs)-1].ID, runs[len(runs)-1].Status, snap.HeadSHA)
			default:
				got := runs[len(runs)-1]
				if got.Conclusion != want.conclusion || got.Title != want.title {
					outcomes[i].line = fmt.Sprintf("#%d: %s %q on %.7s, want %s %q", p.number, got.Conclusion, got.Title, snap.HeadSHA, want.conclusion, want.title)
				}
			}
		}()
	}
	wg.Wait()
	var a audit
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			return a, o.err
		case o.inProgress:
			a.inProgress++
			a.wrong = append(a.wrong, o.line)
		case o.line != "":
			a.wrong = append(a.wrong, o.line)
		default:
			a.correct++
		}
	}
	slices.Sort(a.wrong)
	return a, nil
}
