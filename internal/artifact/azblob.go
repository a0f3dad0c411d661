package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/example-org/promobot/internal/location"
)

// blobClient is the part of the azblob blob client the store uses.
type blobClient interface {
	GetProperties(ctx context.Context, o *blob.GetPropertiesOptions) (blob.GetPropertiesResponse, error)
	DownloadStream(ctx context.Context, o *blob.DownloadStreamOptions) (blob.DownloadStreamResponse, error)
}

// BlobStoreOptions tunes a BlobStore. The zero value is ready to use.
type BlobStoreOptions struct {
	// HTTPClient sends the requests. Nil means a client with the usual
	// proxy and TLS settings that never follows redirects, so a request
	// cannot be steered to a host the location check did not accept.
	HTTPClient *http.Client
	// MaxRetries is how often the SDK retries one failed request
	// (throttling, 5xx, connection errors); zero means 3.
	MaxRetries int32
}

// BlobStore reads artifacts from Azure Blob Storage. It accepts
// virtual-hosted URLs (https://<account>.blob.core.windows.net/<container>/<path>)
// and path-style URLs on IP or localhost hosts as used by Azurite
// (http://127.0.0.1:10000/<account>/<container>/<path>). Requests always go
// to the URL's own host; credentials never choose the endpoint.
type BlobStore struct {
	creds     Credentials
	conn      connectionString
	options   blob.ClientOptions
	newClient func(loc BlobLocation) (blobClient, error)
}

// NewBlobStore returns a store that authenticates with creds.
func NewBlobStore(creds Credentials, opts *BlobStoreOptions) (*BlobStore, error) {
	if opts == nil {
		opts = &BlobStoreOptions{}
	}
	s := &BlobStore{creds: creds}
	switch {
	case creds.ConnectionString != "":
		cs, err := parseConnectionString(creds.ConnectionString)
		if err != nil {
			return nil, err
		}
		s.conn = cs
	case creds.SASToken != "":
		if _, err := url.ParseQuery(strings.TrimPrefix(creds.SASToken, "?")); err != nil {
			return nil, errors.New("the SAS token is not a valid query string")
		}
	case creds.TokenCredential != nil:
	default:
		return nil, errors.New("no Azure Storage credentials: give a connection string, a SAS token or a token credential")
	}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = defaultHTTPClient()
	}
	s.options = blob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: httpClient,
		Retry:     policy.RetryOptions{MaxRetries: opts.MaxRetries},
		Telemetry: policy.TelemetryOptions{ApplicationID: "promobot"},
	}}
	s.newClient = s.client
	return s, nil
}

// defaultHTTPClient returns a client that refuses to follow redirects.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Stat returns the blob's properties.
func (s *BlobStore) Stat(ctx context.Context, u *url.URL) (Info, error) {
	loc, err := ParseBlobURI(u)
	if err != nil {
		return Info{}, err
	}
	c, err := s.newClient(loc)
	if err != nil {
		return Info{}, err
	}
	resp, err := c.GetProperties(ctx, nil)
	if err != nil {
		return Info{}, classifyBlobError(err)
	}
	if resp.ETag == nil || *resp.ETag == "" || resp.ContentLength == nil {
		return Info{}, errors.New("the storage service returned no ETag or length for the blob")
	}
	info := Info{Size: *resp.ContentLength, ETag: string(*resp.ETag), ContentMD5: resp.ContentMD5}
	if resp.LastModified != nil {
		info.LastModified = *resp.LastModified
	}
	if len(resp.Metadata) > 0 {
		info.Metadata = make(map[string]string, len(resp.Metadata))
		for k, v := range resp.Metadata {
			if v != nil {
				info.Metadata[k] = *v
			}
		}
	}
	return info, nil
}

// OpenRange downloads length bytes from offset with an If-Match condition
// on etag, so a blob that changed since it was looked up yields ErrChanged.
func (s *BlobStore) OpenRange(ctx context.Context, u *url.URL, etag string, offset, length int64) (io.ReadCloser, error) {
	if etag == "" {
		return nil, errors.New("refusing an unpinned read: no ETag given")
	}
	loc, err := ParseBlobURI(u)
	if err != nil {
		return nil, err
	}
	c, err := s.newClient(loc)
	if err != nil {
		return nil, err
	}
	pinned := azcore.ETag(etag)
	resp, err := c.DownloadStream(ctx, &blob.DownloadStreamOptions{
		Range: blob.HTTPRange{Offset: offset, Count: length},
		AccessConditions: &blob.AccessConditions{
			ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &pinned},
		},
	})
	if err != nil {
		return nil, classifyBlobError(err)
	}
	if resp.Body == nil {
		return nil, errors.New("the storage service returned no content")
	}
	// Belt and braces: a service that ignored If-Match must not slip a
	// different version through.
	if resp.ETag == nil || string(*resp.ETag) != etag {
		resp.Body.Close()
		got := "none"
		if resp.ETag != nil {
			got = string(*resp.ETag)
		}
		return nil, fmt.Errorf("the response has ETag %s, not %s: %w", got, etag, ErrChanged)
	}
	if resp.ContentLength != nil && *resp.ContentLength != length {
		resp.Body.Close()
		return nil, fmt.Errorf("asked for %d bytes at offset %d, the response has %d", length, offset, *resp.ContentLength)
	}
	return resp.Body, nil
}

// client builds an azblob client for one blob with the configured
// credentials.
func (s *BlobStore) client(loc BlobLocation) (blobClient, error) {
	blobURL := loc.URL()
	opts := s.options
	switch {
	case s.conn.accountKey != "":
		if !strings.EqualFold(s.conn.accountName, loc.Account) {
			return nil, fmt.Errorf("the connection string is for storage account %q but the artifact is in account %q", s.conn.accountName, loc.Account)
		}
		cred, err := blob.NewSharedKeyCredential(s.conn.accountName, s.conn.accountKey)
		if err != nil {
			return nil, fmt.Errorf("the connection string's account key is invalid: %w", err)
		}
		return blob.NewClientWithSharedKeyCredential(blobURL, cred, &opts)
	case s.conn.sas != "":
		return blob.NewClientWithNoCredential(blobURL+"?"+s.conn.sas, &opts)
	case s.creds.SASToken != "":
		return blob.NewClientWithNoCredential(blobURL+"?"+strings.TrimPrefix(s.creds.SASToken, "?"), &opts)
	default:
		return blob.NewClient(blobURL, s.creds.TokenCredential, &opts)
	}
}

// classifyBlobError maps service errors onto ErrNotFound and ErrChanged and
// strips query strings (SAS tokens) from transport errors.
func classifyBlobError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			ue.URL = u.String()
		} else {
			ue.URL = "(unparsable URL)"
		}
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		// The SDK's message is the whole HTTP response over many lines;
		// people and logs get one.
		err = &responseError{err: re}
	}
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound, bloberror.ResourceNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.InvalidRange):
		return fmt.Errorf("%w: %w", ErrChanged, err)
	case errors.As(err, &re) && re.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &re) && (re.StatusCode == http.StatusPreconditionFailed || re.StatusCode == http.StatusRequestedRangeNotSatisfiable):
		return fmt.Errorf("%w: %w", ErrChanged, err)
	}
	return err
}

// responseError is an error answer of the storage service, told in one
// line: the status and the service's error code. The SDK's error, with the
// whole response, stays in the chain for errors.As and bloberror.HasCode.
type responseError struct{ err *azcore.ResponseError }

// Error returns "storage answered 503 Service Unavailable (ServerBusy)".
func (e *responseError) Error() string {
	msg := fmt.Sprintf("storage answered %d %s", e.err.StatusCode, http.StatusText(e.err.StatusCode))
	if e.err.ErrorCode != "" {
		msg += " (" + e.err.ErrorCode + ")"
	}
	return msg
}

// Unwrap returns the SDK's error.
func (e *responseError) Unwrap() error { return e.err }

// BlobLocation is an Azure blob URL split into its parts.
type BlobLocation struct {
	// ServiceURL is scheme://host for virtual-hosted URLs and
	// scheme://host/account for path-style URLs, without a trailing slash.
	ServiceURL string
	// Account is the storage account name.
	Account string
	// Container is the container name.
	Container string
	// Blob is the decoded blob name, which may contain slashes.
	Blob string
}

// URL returns the blob's URL with each path segment escaped.
func (l BlobLocation) URL() string {
	segs := strings.Split(l.Blob, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return l.ServiceURL + "/" + l.Container + "/" + strings.Join(segs, "/")
}

var (
	accountPattern   = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	containerPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
)

// ParseBlobURI splits an https://<account>.blob.<suffix>/<container>/<blob>
// URL, or a path-style http(s)://<ip-or-localhost>[:port]/<account>/<container>/<blob>
// URL, into its parts.
func ParseBlobURI(u *url.URL) (BlobLocation, error) {
	if u.Scheme != "https" && u.Scheme != "http" {
		return BlobLocation{}, fmt.Errorf("%s is not an http(s) URL", location.Redact(u.String()))
	}
	host := strings.ToLower(u.Hostname())
	segs := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	var loc BlobLocation
	if net.ParseIP(host) != nil || host == "localhost" {
		if len(segs) < 3 {
			return BlobLocation{}, fmt.Errorf("%s is not a path-style blob URL (/<account>/<container>/<blob>)", location.Redact(u.String()))
		}
		loc = BlobLocation{
			ServiceURL: u.Scheme + "://" + u.Host + "/" + segs[0],
			Account:    segs[0],
			Container:  segs[1],
			Blob:       strings.Join(segs[2:], "/"),
		}
	} else {
		account, rest, ok := strings.Cut(host, ".")
		if !ok || !strings.HasPrefix(rest, "blob.") {
			return BlobLocation{}, fmt.Errorf("%s is not an Azure Blob URL (https://<account>.blob.core.windows.net/<container>/<blob>)", location.Redact(u.String()))
		}
		if len(segs) < 2 {
			return BlobLocation{}, fmt.Errorf("%s names no container and blob", location.Redact(u.String()))
		}
		loc = BlobLocation{
			ServiceURL: u.Scheme + "://" + u.Host,
			Account:    account,
			Container:  segs[0],
			Blob:       strings.Join(segs[1:], "/"),
		}
	}
	switch {
	case !accountPattern.MatchString(loc.Account):
		return BlobLocation{}, fmt.Errorf("%q is not a valid storage account name (3-24 lower-case letters and digits)", loc.Account)
	case !containerPattern.MatchString(loc.Container):
		return BlobLocation{}, fmt.Errorf("%q is not a valid container name", loc.Container)
	case loc.Blob == "" || len(loc.Blob) > 1024 || strings.HasSuffix(loc.Blob, "/"):
		return BlobLocation{}, fmt.Errorf("%q is not a valid blob name", loc.Blob)
	}
	return loc, nil
}
