package chain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/example-org/promobot/internal/failure"
)

// ReadExisting reads a log that must exist, for a reader such as an
// auditor: unlike Sink.Read, which takes a missing log for an empty one, a
// log that does not exist is an error of kind failure.NotFound, and one
// that cannot be read an error of kind failure.Unavailable. An empty log
// that exists reads as empty.
func ReadExisting(ctx context.Context, s Sink) ([]byte, error) {
	data, err := s.Read(ctx)
	if err != nil {
		if bloberror.HasCode(err, bloberror.ContainerNotFound, bloberror.BlobNotFound) {
			return nil, failure.NotFoundf("the log %s does not exist", s)
		}
		return nil, failure.UnavailableError(fmt.Errorf("could not read the log %s: %w", s, err))
	}
	if len(data) > 0 {
		return data, nil
	}
	ok, err := exists(ctx, s)
	switch {
	case err != nil:
		return nil, failure.UnavailableError(fmt.Errorf("could not read the log %s: %w", s, err))
	case !ok:
		return nil, failure.NotFoundf("the log %s does not exist", s)
	}
	return data, nil
}

// exists reports whether the log is there. Sinks this package does not
// know are taken to exist.
func exists(ctx context.Context, s Sink) (bool, error) {
	switch s := s.(type) {
	case FileSink:
		_, err := os.Stat(s.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	case *AzureSink:
		resp, err := s.blob.DownloadStream(ctx, nil)
		if bloberror.HasCode(err, bloberror.ContainerNotFound, bloberror.BlobNotFound) {
			return false, nil
		}
		if err != nil {
			return false, classify(err)
		}
		resp.Body.Close()
		return true, nil
	}
	return true, nil
}
