package attestissue_test

import (
	"errors"
	"testing"

	"github.com/example-org/promobot/internal/attest/issue"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/attestissue"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/githubapi"
)

var _ attestissue.API = (*githubapi.Client)(nil)

var errOffline = errors.New("offline")

func TestNewNeedsAnIssuerAndAClient(t *testing.T) {
	client := func(int64) (attestissue.API, error) { return nil, errOffline }
	tests := []struct {
		name string
		opts attestissue.Options
		ok   bool
	}{
		{name: "none"},
		{name: "no client", opts: attestissue.Options{Issuer: &issue.Issuer{}}},
		{name: "no issuer", opts: attestissue.Options{Client: client}},
		{name: "both", opts: attestissue.Options{Issuer: &issue.Issuer{}, Client: client}, ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := attestissue.New(tc.opts)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v", err)
			}
			if tc.ok && (f.Name() != "attest" || len(f.Events()) != 1 || f.Events()[0] != bot.EventDefaultBranchPush) {
				t.Errorf("feature %s listens to %v", f.Name(), f.Events())
			}
		})
	}
}

func TestHandleIgnoresWhatIsNotAPushOfACommit(t *testing.T) {
	f, err := attestissue.New(attestissue.Options{Issuer: &issue.Issuer{}, Client: func(int64) (attestissue.API, error) { return nil, errOffline }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ev   bot.Event
	}{
		{name: "a merge", ev: bot.Event{Name: bot.EventMerged, Merge: &bot.Merge{Number: 1}}},
		{name: "a push without its commits", ev: bot.Event{Name: bot.EventDefaultBranchPush}},
		{name: "a push to no commit", ev: bot.Event{Name: bot.EventDefaultBranchPush, Push: &bot.Push{After: "main"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.Handle(t.Context(), tc.ev); !errors.Is(err, webhook.ErrIgnored) {
				t.Errorf("Handle = %v, want ignored", err)
			}
		})
	}
}
