package webauth

import (
	"strings"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
)

// accessCache remembers GitHub's answers about who may see which
// repository, keyed by a hash of the person's token and the repository.
// Only answers are kept, never failures.
type accessCache struct {
	mu      sync.Mutex
	entries map[string]accessEntry
}

type accessEntry struct {
	access  githubapi.RepoAccess
	expires time.Time
}

func cacheKey(token, owner, repo string) string {
	return hashOf(token) + "\x00" + strings.ToLower(owner+"/"+repo)
}

func (c *accessCache) get(key string, now time.Time) (githubapi.RepoAccess, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		return githubapi.RepoAccess{}, false
	}
	return e.access, true
}

func (c *accessCache) put(key string, acc githubapi.RepoAccess, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCacheEntries {
		now := expires // anything expiring before this entry's birth is stale
		for k, e := range c.entries {
			if e.expires.Before(now) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			clear(c.entries)
		}
	}
	c.entries[key] = accessEntry{access: acc, expires: expires}
}
