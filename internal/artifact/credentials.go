package artifact

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Environment variables read by CredentialsFromEnv.
const (
	// EnvConnectionString holds an Azure Storage connection string.
	EnvConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	// EnvSASToken holds a SAS token (the query string, with or without "?").
	EnvSASToken = "AZURE_STORAGE_SAS_TOKEN"
)

// Credentials say how a BlobStore authenticates. Exactly one field is
// used, in this order: ConnectionString, SASToken, TokenCredential.
type Credentials struct {
	// ConnectionString is an Azure Storage connection string with an
	// AccountKey or a SharedAccessSignature. Only its credentials are used;
	// requests always go to the artifact URI's host, never to the
	// connection string's endpoints.
	ConnectionString string
	// SASToken is a shared access signature appended to every request.
	SASToken string
	// TokenCredential is a Microsoft Entra ID credential, normally
	// azidentity.DefaultAzureCredential (managed identity in production).
	TokenCredential azcore.TokenCredential
}

// Kind names the credential that will be used, for logs: "connection
// string", "SAS token", "token credential" or "none". It never reveals the
// secret.
func (c Credentials) Kind() string {
	switch {
	case c.ConnectionString != "":
		return "connection string"
	case c.SASToken != "":
		return "SAS token"
	case c.TokenCredential != nil:
		return "token credential"
	}
	return "none"
}

// CredentialsFromEnv picks credentials from the environment through getenv
// (os.Getenv in cmd/): AZURE_STORAGE_CONNECTION_STRING if set, else
// AZURE_STORAGE_SAS_TOKEN, else azidentity.DefaultAzureCredential, which
// itself reads the AZURE_* variables of managed identity, workload identity
// and service principals.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	if cs := strings.TrimSpace(getenv(EnvConnectionString)); cs != "" {
		return Credentials{ConnectionString: cs}, nil
	}
	if sas := strings.TrimSpace(getenv(EnvSASToken)); sas != "" {
		return Credentials{SASToken: sas}, nil
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return Credentials{}, fmt.Errorf("creating the default Azure credential: %w", err)
	}
	return Credentials{TokenCredential: cred}, nil
}

// The account Azurite and the storage emulator serve, and its published key.
const (
	developmentAccount = "devstoreaccount1"
	developmentKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// ParseConnectionString extracts the account name and its key or SAS
// token from an Azure Storage connection string (UseDevelopmentStorage=true
// names Azurite's account and published key). Endpoints are ignored: requests
// go to the blob's own host. Errors never quote the connection string, which
// holds secrets.
func ParseConnectionString(s string) (account, key, sas string, err error) {
	cs, err := parseConnectionString(s)
	return cs.accountName, cs.accountKey, cs.sas, err
}

// connectionString holds the credential parts of a connection string.
type connectionString struct {
	accountName string
	accountKey  string
	sas         string
}

// parseConnectionString extracts the account and its key or SAS from
// "Key=Value;..." text. Keys are case-insensitive; endpoints are ignored.
// Errors never quote the connection string, which holds secrets.
func parseConnectionString(s string) (connectionString, error) {
	fields := map[string]string{}
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return connectionString{}, errors.New("the connection string has a part without \"=\"")
		}
		fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if strings.EqualFold(fields["usedevelopmentstorage"], "true") {
		return connectionString{accountName: developmentAccount, accountKey: developmentKey}, nil
	}
	cs := connectionString{
		accountName: fields["accountname"],
		accountKey:  fields["accountkey"],
		sas:         strings.TrimPrefix(fields["sharedaccesssignature"], "?"),
	}
	switch {
	case cs.accountKey != "" && cs.accountName == "":
		return connectionString{}, errors.New("the connection string has an AccountKey but no AccountName")
	case cs.accountKey == "" && cs.sas == "":
		return connectionString{}, errors.New("the connection string has neither an AccountKey nor a SharedAccessSignature")
	}
	return cs, nil
}
