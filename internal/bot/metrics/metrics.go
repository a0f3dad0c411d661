// Package metrics holds the bot's Prometheus metrics: webhook deliveries by
// event and outcome, queue depth and job outcomes, evaluation latency by
// conclusion, git fetches, GitHub API requests by endpoint and status,
// what the API budget saved and retried (cache hits, retries and waits), and
// the optional features' outcomes (chat-ops, bypass checks, audit exports).
//
// Every metric lives in the Metrics value's own registry, so tests and
// several servers in one process never collide, and Handler serves exactly
// that registry.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "promobot"

// Metrics are the bot's metrics. The zero value is not usable; call New.
// A nil *Metrics is valid and records nothing.
type Metrics struct {
	registry    *prometheus.Registry
	deliveries  *prometheus.CounterVec
	jobs        *prometheus.CounterVec
	jobDuration prometheus.Histogram
	evaluations *prometheus.HistogramVec
	apiRequests *prometheus.CounterVec
	apiDuration *prometheus.HistogramVec
	gitFetches  *prometheus.HistogramVec
	apiCache    *prometheus.CounterVec
	apiRetries  *prometheus.CounterVec
	apiWaits    *prometheus.CounterVec
	chatOps     *prometheus.CounterVec
	findings    prometheus.Counter
	auditChecks *prometheus.CounterVec
	exports     *prometheus.CounterVec
	exported    prometheus.Counter
	lease       leaseMetrics
}

// New returns metrics registered in a fresh registry together with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhook_deliveries_total",
			Help: "Webhook deliveries by event and outcome (accepted, ignored, unauthorized, bad_request, busy, error).",
		}, []string{"event", "outcome"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "queue_jobs_total",
			Help: "Queued jobs by outcome (succeeded, failed, panicked, coalesced).",
		}, []string{"outcome"}),
		jobDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "queue_job_duration_seconds",
			Help:    "How long queued jobs ran.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
		evaluations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "evaluation_duration_seconds",
			Help:    "Time from the in-progress check run to the concluded one, by conclusion (success, failure, error).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"conclusion"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "github_api_requests_total",
			Help: "Requests sent to the GitHub API by method, endpoint template and status code (\"error\" when no response arrived).",
		}, []string{"method", "endpoint", "code"}),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "github_api_request_duration_seconds",
			Help:    "GitHub API request latency by method and endpoint template.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"method", "endpoint"}),
		gitFetches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "git_fetch_duration_seconds",
			Help:    "Git fetches into the repository mirrors by outcome (updated, unchanged, error).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"outcome"}),
		apiCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "github_api_cache_total",
			Help: "Cacheable GitHub API reads by result: hit (GitHub answered 304, free of rate limit) or miss.",
		}, []string{"result"}),
		apiRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "github_api_retries_total",
			Help: "GitHub API retries and rate limit pauses by reason (server_error, network_error, secondary_rate_limit, rate_limit, paused).",
		}, []string{"reason"}),
		apiWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "github_api_retry_wait_seconds_total",
			Help: "Time spent waiting before GitHub API retries and after rate limits, by reason.",
		}, []string{"reason"}),
		chatOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "chatops_actions_total",
			Help: "Chat-ops actions (propose: autoPropose after a merge; rollback: a /promobot rollback comment) by outcome.",
		}, []string{"action", "outcome"}),
		findings: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "bypass_findings_total",
			Help: "Manifest changes on a default branch reported as unreviewed (an issue and a failing commit status each).",
		}),
		auditChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "audit_checks_total",
			Help: "Bypass checks of the commits pushed to a default branch by outcome (clean, bypass, pending, baseline, rewritten, error).",
		}, []string{"outcome"}),
		exports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "audit_exports_total",
			Help: "Audit log exports by outcome (appended, unchanged, pending, behind, error).",
		}, []string{"outcome"}),
		exported: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "audit_exported_records_total",
			Help: "Audit records appended to the audit logs.",
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.deliveries, m.jobs, m.jobDuration, m.evaluations, m.apiRequests, m.apiDuration, m.gitFetches,
		m.apiCache, m.apiRetries, m.apiWaits, m.chatOps, m.findings, m.auditChecks, m.exports, m.exported,
	)
	m.lease = newLeaseMetrics(m.registry)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Registry returns the registry holding the metrics, for tests and for
// registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// QueueDepth registers a gauge that reports waiting() and running() when
// scraped.
func (m *Metrics) QueueDepth(waiting, running func() int) {
	if m == nil {
		return
	}
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "queue_depth",
			Help: "Jobs waiting in the queue.",
		}, func() float64 { return float64(waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "queue_running",
			Help: "Jobs being run by the workers.",
		}, func() float64 { return float64(running()) }),
	)
}

// Delivery counts one webhook delivery.
func (m *Metrics) Delivery(event, outcome string) {
	if m == nil {
		return
	}
	if event == "" {
		event = "unknown"
	}
	m.deliveries.WithLabelValues(event, outcome).Inc()
}

// Job counts one finished or coalesced job and, unless it was coalesced,
// how long it ran.
func (m *Metrics) Job(outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(outcome).Inc()
	if outcome != "coalesced" {
		m.jobDuration.Observe(d.Seconds())
	}
}

// Evaluation records how long one evaluation took and how it concluded.
func (m *Metrics) Evaluation(conclusion string, d time.Duration) {
	if m == nil {
		return
	}
	m.evaluations.WithLabelValues(conclusion).Observe(d.Seconds())
}

// GitFetch records one fetch into a mirror.
func (m *Metrics) GitFetch(outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.gitFetches.WithLabelValues(outcome).Observe(d.Seconds())
}

// GitHubCache counts one cacheable GitHub API read by result ("hit" or
// "miss").
func (m *Metrics) GitHubCache(result string) {
	if m == nil {
		return
	}
	m.apiCache.WithLabelValues(result).Inc()
}

// GitHubRetry counts one GitHub API retry or rate limit pause and the time
// it waits.
func (m *Metrics) GitHubRetry(reason string, wait time.Duration) {
	if m == nil {
		return
	}
	m.apiRetries.WithLabelValues(reason).Inc()
	m.apiWaits.WithLabelValues(reason).Add(wait.Seconds())
}

// ChatOps counts one chat-ops action ("propose" or "rollback") by outcome.
func (m *Metrics) ChatOps(action, outcome string) {
	if m == nil {
		return
	}
	m.chatOps.WithLabelValues(action, outcome).Inc()
}

// BypassFinding counts one unreviewed manifest change reported.
func (m *Metrics) BypassFinding() {
	if m == nil {
		return
	}
	m.findings.Inc()
}

// AuditCheck counts one bypass check of a repository's pushed commits.
func (m *Metrics) AuditCheck(outcome string) {
	if m == nil {
		return
	}
	m.auditChecks.WithLabelValues(outcome).Inc()
}

// AuditExport counts one export to an audit log and the records it
// appended.
func (m *Metrics) AuditExport(outcome string, appended int) {
	if m == nil {
		return
	}
	m.exports.WithLabelValues(outcome).Inc()
	m.exported.Add(float64(appended))
}

// InstrumentTransport wraps next so that every request it sends is counted
// by method, endpoint template (see Endpoint) and status code. Put it at the
// bottom of the transport chain so retries and token requests are counted
// as what they are: requests on the wire.
func (m *Metrics) InstrumentTransport(next http.RoundTripper) http.RoundTripper {
	if m == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		endpoint := Endpoint(r.URL.Path)
		start := time.Now()
		resp, err := next.RoundTrip(r)
		m.apiDuration.WithLabelValues(r.Method, endpoint).Observe(time.Since(start).Seconds())
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		m.apiRequests.WithLabelValues(r.Method, endpoint, code).Inc()
		return resp, err
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
