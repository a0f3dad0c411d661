package audit

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/gitrepo/objectstore"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/progress"
	"github.com/example-org/promobot/internal/repoconfig"
)

// Options configures Reconstruct.
type Options struct {
	// Ref is the branch to audit; empty means the default branch (see
	// Repository.ResolveRef).
	Ref string
	// CacheDir holds the incremental index; empty means <git dir>/promobot.
	CacheDir string
	// NoCache walks the whole history and neither reads nor writes the
	// index.
	NoCache bool
	// Logger receives notes about the index; nil discards them.
	Logger *slog.Logger
	// JudgeFrom is the commit, date or time from which bypasses are judged;
	// empty takes audit.judgeFrom from the policy at the tip, if any.
	JudgeFrom string
	// Reasons reads each record's ticket and rationale from its manifest
	// (Record.Ticket, Record.Rationale), one file per record.
	Reasons bool
}

// History is the reconstructed promotion history of a branch.
type History struct {
	// Ref is the full name of the audited ref.
	Ref string `json:"ref"`
	// Branch is the branch name, for example "main".
	Branch string `json:"branch"`
	// Tip is the commit at the tip of the ref.
	Tip string `json:"tip"`
	// TipTime is the committer time of the tip.
	TipTime time.Time `json:"tipTime"`
	// Environments lists the environments in promotion order: the policy's
	// at the tip, then any others seen in the history, by name.
	Environments []string `json:"environments"`
	// Records are the manifest changes, oldest first. Within a commit they
	// are sorted by path.
	Records []Record `json:"records"`
	// JudgeFrom is where bypasses start being judged, nil when every
	// change is.
	JudgeFrom *JudgePoint `json:"judgeFrom,omitempty"`
	// Stats says what the walk did.
	Stats WalkStats `json:"-"`
}

// Reconstruct rebuilds the promotion history of a branch of repo. Records
// carry review fields derived from commit messages only (Verified false);
// call Enrich with a Reviewer to verify them against GitHub.
func Reconstruct(ctx context.Context, repo *Repository, opts Options) (*History, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	full, branch, tip, err := repo.ResolveRef(opts.Ref)
	if err != nil {
		return nil, err
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		cacheDir = repo.DefaultCacheDir()
	}
	idx := &index{}
	if !opts.NoCache {
		if idx, err = loadIndex(cacheDir, full); err != nil {
			logger.Warn("audit index ignored", "error", err)
		}
	}
	known := map[plumbing.Hash]int{}
	for i, c := range idx.Commits {
		known[plumbing.NewHash(c.Commit)] = i
	}
	cachedTip := plumbing.NewHash(idx.Tip)
	w := newWalker(repo)
	if idx.Tip == "" {
		// The first walk of a history may take a while; later ones read
		// only new commits.
		w.progress = progress.FromContext(ctx).Start("audit: walking the history of "+full, 0, progress.Items, "commits")
	}
	fresh, stoppedAt, err := w.walk(ctx, tip, func(h plumbing.Hash) bool {
		_, ok := known[h]
		return ok || (h == cachedTip && idx.Tip != "")
	})
	w.progress.Done()
	if err != nil {
		return nil, err
	}
	var base []CommitChanges
	switch i, ok := known[stoppedAt]; {
	case stoppedAt.IsZero():
	case stoppedAt == cachedTip:
		base = idx.Commits
	case ok:
		base = idx.Commits[:i+1]
		logger.Info("audit index rewound: the branch was rewritten", "ref", full, "at", stoppedAt.String())
	}
	w.stats.Reused = len(base)
	commits := append(base[:len(base):len(base)], fresh...)
	if !opts.NoCache && (idx.Tip != tip.String() || len(fresh) > 0) {
		// Write the index while the records are classified: neither
		// changes commits.
		next := &index{Format: indexFormat, Ref: full, Tip: tip.String(), Commits: commits}
		saved := make(chan struct{})
		go func() {
			defer close(saved)
			if err := next.save(cacheDir); err != nil {
				logger.Warn("audit index not saved", "error", err)
			}
		}()
		defer func() { <-saved }()
	}
	order, from, freezes, labels, policyJudge := policyOrder(repo, tip, logger)
	h := &History{Ref: full, Branch: branch, Tip: tip.String(), Stats: w.stats}
	if h.TipTime, err = repo.commitTime(tip); err != nil {
		return nil, err
	}
	h.Records = classify(commits, order, from)
	markFreezes(h.Records, freezes)
	markExceptionLabels(h.Records, labels)
	repo.markFailedGates(h.Records, labels)
	markUnverified(h.Records)
	if given := cmp.Or(opts.JudgeFrom, policyJudge); given != "" {
		if h.JudgeFrom, err = repo.resolveJudgePoint(given); err != nil {
			return nil, err
		}
		judgeFrom(h.Records, h.JudgeFrom)
	}
	if opts.Reasons {
		repo.explain(h.Records)
	}
	h.Environments = environments(order, h.Records)
	return h, nil
}

// commitTime returns a commit's committer time.
func (r *Repository) commitTime(h plumbing.Hash) (time.Time, error) {
	data, err := r.store.ReadType(h, objectstore.Commit)
	if err != nil {
		return time.Time{}, fmt.Errorf("read tip: %w", err)
	}
	c, err := objectstore.ParseCommit(data)
	if err != nil {
		return time.Time{}, fmt.Errorf("tip %s: %w", h, err)
	}
	return person(c.Committer).Time, nil
}

// policyOrder reads the policy at the tip for the environment order and
// each environment's "from". A missing or broken policy yields none: the
// order only refines how promotions name their source.
func policyOrder(repo *Repository, tip plumbing.Hash, logger *slog.Logger) (order []string, from map[string]string, freezes map[string][]policy.FreezeWindow, labels exceptionLabels, judge string) {
	data, err := repo.fileAt(tip, policy.Path)
	if err != nil {
		logger.Debug("no policy at the tip", "error", err)
		return nil, nil, nil, nil, ""
	}
	pol, problems := repoconfig.LoadPolicy(policy.Path, data, nil)
	if pol == nil {
		logger.Warn("policy at the tip has problems; promotion sources use names only", "problems", len(problems))
		return nil, nil, nil, nil, ""
	}
	from = map[string]string{}
	freezes = map[string][]policy.FreezeWindow{}
	labels = exceptionLabels{}
	for _, e := range pol.Environments {
		order = append(order, e.Name)
		from[e.Name] = e.From
		freezes[e.Name] = e.Freeze
		labels[e.Name] = e
	}
	return order, from, freezes, labels, pol.Audit.JudgeFrom
}

// markFreezes sets Freeze on every record that landed during a freeze
// window of its environment. Whether the window was overridden is GitHub's
// to say (applyVerdict).
func markFreezes(records []Record, freezes map[string][]policy.FreezeWindow) {
	for i := range records {
		r := &records[i]
		for _, w := range freezes[r.Environment] {
			if w.Contains(r.Time) {
				r.Freeze = &Freeze{Window: w.Name, OverrideLabel: w.OverrideLabel}
				break
			}
		}
	}
}

// fileAt reads a file of a commit's tree by slash path.
func (r *Repository) fileAt(commit plumbing.Hash, path string) ([]byte, error) {
	data, err := r.store.ReadType(commit, objectstore.Commit)
	if err != nil {
		return nil, err
	}
	c, err := objectstore.ParseCommit(data)
	if err != nil {
		return nil, err
	}
	h := c.Tree
	parts := strings.Split(path, "/")
	for i, part := range parts {
		tree, err := r.store.ReadType(h, objectstore.Tree)
		if err != nil {
			return nil, err
		}
		e, ok, err := objectstore.FindTreeEntry(tree, part)
		if err != nil {
			return nil, err
		}
		if !ok || (i < len(parts)-1) != (e.Mode == objectstore.ModeDir) {
			return nil, fmt.Errorf("%s not found at %s", path, commit)
		}
		h = e.Hash
	}
	return r.store.ReadType(h, objectstore.Blob)
}

// environments returns the policy order followed by any other environment
// that appears in the records, by name.
func environments(order []string, records []Record) []string {
	seen := map[string]bool{}
	out := append([]string(nil), order...)
	for _, e := range order {
		seen[e] = true
	}
	var extra []string
	for _, r := range records {
		if !seen[r.Environment] {
			seen[r.Environment] = true
			extra = append(extra, r.Environment)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}
