// Package attest issues and verifies signed promotion attestations: an
// in-toto Statement v1 whose predicate records how one manifest pin was
// approved and merged, wrapped in a DSSE envelope, signed with an ECDSA
// P-256 key (a Key Vault key or a PEM key file) and stored as a Sigstore
// bundle v0.3 with a public-key hint and no transparency log entries.
//
// The package holds the format (predicate, statement, bundle), the signers,
// offline verification against a trust root, and the write-once store. It
// does not decide when to issue: the bot and the CLI do.
package attest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/schemas"
)

// PredicateType is the URI naming the promotion predicate, version 1. A
// breaking change to the predicate gets a new URI (…/v2); fields are only
// ever added to v1 as optional.
const PredicateType = "https://github.com/example-org/promobot/attestation/promotion/v1"

// Change kinds recorded in Predicate.ChangeKind.
const (
	// ChangeRegistration is a new model version registered in an environment.
	ChangeRegistration = "registration"
	// ChangePromotion moves an environment to a newer version.
	ChangePromotion = "promotion"
	// ChangeRollback moves an environment back to an older version.
	ChangeRollback = "rollback"
	// ChangeEdit changes a manifest without changing its version.
	ChangeEdit = "edit"
	// ChangeBaseline records a pin found in place when attestations were
	// introduced (promobot attest backfill); Baseline is true with it.
	ChangeBaseline = "baseline"
)

// Predicate is the promotion predicate: everything a model-risk reviewer
// needs to know about how one manifest pin reached its environment. Field
// names are the JSON names of schemas/promotion-attestation.schema.json.
type Predicate struct {
	// Repository is the GitOps repository as "owner/name".
	Repository string `json:"repository"`
	// Environment is the environment the manifest pins, such as "prod".
	Environment string `json:"environment"`
	// Model is the model name.
	Model string `json:"model"`
	// Version is the pinned model version.
	Version string `json:"version"`
	// PreviousVersion is the version pinned before this change; empty for a
	// registration and a baseline.
	PreviousVersion string `json:"previousVersion,omitempty"`
	// ChangeKind is one of the Change* constants.
	ChangeKind string `json:"changeKind"`
	// ManifestPath is the manifest's path in the repository.
	ManifestPath string `json:"manifestPath"`
	// PullRequest describes the merged pull request; nil for a baseline.
	PullRequest *PullRequest `json:"pullRequest,omitempty"`
	// Approvers are the approving reviews that counted, in review order.
	Approvers []Approver `json:"approvers"`
	// Commits are the commits the verdict was computed on.
	Commits Commits `json:"commits"`
	// Policy names the exact policy and CODEOWNERS blobs the verdict used.
	Policy PolicyRef `json:"policy"`
	// Rules is each rule family's outcome.
	Rules []RuleOutcome `json:"rules"`
	// Ticket is the change ticket named by the manifest, if any.
	Ticket string `json:"ticket,omitempty"`
	// Rationale is the manifest's stated reason for the change, if any.
	Rationale string `json:"rationale,omitempty"`
	// CheckRunID is the GitHub check run that carried the verdict; zero for
	// a baseline.
	CheckRunID int64 `json:"checkRunId,omitempty"`
	// BotVersion is the promobot version that issued the attestation.
	BotVersion string `json:"botVersion"`
	// SignedAt is the signer's claim of when it signed (UTC, RFC 3339).
	// There is no timestamp authority: it is as trustworthy as the key.
	SignedAt time.Time `json:"signedAt"`
	// Baseline marks an attestation signed by an operator for a pin that
	// predates attestations; only baseline keys may sign it.
	Baseline bool `json:"baseline,omitempty"`
	// AcceptUnreviewed records that the operator accepted a baseline pin
	// that bypassed review (--accept-unreviewed). Only valid with Baseline.
	AcceptUnreviewed bool `json:"acceptUnreviewed,omitempty"`
}

// PullRequest identifies the merged pull request.
type PullRequest struct {
	// Number is the pull request number.
	Number int `json:"number"`
	// URL is the pull request's web URL.
	URL string `json:"url"`
	// Author is the login of the pull request's author.
	Author string `json:"author"`
}

// Approver is one approving review that counted toward the verdict.
type Approver struct {
	// Login is the reviewer's GitHub login.
	Login string `json:"login"`
	// ID is the reviewer's numeric GitHub user id, which survives renames.
	ID int64 `json:"id"`
	// ReviewID is the numeric id of the approving review.
	ReviewID int64 `json:"reviewId"`
	// Time is when the review was submitted.
	Time time.Time `json:"time"`
	// CommitID is the commit SHA the review was given on.
	CommitID string `json:"commitId"`
}

// Commits are the commit SHAs the verdict was computed on.
type Commits struct {
	// Head is the pull request's head commit; empty for a baseline.
	Head string `json:"head,omitempty"`
	// Merge is the commit that brought the manifest into the default
	// branch: the merge commit, or for a baseline the commit that last
	// changed the manifest's path on the first-parent history.
	Merge string `json:"merge"`
	// FirstParent is the merge commit's first parent (the base of the
	// verdict); empty for a baseline.
	FirstParent string `json:"firstParent,omitempty"`
}

// PolicyRef names the git blobs of the policy and CODEOWNERS files used.
type PolicyRef struct {
	// PolicyBlob is the git blob id of .github/promobot.yaml, empty when
	// the repository has none and built-in defaults applied.
	PolicyBlob string `json:"policyBlob,omitempty"`
	// CodeownersBlob is the git blob id of the CODEOWNERS file, empty when
	// the repository has none.
	CodeownersBlob string `json:"codeownersBlob,omitempty"`
}

// RuleOutcome is one rule family's outcome.
type RuleOutcome struct {
	// Family is the rule family, such as "approvals" or "freeze".
	Family string `json:"family"`
	// Status is "pass", "warn", "fail" or "skip".
	Status string `json:"status"`
	// Message is the family's one-line explanation, if any.
	Message string `json:"message,omitempty"`
}

// predicateSchema is the compiled predicate schema.
var predicateSchema = schema.MustCompile(schemas.PromotionAttestationPath, schemas.PromotionAttestation)

// Validate checks the predicate against the published JSON Schema and the
// rules the schema cannot express. The error lists every problem.
func (p *Predicate) Validate() error {
	if p.SignedAt.IsZero() {
		return fmt.Errorf("the predicate has no signing time")
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding the predicate: %w", err)
	}
	return validatePredicateJSON(raw)
}

// validatePredicateJSON validates an encoded predicate against the schema.
func validatePredicateJSON(raw []byte) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("the predicate is not JSON: %w", err)
	}
	violations := predicateSchema.Validate(v)
	if len(violations) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(violations))
	for _, vi := range violations {
		msgs = append(msgs, vi.Message)
	}
	return fmt.Errorf("the predicate does not match %s: %s", schemas.PromotionAttestationPath, strings.Join(msgs, "; "))
}
