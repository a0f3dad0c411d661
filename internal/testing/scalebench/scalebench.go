// Package scalebench measures promobot scaled out: it builds the promobot
// binary, starts the GitHub emulator with a repository of open promotion
// pull requests, runs several `promobot serve` replicas in front of it,
// and sends them signed webhook deliveries as GitHub would (reviews, label
// changes, pushes with their synchronize and check_suite events), spread
// over the replicas like a load balancer, while one replica at a time is
// killed with SIGKILL and restarted.
//
// Once the replicas are quiet it reports the pull requests whose head
// carries the verdict `promobot check` computes independently from
// GitHub's state, the check runs left in progress, the evaluations that
// repeated the inputs of an earlier one (same head and fingerprint), the
// webhook acknowledgement percentiles and the time from each kill until
// every pull request it affected (whose work the killed replica held) is
// evaluated again, and, stricter, until every pull request waiting
// anywhere at the kill is.
//
// Two modes: ModeMemory, every replica with its own in-memory queue (the
// default of `promobot serve`; GitHub holds the verdicts), and ModeQueue,
// every replica on one Azure Storage queue with blob leases, on Azurite;
// and ModeLeases in between, in-memory queues with shared blob leases.
package scalebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/githubtest"
)

// LogsEnv names the environment variable that, when set to a directory,
// keeps each replica's log there (DIR/replica-N/serve.log) after the run.
const LogsEnv = "PROMOBOT_SCALE_LOGS"

// Mode is how the replicas share their work.
type Mode string

const (
	// ModeMemory gives every replica its own in-memory queue.
	ModeMemory Mode = "memory"
	// ModeLeases gives every replica its own in-memory queue but one blob
	// lease container on Azurite: one evaluation of a pull request at a
	// time across replicas, and one leader for the resynchronization.
	ModeLeases Mode = "leases"
	// ModeQueue puts every replica on one Azure Storage queue, with a blob
	// lease per pull request, on Azurite.
	ModeQueue Mode = "azqueue"
)

// Options describe one run.
type Options struct {
	// Mode is how the replicas share their work.
	Mode Mode
	// Replicas is the number of `promobot serve` processes.
	Replicas int
	// Workers is each replica's --workers.
	Workers int
	// PullRequests is the number of open promotion pull requests.
	PullRequests int
	// Deliveries is the number of webhook deliveries to send, and Rate
	// how many a second.
	Deliveries int
	Rate       float64
	// KillEvery is the time between two kills during the load, and Kills
	// the most kills (0: none).
	KillEvery time.Duration
	Kills     int
	// Settle bounds the wait for the replicas to become quiet after the
	// load; Quiet is how long no check run may change to call them quiet.
	Settle, Quiet time.Duration
	// Seed makes the load repeatable.
	Seed uint64
	// Args are extra `serve` flags for every replica.
	Args []string
	// Binary is the promobot to run (see Build); empty builds one.
	Binary string
}

// Run builds promobot, starts the world and the replicas, sends the load
// while killing replicas, waits for quiet and measures. It fails t only
// when the harness itself cannot run; the caller judges the Result.
func Run(t testing.TB, opts Options) *Result {
	t.Helper()
	opts = withDefaults(opts)
	res := &Result{Options: opts}
	bin := opts.Binary
	if bin == "" {
		bin = Build(t, t.TempDir())
	}
	w := newWorld(t, opts.PullRequests)
	w.bin, w.oracle = bin, map[string]verdict{}

	env := append(baseEnv(),
		"PROMOBOT_APP_ID="+strconv.Itoa(appID), "PROMOBOT_PRIVATE_KEY="+w.keyFile,
		"PROMOBOT_WEBHOOK_SECRET="+secret, "GITHUB_API_URL="+w.Fixture.URL(),
		"PROMOBOT_WORKERS="+strconv.Itoa(opts.Workers), "PROMOBOT_LOG_LEVEL=info")
	args := slices.Clone(opts.Args)
	switch opts.Mode {
	case ModeMemory:
	case ModeLeases:
		modeEnv, modeArgs := startLeases(t, bin)
		env, args = append(env, modeEnv...), append(args, modeArgs...)
	case ModeQueue:
		modeEnv, modeArgs := startQueue(t, bin)
		env, args = append(env, modeEnv...), append(args, modeArgs...)
	default:
		t.Fatalf("scalebench: unknown mode %q", opts.Mode)
	}
	logs := os.Getenv(LogsEnv)
	if logs == "" {
		logs = t.TempDir()
	}
	var replicas []*replica
	for i := range opts.Replicas {
		name := "replica-" + strconv.Itoa(i+1)
		r, err := newReplica(name, bin, filepath.Join(logs, name), env, args)
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, r)
	}
	t.Cleanup(func() {
		for _, r := range replicas {
			r.kill()
		}
		if t.Failed() {
			for _, r := range replicas {
				t.Logf("%s log (end):\n%s", r.name, r.logTail())
			}
		}
	})
	setupStart := time.Now()
	if err := startAll(replicas); err != nil {
		t.Fatal(err)
	}
	l := &load{w: w, lb: newBalancer(replicas), opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 1)), lastChange: map[int]int64{}}
	// GitHub announced every pull request when it was opened; the
	// replicas' resynchronization at start may evaluate them too.
	for _, p := range w.prs {
		payload, err := w.Em.PullRequestEvent(t.Context(), owner, repoName, p.number, "opened", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := l.lb.deliver(t.Context(), "pull_request", payload); err != nil {
			t.Fatal(err)
		}
	}
	if !waitQuiet(t.Context(), w, l, opts.Settle, opts.Quiet) {
		t.Fatalf("the replicas did not evaluate every pull request within %s of starting", opts.Settle)
	}
	// The leader's pass at start rechecks every pull request quietly
	// (nothing is written, so waitQuiet does not see it): the load starts
	// once it is done, so that the first kills measure the load, not the
	// start.
	if !waitStartPass(t.Context(), replicas, opts.Settle) {
		t.Fatalf("no replica finished its resynchronization pass within %s of starting", opts.Settle)
	}
	res.Setup = time.Since(setupStart)
	l.lb.reset()
	startID := w.Em.LastID()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	mon := &monitor{w: w}
	var wg sync.WaitGroup
	loadDone := make(chan struct{})
	killDone := make(chan error, 1)
	wg.Add(1)
	go func() { defer wg.Done(); mon.run(ctx) }()
	go func() { killDone <- killLoop(ctx, opts, replicas, l, mon, loadDone) }()
	loadStart := time.Now()
	loadErr := l.run(ctx)
	res.Load = time.Since(loadStart)
	close(loadDone)
	// The kill loop returns once the last killed replica is back.
	killErr := <-killDone
	if loadErr != nil || killErr != nil {
		cancel()
		wg.Wait()
		t.Fatalf("load: %v; kill loop: %v", loadErr, killErr)
	}
	settleStart := time.Now()
	res.Quiet = waitQuiet(ctx, w, l, opts.Settle, opts.Quiet)
	res.Settle = time.Since(settleStart)
	cancel()
	wg.Wait()

	verifyStart := time.Now()
	a, err := w.verify(t.Context(), bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scalebench: verified the verdicts in %s", time.Since(verifyStart).Round(time.Millisecond))
	res.Correct, res.InProgress, res.Wrong = a.correct, a.inProgress, a.wrong
	runs := w.Em.AllCheckRuns(owner, repoName)
	res.Evaluations, res.Duplicates = countEvaluations(runs, startID)
	res.StaleInProgress = staleInProgress(w, runs)
	res.Acks, res.Refused, res.Rerouted = l.lb.acks, l.lb.refused, l.lb.rerouted
	res.Kills = mon.kills()
	return res
}

func withDefaults(o Options) Options {
	if o.Mode == "" {
		o.Mode = ModeMemory
	}
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.Workers == 0 {
		o.Workers = 4
	}
	if o.PullRequests == 0 {
		o.PullRequests = 100
	}
	if o.Deliveries == 0 {
		o.Deliveries = 1000
	}
	if o.Rate == 0 {
		o.Rate = 20
	}
	if o.KillEvery == 0 {
		o.KillEvery = 10 * time.Second
	}
	if o.Settle == 0 {
		o.Settle = 3 * time.Minute
	}
	if o.Quiet == 0 {
		o.Quiet = 2 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = 23
	}
	return o
}

// startAll starts the replicas at once.
func startAll(replicas []*replica) error {
	errs := make([]error, len(replicas))
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = r.start() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// countEvaluations counts the check runs created after startID and those
// among them that concluded with the head and fingerprint (external id)
// of an earlier concluded run.
func countEvaluations(runs []githubtest.CheckRun, startID int64) (evaluations, duplicates int) {
	seen := map[string]bool{}
	for _, r := range runs {
		key := r.HeadSHA + " " + r.ExternalID
		if r.ID > startID {
			evaluations++
			if r.Status == "completed" && r.ExternalID != "" && seen[key] {
				duplicates++
			}
		}
		if r.Status == "completed" && r.ExternalID != "" {
			seen[key] = true
		}
	}
	return evaluations, duplicates
}

// staleInProgress counts the runs not completed on commits that are no
// pull request's head.
func staleInProgress(w *world, runs []githubtest.CheckRun) int {
	heads := map[string]bool{}
	for _, p := range w.prs {
		if snap, err := w.Em.PullRequest(owner, repoName, p.number); err == nil {
			heads[snap.HeadSHA] = true
		}
	}
	n := 0
	for _, r := range runs {
		if r.Status != "completed" && !heads[r.HeadSHA] {
			n++
		}
	}
	return n
}

// latestRuns maps every head to its newest check run.
func latestRuns(w *world) map[string]githubtest.CheckRun {
	out := map[string]githubtest.CheckRun{}
	for _, r := range w.Em.AllCheckRuns(owner, repoName) {
		out[r.HeadSHA] = r // oldest first: the last one wins
	}
	return out
}

// current reports whether pull request number's head carries a completed
// check run created after the change with id since, or else one with the
// verdict expected now: the replicas may rightly drop the evaluation of
// inputs they already evaluated (a repeated review state, say).
func current(w *world, latest map[string]githubtest.CheckRun, number int, since int64) bool {
	snap, err := w.Em.PullRequest(owner, repoName, number)
	if err != nil {
		return false
	}
	r, ok := latest[snap.HeadSHA]
	if ok && r.Status == "completed" && r.ID > since {
		return true
	}
	return w.correctNow(context.Background(), latest, number)
}

// waitQuiet waits until every pull request is current with its last
// change and no check run was created or changed for quiet, or until
// limit. It reports whether the replicas became quiet.
func waitQuiet(ctx context.Context, w *world, l *load, limit, quiet time.Duration) bool {
	deadline := time.Now().Add(limit)
	var lastSig string
	lastChange := time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		runs := w.Em.AllCheckRuns(owner, repoName)
		var sig strings.Builder
		fmt.Fprintf(&sig, "%d", len(runs))
		for _, r := range runs {
			if r.Status != "completed" {
				fmt.Fprintf(&sig, " %d", r.ID)
			}
		}
		if sig.String() != lastSig {
			lastSig, lastChange = sig.String(), time.Now()
		}
		latest := latestRuns(w)
		changes := l.snapshot()
		all := true
		for _, p := range w.prs {
			if !current(w, latest, p.number, changes[p.number]) {
				all = false
				break
			}
		}
		if all && time.Since(lastChange) >= quiet {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// waitStartPass waits until a replica logged the end of a
// resynchronization pass (every evaluation it found due is queued) and
// no replica has an evaluation waiting or running in its in-memory queue,
// where the pass's evaluations run, or until limit.
func waitStartPass(ctx context.Context, replicas []*replica, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	passed := false
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for _, r := range replicas {
			passed = passed || r.logged("resynchronization pass done")
		}
		if passed && !slices.ContainsFunc(replicas, (*replica).busy) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
