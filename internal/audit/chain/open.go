package chain

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/artifact"
)

// OpenSink opens the log a command-line argument names: file:PATH or a
// plain path for a local file; azblob://ACCOUNT/CONTAINER/BLOB, an
// https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB URL or a path-style
// Azurite URL for an Azure append blob. azureCredentials is called only
// for Azure sinks, typically artifact.CredentialsFromEnv.
func OpenSink(spec string, azureCredentials func() (artifact.Credentials, error)) (Sink, error) {
	switch {
	case strings.HasPrefix(spec, "file:"):
		return FileSink{Path: strings.TrimPrefix(spec, "file:")}, nil
	case strings.HasPrefix(spec, "azblob://"), strings.HasPrefix(spec, "https://"), strings.HasPrefix(spec, "http://"):
		creds, err := azureCredentials()
		if err != nil {
			return nil, err
		}
		return NewAzureSink(spec, creds, nil)
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("unknown sink %q: use file:PATH, azblob://ACCOUNT/CONTAINER/BLOB or a blob URL", spec)
	case spec == "":
		return nil, fmt.Errorf("no sink given")
	}
	return FileSink{Path: spec}, nil
}
