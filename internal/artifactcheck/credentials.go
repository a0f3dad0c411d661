package artifactcheck

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/example-org/promobot/internal/artifact"
)

// StoresFromEnv returns the production store resolver (see Stores) with
// Azure credentials from the environment through getenv, as
// artifact.CredentialsFromEnv picks them: a connection string, a SAS token,
// or else the default Azure credential chain (managed or workload
// identity, a service principal, the Azure CLI's login). A chain that
// finds no identity makes each blob read fail with a *NoCredentialsError.
// opts, when not nil, configure the blob store's HTTP client and retries.
func StoresFromEnv(getenv func(string) string, opts *artifact.BlobStoreOptions) (artifact.Resolver, error) {
	creds, err := artifact.CredentialsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if creds.TokenCredential != nil {
		creds.TokenCredential = identity{creds.TokenCredential}
	}
	blobs, err := artifact.NewBlobStore(creds, opts)
	if err != nil {
		return nil, err
	}
	return Stores(blobs), nil
}

// NoCredentialsError reports that storage could not be read because no
// credentials were given and no Azure identity could provide a token.
type NoCredentialsError struct {
	// Err is the credential chain's error, for logs.
	Err error
}

// Error says what is missing, with the first line of the chain's reason.
func (e *NoCredentialsError) Error() string {
	reason, _, _ := strings.Cut(e.Err.Error(), "\n")
	if len(reason) > 200 {
		reason = reason[:200] + "…"
	}
	return "no storage credentials: no connection string or SAS token is set and no Azure identity could provide a token (" + strings.TrimSpace(reason) + ")"
}

// Unwrap returns the chain's error.
func (e *NoCredentialsError) Unwrap() error { return e.Err }

// identity is a token credential whose failure to provide a token is a
// *NoCredentialsError.
type identity struct{ azcore.TokenCredential }

// GetToken asks the wrapped credential for a token.
func (c identity) GetToken(ctx context.Context, opts azpolicy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.TokenCredential.GetToken(ctx, opts)
	if err != nil && ctx.Err() == nil {
		return tok, &NoCredentialsError{Err: err}
	}
	return tok, err
}
