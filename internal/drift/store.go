package drift

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/example-org/promobot/internal/artifact"
)

// dayLayout names the folder of a day's reports.
const dayLayout = "2006-01-02"

// Store is an append-only report store: one blob per day and job,
// PREFIX/YYYY-MM-DD/JOB.jsonl, each load one line.
type Store interface {
	// Append adds one load to its day's blob of its job.
	Append(ctx context.Context, l Load) error
	// Loads returns the loads of the days from since to until (UTC days,
	// both included) and how many lines were skipped as unreadable.
	Loads(ctx context.Context, since, until time.Time) ([]Load, int, error)
	// String names the store without credentials.
	String() string
}

// Open opens the store a sink names: "file:DIR", or
// "azblob://ACCOUNT/CONTAINER/PREFIX" (or a path-style
// http(s)://HOST/ACCOUNT/CONTAINER/PREFIX URL, as Azurite serves). creds is
// called only for Azure; opts may be nil.
func Open(sink string, creds func() (artifact.Credentials, error), opts *azcore.ClientOptions) (Store, error) {
	if dir, ok := strings.CutPrefix(sink, "file:"); ok {
		if dir == "" {
			return nil, errors.New("file: needs a directory, such as file:/var/lib/promobot/reports")
		}
		return &FileStore{Dir: dir}, nil
	}
	raw := sink
	if rest, ok := strings.CutPrefix(sink, "azblob://"); ok {
		account, p, _ := strings.Cut(rest, "/")
		raw = "https://" + account + ".blob.core.windows.net/" + p
	} else if !strings.HasPrefix(sink, "https://") && !strings.HasPrefix(sink, "http://") {
		return nil, fmt.Errorf("report sink %q: want file:DIR or azblob://ACCOUNT/CONTAINER/PREFIX", sink)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("report sink: %w", err)
	}
	u.RawQuery = ""
	loc, err := artifact.ParseBlobURI(u)
	if err != nil {
		return nil, fmt.Errorf("report sink: %w", err)
	}
	c, err := creds()
	if err != nil {
		return nil, err
	}
	client, err := containerClient(loc.ServiceURL+"/"+loc.Container, loc.Account, c, opts)
	if err != nil {
		return nil, err
	}
	return &AzureStore{client: client, prefix: strings.Trim(loc.Blob, "/"), name: loc.ServiceURL + "/" + loc.Container + "/" + strings.Trim(loc.Blob, "/")}, nil
}

func containerClient(containerURL, account string, c artifact.Credentials, opts *azcore.ClientOptions) (*container.Client, error) {
	var co container.ClientOptions
	if opts != nil {
		co.ClientOptions = *opts
	}
	sas := strings.TrimPrefix(c.SASToken, "?")
	if strings.TrimSpace(c.ConnectionString) != "" {
		name, key, csSAS, err := artifact.ParseConnectionString(c.ConnectionString)
		if err != nil {
			return nil, err
		}
		if key != "" {
			if name == "" {
				name = account
			}
			cred, err := container.NewSharedKeyCredential(name, key)
			if err != nil {
				return nil, fmt.Errorf("the connection string's account key: %w", err)
			}
			return container.NewClientWithSharedKeyCredential(containerURL, cred, &co)
		}
		sas = strings.TrimPrefix(csSAS, "?")
	}
	if sas != "" {
		return container.NewClientWithNoCredential(containerURL+"?"+sas, &co)
	}
	if c.TokenCredential != nil {
		return container.NewClient(containerURL, c.TokenCredential, &co)
	}
	return nil, errors.New("no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_SAS_TOKEN, or sign in for DefaultAzureCredential")
}

func blobName(prefix string, l Load) string {
	return path.Join(prefix, l.Time.UTC().Format(dayLayout), l.Job+".jsonl")
}

func days(since, until time.Time) []string {
	var out []string
	for d := since.UTC().Truncate(24 * time.Hour); !d.After(until.UTC()); d = d.Add(24 * time.Hour) {
		out = append(out, d.Format(dayLayout))
	}
	return out
}

// AzureStore keeps reports in append blobs. Azure allows 50,000 blocks in
// an append blob and each load is one block, so a job may report up to
// 50,000 loads a day.
type AzureStore struct {
	client *container.Client
	prefix string
	name   string
}

// String implements Store.
func (s *AzureStore) String() string { return s.name }

// Append implements Store. The blob is created on the day's first load;
// a concurrent creation by the same job is not an error.
func (s *AzureStore) Append(ctx context.Context, l Load) error {
	if err := CheckJob(l.Job); err != nil {
		return err
	}
	b := s.client.NewAppendBlobClient(blobName(s.prefix, l))
	appendLine := func() error {
		_, err := b.AppendBlock(ctx, streaming.NopCloser(bytes.NewReader(l.Line())), nil)
		return err
	}
	err := appendLine()
	if !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return err
	}
	etagAny := azcore.ETagAny
	_, err = b.Create(ctx, &appendblob.CreateOptions{
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to("application/x-ndjson")},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: &etagAny}},
	})
	if err != nil && !bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet) {
		return err
	}
	return appendLine()
}

// Loads implements Store.
func (s *AzureStore) Loads(ctx context.Context, since, until time.Time) ([]Load, int, error) {
	var out []Load
	skipped := 0
	for _, day := range days(since, until) {
		prefix := path.Join(s.prefix, day) + "/"
		pager := s.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return nil, 0, err
			}
			for _, item := range page.Segment.BlobItems {
				if item.Name == nil || !strings.HasSuffix(*item.Name, ".jsonl") {
					continue
				}
				resp, err := s.client.NewBlobClient(*item.Name).DownloadStream(ctx, nil)
				if err != nil {
					return nil, 0, err
				}
				loads, n, err := ParseLines(resp.Body)
				resp.Body.Close()
				if err != nil {
					return nil, 0, fmt.Errorf("read %s: %w", *item.Name, err)
				}
				out = append(out, loads...)
				skipped += n
			}
		}
	}
	sortLoads(out)
	return out, skipped, nil
}

// FileStore keeps reports in a folder, DIR/YYYY-MM-DD/JOB.jsonl, opened for
// appending: for a job and its bot on one machine or a shared volume.
type FileStore struct {
	// Dir is the folder.
	Dir string
}

// String implements Store.
func (s *FileStore) String() string { return "file:" + s.Dir }

// Append implements Store.
func (s *FileStore) Append(_ context.Context, l Load) error {
	if err := CheckJob(l.Job); err != nil {
		return err
	}
	p := filepath.Join(s.Dir, filepath.FromSlash(blobName("", l)))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(l.Line()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Loads implements Store.
func (s *FileStore) Loads(_ context.Context, since, until time.Time) ([]Load, int, error) {
	var out []Load
	skipped := 0
	for _, day := range days(since, until) {
		entries, err := os.ReadDir(filepath.Join(s.Dir, day))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".jsonl") {
				continue
			}
			loads, n, err := readFile(filepath.Join(s.Dir, day, e.Name()))
			if err != nil {
				return nil, 0, err
			}
			out = append(out, loads...)
			skipped += n
		}
	}
	sortLoads(out)
	return out, skipped, nil
}

func readFile(p string) ([]Load, int, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return ParseLines(io.LimitReader(f, 1<<30))
}

func sortLoads(loads []Load) {
	sort.SliceStable(loads, func(i, j int) bool { return loads[i].Time.Before(loads[j].Time) })
}

func to[T any](v T) *T { return &v }
