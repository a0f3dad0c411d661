// Package issue decides when the bot issues promotion attestations: once
// per manifest pin that a green merge into the default branch changes.
//
// The Issuer works on plain data and narrow interfaces: the repository's
// git history (a *gitrepo.Repo holding the default branch), an Evaluator
// that judges a merge from fresh GitHub state, a signer and a write-once
// store. It never imports the bot: the bot wires it to its push handler
// (IssueMerge) and to its resynchronization pass (Recover).
//
// Issuing is idempotent. Before evaluating, the Issuer looks in the store
// for each pin's attestation by this key; a pin already attested is done.
// A retried write of an attestation that is already stored succeeds (the
// store is write-once and keeps the first). Recover walks every manifest
// the default branch pins and issues what a green merge should have
// produced and did not (the signing service or the store was down, the bot
// restarted).
package issue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// Verdict is an Evaluator's judgement of one merge.
type Verdict struct {
	// Green is true when the merge passed every rule with the reviews its
	// pull request holds now.
	Green bool
	// Reason says in one line why the merge is not green; empty when it is.
	Reason string
	// PullRequest is the merged pull request; nil when none was found.
	PullRequest *attest.PullRequest
	// Head is the pull request's head commit.
	Head string
	// Approvers are the approving reviews that counted.
	Approvers []attest.Approver
	// Rules is each rule family's outcome.
	Rules []attest.RuleOutcome
	// CheckRunID is the check run that carries the merge's verdict.
	CheckRunID int64
}

// Evaluator judges a merge into the default branch: the merge commit
// against its first parent, with the reviews of its pull request as GitHub
// reports them now. An error means the verdict is unknown (retry later).
type Evaluator interface {
	EvaluateMerge(ctx context.Context, firstParent, merge string) (Verdict, error)
}

// Repository is one repository as the Issuer sees it.
type Repository struct {
	// Name is "owner/name".
	Name string
	// Git holds the default branch's commits (a mirror or a clone).
	Git *gitrepo.Repo
	// Evaluator judges its merges.
	Evaluator Evaluator
}

// Issuer issues attestations.
type Issuer struct {
	// Signer signs; Store keeps the bundles.
	Signer attest.Signer
	Store  attest.Store
	// BotVersion is recorded in every predicate.
	BotVersion string
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
	// Logger logs what was issued; nil discards.
	Logger *slog.Logger

	mu sync.Mutex
	// judged remembers merges whose verdict was not green, so that a
	// resynchronization pass does not ask GitHub again about a commit
	// pushed around review: a merged commit's verdict cannot turn green.
	judged map[string]string
}

// Pin statuses in PinResult.Status.
const (
	// StatusIssued: the attestation was signed and stored now.
	StatusIssued = "issued"
	// StatusPresent: the store already held this key's attestation.
	StatusPresent = "present"
	// StatusConflict: the store holds this key's attestation of the same
	// manifest blob from an earlier merge (an identical manifest pinned
	// again). The store is write-once, so this merge cannot be attested
	// under this key; resolve refuses the pin until the manifest changes
	// (any edit, such as a new ticket, makes a new blob).
	StatusConflict = "conflict"
)

// PinResult is what happened to one pin.
type PinResult struct {
	// Path is the manifest's path; Environment, Model and Version its pin.
	Path                        string
	Environment, Model, Version string
	// ChangeKind is the predicate's change kind.
	ChangeKind string
	// ManifestBlob is the pinned manifest's blob id.
	ManifestBlob string
	// Status is StatusIssued or StatusPresent.
	Status string
}

// Result is what IssueMerge did for one merge.
type Result struct {
	// Merge and FirstParent are the commits judged.
	Merge, FirstParent string
	// Pins are the manifest pins the merge changes, in path order.
	Pins []PinResult
	// NotGreen says why nothing was issued although the merge changes
	// pins; empty otherwise.
	NotGreen string
	// PullRequest is the merged pull request's number, when known.
	PullRequest int
}

// Conflicts returns the pins that could not be attested because the store
// holds an attestation of the same blob from another merge.
func (r Result) Conflicts() []PinResult {
	var out []PinResult
	for _, p := range r.Pins {
		if p.Status == StatusConflict {
			out = append(out, p)
		}
	}
	return out
}

func (i *Issuer) now() time.Time {
	if i.Now != nil {
		return i.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

func (i *Issuer) logger() *slog.Logger {
	if i.Logger != nil {
		return i.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// change is one manifest pin a merge changes.
type change struct {
	path     string
	man      *manifest.Manifest
	previous *manifest.Manifest
	blob     string
	kind     string
	history  []evaluate.Pin
}

// IssueMerge issues the attestations of merge, a commit of the default
// branch: one per manifest pin it changes against its first parent, when
// the Evaluator finds the merge green. A merge that changes no pin costs
// no GitHub request; one whose pins are all attested by this key already
// is done without asking again.
func (i *Issuer) IssueMerge(ctx context.Context, r Repository, merge string) (Result, error) {
	res := Result{Merge: merge}
	if !plumbing.IsHash(merge) {
		return res, fmt.Errorf("%q is not a commit hash", merge)
	}
	fp, err := r.Git.FirstParent(plumbing.NewHash(merge))
	if err != nil {
		return res, err
	}
	if fp.IsZero() {
		return res, nil
	}
	res.FirstParent = fp.String()
	changes, ownersPath, err := changedPins(ctx, r.Git, fp, plumbing.NewHash(merge))
	if err != nil || len(changes) == 0 {
		return res, err
	}
	missing, err := i.missing(ctx, r.Name, changes, &res)
	if err != nil || len(missing) == 0 {
		return res, err
	}
	key := strings.ToLower(r.Name) + "@" + merge
	i.mu.Lock()
	reason, known := i.judged[key]
	i.mu.Unlock()
	if known {
		res.Pins, res.NotGreen = nil, reason
		return res, nil
	}
	v, err := r.Evaluator.EvaluateMerge(ctx, res.FirstParent, merge)
	if err != nil {
		return res, fmt.Errorf("evaluating merge %s: %w", merge, err)
	}
	if v.PullRequest != nil {
		res.PullRequest = v.PullRequest.Number
	}
	if !v.Green {
		i.remember(key, v.Reason)
		res.Pins, res.NotGreen = nil, v.Reason
		i.logger().Warn("merge is not green; no attestation issued", "repository", r.Name, "merge", merge, "reason", v.Reason)
		return res, nil
	}
	refs, err := policyRefs(ctx, r.Git, fp, ownersPath)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, c := range missing {
		status, err := i.issue(ctx, r.Name, res, v, refs, c)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.path, err))
			continue
		}
		res.Pins = append(res.Pins, pinResult(c, status))
	}
	slices.SortFunc(res.Pins, func(a, b PinResult) int { return strings.Compare(a.Path, b.Path) })
	return res, errors.Join(errs...)
}

func (i *Issuer) remember(key, reason string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.judged == nil || len(i.judged) > 4096 {
		i.judged = map[string]string{}
	}
	i.judged[key] = reason
}

// missing returns the changes this key has not attested yet, and records
// the others in res as present.
func (i *Issuer) missing(ctx context.Context, repo string, changes []change, res *Result) ([]change, error) {
	var out []change
	for _, c := range changes {
		loc, err := location(repo, c, i.Signer.KeyID())
		if err != nil {
			return nil, err
		}
		switch data, err := i.Store.Get(ctx, loc); {
		case err == nil:
			status := StatusPresent
			if m := i.storedMerge(data); m != res.Merge {
				status = StatusConflict
				i.logger().Error("an attestation of the same manifest blob from another merge is stored; this merge cannot be attested under this key",
					"path", c.path, "merge", res.Merge, "stored_merge", m, "location", loc)
			}
			res.Pins = append(res.Pins, pinResult(c, status))
		case errors.Is(err, attest.ErrNotFound):
			out = append(out, c)
		default:
			return nil, fmt.Errorf("looking for the attestation of %s: %w", c.path, err)
		}
	}
	return out, nil
}

// storedMerge returns the merge commit a stored bundle of this key names,
// or "" when it cannot be read with this key.
func (i *Issuer) storedMerge(data []byte) string {
	root, err := attest.NewTrustRoot(attest.TrustedKey{ID: i.Signer.KeyID(), Public: i.Signer.Public()})
	if err != nil {
		return ""
	}
	v, err := attest.Open(data, root)
	if err != nil {
		return ""
	}
	return v.Statement.Predicate.Commits.Merge
}

func location(repo string, c change, keyID string) (string, error) {
	return attest.Location{Repository: repo, Environment: c.man.Environment, Model: c.man.Model, Version: c.man.Version,
		ManifestBlob: c.blob, KeyID: keyID}.Path()
}

func pinResult(c change, status string) PinResult {
	return PinResult{Path: c.path, Environment: c.man.Environment, Model: c.man.Model, Version: c.man.Version,
		ChangeKind: c.kind, ManifestBlob: c.blob, Status: status}
}

// issue signs and stores the attestation of one change.
func (i *Issuer) issue(ctx context.Context, repo string, res Result, v Verdict, refs attest.PolicyRef, c change) (string, error) {
	approvers := v.Approvers
	if approvers == nil {
		approvers = []attest.Approver{}
	}
	rules := v.Rules
	if rules == nil {
		rules = []attest.RuleOutcome{}
	}
	p := attest.Predicate{
		Repository: repo, Environment: c.man.Environment, Model: c.man.Model, Version: c.man.Version,
		ChangeKind: c.kind, ManifestPath: c.path, PullRequest: v.PullRequest, Approvers: approvers,
		Commits: attest.Commits{Head: v.Head, Merge: res.Merge, FirstParent: res.FirstParent},
		Policy:  refs, Rules: rules, Ticket: c.man.Approval.Ticket, CheckRunID: v.CheckRunID,
		BotVersion: i.BotVersion, SignedAt: i.now(),
	}
	if c.previous != nil && c.kind != attest.ChangeRegistration {
		p.PreviousVersion = c.previous.Version
	}
	bundle, err := attest.Issue(ctx, i.Signer, attest.Subject{ArtifactURI: c.man.Artifact.URI, ArtifactSHA256: c.man.Artifact.SHA256, ManifestBlob: c.blob}, p)
	if err != nil {
		return "", err
	}
	loc, err := location(repo, c, i.Signer.KeyID())
	if err != nil {
		return "", err
	}
	switch err := i.Store.Put(ctx, loc, bundle); {
	case errors.Is(err, attest.ErrExists):
		// Another replica or an earlier attempt stored it first.
		return StatusPresent, nil
	case err != nil:
		return "", err
	}
	i.logger().Info("attestation issued", "repository", repo, "path", c.path, "environment", c.man.Environment,
		"model", c.man.Model, "version", c.man.Version, "merge", res.Merge, "key", i.Signer.KeyID())
	return StatusIssued, nil
}

// changedPins returns the manifest pins merge changes against fp, and the
// CODEOWNERS path that applies at fp.
func changedPins(ctx context.Context, g *gitrepo.Repo, fp, merge plumbing.Hash) ([]change, string, error) {
	in, err := g.BuildInput(ctx, fp, merge, gitrepo.InputOptions{})
	if err != nil {
		return nil, "", err
	}
	var out []change
	for _, ch := range in.Changes {
		if ch.Status == evaluate.Removed {
			continue
		}
		doc := in.Head[ch.Path]
		if doc == nil || doc.Manifest == nil {
			continue
		}
		_, blob, err := g.LastChange(ctx, ch.Path, merge)
		if err != nil {
			return nil, "", err
		}
		c := change{path: ch.Path, man: doc.Manifest, blob: blob.String(), history: in.History[ch.Path]}
		if prev := in.Base[ch.Path]; prev != nil && prev.Manifest != nil && ch.Status == evaluate.Modified {
			c.previous = prev.Manifest
		}
		c.kind = kindOf(c)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b change) int { return strings.Compare(a.path, b.path) })
	return out, in.OwnersPath, nil
}

// kindOf classifies a change: a new pin is a registration, the same
// version an edit, a version pinned at the path before a rollback, any
// other version a promotion.
func kindOf(c change) string {
	switch {
	case c.previous == nil:
		return attest.ChangeRegistration
	case c.previous.Version == c.man.Version:
		return attest.ChangeEdit
	}
	for _, p := range c.history {
		if p.Version == c.man.Version {
			return attest.ChangeRollback
		}
	}
	return attest.ChangePromotion
}

// policyRefs names the policy and CODEOWNERS blobs at fp.
func policyRefs(ctx context.Context, g *gitrepo.Repo, fp plumbing.Hash, ownersPath string) (attest.PolicyRef, error) {
	var out attest.PolicyRef
	blob := func(p string) (string, error) {
		if p == "" {
			return "", nil
		}
		_, b, err := g.LastChange(ctx, p, fp)
		if errors.Is(err, gitrepo.ErrNoFile) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return b.String(), nil
	}
	var err error
	if out.PolicyBlob, err = blob(policy.Path); err != nil {
		return out, err
	}
	out.CodeownersBlob, err = blob(ownersPath)
	return out, err
}

// Recover issues whatever a green merge should have produced and did not:
// for every manifest the default branch pins at tip, the commit that last
// changed it on the first-parent history is issued for (IssueMerge) unless
// this key's attestation of its blob is already stored. A commit that is
// not green is remembered and not judged again.
func (i *Issuer) Recover(ctx context.Context, r Repository, tip string) ([]Result, error) {
	if !plumbing.IsHash(tip) {
		return nil, fmt.Errorf("%q is not a commit hash", tip)
	}
	h := plumbing.NewHash(tip)
	in, err := r.Git.BuildInput(ctx, h, h, gitrepo.InputOptions{})
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(in.Base))
	for p, doc := range in.Base {
		if doc != nil && doc.Manifest != nil {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var (
		out  []Result
		errs []error
		done = map[string]bool{}
	)
	for _, p := range paths {
		m := in.Base[p].Manifest
		commit, blob, err := r.Git.LastChange(ctx, p, h)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		if done[commit.String()] {
			continue
		}
		loc, err := location(r.Name, change{man: m, blob: blob.String()}, i.Signer.KeyID())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		switch _, err := i.Store.Get(ctx, loc); {
		case err == nil:
			continue
		case !errors.Is(err, attest.ErrNotFound):
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		done[commit.String()] = true
		res, err := i.IssueMerge(ctx, r, commit.String())
		if err != nil {
			errs = append(errs, err)
		}
		if len(res.Pins) > 0 || res.NotGreen != "" {
			out = append(out, res)
		}
	}
	return out, errors.Join(errs...)
}
