package bot

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/example-org/promobot/internal/githubapi"
)

// The input fingerprint and coalescing.
//
// An evaluation's inputs are the head commit (the check run is posted on
// it), and, per pull request sharing that head, its number, base branch and
// that branch's tip, its labels and its reviews (ids, authors, states and
// commits). The policy, the schemas and CODEOWNERS are read from the base
// branch's tip, so the tip's commit pins their blobs: a push that changes
// them changes the tip. fingerprint (fingerprint.go) hashes all of it except
// the head, and every check run the bot completes carries it as its
// external id.
//
// A job whose head already has a completed check run of the bot with the
// fingerprint its inputs have now is dropped before anything is fetched or
// posted: its verdict would be the same. The check_suite delivery that
// follows every push, a review and its pull_request_review delivery seen by
// two replicas, or a message of the durable queue delivered twice cost a
// few reads answered 304 instead of an evaluation. What no event announces
// (team membership, permissions, freeze windows) is not in the fingerprint:
// the periodic recheck catches it, and a re-run asked for on GitHub
// (check_run or check_suite "rerequested") always evaluates again.

// A replica remembers the fingerprint of the check runs it completed
// (evaluated, below), so that a repeat on the same replica costs no read of
// check runs. A job that may repeat another replica's evaluation (every job
// on the durable queue, and the check_suite delivery that follows a push)
// also reads the head's latest check run when the replica has none in
// mind; a first evaluation of a new head through a pull_request delivery
// reads nothing more than before.

// alreadyEvaluated reports whether the inputs of the open pull requests
// group, sharing head sha, were already evaluated by a check run still
// current, and why. Any doubt (a read fails, no check run, one that could
// not evaluate or is in progress) answers false: the job runs. suspect
// says whether to read the head's check run when this replica completed
// none on it.
func (b *Bot) alreadyEvaluated(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, sha string, group []*githubapi.PullRequest, suspect bool) (bool, string) {
	run := b.evaluated.get(t, sha)
	if run == nil {
		if !suspect {
			return false, ""
		}
		var err error
		if run, err = gh.LatestCheckRun(ctx, t.owner, t.name, sha, b.cfg.CheckName, b.cfg.AppID); err != nil || run == nil {
			return false, ""
		}
	}
	if run.Status != githubapi.StatusCompleted {
		return false, ""
	}
	var readErr error
	tips := map[string]string{}
	states := make([]prState, len(group))
	for i, pr := range group {
		v, ok := tips[pr.BaseRef]
		if !ok {
			var err error
			if v, err = gh.BranchHead(ctx, t.owner, t.name, pr.BaseRef); err != nil {
				readErr = err
			}
			tips[pr.BaseRef] = v
		}
		states[i] = prState{number: pr.Number, baseRef: pr.BaseRef, baseSHA: v, labels: pr.Labels}
	}
	if readErr != nil {
		logger.Debug("cannot tell whether the inputs were already evaluated; evaluating", "error", readErr)
		return false, ""
	}
	reviews := func() (string, error) {
		for i, pr := range group {
			list, err := gh.Reviews(ctx, t.owner, t.name, pr.Number)
			if err != nil {
				return "", err
			}
			states[i].reviews = list
		}
		return reviewsHash(states), nil
	}
	action, reason, err := b.decide(run, metaHash(states), reviews)
	switch {
	case err != nil:
		logger.Debug("cannot tell whether the inputs were already evaluated; evaluating", "error", err)
		return false, ""
	case action == resyncRecheck:
		return true, "the check run on this head has the inputs' fingerprint"
	case action == resyncSkip && reason == "no gated file":
		return true, "the check run on this head has the inputs' fingerprint and no gated file changed"
	}
	return false, reason
}

// evaluatedHeads remembers the check runs this replica completed, by
// repository and head: their fingerprint, conclusion and title. It forgets
// everything when it reaches its bound; forgetting only costs a read.
type evaluatedHeads struct {
	mu   sync.Mutex
	runs map[string]githubapi.ExistingCheckRun
}

// maxEvaluatedHeads bounds evaluatedHeads.
const maxEvaluatedHeads = 10000

func headKey(t target, sha string) string { return strings.ToLower(t.fullName()) + "@" + sha }

// get returns the check run this replica completed last on sha, or nil.
func (e *evaluatedHeads) get(t target, sha string) *githubapi.ExistingCheckRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	run, ok := e.runs[headKey(t, sha)]
	if !ok {
		return nil
	}
	return &run
}

// put remembers a completed check run of rep on sha; a report without a
// verdict is forgotten, so that the next job evaluates again.
func (e *evaluatedHeads) put(t target, sha string, rep report) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := headKey(t, sha)
	if rep.cause != nil || rep.externalID == "" {
		delete(e.runs, key)
		return
	}
	if e.runs == nil || len(e.runs) >= maxEvaluatedHeads {
		e.runs = map[string]githubapi.ExistingCheckRun{}
	}
	e.runs[key] = githubapi.ExistingCheckRun{
		Status: githubapi.StatusCompleted, Conclusion: rep.conclusion,
		Title: truncate(rep.title, maxTitle, "…"), ExternalID: rep.externalID,
	}
}
