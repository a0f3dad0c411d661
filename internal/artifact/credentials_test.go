package artifact

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    connectionString
		wantErr string
	}{
		{
			name: "account key",
			in:   "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=a2V5==;EndpointSuffix=core.windows.net",
			want: connectionString{accountName: "prod", accountKey: "a2V5=="},
		},
		{
			name: "keys are case-insensitive and spaces are trimmed",
			in:   " accountname = prod ; ACCOUNTKEY=a2V5== ;",
			want: connectionString{accountName: "prod", accountKey: "a2V5=="},
		},
		{
			name: "SAS",
			in:   "BlobEndpoint=https://prod.blob.core.windows.net/;SharedAccessSignature=?sv=2022&sig=abc%3D",
			want: connectionString{sas: "sv=2022&sig=abc%3D"},
		},
		{
			name: "development storage",
			in:   "UseDevelopmentStorage=true",
			want: connectionString{accountName: developmentAccount, accountKey: developmentKey},
		},
		{name: "no secret", in: "AccountName=prod", wantErr: "neither an AccountKey nor a SharedAccessSignature"},
		{name: "key without account", in: "AccountKey=secretvalue", wantErr: "no AccountName"},
		{name: "malformed", in: "AccountName=prod;secretvalue", wantErr: "without \"=\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConnectionString(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secretvalue") {
					t.Errorf("error %q quotes the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(connectionString{})); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "connection string wins", env: map[string]string{EnvConnectionString: "UseDevelopmentStorage=true", EnvSASToken: "sv=1"}, want: "connection string"},
		{name: "SAS token", env: map[string]string{EnvSASToken: "?sv=1&sig=x"}, want: "SAS token"},
		{name: "default Azure credential", env: map[string]string{}, want: "token credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CredentialsFromEnv(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind() != tt.want {
				t.Errorf("Kind = %q, want %q", c.Kind(), tt.want)
			}
		})
	}
}

func TestNewBlobStoreNeedsCredentials(t *testing.T) {
	if _, err := NewBlobStore(Credentials{}, nil); err == nil {
		t.Error("NewBlobStore without credentials succeeded")
	}
	if _, err := NewBlobStore(Credentials{ConnectionString: "AccountName=x"}, nil); err == nil {
		t.Error("NewBlobStore with a keyless connection string succeeded")
	}
}
