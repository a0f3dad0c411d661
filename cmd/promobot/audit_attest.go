package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/resolve"
)

// auditAttestations prints, when a trust root is configured, the
// attestation status of every pin at the audited revision that filter
// keeps: checked as resolve checks it, with no GitHub request.
func auditAttestations(ctx context.Context, e *env, f *auditFlags, filter audit.Filter) error {
	if !f.trust.configured() {
		return nil
	}
	cfg, err := f.trust.load(ctx, e)
	if err != nil {
		return err
	}
	repo, _, commit, cleanup, err := openResolveRepoAt(ctx, e, f.repo, f.ref)
	if err != nil {
		return err
	}
	defer cleanup()
	in, err := repo.BuildInput(ctx, commit, commit, gitrepo.InputOptions{})
	if err != nil {
		return err
	}
	var names []string
	for p, doc := range in.Base {
		if doc == nil || doc.Manifest == nil {
			continue
		}
		m := doc.Manifest
		if len(filter.Environments) > 0 && !slices.Contains(filter.Environments, m.Environment) ||
			len(filter.Models) > 0 && !slices.Contains(filter.Models, m.Model) {
			continue
		}
		names = append(names, p)
	}
	slices.Sort(names)
	fmt.Fprintf(e.stdout, "\nAttestations of the pins at %s (%s):\n", short7(commit.String()), cfg.Store)
	for _, p := range names {
		m := in.Base[p].Manifest
		status, detail := attestationStatus(resolve.CheckAttestation(ctx, repo, commit, m.Environment, m.Model, cfg))
		line := fmt.Sprintf("  %-14s %s/%s %s", status, m.Environment, m.Model, m.Version)
		if detail != "" {
			line += ": " + detail
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}

// attestationStatus names the outcome of a pin's attestation check.
func attestationStatus(res *resolve.AttestationResult, err error) (status, detail string) {
	var notYet *resolve.NotAttestedError
	switch {
	case err == nil && res.AcceptUnreviewed:
		return res.Status, "accepted unreviewed; key " + res.KeyID
	case err == nil && len(res.Approvers) > 0:
		return res.Status, "approved by " + strings.Join(res.Approvers, ", ") + "; merge " + short7(res.MergeCommit)
	case err == nil:
		return res.Status, "key " + res.KeyID
	case errors.As(err, &notYet):
		return "not attested", "no attestation by a trusted key (retry once the bot has issued it)"
	case failure.KindOf(err) == failure.Unavailable:
		return "unavailable", oneLine(err.Error())
	}
	return "refused", oneLine(err.Error())
}

func short7(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
