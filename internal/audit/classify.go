package audit

import (
	"regexp"
	"slices"
	"strconv"

	"github.com/example-org/promobot/internal/manifest"
)

// classifier replays manifest changes in order and names each one.
type classifier struct {
	order []string // environment promotion order from the policy, may be empty
	from  map[string]string
	// everPinned[env/model] holds the versions the file has pinned.
	everPinned map[string]map[string]bool
	// pinnedIn[model][version] holds the environments that have pinned it;
	// current[model][version] those that pin it now.
	pinnedIn, current map[string]map[string]map[string]bool
}

func newClassifier(order []string, from map[string]string) *classifier {
	return &classifier{
		order:      order,
		from:       from,
		everPinned: map[string]map[string]bool{},
		pinnedIn:   map[string]map[string]map[string]bool{},
		current:    map[string]map[string]map[string]bool{},
	}
}

// classify turns the changes of commits (oldest first) into records.
func classify(commits []CommitChanges, order []string, from map[string]string) []Record {
	c := newClassifier(order, from)
	n := 0
	for i := range commits {
		n += len(commits[i].Changes)
	}
	out := make([]Record, 0, n)
	for i := range commits {
		cc := &commits[i]
		// Every change of a commit is named against the state before it, so
		// a commit that pins a version in two environments registers it
		// twice rather than promoting it from itself.
		start := len(out)
		for _, ch := range cc.Changes {
			out = append(out, c.record(cc, ch))
		}
		for j, ch := range cc.Changes {
			c.apply(&out[start+j], ch)
		}
	}
	return out
}

func (c *classifier) record(cc *CommitChanges, ch ManifestChange) Record {
	env, model, _ := manifest.EnvironmentAndModel(ch.Path)
	r := Record{
		Time:        cc.Committer.Time,
		Environment: env,
		Model:       model,
		Path:        ch.Path,
		Commit:      cc.Commit,
		Subject:     cc.Subject,
		Author:      cc.Author,
		Committer:   cc.Committer,
	}
	if ch.Old != nil {
		r.FromVersion = ch.Old.Version
	}
	switch {
	case ch.New == nil:
		r.Kind = KindDecommission
		r.ArtifactSHA256 = ch.Old.SHA256
		r.Problem = ch.Old.Problem
		return r
	case ch.New.Problem != "":
		r.Problem = ch.New.Problem
		r.Kind = KindRegister
		if ch.Old != nil {
			r.Kind = KindEdit
		}
		return r
	}
	r.ToVersion = ch.New.Version
	r.ArtifactSHA256 = ch.New.SHA256
	v := ch.New.Version
	switch {
	case ch.Old != nil && ch.Old.Problem == "" && ch.Old.Version == v:
		r.Kind = KindEdit
		r.ChangedFields = ch.Fields
	case c.everPinned[env+"/"+model][v]:
		r.Kind = KindRollback
	case len(without(c.pinnedIn[model][v], env)) > 0:
		r.Kind = KindPromote
		r.PromotedFrom = c.source(env, without(c.current[model][v], env), without(c.pinnedIn[model][v], env))
	default:
		r.Kind = KindRegister
	}
	return r
}

// source picks the environment a promoted version came from: the policy's
// "from" environment when it pinned the version, else the first (in
// promotion order, then by name) that pins it now, else that pinned it.
func (c *classifier) source(env string, current, ever map[string]bool) string {
	if f := c.from[env]; f != "" && ever[f] {
		return f
	}
	for _, set := range []map[string]bool{current, ever} {
		if len(set) == 0 {
			continue
		}
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int {
			ia, ib := c.rank(a), c.rank(b)
			if ia != ib {
				return ia - ib
			}
			if a < b {
				return -1
			}
			if a > b {
				return 1
			}
			return 0
		})
		return names[0]
	}
	return ""
}

func (c *classifier) rank(env string) int {
	if i := slices.Index(c.order, env); i >= 0 {
		return i
	}
	return len(c.order)
}

func without(set map[string]bool, env string) map[string]bool {
	if !set[env] {
		return set
	}
	out := make(map[string]bool, len(set))
	for k := range set {
		if k != env {
			out[k] = true
		}
	}
	return out
}

// apply records the state after a change.
func (c *classifier) apply(r *Record, ch ManifestChange) {
	env, model := r.Environment, r.Model
	if ch.Old != nil && ch.Old.Version != "" {
		delete(c.current[model][ch.Old.Version], env)
	}
	if ch.New == nil || ch.New.Version == "" {
		return
	}
	v := ch.New.Version
	key := env + "/" + model
	if c.everPinned[key] == nil {
		c.everPinned[key] = map[string]bool{}
	}
	c.everPinned[key][v] = true
	for _, m := range []map[string]map[string]map[string]bool{c.pinnedIn, c.current} {
		if m[model] == nil {
			m[model] = map[string]map[string]bool{}
		}
		if m[model][v] == nil {
			m[model][v] = map[string]bool{}
		}
		m[model][v][env] = true
	}
}

var (
	mergeSubject  = regexp.MustCompile(`^Merge pull request #([0-9]+) from `)
	squashSubject = regexp.MustCompile(`\(#([0-9]+)\)$`)
)

// pullRequestFromSubject returns the pull request number GitHub writes into
// merge and squash commit subjects, 0 when there is none.
func pullRequestFromSubject(subject string) int {
	for _, re := range []*regexp.Regexp{mergeSubject, squashSubject} {
		if m := re.FindStringSubmatch(subject); m != nil {
			n, err := strconv.Atoi(m[1])
			if err == nil {
				return n
			}
		}
	}
	return 0
}

// markUnverified fills the review fields of records from their commit
// messages alone, for audits run without GitHub. A commit whose message
// names no pull request is flagged as a bypass; one that names a pull
// request is not, but stays unverified.
func markUnverified(records []Record) {
	for i := range records {
		r := &records[i]
		r.Verified = false
		if n := pullRequestFromSubject(r.Subject); n > 0 {
			r.PullRequest = &PullRequest{Number: n}
			r.Bypass = false
			r.BypassReason = "not verified with GitHub: the commit message names pull request #" + strconv.Itoa(n)
			continue
		}
		r.PullRequest = nil
		r.Bypass = true
		r.BypassReason = "no pull request: the commit message names none, so it was likely pushed directly (not verified with GitHub)"
	}
}
