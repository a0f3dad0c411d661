package workqueue

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "azqueue://acct/jobs", want: "https://acct.queue.core.windows.net/jobs"},
		{in: "https://acct.queue.core.windows.net/jobs/", want: "https://acct.queue.core.windows.net/jobs"},
		{in: "http://127.0.0.1:10001/devstoreaccount1/jobs", want: "http://127.0.0.1:10001/devstoreaccount1/jobs"},
		{in: "azqueue://acct", err: "want azqueue://ACCOUNT/QUEUE"},
		{in: "azqueue://acct/a/b", err: "want azqueue://ACCOUNT/QUEUE"},
		{in: "https://acct.queue.core.windows.net/jobs?sig=x", err: "SAS token"},
		{in: "memory", err: "want azqueue://ACCOUNT/QUEUE or an http(s) queue URL"},
	} {
		got, err := ParseURL(tc.in)
		switch {
		case tc.err != "" && (err == nil || !contains(err.Error(), tc.err)):
			t.Errorf("ParseURL(%q) error = %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestQueueAgainstAzurite walks a message through its life: enqueued,
// dequeued and hidden, extended, reappearing with a higher dequeue count
// when its holder stops extending, and deleted.
func TestQueueAgainstAzurite(t *testing.T) {
	a := azuritetest.StartWithQueue(t)
	q, err := Open(a.QueueURL("jobs"), artifact.Credentials{ConnectionString: a.ConnectionString}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := q.Create(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Create(ctx); err != nil {
		t.Fatalf("Create is idempotent: %v", err)
	}
	if err := q.Enqueue(ctx, `{"k":1}`); err != nil {
		t.Fatal(err)
	}
	if n, err := q.Length(ctx); err != nil || n != 1 {
		t.Fatalf("Length = %d, %v; want 1", n, err)
	}
	got, err := q.Dequeue(ctx, 4, time.Second)
	if err != nil || len(got) != 1 || got[0].Text != `{"k":1}` || got[0].DequeueCount != 1 {
		t.Fatalf("Dequeue = %+v, %v", got, err)
	}
	m := got[0]
	if again, err := q.Dequeue(ctx, 1, time.Second); err != nil || len(again) != 0 {
		t.Fatalf("a held message is hidden: %+v, %v", again, err)
	}
	receipt, err := q.Extend(ctx, m, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if again, err := q.Dequeue(ctx, 1, time.Second); err != nil || len(again) != 0 {
		t.Fatalf("an extended message stays hidden: %+v, %v", again, err)
	}
	if err := q.Delete(ctx, m); !errors.Is(err, ErrLost) {
		t.Fatalf("Delete with the old receipt = %v, want ErrLost", err)
	}
	m.PopReceipt = receipt
	time.Sleep(2 * time.Second)
	again, err := q.Dequeue(ctx, 1, time.Second)
	if err != nil || len(again) != 1 || again[0].DequeueCount != 2 {
		t.Fatalf("after its timeout the message reappears, dequeued twice: %+v, %v", again, err)
	}
	if err := q.Delete(ctx, again[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := q.Length(ctx); err != nil || n != 0 {
		t.Fatalf("Length after delete = %d, %v", n, err)
	}
}

func TestOpenNeedsCredentials(t *testing.T) {
	if _, err := Open("azqueue://acct/jobs", artifact.Credentials{}, nil); err == nil {
		t.Fatal("Open without credentials succeeded")
	}
}
