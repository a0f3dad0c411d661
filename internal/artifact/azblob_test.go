package artifact

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/google/go-cmp/cmp"
)

func TestParseBlobURI(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    BlobLocation
		wantURL string
		wantErr string
	}{
		{
			name:    "virtual-hosted",
			in:      "https://prodmodels.blob.core.windows.net/models/fraud/v3/model.pkl",
			want:    BlobLocation{ServiceURL: "https://prodmodels.blob.core.windows.net", Account: "prodmodels", Container: "models", Blob: "fraud/v3/model.pkl"},
			wantURL: "https://prodmodels.blob.core.windows.net/models/fraud/v3/model.pkl",
		},
		{
			name:    "sovereign cloud suffix",
			in:      "https://prodmodels.blob.core.usgovcloudapi.net/models/m.pkl",
			want:    BlobLocation{ServiceURL: "https://prodmodels.blob.core.usgovcloudapi.net", Account: "prodmodels", Container: "models", Blob: "m.pkl"},
			wantURL: "https://prodmodels.blob.core.usgovcloudapi.net/models/m.pkl",
		},
		{
			name:    "path-style azurite",
			in:      "http://127.0.0.1:10000/devstoreaccount1/models/a%20b/m.pkl",
			want:    BlobLocation{ServiceURL: "http://127.0.0.1:10000/devstoreaccount1", Account: "devstoreaccount1", Container: "models", Blob: "a b/m.pkl"},
			wantURL: "http://127.0.0.1:10000/devstoreaccount1/models/a%20b/m.pkl",
		},
		{
			name:    "path-style IPv6",
			in:      "http://[::1]:10000/devstoreaccount1/models/m.pkl",
			want:    BlobLocation{ServiceURL: "http://[::1]:10000/devstoreaccount1", Account: "devstoreaccount1", Container: "models", Blob: "m.pkl"},
			wantURL: "http://[::1]:10000/devstoreaccount1/models/m.pkl",
		},
		{name: "not a blob host", in: "https://example.com/models/m.pkl", wantErr: "is not an Azure Blob URL"},
		{name: "no blob", in: "https://prodmodels.blob.core.windows.net/models", wantErr: "names no container and blob"},
		{name: "path-style without blob", in: "http://127.0.0.1:10000/devstoreaccount1/models", wantErr: "not a path-style blob URL"},
		{name: "bad account", in: "https://Prod_Models.blob.core.windows.net/models/m.pkl", wantErr: "not a valid storage account name"},
		{name: "bad container", in: "https://prodmodels.blob.core.windows.net/Models/m.pkl", wantErr: "not a valid container name"},
		{name: "file scheme", in: "file:///models/m.pkl", wantErr: "is not an http(s) URL"},
		{name: "SAS token kept out of the error", in: "https://example.com/models/m.pkl?sv=1&sig=secret", wantErr: "https://example.com/models/m.pkl?REDACTED is not an Azure Blob URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseBlobURI(u)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if got.URL() != tt.wantURL {
				t.Errorf("URL() = %q, want %q", got.URL(), tt.wantURL)
			}
		})
	}
}

// fakeBlobClient answers with canned responses.
type fakeBlobClient struct {
	props    blob.GetPropertiesResponse
	propsErr error
	download blob.DownloadStreamResponse
	dlErr    error
	gotOpts  *blob.DownloadStreamOptions
}

func (f *fakeBlobClient) GetProperties(context.Context, *blob.GetPropertiesOptions) (blob.GetPropertiesResponse, error) {
	return f.props, f.propsErr
}

func (f *fakeBlobClient) DownloadStream(_ context.Context, o *blob.DownloadStreamOptions) (blob.DownloadStreamResponse, error) {
	f.gotOpts = o
	return f.download, f.dlErr
}

func fakeBlobStore(c *fakeBlobClient) *BlobStore {
	s, err := NewBlobStore(Credentials{SASToken: "sv=1"}, nil)
	if err != nil {
		panic(err)
	}
	s.newClient = func(BlobLocation) (blobClient, error) { return c, nil }
	return s
}

func TestBlobStoreErrors(t *testing.T) {
	u, _ := url.Parse("https://prodmodels.blob.core.windows.net/models/m.pkl")
	etag := azcore.ETag(`"0x1"`)
	other := azcore.ETag(`"0x2"`)
	tests := []struct {
		name    string
		client  *fakeBlobClient
		stat    bool
		wantIs  error
		wantErr string
	}{
		{name: "blob not found", stat: true, client: &fakeBlobClient{propsErr: &azcore.ResponseError{StatusCode: 404, ErrorCode: "BlobNotFound"}}, wantIs: ErrNotFound},
		{name: "container not found", stat: true, client: &fakeBlobClient{propsErr: &azcore.ResponseError{StatusCode: 404, ErrorCode: "ContainerNotFound"}}, wantIs: ErrNotFound},
		{name: "HEAD 404 without a code", stat: true, client: &fakeBlobClient{propsErr: &azcore.ResponseError{StatusCode: 404}}, wantIs: ErrNotFound},
		{name: "forbidden is not terminal", stat: true, client: &fakeBlobClient{propsErr: &azcore.ResponseError{StatusCode: 403, ErrorCode: "AuthorizationPermissionMismatch"}}, wantErr: "AuthorizationPermissionMismatch"},
		{name: "missing ETag", stat: true, client: &fakeBlobClient{props: blob.GetPropertiesResponse{ContentLength: ptr(int64(1))}}, wantErr: "no ETag"},
		{name: "precondition failed", client: &fakeBlobClient{dlErr: &azcore.ResponseError{StatusCode: 412, ErrorCode: "ConditionNotMet"}}, wantIs: ErrChanged},
		{name: "range not satisfiable", client: &fakeBlobClient{dlErr: &azcore.ResponseError{StatusCode: 416}}, wantIs: ErrChanged},
		{
			name:   "server ignored If-Match",
			client: &fakeBlobClient{download: blob.DownloadStreamResponse{DownloadResponse: blob.DownloadResponse{ETag: &other, Body: io.NopCloser(strings.NewReader("x"))}}},
			wantIs: ErrChanged,
		},
		{
			name:    "short response",
			client:  &fakeBlobClient{download: blob.DownloadStreamResponse{DownloadResponse: blob.DownloadResponse{ETag: &etag, ContentLength: ptr(int64(3)), Body: io.NopCloser(strings.NewReader("xyz"))}}},
			wantErr: "asked for 10 bytes at offset 0, the response has 3",
		},
		{
			name:    "SAS is stripped from transport errors",
			client:  &fakeBlobClient{dlErr: &url.Error{Op: "Get", URL: "https://prodmodels.blob.core.windows.net/models/m.pkl?sv=1&sig=SECRET", Err: errors.New("connection reset")}},
			wantErr: `Get "https://prodmodels.blob.core.windows.net/models/m.pkl": connection reset`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeBlobStore(tt.client)
			var err error
			if tt.stat {
				_, err = s.Stat(t.Context(), u)
			} else {
				_, err = s.OpenRange(t.Context(), u, string(etag), 0, 10)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if tt.wantIs == nil && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrChanged)) {
				t.Errorf("error %v is classified as terminal", err)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %v leaks the SAS", err)
			}
		})
	}
}

func TestBlobStorePinsETag(t *testing.T) {
	u, _ := url.Parse("https://prodmodels.blob.core.windows.net/models/m.pkl")
	etag := azcore.ETag(`"0x1"`)
	c := &fakeBlobClient{download: blob.DownloadStreamResponse{DownloadResponse: blob.DownloadResponse{
		ETag: &etag, ContentLength: ptr(int64(4)), Body: io.NopCloser(strings.NewReader("abcd")),
	}}}
	r, err := fakeBlobStore(c).OpenRange(t.Context(), u, string(etag), 6, 4)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	o := c.gotOpts
	if o == nil || o.Range != (blob.HTTPRange{Offset: 6, Count: 4}) ||
		o.AccessConditions == nil || o.AccessConditions.ModifiedAccessConditions == nil ||
		o.AccessConditions.ModifiedAccessConditions.IfMatch == nil || *o.AccessConditions.ModifiedAccessConditions.IfMatch != etag {
		t.Errorf("download options do not pin the range and ETag: %+v", o)
	}
	if _, err := fakeBlobStore(c).OpenRange(t.Context(), u, "", 0, 4); err == nil {
		t.Error("an unpinned read was allowed")
	}
}
