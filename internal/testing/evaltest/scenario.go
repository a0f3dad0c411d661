// Package evaltest holds the scenario table of the promotion policy engine
// as plain data (files as text, reviews as logins and states), a builder that
// turns a scenario into an evaluate.Input in memory, and a checker for the
// expected outcome.
//
// The same table can be replayed through real git repositories: build the
// base branch from History and Base, add the pull request's commits with
// Head and Deleted, and compare the command's text output with Check.
package evaltest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/schemas"
)

// Scenario is one evaluation case as plain data.
type Scenario struct {
	// Name says what the scenario shows.
	Name string

	// History are the base branch's commits before the base commit, oldest
	// first. Each is an overlay on the tree before it, starting from an empty
	// tree. It matters for rollbacks.
	History []HistoryCommit
	// Base is the complete tree of the base commit, including the policy at
	// .github/promobot.yaml and CODEOWNERS. The base commit follows History.
	Base map[string]string
	// BaseDate is the RFC 3339 date of the base commit; empty means
	// DefaultBaseDate.
	BaseDate string

	// Head holds the files the pull request adds or changes; Deleted the
	// files it removes. A rename is a Deleted path plus a Head path.
	Head    map[string]string
	Deleted []string

	// Author is the pull request author's login.
	Author string
	// Commits are the pull request's commits, oldest first; the last one
	// carries the Head and Deleted changes.
	Commits []Commit
	// Reviews are in submission order.
	Reviews []Review
	// Teams maps "org/slug" to the logins of its active members. A team
	// owner missing from the map cannot be resolved.
	Teams map[string][]string
	// NoWrite lists the logins without write permission. Nil means that no
	// permission data is available; a non-nil list means that every other
	// login of the scenario can write.
	NoWrite []string
	// Labels are the pull request's labels.
	Labels []string
	// Now is the RFC 3339 evaluation time; empty means DefaultNow.
	Now string
	// Artifacts are the artifact verification outcomes by manifest path.
	Artifacts map[string]evaluate.ArtifactCheck

	// WantVerdict is the expected verdict.
	WantVerdict evaluate.Verdict
	// WantMessages are substrings expected in the result's text rendering
	// (evaluate.RenderText).
	WantMessages []string
	// WantAbsent are substrings that must not appear in it.
	WantAbsent []string
}

// HistoryCommit is one earlier commit of the base branch.
type HistoryCommit struct {
	// Date is the RFC 3339 commit date.
	Date string
	// Author is the commit's author and committer, as in Commit; empty
	// means Historian.
	Author string
	// Files are added or changed; Deleted are removed.
	Files   map[string]string
	Deleted []string
}

// Commit is one commit of the pull request. Each identity is a login, mapped
// to "login <login@users.noreply.github.com>", or "Name <email>" for an
// identity that cannot be mapped to a login. An empty Committer means the
// author.
type Commit struct {
	Author    string
	Committer string
	CoAuthors []string
}

// Review is one submitted review.
type Review struct {
	Login string
	// State is APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED.
	State evaluate.ReviewState
	// On is "head" (the default) or "stale" (an earlier commit).
	On string
}

// The defaults of a scenario's dates.
const (
	DefaultBaseDate = "2026-11-20T09:00:00Z"
	DefaultNow      = "2026-11-21T12:00:00Z"
)

// The commit ids of the pull request's head and of an earlier commit of it.
var (
	HeadSHA  = fakeSHA("head")
	StaleSHA = fakeSHA("stale")
	BaseSHA  = fakeSHA("base")
)

func fakeSHA(s string) string {
	sum := sha1.Sum([]byte("promobot evaltest " + s))
	return hex.EncodeToString(sum[:])
}

// Identity maps a scenario identity to a git identity: a login becomes
// "login <login@users.noreply.github.com>" with that login, and "Name
// <email>" stays unmapped.
func Identity(s string) evaluate.Identity {
	if strings.Contains(s, "<") {
		if a, err := mail.ParseAddress(s); err == nil {
			return evaluate.Identity{Name: a.Name, Email: a.Address}
		}
	}
	return evaluate.Identity{Name: s, Email: s + "@users.noreply.github.com", Login: s}
}

// HeadTree returns the complete tree of the pull request's head.
func (s Scenario) HeadTree() map[string]string {
	t := maps.Clone(s.Base)
	if t == nil {
		t = map[string]string{}
	}
	for _, p := range s.Deleted {
		delete(t, p)
	}
	maps.Copy(t, s.Head)
	return t
}

// Input builds the evaluation input of a scenario in memory, the way an
// adapter does from git: trusted files from the base, changed manifests from
// the head loaded with the base schema, and pin history from History.
func Input(s Scenario) (*evaluate.Input, error) {
	in := &evaluate.Input{
		Base: map[string]*manifest.Document{}, Head: map[string]*manifest.Document{}, History: map[string][]evaluate.Pin{},
	}
	manifestSchema, policySchema := repoconfig.BuiltinManifestSchema, repoconfig.BuiltinPolicySchema
	if data, ok := s.Base[schemas.ModelDeploymentPath]; ok {
		sch, err := schema.Compile("model-deployment.schema.json", []byte(data))
		if err != nil {
			return nil, fmt.Errorf("base manifest schema: %w", err)
		}
		manifestSchema = sch
	}
	if data, ok := s.Base[schemas.PolicyPath]; ok {
		sch, err := schema.Compile("policy.schema.json", []byte(data))
		if err != nil {
			return nil, fmt.Errorf("base policy schema: %w", err)
		}
		policySchema = sch
	}
	if data, ok := s.Base[policy.Path]; ok {
		in.Policy, in.PolicyProblems = repoconfig.LoadPolicy(policy.Path, []byte(data), policySchema)
	}
	path, data, err := codeowners.Find(func(p string) ([]byte, bool, error) {
		d, ok := s.Base[p]
		return []byte(d), ok, nil
	})
	if err == nil {
		in.Owners, in.OwnersWarnings = codeowners.Parse(data)
		in.OwnersPath = path
	}

	for p, text := range s.Base {
		if isManifestFile(p) {
			in.Base[p], _ = repoconfig.LoadManifest(p, []byte(text), manifestSchema)
		}
	}
	head := s.HeadTree()
	for _, p := range slices.Sorted(maps.Keys(union(s.Base, head))) {
		before, inBase := s.Base[p]
		after, inHead := head[p]
		switch {
		case inBase && !inHead:
			in.Changes = append(in.Changes, evaluate.Change{Path: p, Status: evaluate.Removed})
		case !inBase && inHead:
			in.Changes = append(in.Changes, evaluate.Change{Path: p, Status: evaluate.Added})
		case before != after:
			in.Changes = append(in.Changes, evaluate.Change{Path: p, Status: evaluate.Modified})
		default:
			continue
		}
		if inHead && isManifestFile(p) {
			in.Head[p], _ = repoconfig.LoadManifest(p, []byte(after), manifestSchema)
		}
	}
	if err := s.history(in, manifestSchema); err != nil {
		return nil, err
	}
	if err := s.registrations(in, manifestSchema); err != nil {
		return nil, err
	}

	in.PullRequest = evaluate.PullRequest{
		Number: 1, Title: s.Name, Author: s.Author, BaseRef: "main", BaseSHA: BaseSHA, HeadSHA: HeadSHA,
		Labels: slices.Clone(s.Labels),
	}
	for i, c := range s.Commits {
		commit := evaluate.Commit{SHA: fakeSHA(fmt.Sprintf("commit-%d", i)), Author: Identity(c.Author), Committer: Identity(c.Author)}
		if c.Committer != "" {
			commit.Committer = Identity(c.Committer)
		}
		for _, co := range c.CoAuthors {
			commit.CoAuthors = append(commit.CoAuthors, Identity(co))
		}
		in.Commits = append(in.Commits, commit)
	}
	t0 := mustTime(cmpOr(s.BaseDate, DefaultBaseDate))
	for i, r := range s.Reviews {
		commit := HeadSHA
		if r.On == "stale" {
			commit = StaleSHA
		}
		in.Reviews = append(in.Reviews, evaluate.Review{
			ID: int64(i + 1), User: r.Login, State: r.State, CommitID: commit, SubmittedAt: t0.Add(time.Duration(i+1) * time.Hour),
		})
	}
	if s.Teams != nil {
		in.Teams = map[string][]string{}
		for k, v := range s.Teams {
			in.Teams[strings.ToLower(k)] = slices.Clone(v)
		}
	}
	if s.NoWrite != nil {
		in.WritePermission = map[string]bool{}
		for _, l := range s.logins() {
			in.WritePermission[strings.ToLower(l)] = true
		}
		for _, l := range s.NoWrite {
			in.WritePermission[strings.ToLower(l)] = false
		}
	}
	in.Artifacts = maps.Clone(s.Artifacts)
	in.Now = mustTime(cmpOr(s.Now, DefaultNow))
	return in, nil
}

// logins lists every login the scenario mentions.
func (s Scenario) logins() []string {
	out := []string{s.Author}
	for _, r := range s.Reviews {
		out = append(out, r.Login)
	}
	for _, members := range s.Teams {
		out = append(out, members...)
	}
	for _, c := range s.Commits {
		for _, id := range append([]string{c.Author, c.Committer}, c.CoAuthors...) {
			if l := Identity(id).Login; l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// history fills in.History for every changed manifest from the base
// branch's commits: History, then the base commit.
func (s Scenario) history(in *evaluate.Input, sch *schema.Schema) error {
	type snapshot struct {
		sha  string
		date time.Time
		tree map[string]string
	}
	var snaps []snapshot
	tree := map[string]string{}
	for i, h := range s.History {
		tree = maps.Clone(tree)
		for _, p := range h.Deleted {
			delete(tree, p)
		}
		maps.Copy(tree, h.Files)
		d, err := time.Parse(time.RFC3339, h.Date)
		if err != nil {
			return fmt.Errorf("history commit %d: %w", i, err)
		}
		snaps = append(snaps, snapshot{fakeSHA(fmt.Sprintf("history-%d", i)), d, tree})
	}
	snaps = append(snaps, snapshot{BaseSHA, mustTime(cmpOr(s.BaseDate, DefaultBaseDate)), s.Base})
	for _, c := range in.Changes {
		if !isManifestFile(c.Path) {
			continue
		}
		var pins []evaluate.Pin
		for _, snap := range snaps {
			var m *manifest.Manifest
			version := ""
			if text, ok := snap.tree[c.Path]; ok {
				d, _ := repoconfig.LoadManifest(c.Path, []byte(text), sch)
				if d.Manifest != nil {
					m, version = d.Manifest, d.Manifest.Version
				}
			}
			open := len(pins) > 0 && pins[len(pins)-1].Until.IsZero()
			if open && pins[len(pins)-1].Version == version {
				continue
			}
			if open {
				pins[len(pins)-1].Until = snap.date
			}
			if version != "" {
				pins = append(pins, evaluate.Pin{Version: version, Manifest: m, Commit: snap.sha, Since: snap.date})
			}
		}
		if len(pins) > 0 {
			in.History[c.Path] = pins
		}
	}
	return nil
}

// Check compares a result and its text rendering with what the scenario
// expects and returns one line per difference.
func Check(s Scenario, r *evaluate.Result, text string) []string {
	var out []string
	if r.Verdict != s.WantVerdict {
		out = append(out, fmt.Sprintf("verdict = %s, want %s (title: %s)", r.Verdict, s.WantVerdict, r.Title))
	}
	for _, m := range s.WantMessages {
		if !strings.Contains(text, m) {
			out = append(out, fmt.Sprintf("output lacks %q", m))
		}
	}
	for _, m := range s.WantAbsent {
		if strings.Contains(text, m) {
			out = append(out, fmt.Sprintf("output has %q, which it must not", m))
		}
	}
	return out
}

func isManifestFile(p string) bool {
	return strings.HasPrefix(p, manifest.Root+"/") && strings.HasSuffix(p, ".yaml")
}

func union(a, b map[string]string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(fmt.Sprintf("evaltest: bad time %q: %v", s, err))
	}
	return t
}
