package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/attest/issue"
)

// attestFlags are serve's attestation flags.
type attestFlags struct {
	key, vaultKey, store string
}

// serveIssuer opens the signer and the store of serve's attestation flags;
// nil when attestations are off. A partial or invalid configuration is a
// usage error, reported before listening.
func serveIssuer(ctx context.Context, e *env, f attestFlags, logger *slog.Logger) (*issue.Issuer, error) {
	if f.key == "" && f.vaultKey == "" && f.store == "" {
		return nil, nil
	}
	if (f.key == "") == (f.vaultKey == "") {
		return nil, usageError("serve: attestations need exactly one of --attest-key PEM and --attest-keyvault-key ID")
	}
	if f.store == "" {
		return nil, usageError("serve: attestations need --attest-store azblob://ACCOUNT/CONTAINER/PREFIX or file:DIR")
	}
	signer, err := openSigner(ctx, e, f.key, f.vaultKey, "serve: --attest-key", "serve: --attest-keyvault-key")
	if err != nil {
		return nil, err
	}
	var creds artifact.Credentials
	if strings.HasPrefix(f.store, "azblob:") {
		c, err := artifact.CredentialsFromEnv(e.getenv)
		if err != nil {
			return nil, usageError("serve: attestation store: %v", err)
		}
		creds = c
	}
	store, err := attest.OpenStore(f.store, creds, e.attestStoreOptions)
	if err != nil {
		return nil, usageError("serve: --attest-store: %v", err)
	}
	return &issue.Issuer{Signer: signer, Store: store, BotVersion: version, Logger: logger.With("component", "attest")}, nil
}

// openSigner opens a PEM key file or a Key Vault key (exactly one is set);
// keyFlag and vaultFlag name them in messages.
func openSigner(ctx context.Context, e *env, key, vaultKey, keyFlag, vaultFlag string) (attest.Signer, error) {
	if key != "" {
		data, err := os.ReadFile(key)
		if err != nil {
			return nil, usageError("%s: %v", keyFlag, err)
		}
		s, err := attest.NewPEMSigner(data)
		if err != nil {
			return nil, usageError("%s %s: %v", keyFlag, key, err)
		}
		return s, nil
	}
	cred := e.keyVaultCredential
	if cred == nil {
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, usageError("Key Vault credential: %v", err)
		}
		cred = c
	}
	s, err := attest.NewKeyVaultSigner(ctx, vaultKey, cred, e.keyVaultOptions)
	if err != nil {
		return nil, storeOrUsage(vaultFlag, err)
	}
	return s, nil
}
