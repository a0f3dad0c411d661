package bot

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/workqueue"
)

// azureQueue returns a fresh queue on the package's shared Azurite, and
// the durable queue options of the tests: short timeouts so that retries
// and poison show within seconds.
func azureQueue(t *testing.T) (*workqueue.Queue, *DurableQueue) {
	t.Helper()
	q := openTestQueue(t)
	return q, &DurableQueue{Queue: q, VisibilityTimeout: 2 * time.Second, MaxDequeue: 2, Poll: 50 * time.Millisecond}
}

// openTestQueue creates the queue "jobs" in a storage account of the
// test's own on the package's shared Azurite (azuritetest.SharedWithQueue).
func openTestQueue(t *testing.T) *workqueue.Queue {
	t.Helper()
	a := azuritetest.SharedWithQueue(t)
	q, err := workqueue.Open(a.QueueURL("jobs"), artifact.Credentials{ConnectionString: a.ConnectionString}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Create(t.Context()); err != nil {
		t.Fatal(err)
	}
	return q
}

// waitRun waits until sha's newest check run is completed and there are at
// least n, and returns the count.
func (h *harness) waitRun(sha string, n int) int {
	h.T.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		runs := h.Em.CheckRuns(testOwner, testRepo, sha)
		if len(runs) >= n && runs[len(runs)-1].Status == "completed" {
			return len(runs)
		}
		if time.Now().After(deadline) {
			h.T.Fatalf("%s: %d check runs after 45s, want %d completed", sha, len(runs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send delivers an event to the bot without waiting for it.
func (h *harness) send(event string, p any) {
	h.T.Helper()
	if got := h.deliver(event, p, testSecret); got != http.StatusAccepted {
		h.T.Fatalf("%s: status %d, want 202", event, got)
	}
}

// waitEmpty waits until the queue holds no message.
func waitEmpty(t *testing.T, q *workqueue.Queue) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := q.Length(t.Context())
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue still holds %d messages (%v)", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEndToEndDurableQueueEvaluates runs the pipeline through Azure Queue
// Storage (Azurite): a pull request is evaluated red, then green once
// approved, every message is deleted once done, and /readyz and /metrics
// show the queue.
func TestEndToEndDurableQueueEvaluates(t *testing.T) {
	t.Parallel()
	q, dq := azureQueue(t)
	h := newWorld(t)
	h.start(harnessOptions{durable: dq})
	n, head := h.promotion(nil)

	p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "opened", "")
	if err != nil {
		t.Fatal(err)
	}
	h.send("pull_request", p)
	h.waitRun(head, 1)
	h.want("opened", head, "failure", []string{"needs 2 more approvals"}, nil)

	h.approve(n, "mara")
	h.submitReview(n, "rita", "APPROVED")
	h.waitRun(head, 2)
	h.want("approved", head, "success", []string{"2/2 approvals"}, nil)
	waitEmpty(t, q)

	// The check_suite that follows the push is a repeat: dropped.
	suite, err := h.Em.CheckSuiteEvent(t.Context(), testOwner, testRepo, head, "requested", "alex")
	if err != nil {
		t.Fatal(err)
	}
	h.send("check_suite", suite)
	waitEmpty(t, q)
	time.Sleep(200 * time.Millisecond)
	if got := h.runs(head); got != 2 {
		t.Errorf("%d check runs after a repeated check_suite, want 2", got)
	}

	deadline := time.Now().Add(10 * time.Second)
	for h.get("/readyz") != "ready\n" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := h.get("/readyz"); got != "ready\n" {
		t.Errorf("readyz = %q, want ready", got)
	}
	metrics := h.get("/metrics")
	for _, want := range []string{
		`promobot_workqueue_enqueued_total{outcome="enqueued"} 3`,
		`promobot_workqueue_messages_total{outcome="completed"} 3`,
		`promobot_workqueue_dequeues_count 3`,
		`promobot_evaluations_coalesced_total 1`,
		`promobot_workqueue_approximate_length`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(metrics, "workqueue"))
		}
	}
}

// TestEndToEndDurableQueuePoison: a message whose job keeps failing is
// taken again after a backoff, and once taken more than MaxDequeue times
// its pull request gets a failing check run "could not evaluate" with the
// reason, the metric counts it, and the message is gone.
func TestEndToEndDurableQueuePoison(t *testing.T) {
	t.Parallel()
	q, dq := azureQueue(t)
	h := newWorld(t)
	h.start(harnessOptions{durable: dq})
	n, head := h.promotion(nil)
	h.Em.FailNext("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", http.StatusUnprocessableEntity, nil, 1000)

	p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "opened", "")
	if err != nil {
		t.Fatal(err)
	}
	h.send("pull_request", p)
	h.waitRun(head, 1)
	run := h.Latest(head)
	if run.Conclusion != "failure" || !strings.Contains(run.Title, "could not evaluate: gave up after 2 attempts: GitHub answered 422") {
		t.Errorf("poisoned: check run %s %q, want a failure saying why it gave up", run.Conclusion, run.Title)
	}
	waitEmpty(t, q)
	if !testutilCounter(t, h, `promobot_workqueue_poisoned_total{kind="pull_request"} 1`) {
		t.Errorf("/metrics lacks the poisoned job:\n%s", grep(h.get("/metrics"), "workqueue"))
	}
}

// TestEndToEndDurableQueueTwoReplicas runs two bots on one queue: the
// deliveries arrive at one replica, and every message is then delivered
// again at the other (as at-least-once delivery may). Each pull request
// ends with its verdict and one check run: the repeats are dropped by the
// replica that did not evaluate them, from the check run's fingerprint.
// (Two replicas taking copies at the same instant may both evaluate; the
// per pull request lease makes them take turns.)
func TestEndToEndDurableQueueTwoReplicas(t *testing.T) {
	t.Parallel()
	q, dq := azureQueue(t)
	one := newWorld(t)
	two := *one
	one.start(harnessOptions{durable: dq, workers: 2})
	two.start(harnessOptions{durable: dq, workers: 2})

	var heads []string
	var events []any
	for i := range 3 {
		n, head := one.simplePR("docs-" + string(rune('a'+i)))
		heads = append(heads, head)
		p, err := one.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "opened", "")
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, p)
		one.send("pull_request", p)
	}
	for _, head := range heads {
		one.waitRun(head, 1)
		one.want("docs", head, "success", []string{"no promotion changes"}, nil)
	}
	waitEmpty(t, q)
	for _, p := range events {
		two.send("pull_request", p)
	}
	waitEmpty(t, q)
	deadline := time.Now().Add(10 * time.Second)
	taken := func() float64 {
		return one.metricValue(`promobot_workqueue_dequeues_count`) + two.metricValue(`promobot_workqueue_dequeues_count`)
	}
	for taken() < 6 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := taken(); got != 6 {
		t.Errorf("the replicas took %v messages, want the 6 enqueued", got)
	}
	for _, head := range heads {
		if got := one.runs(head); got != 1 {
			t.Errorf("%s: %d check runs for one set of inputs delivered twice, want 1", head, got)
		}
	}
	coalesced := one.metricValue("promobot_evaluations_coalesced_total") + two.metricValue("promobot_evaluations_coalesced_total")
	if coalesced != 3 {
		t.Errorf("%v jobs coalesced, want the 3 repeats", coalesced)
	}
}

// TestEndToEndDurableQueueRecoversADeadConsumersMessage: a message taken by
// a consumer that died (it never extends nor deletes it) reappears after
// its visibility timeout and is evaluated by the bot; a message that is
// not a hint is dropped.
func TestEndToEndDurableQueueRecoversADeadConsumersMessage(t *testing.T) {
	t.Parallel()
	q, dq := azureQueue(t)
	h := newWorld(t)
	n, head := h.promotion(nil)
	for _, text := range []string{
		`not json`,
		`{"v":1,"kind":"pull_request","installation":` + strconv.Itoa(testInstallationID) + `,"owner":"` + testOwner + `","repo":"` + testRepo + `","number":` + strconv.Itoa(n) + `}`,
	} {
		if err := q.Enqueue(t.Context(), text); err != nil {
			t.Fatal(err)
		}
	}
	// The dead consumer takes both and vanishes.
	taken, err := q.Dequeue(t.Context(), 2, 2*time.Second)
	if err != nil || len(taken) != 2 {
		t.Fatalf("dequeue: %d messages, %v", len(taken), err)
	}
	start := time.Now()
	h.start(harnessOptions{durable: dq})
	h.waitRun(head, 1)
	h.want("recovered", head, "failure", []string{"needs 2 more approvals"}, nil)
	if took := time.Since(start); took > 2*time.Second+dq.VisibilityTimeout+10*time.Second {
		t.Errorf("recovery took %s", took)
	}
	waitEmpty(t, q)
	metrics := h.get("/metrics")
	for _, want := range []string{
		`promobot_workqueue_messages_total{outcome="malformed"} 1`,
		`promobot_workqueue_messages_total{outcome="completed"} 1`,
		`promobot_workqueue_dequeues_bucket{le="1"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(metrics, "workqueue"))
		}
	}
}

// TestDurableQueueUnreachableIsNotReady: /readyz fails while the queue
// cannot be reached, and a delivery is answered 503, not acknowledged.
func TestDurableQueueUnreachableIsNotReady(t *testing.T) {
	t.Parallel()
	q, err := workqueue.Open("http://127.0.0.1:1/devstoreaccount1/jobs",
		artifact.Credentials{ConnectionString: "AccountName=devstoreaccount1;AccountKey=" + azuritetest.AccountKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gh := &fakeGitHub{}
	u := newUnitBot(t, gh, &fakeMirrors{}, func(c *Config) {
		c.Durable = &DurableQueue{Queue: q, VisibilityTimeout: time.Second, Poll: 50 * time.Millisecond}
	})
	srv := httptest.NewServer(u.Handler())
	defer srv.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "job queue") {
			t.Fatalf("/readyz = %d %q, want 503 about the job queue", resp.StatusCode, body)
		}
		if strings.Contains(string(body), "cannot reach the job queue") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := post(t, u.Handler(), "pull_request", envelope("opened", m{"number": 5, "pull_request": prJSON(5, shaA)})); got != http.StatusServiceUnavailable {
		t.Errorf("delivery with the queue unreachable: status %d, want 503", got)
	}
}
