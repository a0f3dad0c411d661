// Package httpcache makes repeated GitHub API reads free: it remembers the
// body and validators (ETag, Last-Modified) of successful GET responses,
// sends them back as If-None-Match and If-Modified-Since, and answers a
// 304 Not Modified, which GitHub does not count against the rate limit,
// with the remembered body as a 200.
//
// Every request is still sent: nothing is ever served without GitHub
// confirming it is current, so the cache trades no freshness for its
// savings. Entries are kept per partition (the bot uses one per
// installation, so no installation ever sees another's data or validators)
// and evicted least recently used first when the cache exceeds its size in
// bytes.
//
// GitHub's ETags are specific to the access token, and installation tokens
// last an hour: after a token is renewed, each entry's next revalidation
// costs one full answer, which then replaces it.
package httpcache

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxBytes is the default size bound of a Cache.
const DefaultMaxBytes = 32 << 20

// Header is set on every response to a cacheable request: Hit when the body
// was served from the cache after a 304, Miss when GitHub sent it.
const Header = "X-Promobot-Cache"

// The values of Header, also passed to Options.Observe.
const (
	Hit  = "hit"
	Miss = "miss"
)

// entryOverhead approximates the bookkeeping of one entry, in bytes.
const entryOverhead = 256

// Options configures a Cache.
type Options struct {
	// MaxBytes bounds the bodies, headers and keys kept; zero means
	// DefaultMaxBytes. A response larger than an eighth of it is passed
	// through without being kept, so one large answer cannot flush the
	// cache.
	MaxBytes int64
	// Observe, when set, is called with Hit or Miss for every cacheable
	// request that got a 304 or a 200.
	Observe func(result string)
}

// Cache holds responses for any number of partitions. It is safe for
// concurrent use.
type Cache struct {
	maxBytes int64
	observe  func(string)

	mu      sync.Mutex
	size    int64
	order   *list.List // of *entry, most recently used first
	entries map[string]*list.Element
}

// entry is one remembered response. It is never modified once stored.
type entry struct {
	key          string
	etag         string
	lastModified string
	header       http.Header
	body         []byte
	size         int64
}

// New returns an empty cache.
func New(opts Options) *Cache {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	return &Cache{maxBytes: opts.MaxBytes, observe: opts.Observe, order: list.New(), entries: map[string]*list.Element{}}
}

// Stats describes what a cache holds.
type Stats struct {
	Entries int
	Bytes   int64
}

// Stats returns the number of entries and their approximate size.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: len(c.entries), Bytes: c.size}
}

// Transport returns a transport that sends requests through next, keeping
// its entries apart from every other partition's. Use one partition per
// authenticated identity, such as an installation id.
func (c *Cache) Transport(partition string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{cache: c, partition: partition, next: next}
}

type transport struct {
	cache     *Cache
	partition string
	next      http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !cacheable(req) {
		return t.next.RoundTrip(req)
	}
	key := t.key(req)
	stored := t.cache.get(key)
	out := req
	if stored != nil {
		out = req.Clone(req.Context())
		if stored.etag != "" {
			out.Header.Set("If-None-Match", stored.etag)
		}
		if stored.lastModified != "" {
			out.Header.Set("If-Modified-Since", stored.lastModified)
		}
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && stored != nil:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
		t.cache.report(Hit)
		return stored.response(req, resp), nil
	case resp.StatusCode != http.StatusOK:
		return resp, nil
	}
	t.cache.report(Miss)
	resp.Header.Set(Header, Miss)
	if !storable(resp) {
		if stored != nil {
			t.cache.remove(key)
		}
		return resp, nil
	}
	limit := t.cache.maxBytes / 8
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	if int64(len(body)) > limit {
		// Too large to keep: hand it on whole, unread part included.
		resp.Body = &joined{Reader: io.MultiReader(bytes.NewReader(body), resp.Body), Closer: resp.Body}
		t.cache.remove(key)
		return resp, nil
	}
	_ = resp.Body.Close()
	e := &entry{
		key:          key,
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
		header:       resp.Header.Clone(),
		body:         body,
	}
	e.header.Del(Header)
	e.size = int64(len(body)+len(key)) + headerSize(e.header) + entryOverhead
	t.cache.put(e)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// key identifies a response: the partition, the URL with its query, and
// the request headers GitHub's answer varies on. An Authorization header,
// present when the cache sits below authentication, is included hashed.
func (t *transport) key(req *http.Request) string {
	var b strings.Builder
	for _, part := range []string{
		t.partition, req.URL.String(), req.Header.Get("Accept"), req.Header.Get("X-GitHub-Api-Version"),
	} {
		b.WriteString(part)
		b.WriteByte(0)
	}
	if auth := req.Header.Get("Authorization"); auth != "" {
		sum := sha256.Sum256([]byte(auth))
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

// cacheable reports whether the cache may add validators to req: a plain
// GET whose caller set no conditions or ranges of its own.
func cacheable(req *http.Request) bool {
	if req.Method != http.MethodGet {
		return false
	}
	for _, h := range []string{"Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"} {
		if req.Header.Get(h) != "" {
			return false
		}
	}
	return !strings.Contains(strings.ToLower(req.Header.Get("Cache-Control")), "no-store")
}

// storable reports whether a 200 can be revalidated later and may be kept.
func storable(resp *http.Response) bool {
	if resp.Header.Get("ETag") == "" && resp.Header.Get("Last-Modified") == "" {
		return false
	}
	if strings.Contains(strings.ToLower(resp.Header.Get("Cache-Control")), "no-store") {
		return false
	}
	return resp.Header.Get("Vary") != "*"
}

// notUpdated are the header fields of a 304 that describe its own (empty)
// body rather than the stored one, so they do not replace stored fields.
var notUpdated = map[string]bool{
	"Content-Length": true, "Content-Type": true, "Content-Encoding": true,
	"Transfer-Encoding": true, "Content-Range": true,
}

// response rebuilds the stored 200 for req, with the fields of the 304
// (rate limit counters, dates, links) replacing the stored ones.
func (e *entry) response(req *http.Request, notModified *http.Response) *http.Response {
	h := e.header.Clone()
	for k, vs := range notModified.Header {
		if !notUpdated[k] {
			h[k] = append([]string(nil), vs...)
		}
	}
	h.Set(Header, Hit)
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         notModified.Proto,
		ProtoMajor:    notModified.ProtoMajor,
		ProtoMinor:    notModified.ProtoMinor,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(e.body)),
		ContentLength: int64(len(e.body)),
		Request:       req,
		TLS:           notModified.TLS,
	}
}

func (c *Cache) get(key string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry)
}

func (c *Cache) put(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(e.key)
	c.entries[e.key] = c.order.PushFront(e)
	c.size += e.size
	for c.size > c.maxBytes {
		oldest := c.order.Back()
		if oldest == nil {
			break
		}
		c.removeLocked(oldest.Value.(*entry).key)
	}
}

func (c *Cache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
}

func (c *Cache) removeLocked(key string) {
	el, ok := c.entries[key]
	if !ok {
		return
	}
	c.order.Remove(el)
	delete(c.entries, key)
	c.size -= el.Value.(*entry).size
}

func (c *Cache) report(result string) {
	if c.observe != nil {
		c.observe(result)
	}
}

func headerSize(h http.Header) int64 {
	var n int64
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	return n
}

type joined struct {
	io.Reader
	io.Closer
}
