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
