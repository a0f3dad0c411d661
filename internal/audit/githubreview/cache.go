package githubreview

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/example-org/promobot/internal/audit"
)

// cacheEntry is one cached answer.
type cacheEntry struct {
	Evidence  audit.Evidence `json:"evidence"`
	FetchedAt time.Time      `json:"fetchedAt"`
	// Final is true when the answer can no longer change.
	Final bool `json:"final"`
}

// cache stores evidence per commit under dir/<owner>/<repo>/<sha>.json.
type cache struct {
	dir, owner, repo string
}

var commitName = regexp.MustCompile(`^[0-9a-f]{40}$`)

func (c *cache) path(commit string) (string, bool) {
	if !commitName.MatchString(commit) {
		return "", false
	}
	return filepath.Join(c.dir, safeName(c.owner), safeName(c.repo), commit+".json"), true
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func safeName(s string) string {
	s = unsafeChars.ReplaceAllString(s, "_")
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}

func (c *cache) load(commit, branch string) (cacheEntry, bool) {
	p, ok := c.path(commit)
	if !ok {
		return cacheEntry{}, false
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return cacheEntry{}, false
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil || e.Evidence.Commit != commit || e.Evidence.DefaultBranch != branch {
		return cacheEntry{}, false
	}
	return e, true
}

func (c *cache) store(commit string, e cacheEntry) error {
	p, ok := c.path(commit)
	if !ok {
		return errors.New("not a commit hash")
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return audit.WriteCacheFile(p, data)
}
