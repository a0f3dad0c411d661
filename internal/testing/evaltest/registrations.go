package evaltest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/schema"
)

// Historian is the identity of the base branch's commits whose author a
// scenario does not name: no login, so nobody is excluded for it.
const Historian = "Release Bot <release-bot@example.com>"

// HistoryIdentity returns the identity of a history commit's author and
// committer.
func HistoryIdentity(h HistoryCommit) evaluate.Identity {
	return Identity(cmpOr(h.Author, Historian))
}

// registrations fills in.Registrations the way the git adapter does: for
// each changed manifest's head version, the base-branch commit (History,
// then the base commit) that first pinned it in any environment.
func (s Scenario) registrations(in *evaluate.Input, sch *schema.Schema) error {
	type snapshot struct {
		sha    string
		author evaluate.Identity
		tree   map[string]string
	}
	var snaps []snapshot
	tree := map[string]string{}
	for i, h := range s.History {
		tree = maps.Clone(tree)
		for _, p := range h.Deleted {
			delete(tree, p)
		}
		maps.Copy(tree, h.Files)
		snaps = append(snaps, snapshot{fakeSHA(fmt.Sprintf("history-%d", i)), HistoryIdentity(h), tree})
	}
	snaps = append(snaps, snapshot{BaseSHA, Identity(Historian), s.Base})
	seen := map[[2]string]bool{}
	for _, p := range slices.Sorted(maps.Keys(in.Head)) {
		d := in.Head[p]
		if d == nil || d.Manifest == nil || d.Manifest.Model == "" || d.Manifest.Version == "" {
			continue
		}
		key := [2]string{d.Manifest.Model, d.Manifest.Version}
		if seen[key] {
			continue
		}
		seen[key] = true
	find:
		for _, snap := range snaps {
			for _, fp := range slices.Sorted(maps.Keys(snap.tree)) {
				env, model, ok := manifest.EnvironmentAndModel(fp)
				if !ok || env == "" || model != key[0] || !strings.HasSuffix(fp, ".yaml") {
					continue
				}
				doc, _ := repoconfig.LoadManifest(fp, []byte(snap.tree[fp]), sch)
				if doc.Manifest != nil && doc.Manifest.Version == key[1] {
					in.Registrations = append(in.Registrations, evaluate.Registration{
						Model: key[0], Version: key[1], Commit: snap.sha, Author: snap.author, Committer: snap.author,
					})
					break find
				}
			}
		}
	}
	return nil
}
