package artifactcheck

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// TestVerifyInputFollowsThePolicy: the policy's verifyArtifacts decides
// which artifacts are read; the flag (all) only adds the others. Without
// storage, an artifact that must be verified is recorded as unavailable
// ("could not verify"), never left out, which the rule would skip.
func TestVerifyInputFollowsThePolicy(t *testing.T) {
	const loc = "https://acct.blob.core.windows.net/models/"
	store := memStore{objects: map[string][]byte{loc + "prod": []byte("prod"), loc + "dev": []byte("dev")}}
	pol := &policy.Policy{
		Environments: []policy.Environment{{Name: "dev"}, {Name: "prod", From: "dev", VerifyArtifacts: true}},
		Artifacts:    policy.Artifacts{AllowedLocations: []string{loc}},
	}
	const devPath, prodPath = "environments/dev/m.yaml", "environments/prod/m.yaml"
	noCredentials := errors.New("no Azure Storage credentials")
	type outcome struct {
		Verified, Unavailable bool
		Detail                string
	}
	tests := []struct {
		name       string
		all        bool
		given      map[string]evaluate.ArtifactCheck
		storesErr  error
		want       map[string]outcome
		wantStores int
	}{
		{name: "required only", wantStores: 1,
			want: map[string]outcome{prodPath: {Verified: true, Detail: "sha256 6754af9632a2 verified (4 bytes)"}}},
		{name: "the flag adds the others", all: true, wantStores: 1, want: map[string]outcome{
			prodPath: {Verified: true, Detail: "sha256 6754af9632a2 verified (4 bytes)"},
			devPath:  {Verified: true, Detail: "sha256 ef260e9aa3c6 verified (3 bytes)"},
		}},
		{name: "no credentials", storesErr: noCredentials, wantStores: 1,
			want: map[string]outcome{prodPath: {Unavailable: true, Detail: "no storage credentials: no Azure Storage credentials"}}},
		{name: "given outcomes stand and storage is not opened", wantStores: 0,
			given: map[string]evaluate.ArtifactCheck{prodPath: {Verified: true, Detail: "given"}},
			want:  map[string]outcome{prodPath: {Verified: true, Detail: "given"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &evaluate.Input{Policy: pol, Artifacts: tt.given, Head: map[string]*manifest.Document{
				devPath:  doc(devPath, loc+"dev", []byte("dev")),
				prodPath: doc(prodPath, loc+"prod", []byte("prod")),
			}}
			calls := 0
			stores := func() (artifact.Resolver, error) {
				calls++
				if tt.storesErr != nil {
					return nil, tt.storesErr
				}
				return artifact.SchemeResolver{"https": store}, nil
			}
			if err := VerifyInput(t.Context(), in, fstest.MapFS{}, stores, tt.all); err != nil {
				t.Fatal(err)
			}
			got := map[string]outcome{}
			for p, a := range in.Artifacts {
				got[p] = outcome{a.Verified, a.Unavailable, a.Detail}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if calls != tt.wantStores {
				t.Errorf("stores opened %d times, want %d", calls, tt.wantStores)
			}
		})
	}
}

// failingCredential is a token credential that finds no identity.
type failingCredential struct{}

func (failingCredential) GetToken(context.Context, azpolicy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("DefaultAzureCredential: failed to acquire a token.\nAttempted credentials:\n\tEnvironmentCredential: missing environment variables")
}

// TestNoIdentityIsNoCredentials: when the default Azure credential chain
// finds no identity, the outcome says "no storage credentials" rather than
// quoting the chain's report.
func TestNoIdentityIsNoCredentials(t *testing.T) {
	_, err := identity{failingCredential{}}.GetToken(t.Context(), azpolicy.TokenRequestOptions{})
	var nc *NoCredentialsError
	if !errors.As(err, &nc) {
		t.Fatalf("GetToken error %v is not a *NoCredentialsError", err)
	}
	// As the verifier reports a storage error: wrapped in an artifact.Error.
	out := Outcome(artifact.Result{}, &artifact.Error{Reason: artifact.ReasonUnavailable, URI: "https://a/b", Message: "artifact https://a/b: could not read", Err: err})
	want := "no storage credentials: no connection string or SAS token is set and no Azure identity could provide a token (DefaultAzureCredential: failed to acquire a token.)"
	if !out.Unavailable || out.Detail != want {
		t.Errorf("outcome %+v, want unavailable with detail %q", out, want)
	}
	if strings.Contains(out.Detail, "EnvironmentCredential") {
		t.Errorf("the detail quotes the chain's report: %q", out.Detail)
	}
}
