package githubtest

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/gittest"
)

// newBenchEnv serves a repository with one pull request touching 300 files.
func newBenchEnv(b *testing.B) (*github.Client, int) {
	b.Helper()
	f := NewFixture(b, Config{AppID: appID, RateLimit: 1 << 30})
	path := f.AddRepo(b, org, repoName, "main")
	f.Emulator.AddInstallation(instID, org, org+"/"+repoName)
	base := gittest.MustCommit(b, path, gittest.Commit{Branch: "main", Files: map[string]string{"README": "x\n"}, Message: "seed"})
	files := map[string]string{}
	for i := range 300 {
		files[fmt.Sprintf("many/f%03d.txt", i)] = strconv.Itoa(i) + "\n"
	}
	gittest.MustCommit(b, path, gittest.Commit{Branch: "bulk", Parents: []string{base}, Files: files, Message: "bulk"})
	n, err := f.Emulator.OpenPR(org, repoName, NewPullRequest{Title: "bulk", Head: "bulk", User: "alice"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := f.Emulator.Review(org, repoName, n, fmt.Sprintf("r%d", i), "APPROVED", ""); err != nil {
			b.Fatal(err)
		}
	}
	token, err := f.Emulator.InstallationToken(instID)
	if err != nil {
		b.Fatal(err)
	}
	return f.Client(b, token), n
}

// BenchmarkGetPull is one pull request GET, which checks mergeability and
// computes stats from git.
func BenchmarkGetPull(b *testing.B) {
	client, n := newBenchEnv(b)
	for b.Loop() {
		if _, _, err := client.PullRequests.Get(b.Context(), org, repoName, n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListFiles300 lists all 300 files of a pull request, three pages
// of 100.
func BenchmarkListFiles300(b *testing.B) {
	client, n := newBenchEnv(b)
	for b.Loop() {
		opts := &github.ListOptions{PerPage: 100}
		for {
			_, resp, err := client.PullRequests.ListFiles(b.Context(), org, repoName, n, opts)
			if err != nil {
				b.Fatal(err)
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
	}
}

// BenchmarkListReviews lists one page of 100 reviews.
func BenchmarkListReviews(b *testing.B) {
	client, n := newBenchEnv(b)
	for b.Loop() {
		if _, _, err := client.PullRequests.ListReviews(b.Context(), org, repoName, n, &github.ListOptions{PerPage: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
