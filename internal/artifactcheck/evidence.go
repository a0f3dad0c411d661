package artifactcheck

import (
	"context"
	"fmt"
	"io/fs"
	"sort"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/sbom"
)

// maxReportSize is the largest validation report that is read.
const maxReportSize = 64 << 20

// evidenceWanted lists the evidence a change must have read, by kind.
type evidenceWanted struct {
	reports, sboms, incumbents []string
}

func (w evidenceWanted) empty() bool {
	return len(w.reports)+len(w.sboms)+len(w.incumbents) == 0
}

// WantedEvidence returns, sorted, the changed head manifests of in whose
// evidence must be read before merge, because their environment sets
// verifyArtifacts in the policy and the family that judges it is not off:
// the validation report of a manifest that names it with its digest, the
// SBOM of a manifest that names one, and the incumbent's artifact (the
// rollback target) where the environment also sets requireRollbackReady and
// the change replaces a decodable base manifest with another version.
// Readings in already holds are left out.
func WantedEvidence(in *evaluate.Input) (reports, sboms, incumbents []string) {
	w := wantedEvidence(in)
	return w.reports, w.sboms, w.incumbents
}

func wantedEvidence(in *evaluate.Input) evidenceWanted {
	var w evidenceWanted
	if in.Policy == nil {
		return w
	}
	pol := in.Policy
	for p, d := range in.Head {
		if d == nil || d.Manifest == nil || !Required(pol, p) {
			continue
		}
		m := d.Manifest
		env, _ := pol.Environment(m.Environment)
		if env == nil {
			continue
		}
		_, done := in.Reports[p]
		if !done && pol.Mode(policy.FamilyEvidence) != policy.Off && m.Validation.Report != "" && m.Validation.ReportSHA256 != "" {
			w.reports = append(w.reports, p)
		}
		_, done = in.SBOMs[p]
		if !done && pol.Mode(policy.FamilySBOM) != policy.Off && m.SBOM != nil && m.SBOM.URI != "" && m.SBOM.SHA256 != "" {
			w.sboms = append(w.sboms, p)
		}
		_, done = in.Incumbents[p]
		b := in.Base[p]
		if !done && pol.Mode(policy.FamilyRollbackReady) != policy.Off && env.RequireRollbackReady &&
			b != nil && b.Manifest != nil && b.Manifest.Artifact.URI != "" && b.Manifest.Version != m.Version {
			w.incumbents = append(w.incumbents, p)
		}
	}
	sort.Strings(w.reports)
	sort.Strings(w.sboms)
	sort.Strings(w.incumbents)
	return w
}

// VerifyEvidence reads the evidence WantedEvidence names, with the policy
// and trusted keys of the base tree, and records each outcome in
// in.Reports, in.SBOMs and in.Incumbents for the engine's evidence, sbom
// and rollbackReady families: a report and an incumbent's artifact must be
// present with their digest; an SBOM must also be SPDX 2.3 or CycloneDX
// 1.5+ JSON. When stores fails every wanted reading is recorded as
// unavailable without credentials, so the rules fail closed; storage
// errors a retry may mend are recorded as unavailable. Nothing is read,
// and stores is not called, when nothing is wanted. The error is reserved
// for a verifier that cannot be built (a trusted key cannot be loaded).
func VerifyEvidence(ctx context.Context, in *evaluate.Input, base fs.FS, stores func() (artifact.Resolver, error)) error {
	w := wantedEvidence(in)
	if w.empty() {
		return nil
	}
	in.Reports = orNew(in.Reports)
	in.SBOMs = orNew(in.SBOMs)
	in.Incumbents = orNew(in.Incumbents)
	r, err := stores()
	if err != nil {
		out := evaluate.ArtifactCheck{Unavailable: true, NoCredentials: true, Detail: NoCredentialsDetail(err)}
		for _, set := range []struct {
			paths []string
			into  map[string]evaluate.ArtifactCheck
		}{{w.reports, in.Reports}, {w.sboms, in.SBOMs}, {w.incumbents, in.Incumbents}} {
			for _, p := range set.paths {
				set.into[p] = out
			}
		}
		return nil
	}
	v, err := NewVerifier(in.Policy, base, r)
	if err != nil {
		return err
	}
	for _, p := range w.reports {
		m := in.Head[p].Manifest
		_, res, err := v.Read(ctx, artifact.Spec{URI: m.Validation.Report, SHA256: m.Validation.ReportSHA256}, maxReportSize)
		in.Reports[p] = Outcome(res, err)
	}
	for _, p := range w.sboms {
		_, in.SBOMs[p] = ReadSBOM(ctx, v, in.Head[p].Manifest.SBOM)
	}
	for _, p := range w.incumbents {
		m := in.Base[p].Manifest
		in.Incumbents[p] = Outcome(v.Verify(ctx, SpecOf(m), RequireSignature(in.Policy, m)))
	}
	return nil
}

// ReadSBOM reads the SBOM s names through v, checks its digest, and
// requires it to be SPDX 2.3 or CycloneDX 1.5+ JSON. It returns the bytes
// only when the outcome is verified.
func ReadSBOM(ctx context.Context, v *artifact.Verifier, s *manifest.SBOM) ([]byte, evaluate.ArtifactCheck) {
	data, res, err := v.Read(ctx, artifact.Spec{URI: s.URI, SHA256: s.SHA256}, sbom.MaxSize)
	out := Outcome(res, err)
	if !out.Verified {
		return nil, out
	}
	doc, err := sbom.Identify(data)
	if err != nil {
		return nil, evaluate.ArtifactCheck{Detail: fmt.Sprintf("sha256 %s verified, but the SBOM is %v", short(res.SHA256), err)}
	}
	out.Detail += ", " + doc.String()
	return data, out
}

func orNew(m map[string]evaluate.ArtifactCheck) map[string]evaluate.ArtifactCheck {
	if m == nil {
		return map[string]evaluate.ArtifactCheck{}
	}
	return m
}
