package featurekit

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/githubapi"
)

type repositoryGetter struct {
	r   githubapi.Repository
	err error
}

func (g repositoryGetter) Repository(context.Context, string, string) (githubapi.Repository, error) {
	return g.r, g.err
}

func TestReread(t *testing.T) {
	hinted := bot.Repo{Installation: 7, Owner: "acme", Name: "models", CloneURL: "https://hint.example/acme/models.git", DefaultBranch: "hinted"}
	down := errors.New("GitHub is down")
	tests := []struct {
		name    string
		github  repositoryGetter
		want    bot.Repo
		wantErr error
	}{
		{
			name:   "GitHub's default branch and clone URL replace the hints",
			github: repositoryGetter{r: githubapi.Repository{CloneURL: "https://github.example/acme/models.git", DefaultBranch: "main"}},
			want:   bot.Repo{Installation: 7, Owner: "acme", Name: "models", CloneURL: "https://github.example/acme/models.git", DefaultBranch: "main"},
		},
		{
			name:   "no clone URL from GitHub keeps the hinted one",
			github: repositoryGetter{r: githubapi.Repository{DefaultBranch: "main"}},
			want:   bot.Repo{Installation: 7, Owner: "acme", Name: "models", CloneURL: "https://hint.example/acme/models.git", DefaultBranch: "main"},
		},
		{name: "an error is returned", github: repositoryGetter{err: down}, want: hinted, wantErr: down},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Reread(t.Context(), tc.github, hinted)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Reread (-want +got):\n%s", diff)
			}
		})
	}
}
