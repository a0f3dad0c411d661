package lease

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// TestAzurite runs the lease tests on one Azurite, each on a container of
// its own and in parallel: the takeovers wait for Azure's shortest lease.
func TestAzurite(t *testing.T) {
	az := azuritetest.Start(t)
	for _, tt := range []struct {
		name string
		test func(t *testing.T, az *azuritetest.Azurite)
	}{
		{"OneHolderAtATime", testBlobsOneHolderAtATime},
		{"RenewAndLose", testBlobsRenewAndLose},
		{"Takeover", testBlobsTakeover},
		{"Leader", testLeader},
		{"LeaderRecheckRecord", testLeaderRecheckRecord},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, az)
		})
	}
}

var containers atomic.Int32

// replicas opens n lease sets on a new container of az, each with opts,
// as n replicas of the bot would.
func replicas(t *testing.T, az *azuritetest.Azurite, n int, opts Options) []*Blobs {
	t.Helper()
	creds := artifact.Credentials{ConnectionString: az.ConnectionString}
	name := fmt.Sprintf("%s/leases%d", az.Endpoint, containers.Add(1))
	out := make([]*Blobs, n)
	for i := range out {
		b, err := OpenBlobs(t.Context(), name, creds, opts)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func testBlobsOneHolderAtATime(t *testing.T, az *azuritetest.Azurite) {
	rs := replicas(t, az, 2, Options{Period: MinPeriod, Poll: 20 * time.Millisecond})
	a, b := rs[0], rs[1]
	ctx := t.Context()
	held, err := a.Acquire(ctx, "pulls/Org/Repo/7")
	if err != nil {
		t.Fatal(err)
	}
	if !held.Writable() {
		t.Fatalf("a fresh lease is not writable: %s remain", held.Remaining())
	}
	// Names are case-insensitive, as GitHub's.
	if h, err := b.TryAcquire(ctx, "pulls/org/repo/7"); h != nil || err != nil {
		t.Fatalf("second replica: TryAcquire = %v, %v; want nil, nil while the first holds it", h, err)
	}
	if h, err := b.TryAcquire(ctx, "pulls/org/repo/8"); h == nil || err != nil {
		t.Fatalf("another pull request's lease: %v, %v; want it held", h, err)
	} else {
		h.Release()
	}
	got := make(chan *Held)
	go func() {
		h, err := b.Acquire(ctx, "pulls/org/repo/7")
		if err != nil {
			t.Error(err)
		}
		got <- h
	}()
	time.Sleep(100 * time.Millisecond)
	held.Release()
	select {
	case h := <-got:
		if h == nil || !h.Writable() {
			t.Fatal("the waiting replica did not get a writable lease after the release")
		}
		h.Release()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting replica did not get the lease after the release")
	}
}

func testBlobsRenewAndLose(t *testing.T, az *azuritetest.Azurite) {
	c := newClock()
	rs := replicas(t, az, 1, Options{Period: MinPeriod, RenewEvery: 20 * time.Millisecond, Now: c.Now})
	ctx := t.Context()
	held, err := rs[0].Acquire(ctx, "pulls/org/repo/1")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	// By the holder's clock most of the period goes by; the renewals
	// Azure accepts give it the whole period again.
	c.Advance(MinPeriod - time.Second)
	waitFor(t, "a renewal", func() bool { return held.Remaining() > MinPeriod-time.Second })
	if !held.Writable() {
		t.Fatal("a renewed lease is not writable")
	}
	// An operator (or Azure) breaks the lease: the next renewal is
	// refused and the holder stops writing at once.
	bc, err := lease.NewBlobClient(rs[0].container.NewBlobClient("pulls/org/repo/1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bc.BreakLease(ctx, &lease.BlobBreakOptions{BreakPeriod: new(int32)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lease to be lost", func() bool { return !held.Writable() })
}

// testBlobsTakeover waits for Azure's shortest lease to expire: a replica
// that dies without releasing holds up its pull requests that long.
func testBlobsTakeover(t *testing.T, az *azuritetest.Azurite) {
	var takeovers atomic.Int32
	rs := replicas(t, az, 2, Options{Period: MinPeriod, Poll: 100 * time.Millisecond,
		OnTakeover: func(string) { takeovers.Add(1) }})
	ctx := t.Context()
	dead, err := rs[0].Acquire(ctx, "pulls/org/repo/3")
	if err != nil {
		t.Fatal(err)
	}
	dead.abandon()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, MinPeriod+10*time.Second)
	defer cancel()
	h, err := rs[1].Acquire(ctx, "pulls/org/repo/3")
	if err != nil {
		t.Fatalf("the lease of a dead replica was not taken over: %v", err)
	}
	defer h.Release()
	if waited := time.Since(start); waited > MinPeriod+2*time.Second {
		t.Errorf("took over after %s, want about %s", waited, MinPeriod)
	}
	if n := takeovers.Load(); n != 1 {
		t.Errorf("takeovers = %d, want 1", n)
	}
}

func testLeader(t *testing.T, az *azuritetest.Azurite) {
	tests := []struct {
		name string
		// leave ends the first leader: a clean stop or a crash.
		leave func(l *Leader)
		// within bounds the handover.
		within time.Duration
	}{
		{"handover on stop", (*Leader).Stop, 3 * time.Second},
		{"takeover after a crash", func(l *Leader) { l.abandonForTest() }, MinPeriod + 5*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs := replicas(t, az, 2, Options{Period: MinPeriod, Poll: 100 * time.Millisecond})
			var changes [2]atomic.Int32
			first := rs[0].StartLeader(func(bool) { changes[0].Add(1) }, nil)
			waitFor(t, "the first replica to lead", first.Leading)
			second := rs[1].StartLeader(func(bool) { changes[1].Add(1) }, nil)
			defer second.Stop()
			time.Sleep(300 * time.Millisecond)
			if second.Leading() {
				t.Fatal("two leaders at once")
			}
			tt.leave(first)
			if first.Leading() {
				t.Fatal("the first replica still leads after leaving")
			}
			deadline := time.Now().Add(tt.within)
			for !second.Leading() {
				if time.Now().After(deadline) {
					t.Fatalf("the second replica did not lead within %s", tt.within)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got := changes[1].Load(); got != 1 {
				t.Errorf("leader changes seen by the second replica = %d, want 1", got)
			}
		})
	}
}

// testLeaderRecheckRecord: the time of the last recheck is kept on the
// leader blob for every replica, only the leader moves it, and it outlives
// a handover.
func testLeaderRecheckRecord(t *testing.T, az *azuritetest.Azurite) {
	ctx := t.Context()
	rs := replicas(t, az, 2, Options{Period: MinPeriod, Poll: 100 * time.Millisecond})
	first := rs[0].StartLeader(nil, nil)
	waitFor(t, "the first replica to lead", first.Leading)
	second := rs[1].StartLeader(nil, nil)
	defer second.Stop()
	if at, err := second.LastRecheck(ctx); err != nil || !at.IsZero() {
		t.Fatalf("before any recheck: %v, %v; want zero", at, err)
	}
	t0 := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	if err := first.RecordRecheck(ctx, t0); err != nil {
		t.Fatalf("the leader records: %v", err)
	}
	if err := second.RecordRecheck(ctx, t0.Add(time.Hour)); !errors.Is(err, ErrNotLeading) {
		t.Fatalf("a replica that does not lead records: %v, want ErrNotLeading", err)
	}
	if at, err := second.LastRecheck(ctx); err != nil || !at.Equal(t0) {
		t.Fatalf("the other replica reads %v, %v; want %v", at, err, t0)
	}
	first.Stop()
	waitFor(t, "the second replica to lead", second.Leading)
	if at, err := second.LastRecheck(ctx); err != nil || !at.Equal(t0) {
		t.Fatalf("after the handover: %v, %v; want %v", at, err, t0)
	}
	t1 := t0.Add(time.Hour)
	if err := second.RecordRecheck(ctx, t1); err != nil {
		t.Fatalf("the new leader records: %v", err)
	}
	if at, err := first.LastRecheck(ctx); err != nil || !at.Equal(t1) {
		t.Fatalf("the former leader reads %v, %v; want %v", at, err, t1)
	}
}

// abandonForTest stops campaigning and renewing without releasing, as a
// replica that crashes does.
func (l *Leader) abandonForTest() {
	l.cancel()
	<-l.done
	l.mu.Lock()
	h := l.held
	l.held = nil
	l.mu.Unlock()
	if h != nil {
		h.abandon()
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
