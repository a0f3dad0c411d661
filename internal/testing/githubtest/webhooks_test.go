package githubtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// pushCommit clones the repository over smart HTTP with the installation
// token, commits a file on branch and pushes it.
func pushCommit(t *testing.T, e *env, token, branch, path, content string) (string, error) {
	t.Helper()
	auth := &githttp.BasicAuth{Username: "x-access-token", Password: token}
	clone, err := git.CloneContext(t.Context(), memory.NewStorage(), memfs.New(), &git.CloneOptions{
		URL: e.Git.RepoURL("acme/models.git"), Auth: auth, ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true,
	})
	if err != nil {
		return "", err
	}
	wt, err := clone.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	f, err := wt.Filesystem.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(f, content)
	_ = f.Close()
	if _, err := wt.Add(path); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit("Update "+path+"\n", &git.CommitOptions{Author: &object.Signature{Name: "Alice", Email: "alice@example.com", When: t0.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	refspec := config.RefSpec("refs/heads/" + branch + ":refs/heads/" + branch)
	if err := clone.PushContext(t.Context(), &git.PushOptions{RefSpecs: []config.RefSpec{refspec}, Auth: auth}); err != nil {
		return "", err
	}
	return h.String(), nil
}

func TestPushWithInstallationTokenThenSync(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	if _, err := pushCommit(t, e, "wrong-token", "promote", "x.txt", "x"); err == nil {
		t.Fatal("push with an unknown token succeeded")
	}
	newHead, err := pushCommit(t, e, e.instToken, "promote", "environments/prod/extra.yaml", "k: v\n")
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if pr, _ := e.Emulator.PullRequest(org, repoName, n); pr.HeadSHA != e.headSHA {
		t.Errorf("head moved before SyncPR: %s", pr.HeadSHA)
	}
	synced, err := e.Emulator.SyncPR(org, repoName, n)
	if err != nil || synced != newHead {
		t.Fatalf("SyncPR = %s, %v; want %s", synced, err, newHead)
	}
	files, _, err := e.app.PullRequests.ListFiles(t.Context(), org, repoName, n, nil)
	if err != nil || len(files) != 5 {
		t.Errorf("files after push = %d, %v", len(files), err)
	}
	payload, err := e.Emulator.PullRequestEvent(t.Context(), org, repoName, n, "synchronize", "")
	if err != nil {
		t.Fatal(err)
	}
	var ev github.PullRequestEvent
	if err := payload.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.GetBefore() != e.headSHA || ev.GetAfter() != newHead || ev.GetPullRequest().GetHead().GetSHA() != newHead {
		t.Errorf("synchronize before %s after %s head %s", ev.GetBefore(), ev.GetAfter(), ev.GetPullRequest().GetHead().GetSHA())
	}
	pulls, _, err := e.app.PullRequests.ListPullRequestsWithCommit(t.Context(), org, repoName, newHead, nil)
	if err != nil || len(pulls) != 1 || pulls[0].GetNumber() != n {
		t.Errorf("PRs for pushed commit = %v %v", pulls, err)
	}
}

func TestDeliverSignsAndPayloadsParse(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	reviewID, err := e.Emulator.Review(org, repoName, n, "bob", "APPROVED", "lgtm")
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := e.app.Checks.CreateCheckRun(t.Context(), org, repoName, github.CreateCheckRunOptions{Name: "gate", HeadSHA: e.headSHA})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "hook-secret"
	type delivery struct {
		event   string
		payload any
	}
	received := make(chan delivery, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := github.ValidatePayload(r, []byte(secret))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.Header.Get("X-GitHub-Hook-ID") == "" || len(github.DeliveryID(r)) != 36 || !strings.HasPrefix(r.UserAgent(), "GitHub-Hookshot/") {
			http.Error(w, "missing headers", http.StatusBadRequest)
			return
		}
		payload, err := github.ParseWebHook(github.WebHookType(r), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		received <- delivery{github.WebHookType(r), payload}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hook.Close)

	ctx := t.Context()
	prOpened, err := e.Emulator.PullRequestEvent(ctx, org, repoName, n, "opened", "")
	if err != nil {
		t.Fatal(err)
	}
	review, err := e.Emulator.PullRequestReviewEvent(ctx, org, repoName, n, reviewID, "submitted", "")
	if err != nil {
		t.Fatal(err)
	}
	rerun, err := e.Emulator.CheckRunEvent(ctx, org, repoName, run.GetID(), "rerequested", "bob")
	if err != nil {
		t.Fatal(err)
	}
	suite, err := e.Emulator.CheckSuiteEvent(ctx, org, repoName, e.headSHA, "requested", "alice")
	if err != nil {
		t.Fatal(err)
	}
	push, err := e.Emulator.PushEvent(ctx, org, repoName, "refs/heads/promote", e.baseSHA, e.headSHA, "alice")
	if err != nil {
		t.Fatal(err)
	}
	queue, err := e.Emulator.MergeGroupEvent(ctx, org, repoName, e.headSHA, "refs/heads/gh-readonly-queue/main/pr-1-"+e.headSHA, "refs/heads/main", "bob")
	if err != nil {
		t.Fatal(err)
	}

	type summary struct {
		Event, Action, Repo, Owner, Sender string
		Installation                       int64
		Detail                             string
	}
	tests := []struct {
		event   string
		payload any
		want    summary
	}{
		{"pull_request", prOpened, summary{"pull_request", "opened", "acme/models", "acme", "alice", instID, "promote@" + e.headSHA}},
		{"pull_request_review", review, summary{"pull_request_review", "submitted", "acme/models", "acme", "bob", instID, "approved@" + e.headSHA}},
		{"check_run", rerun, summary{"check_run", "rerequested", "acme/models", "acme", "bob", instID, "gate:promote:1"}},
		{"check_suite", suite, summary{"check_suite", "requested", "acme/models", "acme", "alice", instID, "promote:1"}},
		{"push", push, summary{"push", "", "acme/models", "acme", "alice", instID, "refs/heads/promote:2:alice"}},
		{"merge_group", queue, summary{"merge_group", "checks_requested", "acme/models", "acme", "bob", instID, "refs/heads/main"}},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			resp, err := Deliver(ctx, hook.URL, secret, tt.event, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("hook answered %d", resp.StatusCode)
			}
			d := <-received
			var got summary
			got.Event = d.event
			switch p := d.payload.(type) {
			case *github.PullRequestEvent:
				got = summary{d.event, p.GetAction(), p.GetRepo().GetFullName(), p.GetRepo().GetOwner().GetLogin(), p.GetSender().GetLogin(), p.GetInstallation().GetID(),
					p.GetPullRequest().GetHead().GetRef() + "@" + p.GetPullRequest().GetHead().GetSHA()}
			case *github.PullRequestReviewEvent:
				got = summary{d.event, p.GetAction(), p.GetRepo().GetFullName(), p.GetRepo().GetOwner().GetLogin(), p.GetSender().GetLogin(), p.GetInstallation().GetID(),
					p.GetReview().GetState() + "@" + p.GetReview().GetCommitID()}
			case *github.CheckRunEvent:
				got = summary{d.event, p.GetAction(), p.GetRepo().GetFullName(), p.GetRepo().GetOwner().GetLogin(), p.GetSender().GetLogin(), p.GetInstallation().GetID(),
					p.GetCheckRun().GetName() + ":" + p.GetCheckRun().GetCheckSuite().GetHeadBranch() + ":" + strconv.Itoa(len(p.GetCheckRun().PullRequests))}
			case *github.CheckSuiteEvent:
				got = summary{d.event, p.GetAction(), p.GetRepo().GetFullName(), p.GetRepo().GetOwner().GetLogin(), p.GetSender().GetLogin(), p.GetInstallation().GetID(),
					p.GetCheckSuite().GetHeadBranch() + ":" + strconv.Itoa(len(p.GetCheckSuite().PullRequests))}
			case *github.PushEvent:
				got = summary{d.event, p.GetAction(), p.GetRepo().GetFullName(), p.GetRepo().GetOwner().GetLogin(), p.GetSender().GetLogin(), p.GetInstallation().GetID(),
					p.GetRef() + ":" + strconv.Itoa(len(p.Commits)) + ":" + p.GetHeadCommit().GetAuthor().GetLogin()}
			case *github.MergeGroupEvent:
				got = summary{d.event, p.GetAction(), p.GetRepo().GetFullName(), p.GetRepo().GetOwner().GetLogin(), p.GetSender().GetLogin(), p.GetInstallation().GetID(),
					p.GetMergeGroup().GetBaseRef()}
			default:
				t.Fatalf("unexpected payload type %T", p)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
		})
	}

	resp, err := Deliver(ctx, hook.URL, "wrong secret", "pull_request", prOpened)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret: hook answered %d", resp.StatusCode)
	}
}
