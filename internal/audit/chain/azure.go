package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/example-org/promobot/internal/artifact"
)

// maxBlock is the largest block AppendBlock accepts on every service
// version.
const maxBlock = 4 << 20

// maxLog bounds how much of a log Read loads.
const maxLog = 1 << 30

// appendBlobAPI is the part of the azblob append blob client the sink uses.
type appendBlobAPI interface {
	DownloadStream(ctx context.Context, o *blob.DownloadStreamOptions) (blob.DownloadStreamResponse, error)
	Create(ctx context.Context, o *appendblob.CreateOptions) (appendblob.CreateResponse, error)
	AppendBlock(ctx context.Context, body io.ReadSeekCloser, o *appendblob.AppendBlockOptions) (appendblob.AppendBlockResponse, error)
}

// containerAPI is the part of the azblob container client the sink uses.
type containerAPI interface {
	GetProperties(ctx context.Context, o *container.GetPropertiesOptions) (container.GetPropertiesResponse, error)
}

// AzureSink is a log in an Azure append blob. Each append is one or more
// AppendBlock calls conditioned on the append position, so a writer that
// read a stale length cannot interleave its lines with another's.
type AzureSink struct {
	name      string
	blob      appendBlobAPI
	container containerAPI
	blockSize int
}

// String implements Sink.
func (s *AzureSink) String() string { return s.name }

// NewAzureSink opens the append blob at blobURL: https://<account>.blob.core.windows.net/<container>/<blob>,
// a path-style http(s)://<host>/<account>/<container>/<blob> (Azurite), or
// azblob://<account>/<container>/<blob>. creds authenticates as in
// internal/artifact; opts may be nil.
func NewAzureSink(blobURL string, creds artifact.Credentials, opts *azcore.ClientOptions) (*AzureSink, error) {
	if rest, ok := strings.CutPrefix(blobURL, "azblob://"); ok {
		account, path, _ := strings.Cut(rest, "/")
		blobURL = "https://" + account + ".blob.core.windows.net/" + path
	}
	u, err := url.Parse(blobURL)
	if err != nil {
		return nil, fmt.Errorf("bad blob URL: %w", err)
	}
	sas := u.RawQuery
	u.RawQuery = ""
	loc, err := artifact.ParseBlobURI(u)
	if err != nil {
		return nil, err
	}
	var co azcore.ClientOptions
	if opts != nil {
		co = *opts
	}
	bo := &appendblob.ClientOptions{ClientOptions: co}
	cOpts := &container.ClientOptions{ClientOptions: co}
	containerURL := loc.ServiceURL + "/" + loc.Container
	s := &AzureSink{name: loc.URL(), blockSize: maxBlock}
	key, connSAS, err := connectionCredentials(creds.ConnectionString, loc.Account)
	if err != nil {
		return nil, err
	}
	if sas == "" {
		sas = strings.TrimPrefix(connSAS, "?")
	}
	if sas == "" {
		sas = strings.TrimPrefix(creds.SASToken, "?")
	}
	switch {
	case key != nil:
		b, err := appendblob.NewClientWithSharedKeyCredential(loc.URL(), key, bo)
		if err != nil {
			return nil, err
		}
		c, err := container.NewClientWithSharedKeyCredential(containerURL, key, cOpts)
		if err != nil {
			return nil, err
		}
		s.blob, s.container = b, c
	case sas != "":
		b, err := appendblob.NewClientWithNoCredential(loc.URL()+"?"+sas, bo)
		if err != nil {
			return nil, err
		}
		c, err := container.NewClientWithNoCredential(containerURL+"?"+sas, cOpts)
		if err != nil {
			return nil, err
		}
		s.blob, s.container = b, c
	case creds.TokenCredential != nil:
		b, err := appendblob.NewClient(loc.URL(), creds.TokenCredential, bo)
		if err != nil {
			return nil, err
		}
		c, err := container.NewClient(containerURL, creds.TokenCredential, cOpts)
		if err != nil {
			return nil, err
		}
		s.blob, s.container = b, c
	default:
		return nil, errors.New("no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_SAS_TOKEN, or sign in for DefaultAzureCredential")
	}
	return s, nil
}

// connectionCredentials reads the account key or SAS of a connection
// string. Errors never quote it: it holds secrets.
func connectionCredentials(cs, account string) (*blob.SharedKeyCredential, string, error) {
	if strings.TrimSpace(cs) == "" {
		return nil, "", nil
	}
	name, key, sas, err := artifact.ParseConnectionString(cs)
	if err != nil {
		return nil, "", fmt.Errorf("chain: %w", err)
	}
	if key == "" {
		return nil, sas, nil
	}
	if !strings.EqualFold(name, account) {
		return nil, "", fmt.Errorf("chain: the connection string is for storage account %q but the log is in account %q", name, account)
	}
	cred, err := blob.NewSharedKeyCredential(name, key)
	if err != nil {
		return nil, "", errors.New("chain: the connection string's account key is invalid")
	}
	return cred, "", nil
}

// Read implements Sink.
func (s *AzureSink) Read(ctx context.Context) ([]byte, error) {
	resp, err := s.blob.DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	defer resp.Body.Close()
	if resp.BlobType != nil && *resp.BlobType != blob.BlobTypeAppendBlob {
		return nil, fmt.Errorf("%s is a %s, not an append blob", s.name, *resp.BlobType)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLog+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxLog {
		return nil, fmt.Errorf("%s is larger than 1 GiB", s.name)
	}
	return data, nil
}

// Append implements Sink.
func (s *AzureSink) Append(ctx context.Context, offset int64, data []byte) error {
	if offset == 0 {
		_, err := s.blob.Create(ctx, &appendblob.CreateOptions{
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to(azcore.ETagAny)}},
		})
		// An existing blob is fine: the append position below still
		// refuses to write unless it is empty.
		if err != nil && !bloberror.HasCode(err, bloberror.BlobAlreadyExists) && !isStatus(err, http.StatusConflict, http.StatusPreconditionFailed) {
			return classify(err)
		}
	}
	pos := offset
	for _, block := range blocks(data, s.blockSize) {
		_, err := s.blob.AppendBlock(ctx, streaming.NopCloser(bytes.NewReader(block)), &appendblob.AppendBlockOptions{
			AppendPositionAccessConditions: &appendblob.AppendPositionAccessConditions{AppendPosition: to(pos)},
		})
		if bloberror.HasCode(err, bloberror.AppendPositionConditionNotMet) || isStatus(err, http.StatusPreconditionFailed) {
			return fmt.Errorf("%s is no longer %d bytes long: %w", s.name, pos, ErrConflict)
		}
		if bloberror.HasCode(err, bloberror.BlockCountExceedsLimit) {
			return fmt.Errorf("%s holds 50,000 blocks, the most an append blob can: start a new log (the old one still verifies): %w", s.name, err)
		}
		if err != nil {
			return classify(err)
		}
		pos += int64(len(block))
	}
	return nil
}

// blocks splits data into chunks of at most size bytes that end at line
// boundaries (a single longer line is its own chunk).
func blocks(data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		if len(data) <= size {
			out = append(out, data)
			break
		}
		cut := bytes.LastIndexByte(data[:size], '\n') + 1
		if cut == 0 {
			cut = bytes.IndexByte(data, '\n') + 1
			if cut == 0 {
				cut = len(data)
			}
		}
		out = append(out, data[:cut])
		data = data[cut:]
	}
	return out
}

// Protection is what the storage service says about the log's container:
// whether writes to it are locked down.
type Protection struct {
	// Known is false when the service did not answer these properties (as
	// Azurite does): nothing can be said about immutability.
	Known bool `json:"known"`
	// ImmutabilityPolicy reports a container-level time-based retention
	// policy; LegalHold a legal hold; VersionLevelWORM version-level
	// immutability support.
	ImmutabilityPolicy bool `json:"immutabilityPolicy"`
	LegalHold          bool `json:"legalHold"`
	VersionLevelWORM   bool `json:"versionLevelWorm"`
}

// Protection feature-detects the container's immutability settings. It
// never fakes them: an emulator that omits them yields Known false.
func (s *AzureSink) Protection(ctx context.Context) (Protection, error) {
	resp, err := s.container.GetProperties(ctx, nil)
	if err != nil {
		return Protection{}, classify(err)
	}
	p := Protection{Known: resp.HasImmutabilityPolicy != nil || resp.HasLegalHold != nil}
	p.ImmutabilityPolicy = resp.HasImmutabilityPolicy != nil && *resp.HasImmutabilityPolicy
	p.LegalHold = resp.HasLegalHold != nil && *resp.HasLegalHold
	p.VersionLevelWORM = resp.IsImmutableStorageWithVersioningEnabled != nil && *resp.IsImmutableStorageWithVersioningEnabled
	return p, nil
}

func isStatus(err error, codes ...int) bool {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	for _, c := range codes {
		if re.StatusCode == c {
			return true
		}
	}
	return false
}

// classify strips SAS tokens from transport errors.
func classify(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			ue.URL = u.String()
		}
	}
	return err
}

func to[T any](v T) *T { return &v }
