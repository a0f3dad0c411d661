package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/attestissue"
	"github.com/example-org/promobot/internal/bot/branchaudit"
	"github.com/example-org/promobot/internal/bot/chatops"
	"github.com/example-org/promobot/internal/bot/rollbackcmd"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
)

// serveFeatures builds the optional features the flags turn on, in the
// order the bot hands them an event: the audit, then chat-ops
// (autoPropose, then the rollback command), then the scheduled access
// review and drift monitor (serve_govern.go), whose drift metrics go to
// reg, then the promotion attestations (--attest-key or
// --attest-keyvault-key, and --attest-store). An error is already marked
// with its exit code: a bad configuration is a usage error, reported before
// listening.
func serveFeatures(ctx context.Context, e *env, c *serveConfig, apps *githubapi.Apps, reg prometheus.Registerer, logger *slog.Logger) ([]bot.Feature, error) {
	features, err := workspaceFeatures(e, c, apps, reg, logger)
	if err != nil {
		return nil, usageError("serve: %v", err)
	}
	issuer, err := serveIssuer(ctx, e, c.flags.attest, logger)
	if err != nil || issuer == nil {
		return features, err
	}
	attestations, err := attestissue.New(attestissue.Options{
		Issuer: issuer,
		Client: func(id int64) (attestissue.API, error) { return apps.Installation(id) },
	})
	if err != nil {
		return nil, usageError("serve: %v", err)
	}
	return append(features, attestations), nil
}

// workspaceFeatures builds the features that act in the repositories: the
// audit, chat-ops, the access review and the drift monitor. They share one
// set of workspaces, the repositories' own copies, under the cache
// directory ("_" keeps the folder apart from the mirrors' host folders).
func workspaceFeatures(e *env, c *serveConfig, apps *githubapi.Apps, reg prometheus.Registerer, logger *slog.Logger) ([]bot.Feature, error) {
	f := c.flags
	if !f.chatOps && !f.bypassIssues && f.auditSink == "" && !f.accessReviewIssue && f.driftReports == "" {
		return nil, nil
	}
	workspaces := workspace.NewSet(filepath.Join(f.cacheDir, "_workspaces"))
	var features []bot.Feature
	if f.bypassIssues || f.auditSink != "" {
		opts := branchaudit.Options{
			Client:       func(id int64) (branchaudit.API, error) { return apps.Installation(id) },
			BotLogin:     apps.BotLogin,
			Workspaces:   workspaces,
			BypassIssues: f.bypassIssues,
			Delay:        f.auditDelay,
		}
		if spec := f.auditSink; spec != "" {
			opts.Sink = func(owner, repo string) (chain.Sink, error) { return openAuditSink(e, spec, owner, repo) }
			if !strings.Contains(spec, "{repo}") {
				logger.Warn("--audit-sink names no {repo}: every repository's records go to one log, which matches only one repository's history; the others' exports fail")
			}
		}
		audit, err := branchaudit.New(opts)
		if err != nil {
			return nil, err
		}
		features = append(features, audit)
	}
	if f.chatOps {
		// Chat-ops is two features: autoPropose after merges, and the
		// "/promobot rollback" command.
		propose, err := chatops.New(chatops.Options{
			Client:     func(id int64) (chatops.API, error) { return apps.Installation(id) },
			BotLogin:   apps.BotLogin,
			Workspaces: workspaces,
		})
		if err != nil {
			return nil, err
		}
		rollback, err := rollbackcmd.New(rollbackcmd.Options{
			Client:     func(id int64) (rollbackcmd.API, error) { return apps.Installation(id) },
			BotLogin:   apps.BotLogin,
			Workspaces: workspaces,
		})
		if err != nil {
			return nil, err
		}
		features = append(features, propose, rollback)
	}
	govern, err := governFeatures(e, &f, apps, workspaces, reg)
	if err != nil {
		return nil, err
	}
	return append(features, govern...), nil
}
