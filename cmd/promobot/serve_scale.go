package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/lease"
)

// leaseFlags are serve's flags for coordinating replicas with blob leases.
type leaseFlags struct {
	container string
	period    time.Duration
}

func (f *leaseFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.container, "lease-container", "", "coordinate replicas with blob leases in this container, azblob://ACCOUNT/CONTAINER or a container URL: one evaluation of a pull request at a time across replicas, and one leader for the resynchronization and the features' periodic work (Azure credentials from the environment); empty means in-process leases, for one replica")
	fl.DurationVar(&f.period, "lease-period", lease.DefaultPeriod, "how long a lease lasts unless renewed (renewed every third of it; Azure allows 15s to 60s), with --lease-container")
}

// check reports what is wrong with the lease flags.
func (f *leaseFlags) check(bad func(string, ...any)) {
	if f.period < lease.MinPeriod || f.period > lease.MaxPeriod {
		bad("--lease-period (PROMOBOT_LEASE_PERIOD) must be between %s and %s (Azure's limits), not %s", lease.MinPeriod, lease.MaxPeriod, f.period)
	}
	if f.container != "" {
		if _, err := lease.ContainerURL(f.container); err != nil {
			bad("--lease-container (PROMOBOT_LEASE_CONTAINER): %v", err)
		}
	}
}

// replicaLeases are the blob leases of --lease-container as the bot uses
// them, with this replica's leader campaign.
type replicaLeases struct {
	blobs  *lease.Blobs
	leader *lease.Leader
}

// serveLeases opens the lease container and starts campaigning for the
// leader lease; nil (in-process leases) without --lease-container. Stop it
// after the bot has drained.
func serveLeases(ctx context.Context, e *env, f leaseFlags, m *metrics.Metrics, logger *slog.Logger) (*replicaLeases, error) {
	if f.container == "" {
		return nil, nil
	}
	creds, err := artifact.CredentialsFromEnv(e.getenv)
	if err != nil {
		return nil, usageError("serve: --lease-container: %v", err)
	}
	blobs, err := lease.OpenBlobs(ctx, f.container, creds, lease.Options{
		Period: f.period,
		OnTakeover: func(name string) {
			m.LeaseTakeover()
			logger.Info("lease taken over from a replica that let it expire", "lease", name)
		},
	})
	if err != nil {
		// The container was checked with the flags: the storage account
		// could not be reached, or refused the credentials.
		return nil, failure.UnavailableError(fmt.Errorf("serve: --lease-container: %w", err))
	}
	leader := blobs.StartLeader(m.LeaderChange, logger.With("component", "leader"))
	return &replicaLeases{blobs: blobs, leader: leader}, nil
}

// botLeases is what the bot is given: nil for in-process leases.
func (l *replicaLeases) botLeases() bot.Leases {
	if l == nil {
		return nil
	}
	return l
}

// Hold implements bot.Leases.
func (l *replicaLeases) Hold(ctx context.Context, name string) (bot.Lease, error) {
	h, err := l.blobs.Acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Leading implements bot.Leases.
func (l *replicaLeases) Leading() bool { return l.leader.Leading() }

// Period implements bot.Leases.
func (l *replicaLeases) Period() time.Duration { return l.blobs.Period() }

// LastRecheck implements bot.Leases: kept on the leader blob.
func (l *replicaLeases) LastRecheck(ctx context.Context) (time.Time, error) {
	return l.leader.LastRecheck(ctx)
}

// RecordRecheck implements bot.Leases.
func (l *replicaLeases) RecordRecheck(ctx context.Context, at time.Time) error {
	return l.leader.RecordRecheck(ctx, at)
}

// stop gives up the leadership, so that another replica takes over at
// once; nil-safe.
func (l *replicaLeases) stop() {
	if l != nil {
		l.leader.Stop()
	}
}
