package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

func TestParseWebhookSecrets(t *testing.T) {
	tests := []struct {
		name, value string
		want        []string
		wantErr     string
	}{
		{name: "one", value: "THEKEY", want: []string{"THEKEY"}},
		{name: "old and new, comma", value: "OLDKEY,NEWKEY", want: []string{"OLDKEY", "NEWKEY"}},
		{name: "old and new, comma and space", value: "OLDKEY, NEWKEY", want: []string{"OLDKEY", "NEWKEY"}},
		{name: "old and new, newline", value: "OLDKEY\nNEWKEY", want: []string{"OLDKEY", "NEWKEY"}},
		{name: "old and new, CRLF", value: "OLDKEY\r\nNEWKEY", want: []string{"OLDKEY", "NEWKEY"}},
		{name: "surrounding space of one", value: "  THEKEY\t", want: []string{"THEKEY"}},
		{name: "other punctuation is kept", value: "a;b=c d", want: []string{"a;b=c d"}},
		{name: "only a comma", value: ",", wantErr: "secret 1 of 2 is empty"},
		{name: "trailing comma", value: "THEKEY,", wantErr: "secret 2 of 2 is empty"},
		{name: "two commas", value: "OLDKEY,,NEWKEY", wantErr: "secret 2 of 3 is empty"},
		{name: "a blank line", value: "OLDKEY\n \nNEWKEY", wantErr: "secret 2 of 3 is empty"},
		{name: "white space only", value: " \t", wantErr: "secret 1 of 1 is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secrets, err := parseWebhookSecrets(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				wantNoSecret(t, err, "OLDKEY", "NEWKEY", "THEKEY")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, secretStrings(secrets)); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
		})
	}
}

// secretStrings returns the secrets as strings, for comparison.
func secretStrings(secrets [][]byte) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, string(s))
	}
	return out
}

// wantNoSecret checks that err's message shows none of secrets.
func wantNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
}

func TestLoadWebhookSecrets(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		contents string // written to the file; "-" means no file
		want     []string
		wantErr  string // after the path
	}{
		{name: "one with a final newline", contents: "THEKEY\n", want: []string{"THEKEY"}},
		{name: "one without a final newline", contents: "THEKEY", want: []string{"THEKEY"}},
		{name: "one with a final CRLF", contents: "THEKEY\r\n", want: []string{"THEKEY"}},
		{name: "old and new, one a line", contents: "OLDKEY\nNEWKEY\n", want: []string{"OLDKEY", "NEWKEY"}},
		{name: "old and new, comma", contents: "OLDKEY,NEWKEY\n", want: []string{"OLDKEY", "NEWKEY"}},
		{name: "only the final newline is dropped", contents: "THEKEY\n\n", wantErr: ": secret 2 of 2 is empty: separate secrets by a single comma or newline, with none after the last"},
		{name: "a blank line between", contents: "OLDKEY\n\nNEWKEY\n", wantErr: ": secret 2 of 3 is empty: separate secrets by a single comma or newline, with none after the last"},
		{name: "empty", contents: "", wantErr: " is empty"},
		{name: "a newline only", contents: "\n", wantErr: " is empty"},
		{name: "too large", contents: strings.Repeat("K", maxSecretFileBytes+1), wantErr: " is larger than 65536 bytes: not a secret file"},
		{name: "missing", contents: "-", wantErr: ": no such file or directory"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("secret-%d", i))
			if tc.contents != "-" {
				if err := os.WriteFile(path, []byte(tc.contents), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			secrets, err := loadWebhookSecrets(path)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "read "), path)
				if diff := cmp.Diff(tc.wantErr, msg); diff != "" {
					t.Errorf("error %q (-want +got after the path):\n%s", err, diff)
				}
				wantNoSecret(t, err, "OLDKEY", "NEWKEY", "THEKEY", "KKK")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, secretStrings(secrets)); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServeWebhookSecretSources checks that the checked configuration
// holds the secrets of whichever source was set.
func TestServeWebhookSecretSources(t *testing.T) {
	_, keyPEM := serveTestKey(t)
	file := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(file, []byte("OLDKEY\nNEWKEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{name: "variable", vars: map[string]string{"PROMOBOT_WEBHOOK_SECRET": "OLDKEY,NEWKEY"}, want: []string{"OLDKEY", "NEWKEY"}},
		{name: "flag", args: []string{"--webhook-secret", "THEKEY"}, want: []string{"THEKEY"}},
		{name: "file from the variable", vars: map[string]string{"PROMOBOT_WEBHOOK_SECRET_FILE": file}, want: []string{"OLDKEY", "NEWKEY"}},
		{name: "file from the flag", args: []string{"--webhook-secret-file", file}, want: []string{"OLDKEY", "NEWKEY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"PROMOBOT_APP_ID": "12", "PROMOBOT_PRIVATE_KEY": string(keyPEM), "PROMOBOT_CACHE_DIR": t.TempDir()}
			for k, v := range tc.vars {
				vars[k] = v
			}
			e := &env{getenv: func(k string) string { return vars[k] }}
			var f serveFlags
			fl := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			f.register(fl)
			if err := fl.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := fromEnv(fl, e); err != nil {
				t.Fatal(err)
			}
			c, err := f.check(e)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, secretStrings(c.webhookSecrets)); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
		})
	}
}
