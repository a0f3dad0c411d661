package lease

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/example-org/promobot/internal/artifact"
)

// Blobs acquires leases on the blobs of one container: one empty block
// blob per lease name, created on first use.
type Blobs struct {
	container *container.Client
	opts      Options
}

// ContainerURL turns azblob://ACCOUNT/CONTAINER into
// https://ACCOUNT.blob.core.windows.net/CONTAINER and checks a full
// container URL (path-style http(s)://HOST/ACCOUNT/CONTAINER for Azurite).
func ContainerURL(spec string) (string, error) {
	full := spec
	if rest, ok := strings.CutPrefix(spec, "azblob://"); ok {
		account, name, _ := strings.Cut(rest, "/")
		full = "https://" + account + ".blob.core.windows.net/" + name
	}
	u, err := url.Parse(full)
	if err != nil || u.RawQuery != "" {
		return "", fmt.Errorf("lease container %q: want azblob://ACCOUNT/CONTAINER or a container URL without a query", spec)
	}
	// The location parser wants a blob: check the container with one.
	probe := *u
	probe.Path = strings.TrimSuffix(u.Path, "/") + "/x"
	loc, err := artifact.ParseBlobURI(&probe)
	if err != nil || loc.Blob != "x" {
		return "", fmt.Errorf("lease container %q: want azblob://ACCOUNT/CONTAINER or a container URL", spec)
	}
	return loc.ServiceURL + "/" + loc.Container, nil
}

// OpenBlobs returns the leases of the container at containerURL (see
// ContainerURL), authenticating with creds as the artifact store does, and
// creates the container when it does not exist.
func OpenBlobs(ctx context.Context, containerURL string, creds artifact.Credentials, opts Options) (*Blobs, error) {
	opts = opts.withDefaults()
	if opts.Period < MinPeriod || opts.Period > MaxPeriod {
		return nil, fmt.Errorf("lease period %s: Azure allows %s to %s", opts.Period, MinPeriod, MaxPeriod)
	}
	u, err := ContainerURL(containerURL)
	if err != nil {
		return nil, err
	}
	co := &container.ClientOptions{ClientOptions: azcore.ClientOptions{}}
	co.Telemetry.ApplicationID = "promobot"
	var c *container.Client
	switch {
	case creds.ConnectionString != "":
		account, key, sas, err := artifact.ParseConnectionString(creds.ConnectionString)
		if err != nil {
			return nil, err
		}
		if key != "" {
			cred, err := container.NewSharedKeyCredential(account, key)
			if err != nil {
				return nil, fmt.Errorf("the connection string's account key is invalid: %w", err)
			}
			c, err = container.NewClientWithSharedKeyCredential(u, cred, co)
			if err != nil {
				return nil, err
			}
		} else if c, err = container.NewClientWithNoCredential(u+"?"+strings.TrimPrefix(sas, "?"), co); err != nil {
			return nil, err
		}
	case creds.SASToken != "":
		if c, err = container.NewClientWithNoCredential(u+"?"+strings.TrimPrefix(creds.SASToken, "?"), co); err != nil {
			return nil, err
		}
	case creds.TokenCredential != nil:
		if c, err = container.NewClient(u, creds.TokenCredential, co); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("no Azure Storage credentials for the lease container")
	}
	if _, err := c.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return nil, fmt.Errorf("lease container %s: %w", u, err)
	}
	return &Blobs{container: c, opts: opts}, nil
}

// Period is the leases' period.
func (b *Blobs) Period() time.Duration { return b.opts.Period }

// Acquire waits until this replica holds the lease named name, or ctx
// ends.
func (b *Blobs) Acquire(ctx context.Context, name string) (*Held, error) {
	poll := b.opts.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		h, err := b.TryAcquire(ctx, name)
		if h != nil || err != nil {
			return h, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// TryAcquire takes the lease named name if no other replica holds it; it
// returns nil and no error when one does.
func (b *Blobs) TryAcquire(ctx context.Context, name string) (*Held, error) {
	bc := b.container.NewBlockBlobClient(blobName(name))
	props, err := bc.GetProperties(ctx, nil)
	takeover := false
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		_, err := bc.Upload(ctx, nopSeeker{bytes.NewReader(nil)}, &blockblob.UploadOptions{
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}},
		})
		if err != nil && !bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.LeaseIDMissing, bloberror.ConditionNotMet) {
			return nil, fmt.Errorf("lease %s: create its blob: %w", name, err)
		}
	case err != nil:
		return nil, fmt.Errorf("lease %s: %w", name, err)
	case props.LeaseState != nil && *props.LeaseState == lease.StateTypeLeased:
		return nil, nil
	case props.LeaseState != nil && (*props.LeaseState == lease.StateTypeExpired || *props.LeaseState == lease.StateTypeBroken):
		takeover = true
	}
	lc, err := lease.NewBlobClient(bc, nil)
	if err != nil {
		return nil, err
	}
	sent := b.opts.Now()
	if _, err := lc.AcquireLease(ctx, int32(b.opts.Period/time.Second), nil); err != nil {
		if bloberror.HasCode(err, bloberror.LeaseAlreadyPresent, bloberror.LeaseIsBreakingAndCannotBeAcquired) {
			return nil, nil
		}
		return nil, fmt.Errorf("lease %s: acquire: %w", name, err)
	}
	if takeover {
		b.opts.OnTakeover(name)
	}
	return hold(name, b.opts, blobLease{lc}, sent), nil
}

// blobName maps a lease name to its blob: lower-case, as names are
// case-insensitive on GitHub.
func blobName(name string) string { return strings.ToLower(name) }

// blobLease renews and releases one blob lease.
type blobLease struct{ c *lease.BlobClient }

func (l blobLease) renew(ctx context.Context) error {
	_, err := l.c.RenewLease(ctx, nil)
	if bloberror.HasCode(err, bloberror.LeaseIDMismatchWithLeaseOperation, bloberror.LeaseIsBrokenAndCannotBeRenewed,
		bloberror.LeaseNotPresentWithLeaseOperation, bloberror.LeaseLost, bloberror.BlobNotFound) {
		return fmt.Errorf("%w: %w", ErrLost, err)
	}
	return err
}

func (l blobLease) release(ctx context.Context) error {
	_, err := l.c.ReleaseLease(ctx, nil)
	return err
}

// nopSeeker gives an empty reader the Close the upload wants.
type nopSeeker struct{ *bytes.Reader }

func (nopSeeker) Close() error { return nil }
