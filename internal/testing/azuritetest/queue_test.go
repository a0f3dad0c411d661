package azuritetest

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

func TestStartWithQueue(t *testing.T) {
	a := StartWithQueue(t)
	if !strings.HasPrefix(a.QueueEndpoint, "http://127.0.0.1:") || a.QueueEndpoint == a.Endpoint {
		t.Fatalf("QueueEndpoint = %q (blob %q)", a.QueueEndpoint, a.Endpoint)
	}
	ctx := context.Background()
	qs, err := azqueue.NewServiceClientFromConnectionString(a.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := qs.NewQueueClient("jobs")
	if _, err := q.Create(ctx, nil); err != nil {
		t.Fatalf("create queue: %v", err)
	}
	if _, err := q.EnqueueMessage(ctx, "hello", nil); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	got, err := q.DequeueMessage(ctx, nil)
	if err != nil || len(got.Messages) != 1 || *got.Messages[0].MessageText != "hello" {
		t.Fatalf("dequeue = %+v, %v", got, err)
	}
	bs, err := azblob.NewClientFromConnectionString(a.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bs.CreateContainer(ctx, "leases", nil); err != nil {
		t.Fatalf("the same connection string reaches the blob service: %v", err)
	}
}

// TestSharedWithQueue hands each test an account of its own on one blob
// and queue service: the same queue name in two accounts holds different
// messages, and the connection string reaches both services.
func TestSharedWithQueue(t *testing.T) {
	a, b := SharedWithQueue(t), SharedWithQueue(t)
	if a.QueueHost != b.QueueHost || a.Host != b.Host || a.Account == b.Account {
		t.Fatalf("accounts %s and %s at %s/%s and %s/%s: want two accounts on one service",
			a.Account, b.Account, a.Host, a.QueueHost, b.Host, b.QueueHost)
	}
	ctx := t.Context()
	for _, az := range []*Azurite{a, b} {
		if want := "http://" + az.QueueHost + "/" + az.Account; az.QueueEndpoint != want {
			t.Errorf("QueueEndpoint = %q, want %q", az.QueueEndpoint, want)
		}
		qs, err := azqueue.NewServiceClientFromConnectionString(az.ConnectionString, nil)
		if err != nil {
			t.Fatal(err)
		}
		q := qs.NewQueueClient("jobs")
		if _, err := q.Create(ctx, nil); err != nil {
			t.Fatalf("%s: create queue: %v", az.Account, err)
		}
		if _, err := q.EnqueueMessage(ctx, az.Account, nil); err != nil {
			t.Fatalf("%s: enqueue: %v", az.Account, err)
		}
		bs, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bs.CreateContainer(ctx, "leases", nil); err != nil {
			t.Fatalf("%s: the same connection string reaches the blob service: %v", az.Account, err)
		}
	}
	for _, az := range []*Azurite{a, b} {
		qs, _ := azqueue.NewServiceClientFromConnectionString(az.ConnectionString, nil)
		got, err := qs.NewQueueClient("jobs").DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: to32(32)})
		if err != nil || len(got.Messages) != 1 || *got.Messages[0].MessageText != az.Account {
			t.Errorf("%s: jobs holds %+v, %v; want its own message alone", az.Account, got.Messages, err)
		}
	}
}

func to32(n int32) *int32 { return &n }
