package lease

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// lastRecheckKey is the leader blob's metadata entry that holds when a
// leader last started a recheck pass, in RFC 3339.
const lastRecheckKey = "lastrecheck"

// ErrNotLeading is returned by RecordRecheck on a replica that does not
// lead.
var ErrNotLeading = errors.New("this replica does not lead")

// LastRecheck returns when a leader, this replica or another, last
// recorded the start of a recheck pass (RecordRecheck); zero when none
// did. A replica that becomes the leader reads it to continue the
// previous leader's schedule instead of rechecking every pull request at
// once.
func (l *Leader) LastRecheck(ctx context.Context) (time.Time, error) {
	props, err := l.blobs.container.NewBlockBlobClient(blobName(LeaderName)).GetProperties(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("lease %s: read the last recheck: %w", LeaderName, err)
	}
	for k, v := range props.Metadata {
		if !strings.EqualFold(k, lastRecheckKey) || v == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			return time.Time{}, fmt.Errorf("lease %s: the last recheck %q: %w", LeaderName, *v, err)
		}
		return at, nil
	}
	return time.Time{}, nil
}

// RecordRecheck records at as the start of a recheck pass on the leader
// blob, under this replica's leader lease: ErrNotLeading when it does not
// lead (a replica that lost the lease cannot move another's schedule).
func (l *Leader) RecordRecheck(ctx context.Context, at time.Time) error {
	l.mu.Lock()
	h := l.held
	l.mu.Unlock()
	if h == nil || !h.Writable() {
		return ErrNotLeading
	}
	bl, ok := h.r.(blobLease)
	if !ok {
		return ErrNotLeading
	}
	_, err := l.blobs.container.NewBlockBlobClient(blobName(LeaderName)).SetMetadata(ctx,
		map[string]*string{lastRecheckKey: to.Ptr(at.UTC().Format(time.RFC3339))},
		&blob.SetMetadataOptions{AccessConditions: &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: bl.c.LeaseID()}}})
	if err != nil {
		return fmt.Errorf("lease %s: record the recheck: %w", LeaderName, err)
	}
	return nil
}
