package attest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/example-org/promobot/internal/artifact"
)

var (
	accountPattern   = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	containerPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
)

// blobStore keeps bundles in one Azure Blob Storage container.
type blobStore struct {
	serviceURL string
	account    string
	container  string
	prefix     string
	creds      artifact.Credentials
	key        string
	sas        string
	options    blockblob.ClientOptions
}

// newBlobStore returns the store of azblob://account/container/prefix.
func newBlobStore(account, container, prefix string, creds artifact.Credentials, opts *StoreOptions) (*blobStore, error) {
	if !accountPattern.MatchString(account) {
		return nil, fmt.Errorf("%q is not a valid storage account name (3-24 lower-case letters and digits)", account)
	}
	if !containerPattern.MatchString(container) {
		return nil, fmt.Errorf("%q is not a valid container name", container)
	}
	s := &blobStore{account: account, container: container, prefix: strings.Trim(prefix, "/"), creds: creds}
	s.serviceURL = "https://" + account + ".blob.core.windows.net"
	if opts.BlobServiceURL != "" {
		s.serviceURL = strings.TrimSuffix(opts.BlobServiceURL, "/")
	}
	switch {
	case creds.ConnectionString != "":
		acct, key, sas, err := artifact.ParseConnectionString(creds.ConnectionString)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(acct, account) {
			return nil, fmt.Errorf("the connection string is for storage account %q but the store is in account %q", acct, account)
		}
		s.key, s.sas = key, sas
	case creds.SASToken != "":
		if _, err := url.ParseQuery(strings.TrimPrefix(creds.SASToken, "?")); err != nil {
			return nil, errors.New("the SAS token is not a valid query string")
		}
		s.sas = strings.TrimPrefix(creds.SASToken, "?")
	case creds.TokenCredential != nil:
	default:
		return nil, errors.New("no Azure Storage credentials: give a connection string, a SAS token or a token credential")
	}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		httpClient = &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	s.options = blockblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: httpClient,
		Retry:     policy.RetryOptions{MaxRetries: opts.MaxRetries},
		Telemetry: policy.TelemetryOptions{ApplicationID: "promobot"},
	}}
	return s, nil
}

// String returns azblob://account/container/prefix.
func (s *blobStore) String() string {
	out := "azblob://" + s.account + "/" + s.container
	if s.prefix != "" {
		out += "/" + s.prefix
	}
	return out
}

// client returns a block blob client for a store path.
func (s *blobStore) client(path string) (*blockblob.Client, error) {
	name := path
	if s.prefix != "" {
		name = s.prefix + "/" + path
	}
	segs := strings.Split(name, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	blobURL := s.serviceURL + "/" + s.container + "/" + strings.Join(segs, "/")
	switch {
	case s.key != "":
		cred, err := blob.NewSharedKeyCredential(s.account, s.key)
		if err != nil {
			return nil, fmt.Errorf("the connection string's account key is invalid: %w", err)
		}
		return blockblob.NewClientWithSharedKeyCredential(blobURL, cred, &s.options)
	case s.sas != "":
		return blockblob.NewClientWithNoCredential(blobURL+"?"+s.sas, &s.options)
	default:
		return blockblob.NewClient(blobURL, s.creds.TokenCredential, &s.options)
	}
}

// Put uploads data with If-None-Match: *, so an existing blob is never
// replaced; an existing blob with the same bytes is a successful retry.
func (s *blobStore) Put(ctx context.Context, path string, data []byte) error {
	c, err := s.client(path)
	if err != nil {
		return err
	}
	_, err = c.Upload(ctx, streaming.NopCloser(bytes.NewReader(data)), &blockblob.UploadOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{
			IfNoneMatch: to.Ptr(azcore.ETagAny),
		}},
	})
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet) ||
		(errors.As(err, &re) && (re.StatusCode == http.StatusConflict || re.StatusCode == http.StatusPreconditionFailed)) {
		return sameOrExists(s.Get(ctx, path))(data, s.String()+"/"+path)
	}
	return classifyStoreError(err)
}

// Get downloads the bundle at path.
func (s *blobStore) Get(ctx context.Context, path string) ([]byte, error) {
	c, err := s.client(path)
	if err != nil {
		return nil, err
	}
	resp, err := c.DownloadStream(ctx, nil)
	if err != nil {
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, s, path)
		}
		return nil, classifyStoreError(err)
	}
	defer resp.Body.Close()
	return readBounded(resp.Body)
}

// classifyStoreError wraps a service or transport error in ErrUnavailable
// and strips query strings (SAS tokens) from URLs in it.
func classifyStoreError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			ue.URL = u.String()
		} else {
			ue.URL = "(unparsable URL)"
		}
	}
	if bloberror.HasCode(err, bloberror.ContainerNotFound) {
		return fmt.Errorf("%w: the attestation container does not exist: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
