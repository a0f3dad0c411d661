// Package featurekittest holds what the end-to-end tests of the bot's
// optional features share: the chat-ops bot as promobot serve --chatops
// builds it, and a check that a text names what it should.
package featurekittest

import (
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/chatops"
	"github.com/example-org/promobot/internal/bot/rollbackcmd"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/testing/bottest"
)

// ChatOps is a bot with chat-ops on, as promobot serve --chatops builds
// it: autoPropose (package chatops) and the rollback command (package
// rollbackcmd), sharing one set of workspaces.
var ChatOps = bottest.Options{Features: func(env bottest.Env) []bot.Feature {
	workspaces := workspace.NewSet(env.WorkDir)
	propose, err := chatops.New(chatops.Options{
		Client:     func(id int64) (chatops.API, error) { return env.Apps.Installation(id) },
		BotLogin:   env.Apps.BotLogin,
		Workspaces: workspaces,
	})
	if err != nil {
		panic(err)
	}
	rollback, err := rollbackcmd.New(rollbackcmd.Options{
		Client:     func(id int64) (rollbackcmd.API, error) { return env.Apps.Installation(id) },
		BotLogin:   env.Apps.BotLogin,
		Workspaces: workspaces,
	})
	if err != nil {
		panic(err)
	}
	return []bot.Feature{propose, rollback}
}}

// WantContains reports an error for each of parts that text, which what
// names in the message, lacks.
func WantContains(t testing.TB, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, text)
		}
	}
}
