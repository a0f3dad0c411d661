package bot_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/attest/issue"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/attestissue"
	"github.com/example-org/promobot/internal/bot/branchaudit"
	"github.com/example-org/promobot/internal/bot/chatops"
	"github.com/example-org/promobot/internal/bot/rollbackcmd"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/testing/bottest"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// sideEffects are what a scenario left behind: the writes GitHub received
// by endpoint, the attestations stored and the audit records exported.
type sideEffects struct {
	Writes       map[string]int
	Attestations int
	AuditLines   int
}

// TestEveryDeliveryTwice runs one scenario touching every side effect (check
// runs, autoPropose's pull request and comment, a rollback pull request and
// its reply, a bypass issue and status, attestations, the audit export)
// once with every delivery sent once and once with every delivery sent
// twice, and wants the same side effects: a message delivered again, as
// at-least-once delivery does, duplicates nothing.
func TestEveryDeliveryTwice(t *testing.T) {
	t.Parallel()
	once := runEverySideEffect(t, false, nil)
	twice := runEverySideEffect(t, true, nil)
	if len(once.Writes) == 0 || once.Attestations == 0 || once.AuditLines == 0 {
		t.Fatalf("the scenario left too little to compare: %+v", once)
	}
	if diff := cmp.Diff(once, twice); diff != "" {
		t.Errorf("side effects with every delivery twice (-once +twice):\n%s", diff)
	}
}

// runEverySideEffect runs the scenario, on durable when it is set.
func runEverySideEffect(t *testing.T, twice bool, durable *bot.DurableQueue) sideEffects {
	t.Helper()
	attestDir, sink := t.TempDir(), filepath.Join(t.TempDir(), "audit.jsonl")
	issuer := testIssuer(t, attestDir)
	h := bottest.NewWorld(t)
	h.Timers = bottest.NewFakeTimers()
	h.Start(bottest.Options{Features: func(env bottest.Env) []bot.Feature {
		workspaces := workspace.NewSet(env.WorkDir)
		propose, err := chatops.New(chatops.Options{
			Client:   func(id int64) (chatops.API, error) { return env.Apps.Installation(id) },
			BotLogin: env.Apps.BotLogin, Workspaces: workspaces,
		})
		if err != nil {
			t.Fatal(err)
		}
		rollback, err := rollbackcmd.New(rollbackcmd.Options{
			Client:   func(id int64) (rollbackcmd.API, error) { return env.Apps.Installation(id) },
			BotLogin: env.Apps.BotLogin, Workspaces: workspaces,
		})
		if err != nil {
			t.Fatal(err)
		}
		audit, err := branchaudit.New(branchaudit.Options{
			Client:   func(id int64) (branchaudit.API, error) { return env.Apps.Installation(id) },
			BotLogin: env.Apps.BotLogin, Workspaces: workspaces, BypassIssues: true,
			Delay: time.Minute, AfterFunc: env.Timers.AfterFunc, Clock: env.Timers.Now,
			Sink: func(string, string) (chain.Sink, error) { return chain.FileSink{Path: sink}, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		attestations, err := attestissue.New(attestissue.Options{
			Issuer: issuer,
			Client: func(id int64) (attestissue.API, error) { return env.Apps.Installation(id) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return []bot.Feature{propose, rollback, audit, attestations}
	}, Durable: durable})
	h.Twice = twice
	h.SetPolicy(evaltest.Replace(evaltest.Policy, "    requireTicket: true\n    ticketPattern: \"CHG-[0-9]{3,7}\"\n", "    autoPropose: true\n"))
	h.Em.ResetCounts()

	// A reviewed prod promotion, merged: check runs, attestations, the
	// audit export.
	n, _ := h.ApprovedMerge("", nil)
	// A test promotion merged: autoPropose opens the prod one and says so.
	test, _ := h.OpenPR("promote-test", "Promote ndx-forecast to test", "alex",
		evaltest.Promote("test", evaltest.V3, evaltest.Forecaster, evaltest.Calibrator))
	h.PullRequestEvent(test, "opened")
	h.Merge(test, "val")
	// A rollback asked for in a comment: a pull request and a reply.
	h.Comment(n, "mara", "/promobot rollback")
	// A change pushed past review: a bypass issue and a failing status.
	h.DirectPush(evaltest.Promote("prod", evaltest.V3, evaltest.Forecaster), "Hotfix straight to main")
	for h.Timers.Fire(time.Minute) > 0 {
		h.Idle()
	}
	h.Idle()

	out := sideEffects{Writes: map[string]int{}}
	for endpoint, count := range h.Em.Counts() {
		if !strings.HasPrefix(endpoint, "GET ") && !strings.Contains(endpoint, "/access_tokens") {
			out.Writes[endpoint] = count
		}
	}
	_ = filepath.WalkDir(attestDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sigstore.json") {
			out.Attestations++
		}
		return nil
	})
	if data, err := os.ReadFile(sink); err == nil {
		out.AuditLines = strings.Count(string(data), "\n")
	}
	t.Logf("twice %v: %+v", twice, out)
	return out
}

// testIssuer signs attestations with a fresh key into dir.
func testIssuer(t *testing.T, dir string) *issue.Issuer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(k)
	s, err := attest.NewPEMSigner(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return &issue.Issuer{Signer: s, Store: attest.FileStore{Dir: dir}, BotVersion: "test"}
}
