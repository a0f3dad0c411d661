package issue

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/gittest"
)

const repoName = "example-org/models-gitops"

func manifestYAML(env, version string) string {
	sum := attest.ArtifactSHA256([]byte(env + version))
	return fmt.Sprintf(`apiVersion: promobot/v1
kind: ModelDeployment
model: churn
environment: %s
version: "%s"
artifact:
  uri: https://acct.blob.core.windows.net/models/churn/%s/model.pkl
  sha256: %s
  size: 10
approval:
  ticket: CHG-1
`, env, version, version, sum)
}

// evaluator answers with a fixed verdict and counts its calls.
type evaluator struct {
	v     Verdict
	err   error
	calls atomic.Int32
}

func (e *evaluator) EvaluateMerge(_ context.Context, firstParent, merge string) (Verdict, error) {
	e.calls.Add(1)
	if e.err != nil {
		return Verdict{}, e.err
	}
	v := e.v
	v.Head = merge
	return v, nil
}

func green() Verdict {
	return Verdict{
		Green:       true,
		PullRequest: &attest.PullRequest{Number: 7, URL: "https://github.com/example-org/models-gitops/pull/7", Author: "alice"},
		Approvers: []attest.Approver{{Login: "bob", ID: 2, ReviewID: 11, Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
			CommitID: strings.Repeat("a", 40)}},
		Rules:      []attest.RuleOutcome{{Family: "approvals", Status: "pass"}},
		CheckRunID: 99,
	}
}

func newSigner(t *testing.T) attest.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	s, err := attest.NewPEMSigner(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type fixture struct {
	path   string
	commit func(files map[string]string, msg string) string
}

func newRepo(t *testing.T) fixture {
	t.Helper()
	root := t.TempDir()
	p, err := gittest.InitBare(root, "repo.git", "main")
	if err != nil {
		t.Fatal(err)
	}
	commit := func(files map[string]string, msg string) string {
		t.Helper()
		h, err := gittest.CommitFiles(p, gittest.Commit{Branch: "main", Files: files, Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	return fixture{path: p, commit: commit}
}

func open(t *testing.T, path string, ev Evaluator) Repository {
	t.Helper()
	g, err := gitrepo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return Repository{Name: repoName, Git: g, Evaluator: ev}
}

func TestIssueMergeKinds(t *testing.T) {
	f := newRepo(t)
	f.commit(map[string]string{"README.md": "hi\n"}, "init")
	reg := f.commit(map[string]string{"environments/prod/churn.yaml": manifestYAML("prod", "1.0.0")}, "register")
	promo := f.commit(map[string]string{"environments/prod/churn.yaml": manifestYAML("prod", "1.1.0")}, "promote")
	back := f.commit(map[string]string{"environments/prod/churn.yaml": manifestYAML("prod", "1.0.0")}, "rollback")
	edit := f.commit(map[string]string{"environments/prod/churn.yaml": manifestYAML("prod", "1.0.0") + "notes: edited\n"}, "edit")
	docs := f.commit(map[string]string{"README.md": "more\n"}, "docs")
	f.commit(map[string]string{"environments/prod/churn.yaml": manifestYAML("prod", "1.1.0")}, "promote again")
	back2 := f.commit(map[string]string{"environments/prod/churn.yaml": manifestYAML("prod", "1.0.0") + "notes: back\n"}, "rollback with a note")

	ev := &evaluator{v: green()}
	r := open(t, f.path, ev)
	signer := newSigner(t)
	store := attest.FileStore{Dir: t.TempDir()}
	is := &Issuer{Signer: signer, Store: store, BotVersion: "test"}
	root, err := attest.NewTrustRoot(attest.TrustedKey{ID: signer.KeyID(), Public: signer.Public()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, merge, kind, version, previous string
	}{
		{"registration", reg, attest.ChangeRegistration, "1.0.0", ""},
		{"promotion", promo, attest.ChangePromotion, "1.1.0", "1.0.0"},
		{"edit", edit, attest.ChangeEdit, "1.0.0", "1.0.0"},
		{"rollback", back2, attest.ChangeRollback, "1.0.0", "1.1.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := is.IssueMerge(context.Background(), r, tc.merge)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Pins) != 1 || res.Pins[0].Status != StatusIssued || res.Pins[0].ChangeKind != tc.kind {
				t.Fatalf("pins = %+v, want one issued %s", res.Pins, tc.kind)
			}
			pin := res.Pins[0]
			loc, _ := attest.Location{Repository: repoName, Environment: "prod", Model: "churn", Version: tc.version, ManifestBlob: pin.ManifestBlob, KeyID: signer.KeyID()}.Path()
			data, err := store.Get(context.Background(), loc)
			if err != nil {
				t.Fatal(err)
			}
			v, err := attest.Verify(data, root, attest.Expectation{Repository: repoName, Environment: "prod", Model: "churn", Version: tc.version,
				ManifestBlob: pin.ManifestBlob, ArtifactSHA256: attest.ArtifactSHA256([]byte("prod" + tc.version)), MergeCommit: tc.merge})
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Statement.Predicate.PreviousVersion; got != tc.previous {
				t.Errorf("previous version = %q, want %q", got, tc.previous)
			}
			if v.Statement.Predicate.Commits.FirstParent == "" || v.Statement.Predicate.PullRequest.Number != 7 {
				t.Errorf("predicate = %+v", v.Statement.Predicate)
			}
			// Issuing again is idempotent and asks GitHub nothing.
			calls := ev.calls.Load()
			again, err := is.IssueMerge(context.Background(), r, tc.merge)
			if err != nil || len(again.Pins) != 1 || again.Pins[0].Status != StatusPresent || ev.calls.Load() != calls {
				t.Fatalf("again = %+v, %v (calls %d→%d)", again, err, calls, ev.calls.Load())
			}
		})
	}
	t.Run("identical blob pinned again", func(t *testing.T) {
		if _, err := is.IssueMerge(context.Background(), r, reg); err != nil {
			t.Fatal(err)
		}
		res, err := is.IssueMerge(context.Background(), r, back)
		if err != nil || len(res.Conflicts()) != 1 {
			t.Fatalf("res = %+v, %v; want a conflict", res, err)
		}
	})
	t.Run("no pin changed", func(t *testing.T) {
		calls := ev.calls.Load()
		res, err := is.IssueMerge(context.Background(), r, docs)
		if err != nil || len(res.Pins) != 0 || ev.calls.Load() != calls {
			t.Fatalf("res = %+v, %v", res, err)
		}
	})
}

func TestNotGreenIssuesNothingAndIsRemembered(t *testing.T) {
	f := newRepo(t)
	f.commit(map[string]string{"README.md": "hi\n"}, "init")
	push := f.commit(map[string]string{"environments/prod/churn.yaml": manifestYAML("prod", "1.0.0")}, "direct push")
	ev := &evaluator{v: Verdict{Reason: "no merged pull request has this commit as its merge commit"}}
	r := open(t, f.path, ev)
	dir := t.TempDir()
	is := &Issuer{Signer: newSigner(t), Store: attest.FileStore{Dir: dir}, BotVersion: "test"}
	for range 2 {
		res, err := is.IssueMerge(context.Background(), r, push)
		if err != nil || len(res.Pins) != 0 || !strings.Contains(res.NotGreen, "no merged pull request") {
			t.Fatalf("res = %+v, %v", res, err)
		}
	}
	if ev.calls.Load() != 1 {
		t.Errorf("evaluated %d times, want once", ev.calls.Load())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "v1", "*")); len(m) != 0 {
		t.Errorf("store holds %v", m)
	}
}

// failingStore is down until up is set.
type failingStore struct {
	attest.FileStore
	up atomic.Bool
}

func (s *failingStore) Put(ctx context.Context, path string, data []byte) error {
	if !s.up.Load() {
		return fmt.Errorf("%w: store down", attest.ErrUnavailable)
	}
	return s.FileStore.Put(ctx, path, data)
}

func TestRecoverIssuesWhatWasMissed(t *testing.T) {
	f := newRepo(t)
	f.commit(map[string]string{"README.md": "hi\n"}, "init")
	merge := f.commit(map[string]string{
		"environments/prod/churn.yaml": manifestYAML("prod", "1.0.0"),
		"environments/test/churn.yaml": manifestYAML("test", "1.0.0"),
	}, "merge")
	tip := f.commit(map[string]string{"README.md": "later\n"}, "docs")
	ev := &evaluator{v: green()}
	r := open(t, f.path, ev)
	store := &failingStore{FileStore: attest.FileStore{Dir: t.TempDir()}}
	is := &Issuer{Signer: newSigner(t), Store: store, BotVersion: "test"}

	if _, err := is.IssueMerge(context.Background(), r, merge); !errors.Is(err, attest.ErrUnavailable) {
		t.Fatalf("with the store down: %v", err)
	}
	store.up.Store(true)
	out, err := is.Recover(context.Background(), r, tip)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Merge != merge || len(out[0].Pins) != 2 {
		t.Fatalf("recover = %+v", out)
	}
	calls := ev.calls.Load()
	out, err = is.Recover(context.Background(), r, tip)
	if err != nil || len(out) != 0 || ev.calls.Load() != calls {
		t.Fatalf("second pass = %+v, %v", out, err)
	}
}

func TestEvaluatorErrorIsRetried(t *testing.T) {
	f := newRepo(t)
	f.commit(map[string]string{"README.md": "hi\n"}, "init")
	merge := f.commit(map[string]string{"environments/prod/churn.yaml": manifestYAML("prod", "1.0.0")}, "merge")
	ev := &evaluator{err: errors.New("GitHub is down")}
	r := open(t, f.path, ev)
	is := &Issuer{Signer: newSigner(t), Store: attest.FileStore{Dir: t.TempDir()}, BotVersion: "test"}
	if _, err := is.IssueMerge(context.Background(), r, merge); err == nil {
		t.Fatal("no error")
	}
	ev.err, ev.v = nil, green()
	res, err := is.IssueMerge(context.Background(), r, merge)
	if err != nil || len(res.Pins) != 1 || res.Pins[0].Status != StatusIssued {
		t.Fatalf("retry = %+v, %v", res, err)
	}
}
