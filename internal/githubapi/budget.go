package githubapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"

	"github.com/example-org/promobot/internal/githubapi/httpcache"
	"github.com/example-org/promobot/internal/githubapi/limit"
	"github.com/example-org/promobot/internal/githubapi/retry"
)

// Budget makes Apps spend each installation's API rate limit with care.
// With a Budget, every installation's requests go through
//
//	a concurrency cap → a conditional-request cache → retries → Config.Middleware → token → Config.Transport
//
// so that:
//
//   - at most MaxInFlight requests per installation are in flight;
//   - every GET is sent with the ETag of the answer last seen for it, and
//     a 304 (free on GitHub) is answered from memory (package httpcache);
//   - server errors, failed connections and rate limits are retried with
//     backoff, Retry-After and X-RateLimit-Reset honoured, and a rate limit
//     pauses the whole installation instead of letting its other requests
//     hammer GitHub (package retry);
//   - go-github only ever sees the final answer, so its own client-side
//     rate limit bookkeeping is not tripped by a limit that a retry cured.
//
// The zero value picks every default.
type Budget struct {
	// CacheBytes bounds the response cache shared by all installations
	// (entries never cross installations); zero means
	// httpcache.DefaultMaxBytes, negative disables the cache.
	CacheBytes int64
	// MaxInFlight caps each installation's concurrent requests; zero means
	// limit.DefaultMaxInFlight.
	MaxInFlight int
	// Retry tunes retries. Its Gate and ClassifyError are set per
	// installation by Apps; its Observe is replaced when Observer is set.
	Retry retry.Options
	// Observer, when set, counts cache results and retries;
	// *metrics.Metrics implements it.
	Observer BudgetObserver
}

// BudgetObserver is told what the budget chain did.
type BudgetObserver interface {
	// GitHubCache counts one cacheable request: result is httpcache.Hit or
	// httpcache.Miss.
	GitHubCache(result string)
	// GitHubRetry counts one retry or gate wait, with its reason (a
	// retry.Reason) and how long it waits before going on.
	GitHubRetry(reason string, wait time.Duration)
}

// newCache returns the shared response cache of a budget, nil when there
// is no budget or the cache is disabled.
func newCache(b *Budget) *httpcache.Cache {
	if b == nil || b.CacheBytes < 0 {
		return nil
	}
	opts := httpcache.Options{MaxBytes: b.CacheBytes}
	if b.Observer != nil {
		opts.Observe = b.Observer.GitHubCache
	}
	return httpcache.New(opts)
}

// budgetTransport wraps the authenticated transport of installation id in
// the budget chain.
func (a *Apps) budgetTransport(id int64, next http.RoundTripper) http.RoundTripper {
	b := a.cfg.Budget
	if b == nil {
		return next
	}
	opts := b.Retry
	opts.Gate = &retry.Gate{}
	opts.ClassifyError = classifyTransportError
	if b.Observer != nil {
		opts.Observe = func(reason retry.Reason, wait time.Duration) { b.Observer.GitHubRetry(string(reason), wait) }
	}
	rt := retry.New(next, opts)
	if a.cache != nil {
		rt = a.cache.Transport(strconv.FormatInt(id, 10), rt)
	}
	return limit.New(b.MaxInFlight).Transport(rt)
}

// classifyTransportError adds the installation token to retry's default:
// a token that could not be fetched means the request itself was never
// sent, so any method may be retried when GitHub failed on its side (5xx)
// or could not be reached, and none when it refused (4xx).
func classifyTransportError(err error) retry.ErrorKind {
	var token *ghinstallation.HTTPError
	if errors.As(err, &token) {
		if token.Response != nil && token.Response.StatusCode < 500 {
			return retry.Permanent
		}
		if kind := retry.ClassifyError(err); kind == retry.Permanent {
			return kind
		}
		return retry.NotSent
	}
	return retry.ClassifyError(err)
}
