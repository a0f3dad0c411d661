package dashboard

import (
	"context"
	"io/fs"
	"maps"
	"slices"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
	"gopkg.in/yaml.v3"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/gitrepo"
)

// metricChange is one metric of a change that differs from what the
// environment pinned before.
type metricChange struct {
	Name     string
	From, To string
}

// explain reads, for each record that pins a version, its manifest: it
// fills in the record's ticket and rationale, as the audit's Reasons option
// would, and returns the metrics that differ from the environment's previous
// pin, one list per record. A manifest that cannot be read yields none.
// Reading only one model's manifests keeps the matrix, which needs none of
// this, fast.
func (r *Repository) explain(ctx context.Context, records []audit.Record) [][]metricChange {
	out := make([][]metricChange, len(records))
	repo, err := gitrepo.Open(r.Path)
	if err != nil {
		return out
	}
	defer repo.Close()
	last := map[string]map[string]float64{} // environment → metrics pinned
	for i, rec := range records {
		if ctx.Err() != nil {
			return out
		}
		if rec.ToVersion == "" {
			delete(last, rec.Environment)
			continue
		}
		doc := readManifest(repo, rec.Commit, rec.Path)
		if doc == nil {
			continue
		}
		records[i].Ticket, records[i].Rationale = doc.Approval.Ticket, doc.Approval.Rationale
		now := doc.Metrics
		before := last[rec.Environment]
		names := slices.Sorted(maps.Keys(now))
		for name := range before {
			if _, ok := now[name]; !ok {
				names = append(names, name)
			}
		}
		for _, name := range names {
			was, had := before[name]
			is, has := now[name]
			if had && has && was == is {
				continue
			}
			c := metricChange{Name: name}
			if had {
				c.From = strconv.FormatFloat(was, 'g', -1, 64)
			}
			if has {
				c.To = strconv.FormatFloat(is, 'g', -1, 64)
			}
			out[i] = append(out[i], c)
		}
		last[rec.Environment] = now
	}
	return out
}

// manifestReasons is the part of a manifest the timeline shows.
type manifestReasons struct {
	Metrics  map[string]float64 `yaml:"metrics"`
	Approval struct {
		Ticket    string `yaml:"ticket"`
		Rationale string `yaml:"rationale"`
	} `yaml:"approval"`
}

// readManifest reads the manifest at path in commit.
func readManifest(repo *gitrepo.Repo, commit, path string) *manifestReasons {
	fsys, err := repo.FS(plumbing.NewHash(commit))
	if err != nil {
		return nil
	}
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil
	}
	var doc manifestReasons
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	if doc.Metrics == nil {
		doc.Metrics = map[string]float64{}
	}
	return &doc
}
