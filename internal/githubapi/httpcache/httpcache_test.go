package httpcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// origin serves bodies by URL path with content ETags, answers matching
// conditional requests with 304 and records the conditions it received.
type origin struct {
	mu         sync.Mutex
	bodies     map[string]string
	noETag     bool
	modified   string // Last-Modified, when set
	conditions []string
	remaining  int
}

func (o *origin) set(path, body string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bodies[path] = body
}

func (o *origin) RoundTrip(r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.remaining--
	o.conditions = append(o.conditions, r.Header.Get("If-None-Match")+"|"+r.Header.Get("If-Modified-Since"))
	body := o.bodies[r.URL.Path] + r.Header.Get("Accept")
	sum := sha256.Sum256([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := http.Header{"X-Ratelimit-Remaining": {fmt.Sprint(o.remaining)}, "Content-Type": {"application/json"}}
	if !o.noETag {
		h.Set("ETag", etag)
	}
	if o.modified != "" {
		h.Set("Last-Modified", o.modified)
	}
	status := http.StatusOK
	if (!o.noETag && r.Header.Get("If-None-Match") == etag) || (o.modified != "" && r.Header.Get("If-Modified-Since") == o.modified) {
		status, body = http.StatusNotModified, ""
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

func (o *origin) Conditions() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.conditions
	o.conditions = nil
	return out
}

func newOrigin() *origin { return &origin{bodies: map[string]string{}, remaining: 5000} }

type result struct {
	Status int
	Cache  string
	Body   string
}

func get(t *testing.T, rt http.RoundTripper, path string, header map[string]string) (result, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://api.github.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{Status: resp.StatusCode, Cache: resp.Header.Get(Header), Body: string(b)}, resp.Header
}

func TestETagRoundTrip(t *testing.T) {
	o := newOrigin()
	o.set("/reviews", `[{"id":1}]`)
	var observed []string
	c := New(Options{Observe: func(r string) { observed = append(observed, r) }})
	rt := c.Transport("77", o)

	first, _ := get(t, rt, "/reviews", nil)
	second, h := get(t, rt, "/reviews", nil)
	o.set("/reviews", `[{"id":1},{"id":2}]`)
	changed, _ := get(t, rt, "/reviews", nil)
	again, _ := get(t, rt, "/reviews", nil)

	want := []result{
		{Status: 200, Cache: Miss, Body: `[{"id":1}]`},
		{Status: 200, Cache: Hit, Body: `[{"id":1}]`},
		{Status: 200, Cache: Miss, Body: `[{"id":1},{"id":2}]`},
		{Status: 200, Cache: Hit, Body: `[{"id":1},{"id":2}]`},
	}
	if diff := cmp.Diff(want, []result{first, second, changed, again}); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	if got := h.Get("X-RateLimit-Remaining"); got != "4998" {
		t.Errorf("a hit carries X-RateLimit-Remaining %q, want the 304's 4998", got)
	}
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Errorf("a hit carries Content-Type %q, want the stored one", got)
	}
	conds := o.Conditions()
	if conds[0] != "|" || !strings.HasPrefix(conds[1], `"`) || conds[2] != conds[1] || conds[3] == conds[2] {
		t.Errorf("conditions sent %q: want none, then the stored ETag, again, then the new one", conds)
	}
	if diff := cmp.Diff([]string{Miss, Hit, Miss, Hit}, observed); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

func TestPartitionsNeverShare(t *testing.T) {
	o := newOrigin()
	o.set("/orgs/acme/teams/risk/members", `["mara"]`)
	c := New(Options{})
	a, b := c.Transport("1", o), c.Transport("2", o)
	if r, _ := get(t, a, "/orgs/acme/teams/risk/members", nil); r.Cache != Miss {
		t.Fatalf("first read %+v", r)
	}
	o.Conditions()
	// The second installation's first read sends no validator of the
	// first's, even though the answer would be the same.
	if r, _ := get(t, b, "/orgs/acme/teams/risk/members", nil); r.Cache != Miss {
		t.Errorf("installation 2's first read was %+v, want a miss", r)
	}
	if conds := o.Conditions(); conds[0] != "|" {
		t.Errorf("installation 2 sent %q, want no condition", conds[0])
	}
	// Each then revalidates its own copy.
	o.set("/orgs/acme/teams/risk/members", `["mara","mike"]`)
	if r, _ := get(t, b, "/orgs/acme/teams/risk/members", nil); r.Body != `["mara","mike"]` || r.Cache != Miss {
		t.Errorf("installation 2 got %+v", r)
	}
	if r, _ := get(t, b, "/orgs/acme/teams/risk/members", nil); r.Body != `["mara","mike"]` || r.Cache != Hit {
		t.Errorf("installation 2 got %+v", r)
	}
	if r, _ := get(t, a, "/orgs/acme/teams/risk/members", nil); r.Body != `["mara","mike"]` || r.Cache != Miss {
		t.Errorf("installation 1 got %+v", r)
	}
	if s := c.Stats(); s.Entries != 2 {
		t.Errorf("%d entries, want one per installation", s.Entries)
	}
}

func TestKeyIncludesTheQueryAndAccept(t *testing.T) {
	o := newOrigin()
	o.set("/pulls/1/commits", "x")
	c := New(Options{})
	rt := c.Transport("1", o)
	for _, tc := range []struct {
		path, accept, want string
	}{
		{"/pulls/1/commits?per_page=100", "application/vnd.github.v3+json", Miss},
		{"/pulls/1/commits?per_page=100&page=2", "application/vnd.github.v3+json", Miss},
		{"/pulls/1/commits?per_page=100", "application/vnd.github.raw", Miss},
		{"/pulls/1/commits?per_page=100", "application/vnd.github.v3+json", Hit},
		{"/pulls/1/commits?per_page=100&page=2", "application/vnd.github.v3+json", Hit},
	} {
		if r, _ := get(t, rt, tc.path, map[string]string{"Accept": tc.accept}); r.Cache != tc.want {
			t.Errorf("%s (%s): %s, want %s", tc.path, tc.accept, r.Cache, tc.want)
		}
	}
}

func TestWhatIsNotCached(t *testing.T) {
	t.Run("without validators", func(t *testing.T) {
		o := newOrigin()
		o.noETag = true
		c := New(Options{})
		rt := c.Transport("1", o)
		for range 2 {
			if r, _ := get(t, rt, "/x", nil); r.Cache != Miss {
				t.Errorf("got %+v", r)
			}
		}
		if c.Stats().Entries != 0 {
			t.Error("a response without validators was stored")
		}
	})
	t.Run("Last-Modified alone", func(t *testing.T) {
		o := newOrigin()
		o.noETag = true
		o.modified = "Tue, 03 Mar 2026 10:00:00 GMT"
		rt := New(Options{}).Transport("1", o)
		get(t, rt, "/x", nil)
		if r, _ := get(t, rt, "/x", nil); r.Cache != Hit {
			t.Errorf("got %+v, want a hit", r)
		}
		if conds := o.Conditions(); conds[1] != "|"+o.modified {
			t.Errorf("sent %q, want If-Modified-Since", conds[1])
		}
	})
	t.Run("the caller's own condition", func(t *testing.T) {
		o := newOrigin()
		c := New(Options{})
		rt := c.Transport("1", o)
		_, h := get(t, rt, "/x", nil)
		r, _ := get(t, rt, "/x", map[string]string{"If-None-Match": h.Get("ETag")})
		if r.Status != http.StatusNotModified || r.Cache != "" {
			t.Errorf("got %+v, want the caller's 304 untouched", r)
		}
	})
	t.Run("other methods", func(t *testing.T) {
		o := newOrigin()
		c := New(Options{})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://api.github.test/x", strings.NewReader("{}"))
		resp, err := c.Transport("1", o).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.Header.Get(Header) != "" || c.Stats().Entries != 0 {
			t.Error("a POST went through the cache")
		}
	})
}

func TestEvictionIsLeastRecentlyUsedAndBounded(t *testing.T) {
	const maxBytes = 4800 // entries of a 500-byte body stay under an eighth
	o := newOrigin()
	path := func(i int) string { return fmt.Sprintf("/p%d", i) }
	for i := range 20 {
		o.set(path(i), strings.Repeat("b", 500))
	}
	c := New(Options{MaxBytes: maxBytes})
	rt := c.Transport("1", o)
	get(t, rt, path(0), nil)
	capacity := int(maxBytes / c.Stats().Bytes)
	if capacity < 3 {
		t.Fatalf("an entry takes %d bytes; the test needs room for 3", c.Stats().Bytes)
	}
	for i := 1; i < capacity; i++ {
		get(t, rt, path(i), nil)
	}
	get(t, rt, path(0), nil)        // p0 is now the most recent; p1 the least
	get(t, rt, path(capacity), nil) // one too many: p1 goes
	if s := c.Stats(); s.Entries != capacity || s.Bytes > maxBytes {
		t.Errorf("cache holds %d entries, %d bytes; want %d entries within %d bytes", s.Entries, s.Bytes, capacity, maxBytes)
	}
	got := map[string]string{}
	for i := capacity; i >= 0; i-- {
		if i == 1 {
			continue
		}
		r, _ := get(t, rt, path(i), nil)
		got[path(i)] = r.Cache
	}
	r, _ := get(t, rt, path(1), nil)
	got[path(1)] = r.Cache
	want := map[string]string{path(1): Miss}
	for i := 0; i <= capacity; i++ {
		if i != 1 {
			want[path(i)] = Hit
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after eviction (-want +got):\n%s", diff)
	}
}

func TestLargeResponsesPassThroughWhole(t *testing.T) {
	o := newOrigin()
	big := strings.Repeat("x", 5000)
	o.set("/big", big)
	c := New(Options{MaxBytes: 8000})
	rt := c.Transport("1", o)
	for range 2 {
		r, _ := get(t, rt, "/big", nil)
		if r.Body != big || r.Cache != Miss {
			t.Fatalf("got %d bytes (%s), want all %d, a miss", len(r.Body), r.Cache, len(big))
		}
	}
	if c.Stats().Entries != 0 {
		t.Error("a response over an eighth of the cache was stored")
	}
}

func BenchmarkHit(b *testing.B) {
	o := newOrigin()
	o.set("/reviews", strings.Repeat(`{"id":1,"user":{"login":"mara"},"state":"APPROVED"},`, 100))
	rt := New(Options{}).Transport("1", o)
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.test/reviews?per_page=100", nil)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}
