package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/gitrepo"
)

func init() { subcommands = append(subcommands, newCheckCommand) }

// checkFlags are the raw flag values of promobot check.
type checkFlags struct {
	repo, base, head, author, now, format string
	committers, identities, reviews       []string
	teams, noWrite, labels, artifacts     []string
	verifyArtifacts                       bool
}

func newCheckCommand(e *env) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check --base REF [--head REF]",
		Short: "Evaluate a change locally, as the bot would on its pull request",
		Long: `Check evaluates the change from --base to --head with the policy, schemas and
CODEOWNERS of the base, exactly as the GitHub App does for a pull request.

The change is the difference between the merge base of the two revisions and
the head. What git cannot know about a pull request is given with flags: the
author, the reviews in submission order, team memberships, users without write
permission, labels and artifact verification outcomes. Commit authors,
committers and Co-authored-by trailers are read from the commits; emails are
mapped to logins with --identity or from GitHub noreply addresses.

--format text (the default), json (described by
schemas/check-output.schema.json), markdown (the check run's summary) or
github (workflow annotations on the offending lines, as validate prints).

Exit status: 0 the change may merge; 1 it is blocked; 2 usage or
configuration error; 3 an unknown --base, --head or review revision; 4 it is
blocked only because artifact storage could not answer (a retry may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd, e, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", "", "local repository (default: the repository holding the working directory)")
	fl.StringVar(&f.base, "base", "", "base revision: the branch the change merges into (required)")
	fl.StringVar(&f.head, "head", "HEAD", "head revision: the change")
	fl.StringVar(&f.author, "author", "", "login of the pull request author")
	fl.StringArrayVar(&f.committers, "committer", nil, "login that committed to the change (repeatable; ineligible to approve)")
	fl.StringArrayVar(&f.identities, "identity", nil, "map a commit email to a login: EMAIL=LOGIN (repeatable)")
	fl.StringArrayVar(&f.reviews, "review", nil, "review in submission order: LOGIN=STATE[@SHA], STATE one of approved, changes_requested, commented, dismissed; SHA defaults to the head (repeatable)")
	fl.StringArrayVar(&f.teams, "team", nil, "team members: ORG/SLUG=LOGIN,LOGIN (repeatable)")
	fl.StringArrayVar(&f.noWrite, "no-write", nil, "login without write permission (repeatable)")
	fl.StringArrayVar(&f.labels, "label", nil, "pull request label (repeatable)")
	fl.StringArrayVar(&f.artifacts, "artifact", nil, "artifact verification outcome of a manifest: PATH=verified|failed|unavailable[:DETAIL] (repeatable; unverified artifacts are reported as skipped)")
	fl.BoolVar(&f.verifyArtifacts, "verify-artifacts", false, "also verify against storage (size, sha256, signature) the artifacts of changed manifests in environments whose policy does not set verifyArtifacts (those that set it are always verified)")
	fl.StringVar(&f.now, "now", "", "evaluation time, RFC 3339 (default: the current time)")
	fl.StringVar(&f.format, "format", "text", "output format: text, json, markdown or github")
	return cmd
}

func runCheck(cmd *cobra.Command, e *env, f *checkFlags) error {
	render, err := checkRenderer(f.format)
	if err != nil {
		return err
	}
	if f.base == "" {
		return usageError("check: --base is required")
	}
	now := time.Now()
	if f.now != "" {
		if now, err = time.Parse(time.RFC3339, f.now); err != nil {
			return usageError("check: --now %q is not an RFC 3339 time such as 2026-11-21T12:00:00Z", f.now)
		}
	}
	if f.author != "" && !isLogin(f.author) {
		return usageError("check: --author %q is not a GitHub login", f.author)
	}
	identities, err := parseIdentities(f.identities)
	if err != nil {
		return err
	}
	teams, err := parseTeams(f.teams)
	if err != nil {
		return err
	}
	artifacts, err := parseArtifacts(f.artifacts)
	if err != nil {
		return err
	}
	for _, l := range append(append([]string{}, f.committers...), f.noWrite...) {
		if !isLogin(l) {
			return usageError("check: %q is not a GitHub login", l)
		}
	}

	repoPath, err := repoOrEnclosing(e, f.repo)
	if err != nil {
		return usageError("check: %v", err)
	}
	repo, err := gitrepo.Open(repoPath)
	if err != nil {
		return usageError("check: %v", err)
	}
	defer repo.Close()
	base, err := resolveRevision(repo, "check: --base", f.base)
	if err != nil {
		return err
	}
	head, err := resolveRevision(repo, "check: --head", f.head)
	if err != nil {
		return err
	}
	reviews, err := parseReviews(f.reviews, head.String(), now, repo)
	if err != nil {
		return err
	}

	in, err := repo.BuildInput(cmd.Context(), base, head, gitrepo.InputOptions{Identities: identities})
	if err != nil {
		return usageError("check: %v", err)
	}
	in.PullRequest.Author = f.author
	in.PullRequest.BaseRef = f.base
	in.PullRequest.Labels = f.labels
	in.Reviews = reviews
	in.Teams = teams
	for p, a := range artifacts {
		if in.Artifacts == nil {
			in.Artifacts = map[string]evaluate.ArtifactCheck{}
		}
		in.Artifacts[p] = a
	}
	// Environments whose policy sets verifyArtifacts are always verified
	// (outcomes given with --artifact stand); --verify-artifacts adds the
	// others.
	baseFS, err := repo.FS(base)
	if err != nil {
		return usageError("check: %v", err)
	}
	if err := (artifactHook{stores: artifactStores(e), all: f.verifyArtifacts}).VerifyArtifacts(cmd.Context(), in, baseFS); err != nil {
		return usageError("check: verify artifacts: %v", err)
	}
	in.Now = now
	// Committers named on the command line stand for commits git does not
	// show (a squash, a rebase by someone else): an extra commit identity
	// that makes them ineligible to approve.
	for _, l := range f.committers {
		in.Commits = append(in.Commits, evaluate.Commit{Committer: evaluate.Identity{Login: l}})
	}
	in.WritePermission = writePermission(f.noWrite, in)

	res := evaluate.Evaluate(in)
	if err := render(e.stdout, res); err != nil {
		return usageError("check: write output: %v", err)
	}
	switch {
	case res.Verdict == evaluate.VerdictPass:
		return nil
	case blockedOnlyByUnavailableStorage(res, in):
		return &exitError{code: exitUnavailable}
	}
	return failed()
}

// blockedOnlyByUnavailableStorage reports whether every blocking rule judges
// a reading of storage (the artifact, the validation report, the SBOM, the
// rollback target) and every reading that did not verify could not be made
// for a reason a retry may mend: the answer is "not known yet", not
// "no". Missing credentials are not such a reason.
func blockedOnlyByUnavailableStorage(res *evaluate.Result, in *evaluate.Input) bool {
	for _, r := range res.Rules {
		if r.Blocks() && !evaluate.StorageRule(r.ID) {
			return false
		}
	}
	unavailable := false
	for _, a := range in.Readings() {
		switch {
		case a.Verified:
		case a.Unavailable && !a.NoCredentials:
			unavailable = true
		default:
			return false
		}
	}
	return unavailable
}

// checkRenderer returns the writer of a --format value.
func checkRenderer(format string) (func(io.Writer, *evaluate.Result) error, error) {
	switch format {
	case "text":
		return evaluate.RenderText, nil
	case "markdown":
		return evaluate.RenderMarkdown, nil
	case "json":
		return func(w io.Writer, r *evaluate.Result) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(r)
		}, nil
	case "github":
		return renderCheckAnnotations, nil
	}
	return nil, usageError("check: --format %q: want text, json, markdown or github", format)
}

// renderCheckAnnotations writes each failing or warning rule as a GitHub
// workflow annotation on its file and line, then the verdict.
func renderCheckAnnotations(w io.Writer, r *evaluate.Result) error {
	blocking, warnings := 0, 0
	for _, rule := range r.Rules {
		sev := diag.Error
		switch rule.Status {
		case evaluate.StatusFail:
			blocking++
		case evaluate.StatusWarn:
			sev = diag.Warning
			warnings++
		default:
			continue
		}
		p := diag.Problem{File: rule.File, Line: rule.Line, Column: rule.Column, Severity: sev, Message: "promobot " + rule.ID + ": " + rule.Message}
		if _, err := fmt.Fprintln(w, diag.GitHubCommand(p)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "promobot check: %s, %s, %s\n", r.Verdict, countOf(blocking, "blocking rule", "blocking rules"), countOf(warnings, "warning", "warnings"))
	return err
}

// countOf says "1 warning" or "2 warnings".
func countOf(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, pluralWord(n, one, many))
}

// isLogin reports whether s is a GitHub user login or an app bot such as
// "renovate[bot]", which reviews but is never eligible.
func isLogin(s string) bool {
	return gitrepo.ValidLogin(strings.TrimSuffix(s, "[bot]"))
}

// teamPattern matches "org/slug".
var teamPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}$`)

// shaPattern matches a full commit id.
var shaPattern = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

func parseIdentities(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		email, login, ok := strings.Cut(v, "=")
		email, login = strings.TrimSpace(email), strings.TrimSpace(login)
		if _, err := mail.ParseAddress(email); !ok || err != nil || !strings.Contains(email, "@") || strings.ContainsAny(email, "<> ") {
			return nil, usageError("check: --identity %q: want EMAIL=LOGIN, such as ann@example.com=ann", v)
		}
		if !isLogin(login) {
			return nil, usageError("check: --identity %q: %q is not a GitHub login", v, login)
		}
		out[strings.ToLower(email)] = login
	}
	return out, nil
}

// reviewStates maps the --review state names to GitHub's.
var reviewStates = map[string]evaluate.ReviewState{
	"approved":          evaluate.Approved,
	"changes_requested": evaluate.ChangesRequested,
	"commented":         evaluate.Commented,
	"dismissed":         evaluate.Dismissed,
}

// resolver turns a revision into a commit id; *gitrepo.Repo is one.
type resolver interface {
	Resolve(rev string) (plumbing.Hash, error)
}

// parseReviews reads LOGIN=STATE[@SHA] values. A SHA that is not a full
// commit id is resolved in the repository (HEAD~1, a short id); a full id
// is taken as it is, since a review may be on a commit force-pushed away.
// Reviews are spaced one second apart, ending at now, in the order given.
func parseReviews(values []string, head string, now time.Time, repo resolver) ([]evaluate.Review, error) {
	var out []evaluate.Review
	for i, v := range values {
		login, rest, ok := strings.Cut(v, "=")
		state, sha, hasSHA := strings.Cut(rest, "@")
		if !ok || !isLogin(login) {
			return nil, usageError("check: --review %q: want LOGIN=STATE[@SHA], such as ann=approved", v)
		}
		st, ok := reviewStates[strings.ToLower(state)]
		if !ok {
			return nil, usageError("check: --review %q: state %q is not approved, changes_requested, commented or dismissed", v, state)
		}
		commit := head
		switch {
		case !hasSHA:
		case shaPattern.MatchString(sha):
			commit = strings.ToLower(sha)
		default:
			h, err := resolveRevision(repo, fmt.Sprintf("check: --review %q", v), sha)
			if err != nil {
				return nil, err
			}
			commit = h.String()
		}
		out = append(out, evaluate.Review{
			ID: int64(i + 1), User: login, State: st, CommitID: commit,
			SubmittedAt: now.Add(time.Duration(i+1-len(values)) * time.Second),
		})
	}
	return out, nil
}

func parseTeams(values []string) (map[string][]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string][]string{}
	for _, v := range values {
		team, members, ok := strings.Cut(v, "=")
		if !ok || !teamPattern.MatchString(team) {
			return nil, usageError("check: --team %q: want ORG/SLUG=LOGIN,LOGIN, such as example-org/ml-engineers=alex,erin", v)
		}
		key := strings.ToLower(team)
		list := out[key]
		if list == nil {
			list = []string{} // a team given with no members has none
		}
		for _, m := range strings.Split(members, ",") {
			m = strings.TrimSpace(m)
			if m == "" {
				continue
			}
			if !isLogin(m) {
				return nil, usageError("check: --team %q: %q is not a GitHub login", v, m)
			}
			list = append(list, m)
		}
		out[key] = list
	}
	return out, nil
}

func parseArtifacts(values []string) (map[string]evaluate.ArtifactCheck, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]evaluate.ArtifactCheck{}
	for _, v := range values {
		p, outcome, ok := strings.Cut(v, "=")
		outcome, detail, _ := strings.Cut(outcome, ":")
		if !ok || !gitrepo.IsManifestPath(p) {
			return nil, usageError("check: --artifact %q: want PATH=verified|failed|unavailable[:DETAIL] with PATH a manifest under environments/", v)
		}
		c := evaluate.ArtifactCheck{Detail: strings.TrimSpace(detail)}
		switch outcome {
		case "verified":
			c.Verified = true
		case "failed":
		case "unavailable":
			c.Unavailable = true
		default:
			return nil, usageError("check: --artifact %q: outcome %q is not verified, failed or unavailable", v, outcome)
		}
		out[p] = c
	}
	return out, nil
}

// writePermission builds the permission map from --no-write. Without the
// flag there is no permission data and nobody is excluded. With it, every
// other login the check knows about (reviewers, the author, team members)
// can write, so that only the named users are excluded.
func writePermission(noWrite []string, in *evaluate.Input) map[string]bool {
	if len(noWrite) == 0 {
		return nil
	}
	out := map[string]bool{}
	allow := func(l string) {
		if l != "" {
			out[strings.ToLower(l)] = true
		}
	}
	allow(in.PullRequest.Author)
	for _, r := range in.Reviews {
		allow(r.User)
	}
	for _, members := range in.Teams {
		for _, m := range members {
			allow(m)
		}
	}
	for _, l := range noWrite {
		out[strings.ToLower(l)] = false
	}
	return out
}
