package branchaudit

import (
	"context"
	"fmt"
	"slices"

	"github.com/example-org/promobot/internal/audit/chain"
)

// The audit export: after merges and pushes, the records of the default
// branch that the repository's log (Options.Sink) does not hold yet are
// verified against GitHub, as `promobot audit export --github` does, and
// appended with chain.Export. Export matches records by commit and path, so
// a repeated export appends nothing, and it refuses a log that does not
// verify or does not match the history. Records are appended in order, up
// to the first one whose verdict is not settled yet (GitHub has not linked
// its commit to a pull request: see audit.go); the rest follow at a later
// look, so the log never records a normal merge as a bypass.

// maxExportBackfill is the most records one export verifies: a log further
// behind (a new log for a repository with history) is filled once with
// `promobot audit export --github`, which does not spend the bot's
// installation rate limit.
const maxExportBackfill = 200

// export appends the new records to the repository's audit log. again says
// a record waits for its second look, or reading GitHub failed.
func (r *auditRun) export(ctx context.Context) (again bool, err error) {
	m := r.f.host.Metrics()
	sink, err := r.sink()
	if err != nil {
		m.AuditExport("error", 0)
		return false, err
	}
	data, err := sink.Read(ctx)
	if err != nil {
		m.AuditExport("error", 0)
		return false, fmt.Errorf("read the audit log %s: %w", sink, err)
	}
	log := chain.Verify(data)
	if log.Broken != nil {
		m.AuditExport("error", 0)
		return false, fmt.Errorf("the audit log %s does not verify, so nothing is appended: %w", sink, log.Broken)
	}
	records := r.h.Records
	if log.Count >= len(records) {
		m.AuditExport("unchanged", 0)
		return false, nil
	}
	if behind := len(records) - log.Count; behind > maxExportBackfill {
		m.AuditExport("behind", 0)
		return false, fmt.Errorf("the audit log %s lacks %d records, more than the bot verifies at once (%d): fill it once with `promobot audit export --github %s --to SINK`",
			sink, behind, maxExportBackfill, r.t.FullName())
	}
	// Every new record is looked at, so that each unsettled commit starts
	// its wait now; the log gets those before the first unsettled one.
	out := slices.Clone(records[:log.Count])
	var verr error
	cut := false
	for _, rec := range records[log.Count:] {
		v, err := r.verdict(ctx, rec.Commit)
		if err != nil {
			verr, again = fmt.Errorf("assess commit %s: %w", rec.Commit, err), retryable(err)
			break
		}
		if !r.settled(rec.Commit, v) {
			again, cut = true, true
		}
		if !cut {
			applyVerdict(&rec, v)
			out = append(out, rec)
		}
	}
	if len(out) == log.Count {
		if verr != nil {
			m.AuditExport("error", 0)
		} else {
			m.AuditExport("pending", 0)
		}
		return again, verr
	}
	res, err := chain.Export(ctx, sink, out)
	if err != nil {
		m.AuditExport("error", 0)
		return again, err
	}
	m.AuditExport("appended", res.Appended)
	r.logger.Info("audit records exported", "sink", sink.String(), "appended", res.Appended, "existing", res.Existing, "head", res.Head)
	return again, verr
}

// sink returns the repository's audit log, opening it on first use.
func (r *auditRun) sink() (chain.Sink, error) {
	a := r.f.audits
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state(r.key)
	if st.sink != nil {
		return st.sink, nil
	}
	s, err := r.f.opts.Sink(r.t.Owner, r.t.Name)
	if err != nil {
		return nil, fmt.Errorf("open the audit log of %s: %w", r.t.FullName(), err)
	}
	st.sink = s
	return s, nil
}
