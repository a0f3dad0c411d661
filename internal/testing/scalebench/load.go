package scalebench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// balancer spreads deliveries over the replicas in turn, as a load
// balancer does, skipping those it knows are down and trying the next one
// when a connection fails.
type balancer struct {
	replicas   []*replica
	clients    []*http.Client
	down       []atomic.Bool
	next       atomic.Uint64
	deliveryID atomic.Uint64

	mu       sync.Mutex
	acks     []time.Duration
	refused  int // answered, but not 2xx
	rerouted int // connection failed, sent to another replica
}

func newBalancer(replicas []*replica) *balancer {
	b := &balancer{replicas: replicas, down: make([]atomic.Bool, len(replicas))}
	for range replicas {
		b.clients = append(b.clients, &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}})
	}
	return b
}

// reset forgets the figures so far.
func (b *balancer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.acks, b.refused, b.rerouted = nil, 0, 0
}

// deliver signs payload as GitHub does and posts it to one replica,
// recording the time from sending to reading the answer.
func (b *balancer) deliver(ctx context.Context, event string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	signature := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	id := "scalebench-" + strconv.FormatUint(b.deliveryID.Add(1), 10)
	var lastErr error
	for attempt := 0; attempt < 2*len(b.replicas); attempt++ {
		i := int(b.next.Add(1) % uint64(len(b.replicas)))
		if b.down[i].Load() {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.replicas[i].URL()+"/webhook", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "GitHub-Hookshot/scalebench")
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", signature)
		start := time.Now()
		resp, err := b.clients[i].Do(req)
		if err != nil {
			lastErr = err
			b.mu.Lock()
			b.rerouted++
			b.mu.Unlock()
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		b.mu.Lock()
		if resp.StatusCode/100 == 2 {
			b.acks = append(b.acks, took)
		} else {
			b.refused++
		}
		b.mu.Unlock()
		return nil
	}
	if lastErr == nil {
		lastErr = errors.New("every replica is down")
	}
	return fmt.Errorf("deliver %s: %w", event, lastErr)
}

// labels are the labels the load generator puts on and takes off.
var labels = []string{"freeze-override", "needs-discussion", "priority"} // sorted

// load changes the pull requests on GitHub and delivers the events GitHub
// would send for each change, at opts.Rate deliveries a second, until
// opts.Deliveries were sent. It records, per pull request, the emulator id
// of its last change (see githubtest.Emulator.LastID).
type load struct {
	w    *world
	lb   *balancer
	opts Options
	rng  *rand.Rand

	mu         sync.Mutex
	lastChange map[int]int64
	sent       int
}

func (l *load) changed(number int, id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastChange[number] = id
}

// pending returns the id of the last change of every pull request.
func (l *load) snapshot() map[int]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]int64, len(l.lastChange))
	for k, v := range l.lastChange {
		out[k] = v
	}
	return out
}

// run sends the deliveries on schedule.
func (l *load) run(ctx context.Context) error {
	interval := time.Duration(float64(time.Second) / l.opts.Rate)
	start := time.Now()
	send := func(event string, payload any) error {
		due := start.Add(time.Duration(l.sent) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		l.sent++
		return l.lb.deliver(ctx, event, payload)
	}
	for l.sent < l.opts.Deliveries {
		p := l.w.prs[l.rng.IntN(len(l.w.prs))]
		if err := l.step(ctx, p, send); err != nil {
			return err
		}
	}
	return nil
}

// step makes one change to p and delivers its events.
func (l *load) step(ctx context.Context, p *pr, send func(string, any) error) error {
	em := l.w.Em
	switch r := l.rng.Float64(); {
	case r < 0.55: // a review
		state := "APPROVED"
		switch s := l.rng.Float64(); {
		case s < 0.15:
			state = "CHANGES_REQUESTED"
		case s < 0.25:
			state = "COMMENTED"
		}
		login := p.reviewers[l.rng.IntN(len(p.reviewers))]
		id, err := em.Review(owner, repoName, p.number, login, state, "")
		if err != nil {
			return err
		}
		l.changed(p.number, id)
		payload, err := em.PullRequestReviewEvent(ctx, owner, repoName, p.number, id, "submitted", "")
		if err != nil {
			return err
		}
		return send("pull_request_review", payload)
	case r < 0.75: // labels
		var set []string
		for _, name := range labels {
			if l.rng.IntN(2) == 0 {
				set = append(set, name)
			}
		}
		before, err := em.PullRequest(owner, repoName, p.number)
		if err != nil {
			return err
		}
		id, err := em.SetLabels(owner, repoName, p.number, set)
		if err != nil {
			return err
		}
		// The same labels again change no input: the replicas may drop
		// that evaluation as a repeat, so nothing waits for it.
		was := slices.Clone(before.Labels)
		slices.Sort(was)
		if !slices.Equal(was, set) {
			l.changed(p.number, id)
		}
		action := "labeled"
		if len(set) == 0 {
			action = "unlabeled"
		}
		payload, err := em.PullRequestEvent(ctx, owner, repoName, p.number, action, "mara")
		if err != nil {
			return err
		}
		return send("pull_request", payload)
	default: // a push to the pull request's branch: push, synchronize, check_suite
		before := l.w.tip(p.branch)
		p.pushes++
		after, err := l.w.TryCommit(p.branch, p.files, fmt.Sprintf("Update %d of %s", p.pushes, p.branch), author, time.Now().UTC().Add(-time.Minute))
		if err != nil {
			return err
		}
		if _, err := em.SyncPR(owner, repoName, p.number); err != nil {
			return err
		}
		l.changed(p.number, em.LastID())
		push, err := em.PushEvent(ctx, owner, repoName, "refs/heads/"+p.branch, before, after, author)
		if err != nil {
			return err
		}
		if err := send("push", push); err != nil {
			return err
		}
		sync, err := em.PullRequestEvent(ctx, owner, repoName, p.number, "synchronize", "")
		if err != nil {
			return err
		}
		if err := send("pull_request", sync); err != nil {
			return err
		}
		suite, err := em.CheckSuiteEvent(ctx, owner, repoName, after, "requested", author)
		if err != nil {
			return err
		}
		return send("check_suite", suite)
	}
}
