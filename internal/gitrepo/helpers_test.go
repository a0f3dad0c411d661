package gitrepo

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/testing/gittest"
)

// t0 is the time of the first commit in the fixtures.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// at returns t0 plus n hours.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

// fixture is a bare repository built commit by commit.
type fixture struct {
	t    *testing.T
	path string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return &fixture{t: t, path: gittest.MustInitBare(t, t.TempDir(), "repo.git", "main")}
}

// commit commits on branch at hour n and returns the hash.
func (f *fixture) commit(branch string, n int, files map[string]string, del ...string) plumbing.Hash {
	f.t.Helper()
	return plumbing.NewHash(gittest.MustCommit(f.t, f.path, gittest.Commit{
		Branch:  branch,
		Files:   files,
		Delete:  del,
		Message: fmt.Sprintf("change %d on %s", n, branch),
		Author:  gittest.Signature{Name: "Ann Author", Email: "ann@example.com", When: at(n)},
	}))
}

func (f *fixture) commitWith(c gittest.Commit) plumbing.Hash {
	f.t.Helper()
	return plumbing.NewHash(gittest.MustCommit(f.t, f.path, c))
}

func (f *fixture) open() *Repo {
	f.t.Helper()
	r, err := Open(f.path)
	if err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.t.Cleanup(func() { _ = r.Close() })
	return r
}

// manifestYAML returns a valid manifest of model in env at version, with
// notes to vary the bytes without changing the version.
func manifestYAML(env, model, version, notes string) string {
	return fmt.Sprintf(`apiVersion: promobot/v1
kind: ModelDeployment
model: %[2]s
environment: %[1]s
version: %[3]q
artifact:
  uri: https://store.blob.core.windows.net/models/%[2]s/%[3]s/model.pkl
  sha256: %064x
lineage:
  trainingRun: run-%[3]s
  sourceCommit: 0123456789abcdef0123456789abcdef01234567
validation:
  status: passed
notes: %[5]q
`, env, model, version, len(version), notes)
}

const testPolicy = `apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - name: dev
    approvals: %d
  - name: prod
    from: dev
    approvals: 2
`

func policyYAML(devApprovals int) string { return fmt.Sprintf(testPolicy, devApprovals) }

func slicesSort(s []string) { slices.Sort(s) }
