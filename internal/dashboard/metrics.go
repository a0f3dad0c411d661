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

// metricsOf reads, for each record that pins a version, the metrics of its
// manifest and returns those that differ from the environment's previous
// pin, one list per record. A manifest that cannot be read yields none.
func (r *Repository) metricsOf(ctx context.Context, records []audit.Record) [][]metricChange {
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
		now := readMetrics(repo, rec.Commit, rec.Path)
		if now == nil {
			continue
		}
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

// readMetrics reads the metrics of the manifest at path in commit.
func readMetrics(repo *gitrepo.Repo, commit, path string) map[string]float64 {
	fsys, err := repo.FS(plumbing.NewHash(commit))
	if err != nil {
		return nil
	}
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil
	}
	var doc struct {
		Metrics map[string]float64 `yaml:"metrics"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	if doc.Metrics == nil {
		doc.Metrics = map[string]float64{}
	}
	return doc.Metrics
}
