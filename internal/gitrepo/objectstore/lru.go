package objectstore

import (
	"github.com/go-git/go-git/v5/plumbing"
)

// entry is a cached inflated object.
type entry struct {
	typ  Type
	data []byte
}

// cacheKey names a packed object by its pack and offset.
type cacheKey struct {
	p   *pack
	off int64
}

// lru caches inflated objects, bounded in bytes: packed objects by pack
// position, loose ones by hash. It evicts in insertion order (a FIFO),
// which keeps the recent delta bases a history walk needs at the cost of
// no bookkeeping on hits.
type lru struct {
	max, used int
	ring      []slot
	head, n   int
	byOffset  map[cacheKey]int
	byHash    map[plumbing.Hash]int
}

type slot struct {
	offset cacheKey
	hash   plumbing.Hash
	loose  bool
	entry
}

// lruSlots bounds the number of cached objects: a history walk needs the
// recent delta bases, not every object it has seen.
const lruSlots = 8192

func newLRU(max int) *lru {
	return &lru{max: max, ring: make([]slot, lruSlots), byOffset: make(map[cacheKey]int, lruSlots), byHash: map[plumbing.Hash]int{}}
}

func (c *lru) getOffset(k cacheKey) (entry, bool) {
	if i, ok := c.byOffset[k]; ok {
		return c.ring[i].entry, true
	}
	return entry{}, false
}

func (c *lru) get(h plumbing.Hash) (entry, bool) {
	if i, ok := c.byHash[h]; ok {
		return c.ring[i].entry, true
	}
	return entry{}, false
}

func (c *lru) putOffset(k cacheKey, e entry) {
	if _, ok := c.byOffset[k]; ok || len(e.data) > c.max/8 {
		return
	}
	c.byOffset[k] = c.push(slot{offset: k, entry: e})
}

func (c *lru) put(h plumbing.Hash, e entry) {
	if _, ok := c.byHash[h]; ok || len(e.data) > c.max/8 {
		return
	}
	c.byHash[h] = c.push(slot{hash: h, loose: true, entry: e})
}

// push appends s, evicting the oldest slots until the cache fits, and
// returns its index.
func (c *lru) push(s slot) int {
	cost := len(s.data) + 64
	for c.n > 0 && (c.used+cost > c.max || c.n == len(c.ring)) {
		c.evict()
	}
	i := (c.head + c.n) % len(c.ring)
	c.ring[i] = s
	c.n++
	c.used += cost
	return i
}

func (c *lru) evict() {
	old := &c.ring[c.head]
	if old.loose {
		delete(c.byHash, old.hash)
	} else {
		delete(c.byOffset, old.offset)
	}
	c.used -= len(old.data) + 64
	*old = slot{}
	c.head = (c.head + 1) % len(c.ring)
	c.n--
}
