// Package workqueue is promobot's adapter to Azure Queue Storage: the
// durable, at-least-once queue that carries the bot's job hints between
// replicas. It knows queues and messages, not what the messages mean.
//
// A message dequeued is invisible to every other consumer for a visibility
// timeout; a consumer that finishes deletes it with the pop receipt it got,
// one that needs longer extends the timeout (which changes the receipt),
// and one that dies leaves it to reappear, with its dequeue count one
// higher, once the timeout passes.
package workqueue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/failure"
)

// Scheme is the short form of a queue address: azqueue://ACCOUNT/QUEUE.
const Scheme = "azqueue"

// Message is a dequeued message.
type Message struct {
	// ID and PopReceipt identify this dequeue of the message; PopReceipt
	// changes with every Extend.
	ID, PopReceipt string
	// Text is the message's content.
	Text string
	// DequeueCount is how many times the message was dequeued, this time
	// included.
	DequeueCount int64
	// Inserted is when the message was enqueued.
	Inserted time.Time
}

// Queue is one Azure storage queue. It is safe for concurrent use.
type Queue struct {
	url    string
	client *azqueue.QueueClient
}

// ParseURL turns a queue address into the queue's URL: azqueue://ACCOUNT/QUEUE
// means https://ACCOUNT.queue.core.windows.net/QUEUE; an http(s) URL is used
// as given (Azurite is path-style: http://127.0.0.1:PORT/devstoreaccount1/QUEUE).
func ParseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("queue %q: %w", s, err)
	}
	name := strings.Trim(u.Path, "/")
	switch u.Scheme {
	case Scheme:
		if u.Host == "" || name == "" || strings.Contains(name, "/") {
			return "", fmt.Errorf("queue %q: want %s://ACCOUNT/QUEUE", s, Scheme)
		}
		return "https://" + u.Host + ".queue.core.windows.net/" + name, nil
	case "http", "https":
		if u.Host == "" || name == "" {
			return "", fmt.Errorf("queue %q: want a queue URL such as https://ACCOUNT.queue.core.windows.net/QUEUE", s)
		}
		if u.RawQuery != "" {
			return "", fmt.Errorf("queue %q: put a SAS token in %s, not in the URL", s, artifact.EnvSASToken)
		}
		return strings.TrimRight(u.String(), "/"), nil
	}
	return "", fmt.Errorf("queue %q: want %s://ACCOUNT/QUEUE or an http(s) queue URL", s, Scheme)
}

// Open connects to the queue at address (see ParseURL) with creds, the same
// credentials as the blob storage: a connection string's account key or
// SAS, a SAS token, or a token credential. Requests always go to the
// address's host, never to a connection string's endpoints. It does not
// contact the service; call Create or Length for that.
func Open(address string, creds artifact.Credentials, transport http.RoundTripper) (*Queue, error) {
	u, err := ParseURL(address)
	if err != nil {
		return nil, err
	}
	// Short retries: an enqueue happens while a webhook delivery waits for
	// its answer, which GitHub gives up on after 10 seconds.
	opts := &azqueue.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{
		MaxRetries: 2, TryTimeout: 5 * time.Second, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second,
	}}}
	if transport != nil {
		opts.Transport = &http.Client{Transport: transport}
	}
	var client *azqueue.QueueClient
	switch {
	case creds.ConnectionString != "":
		account, key, sas, err := artifact.ParseConnectionString(creds.ConnectionString)
		if err != nil {
			return nil, err
		}
		if sas != "" {
			client, err = azqueue.NewQueueClientWithNoCredential(u+"?"+strings.TrimPrefix(sas, "?"), opts)
		} else {
			var cred *azqueue.SharedKeyCredential
			if cred, err = azqueue.NewSharedKeyCredential(account, key); err != nil {
				return nil, fmt.Errorf("queue credentials: %w", err)
			}
			client, err = azqueue.NewQueueClientWithSharedKeyCredential(u, cred, opts)
		}
		if err != nil {
			return nil, err
		}
	case creds.SASToken != "":
		client, err = azqueue.NewQueueClientWithNoCredential(u+"?"+strings.TrimPrefix(creds.SASToken, "?"), opts)
	case creds.TokenCredential != nil:
		client, err = azqueue.NewQueueClient(u, creds.TokenCredential, opts)
	default:
		return nil, errors.New("queue: no credentials")
	}
	if err != nil {
		return nil, err
	}
	return &Queue{url: u, client: client}, nil
}

// URL returns the queue's URL, without credentials.
func (q *Queue) URL() string { return q.url }

// Create creates the queue unless it exists.
func (q *Queue) Create(ctx context.Context) error {
	_, err := q.client.Create(ctx, nil)
	if err != nil && !isCode(err, "QueueAlreadyExists") {
		return wrap("create the queue", err)
	}
	return nil
}

// Enqueue adds a message, visible at once and kept until it is deleted.
func (q *Queue) Enqueue(ctx context.Context, text string) error {
	never := int32(-1)
	_, err := q.client.EnqueueMessage(ctx, text, &azqueue.EnqueueMessageOptions{TimeToLive: &never})
	return wrap("enqueue", err)
}

// Dequeue takes up to n (1 to 32) visible messages, hiding each for
// visibility. It returns none, without waiting, when none is visible.
func (q *Queue) Dequeue(ctx context.Context, n int, visibility time.Duration) ([]Message, error) {
	count := int32(min(max(n, 1), 32))
	vis := seconds(visibility)
	resp, err := q.client.DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: &count, VisibilityTimeout: &vis})
	if err != nil {
		return nil, wrap("dequeue", err)
	}
	out := make([]Message, 0, len(resp.Messages))
	for _, m := range resp.Messages {
		if m == nil || m.MessageID == nil || m.PopReceipt == nil {
			continue
		}
		msg := Message{ID: *m.MessageID, PopReceipt: *m.PopReceipt}
		if m.MessageText != nil {
			msg.Text = *m.MessageText
		}
		if m.DequeueCount != nil {
			msg.DequeueCount = *m.DequeueCount
		}
		if m.InsertionTime != nil {
			msg.Inserted = *m.InsertionTime
		}
		out = append(out, msg)
	}
	return out, nil
}

// Extend hides m for visibility from now and returns its new pop receipt;
// the old one no longer deletes it.
func (q *Queue) Extend(ctx context.Context, m Message, visibility time.Duration) (string, error) {
	return q.Update(ctx, m, m.Text, visibility)
}

// Update replaces m's text and hides it for visibility from now (zero makes
// it visible at once), returning its new pop receipt.
func (q *Queue) Update(ctx context.Context, m Message, text string, visibility time.Duration) (string, error) {
	vis := int32(0)
	if visibility > 0 {
		vis = seconds(visibility)
	}
	resp, err := q.client.UpdateMessage(ctx, m.ID, m.PopReceipt, text, &azqueue.UpdateMessageOptions{VisibilityTimeout: &vis})
	if err != nil {
		if isCode(err, "MessageNotFound") || isCode(err, "PopReceiptMismatch") {
			return "", ErrLost
		}
		return "", wrap("update message "+m.ID, err)
	}
	if resp.PopReceipt == nil {
		return "", fmt.Errorf("update message %s: no pop receipt in the answer", m.ID)
	}
	return *resp.PopReceipt, nil
}

// Delete removes m. A message already gone (deleted, or dequeued again by
// another consumer after its visibility timeout) is not an error of the
// caller's: it returns ErrLost.
func (q *Queue) Delete(ctx context.Context, m Message) error {
	_, err := q.client.DeleteMessage(ctx, m.ID, m.PopReceipt, nil)
	if isCode(err, "MessageNotFound") || isCode(err, "PopReceiptMismatch") {
		return ErrLost
	}
	return wrap("delete message "+m.ID, err)
}

// ErrLost is returned by Delete for a message this consumer no longer
// holds.
var ErrLost = errors.New("queue: the message is no longer held (its visibility timeout passed)")

// Length returns the queue's approximate number of messages; it is also
// the readiness probe of the queue.
func (q *Queue) Length(ctx context.Context) (int, error) {
	resp, err := q.client.GetProperties(ctx, nil)
	if err != nil {
		return 0, wrap("read the queue's properties", err)
	}
	if resp.ApproximateMessagesCount == nil {
		return 0, nil
	}
	return int(*resp.ApproximateMessagesCount), nil
}

// seconds rounds d up to whole seconds, at least one.
func seconds(d time.Duration) int32 {
	s := (d + time.Second - 1) / time.Second
	return int32(max(s, 1))
}

// isCode reports whether err is a storage error with the given code.
func isCode(err error, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == code
}

// wrap names the operation and marks errors that a retry can cure
// (throttling, server errors, the network) as failure.Unavailable.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("queue: %s: %w", op, err)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode < 500 && re.StatusCode != http.StatusTooManyRequests && re.StatusCode != http.StatusRequestTimeout {
		return err
	}
	return failure.UnavailableError(err)
}
