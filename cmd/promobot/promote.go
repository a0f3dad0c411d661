package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/promote"
)

func init() { subcommands = append(subcommands, newPromoteCommand) }

// defaultGitHubAPI is the API of github.com.
const defaultGitHubAPI = "https://api.github.com/"

// changeFlags are the flags shared by register, promote and rollback.
type changeFlags struct {
	repo, remote, base    string
	githubURL, githubRepo string
	format                string
	dryRun, noPR          bool
	now                   string
}

func (f *changeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.repo, "repo", "", "local repository (default: the repository holding the working directory)")
	fl.StringVar(&f.remote, "remote", "origin", "remote to fetch the base from and push the branch to")
	fl.StringVar(&f.base, "base", "", "base branch (default: the remote's default branch, else main)")
	fl.StringVar(&f.githubURL, "github-url", "", "GitHub API URL (default: $GITHUB_API_URL, else "+defaultGitHubAPI+")")
	fl.StringVar(&f.githubRepo, "github-repo", "", "GitHub repository OWNER/NAME (default: derived from the remote URL)")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	aliasFlag(fl, "output", "format")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the diff and the pull request that would be opened; change nothing")
	fl.BoolVar(&f.noPR, "no-pr", false, "commit and push the branch without opening a pull request")
	fl.StringVar(&f.now, "now", "", "time of the commit and of freeze-window checks, RFC 3339 (default: now)")
	_ = fl.MarkHidden("now")
}

// executor builds the executor from the flags and the environment: the
// token in GITHUB_TOKEN is used for the API and as the git HTTP password;
// SSH remotes use the SSH agent or the key in PROMOBOT_SSH_KEY.
func (f *changeFlags) executor(e *env) (*promote.Executor, error) {
	if f.format != "text" && f.format != "json" {
		return nil, usageError("--format must be text or json, not %q", f.format)
	}
	if f.dryRun && f.noPR {
		return nil, usageError("--dry-run and --no-pr cannot be combined")
	}
	repoPath := f.repo
	if repoPath == "" {
		cwd, err := e.getwd()
		if err != nil {
			return nil, usageError("%v", err)
		}
		if repoPath, err = findRepoRoot(cwd); err != nil {
			return nil, usageError("%v", err)
		}
	}
	r, err := gitrepo.OpenGit(repoPath)
	if err != nil {
		return nil, usageError("open git repository %s: %v", repoPath, err)
	}
	remote, err := r.Remote(f.remote)
	if err != nil || len(remote.Config().URLs) == 0 {
		return nil, usageError("the repository %s has no remote %q (use --remote)", repoPath, f.remote)
	}
	remoteURL := remote.Config().URLs[0]
	token := e.getenv("GITHUB_TOKEN")
	auth, err := remoteGitAuth(e, remoteURL, token)
	if err != nil {
		return nil, err
	}
	x := &promote.Executor{Git: promote.Git{
		Path: repoPath, Remote: f.remote, Base: f.base, Auth: auth, Author: commitAuthor(e, r),
	}}
	if f.now != "" {
		at, err := time.Parse(time.RFC3339, f.now)
		if err != nil {
			return nil, usageError("--now %q is not an RFC 3339 time", f.now)
		}
		x.Now = func() time.Time { return at }
	}

	apiURL := f.githubURL
	if apiURL == "" {
		apiURL = e.getenv("GITHUB_API_URL")
	}
	if apiURL == "" {
		apiURL = defaultGitHubAPI
	}
	needPR := !f.dryRun && !f.noPR
	owner, name, ok := strings.Cut(f.githubRepo, "/")
	if f.githubRepo != "" && (!ok || owner == "" || name == "" || strings.Contains(name, "/")) {
		return nil, usageError("--github-repo must be OWNER/NAME, not %q", f.githubRepo)
	}
	if f.githubRepo == "" {
		owner, name, ok = githubRepoFromURL(remoteURL, apiURL)
	}
	switch {
	case !ok && needPR:
		return nil, usageError("cannot tell the GitHub repository from the remote URL %s; use --github-repo OWNER/NAME (or --no-pr)", location.Redact(remoteURL))
	case token == "" && needPR:
		return nil, usageError("GITHUB_TOKEN is needed to open the pull request (or use --no-pr or --dry-run)")
	case ok && token != "":
		client, err := githubClient(e, githubapi.Config{BaseURL: apiURL, Token: token})
		if err != nil {
			return nil, err
		}
		x.GitHub = promote.NewGitHub(client, owner, name)
	}
	return x, nil
}

// remoteGitAuth chooses the credentials for the remote.
func remoteGitAuth(e *env, remoteURL, token string) (transport.AuthMethod, error) {
	if strings.HasPrefix(remoteURL, "http://") || strings.HasPrefix(remoteURL, "https://") {
		if token == "" {
			return nil, nil
		}
		return promote.TokenAuth(token), nil
	}
	if key := e.getenv("PROMOBOT_SSH_KEY"); key != "" {
		auth, err := ssh.NewPublicKeysFromFile("git", key, e.getenv("PROMOBOT_SSH_KEY_PASSPHRASE"))
		if err != nil {
			return nil, usageError("PROMOBOT_SSH_KEY: %v", err)
		}
		return auth, nil
	}
	return nil, nil // go-git uses the SSH agent
}

// commitAuthor is GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL, else git's user.name
// and user.email, else promobot's own identity.
func commitAuthor(e *env, r *git.Repository) promote.Signature {
	name, email := e.getenv("GIT_AUTHOR_NAME"), e.getenv("GIT_AUTHOR_EMAIL")
	if name == "" || email == "" {
		if cfg, err := r.ConfigScoped(config.GlobalScope); err == nil {
			name, email = cfg.User.Name, cfg.User.Email
		}
	}
	if name == "" || email == "" {
		return promote.DefaultAuthor
	}
	return promote.Signature{Name: name, Email: email}
}

// githubRepoFromURL extracts OWNER/NAME from a clone URL on github.com or
// on the GitHub Enterprise host (and port) of apiURL.
func githubRepoFromURL(remote, apiURL string) (owner, name string, ok bool) {
	var host, p string
	if u, err := url.Parse(remote); err == nil && u.Host != "" {
		host, p = u.Host, u.Path
		if u.Scheme == "ssh" {
			host = u.Hostname()
		}
	} else if at, rest, found := strings.Cut(remote, ":"); found && !strings.Contains(at, "/") {
		// scp-like syntax: git@github.com:owner/name.git
		host, p = at[strings.LastIndex(at, "@")+1:], rest
	} else {
		return "", "", false
	}
	apiHost := ""
	if u, err := url.Parse(apiURL); err == nil {
		apiHost = strings.TrimPrefix(u.Host, "api.")
	}
	if !strings.EqualFold(host, "github.com") && !strings.EqualFold(host, apiHost) {
		return "", "", false
	}
	owner, name, found := strings.Cut(strings.TrimSuffix(strings.Trim(p, "/"), ".git"), "/")
	if !found || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", false
	}
	return owner, name, true
}

func newPromoteCommand(e *env) *cobra.Command {
	var (
		f       changeFlags
		models  []string
		to      string
		version string
		ticket  string
		why     string
	)
	cmd := &cobra.Command{
		Use:   "promote --model M [--model M2 ...] --to ENV [--version V] [--ticket T] [--rationale TEXT]",
		Short: "Open the pull request that promotes model versions into an environment",
		Long: `Promote copies the version pinned in the source environment of ENV (its
"from" in the policy), or --version from whichever environment pins it, into
ENV. Each manifest is copied byte for byte except its environment and its
approval block, which holds --ticket and --rationale (the source's are never
carried over: where the policy sets requireRationale, each promotion says why
it is made).
Several --model flags make one commit and one pull request: that is how the
models of a bundle move together.

The change is built on the remote's up-to-date base branch and checked with the
policy engine first: a promotion that can never pass (wrong order, validation
not passed, missing ticket, ...) is refused with the engine's messages and
leaves no branch or commit behind. Approvals are reported, not required.

Exit status: 0 done (or nothing to do); 1 refused by the policy; 2 usage or
configuration error; 3 unknown environment, model or version; 4 GitHub or the
git remote could not answer (a retry may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(models) == 0 || to == "" {
				return usageError("promote needs --model and --to")
			}
			x, err := f.executor(e)
			if err != nil {
				return err
			}
			out, err := x.Promote(cmd.Context(), promote.PromoteRequest{Models: models, To: to, Version: version, Ticket: ticket, Rationale: why}, f.options())
			return reportChange(e, &f, out, err)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&models, "model", nil, "model to promote (repeatable: the models move in one pull request)")
	fl.StringVar(&to, "to", "", "environment to promote into")
	fl.StringVar(&version, "version", "", "version to promote (default: the version pinned in the source environment)")
	fl.StringVar(&ticket, "ticket", "", "change ticket recorded in approval.ticket")
	fl.StringVar(&why, "rationale", "", "why the promotion is made, recorded in approval.rationale")
	f.register(fl)
	return cmd
}

func (f *changeFlags) options() promote.Options {
	return promote.Options{DryRun: f.dryRun, NoPR: f.noPR}
}

// jsonOutcome is what --format json prints.
type jsonOutcome struct {
	*promote.Outcome
	// Approvals are the approvals the pull request still needs.
	Approvals []jsonApproval `json:"approvals,omitempty"`
	// Code, ExitCode and Reason are those of the error contract
	// (schemas/error-output.schema.json) when the change was refused, so a
	// script reads every refusal the same way.
	Code     string `json:"code,omitempty"`
	ExitCode int    `json:"exitCode,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Refused holds the policy's reasons when the change was refused.
	Refused []string `json:"refused,omitempty"`
	// NothingToDo says why nothing was done.
	NothingToDo string `json:"nothingToDo,omitempty"`
}

type jsonApproval struct {
	File     string   `json:"file"`
	Required int      `json:"required"`
	Missing  int      `json:"missing"`
	Owners   []string `json:"owners"`
}

// reportChange prints the outcome of a run and maps its error to an exit code.
func reportChange(e *env, f *changeFlags, out *promote.Outcome, err error) error {
	var (
		refused *promote.RefusedError
		nothing *promote.NothingToDoError
		usage   *promote.UsageError
		marked  *failure.Error
	)
	j := jsonOutcome{Outcome: out}
	switch {
	case errors.As(err, &marked):
		// Marked where the kind is known: an unknown environment, model,
		// version or pull request, or a remote that could not answer. A
		// refusal marked not found reads as what was not found.
		if errors.As(err, &refused) {
			return failure.Mark(marked.Kind, errors.New(strings.Join(refused.Reasons, "; ")))
		}
		return err
	case errors.As(err, &nothing):
		j.NothingToDo = nothing.Message
		if f.format == "json" {
			return writeChangeJSON(e, j)
		}
		fmt.Fprintln(e.stdout, "Nothing to do:", nothing.Message)
		return nil
	case errors.As(err, &refused):
		if f.format == "json" {
			j.Refused = refused.Reasons
			j.Code, j.ExitCode, j.Reason = exitCodeNames[exitFailed], exitFailed, strings.Join(refused.Reasons, "; ")
			if werr := writeChangeJSON(e, j); werr != nil {
				return werr
			}
			return failed()
		}
		fmt.Fprintln(e.stderr, "promobot: refused by the policy; no branch, commit or pull request was made:")
		for _, r := range refused.Reasons {
			fmt.Fprintln(e.stderr, "  -", r)
		}
		return failed()
	case errors.As(err, &usage):
		return usageError("%s", usage.Message)
	case err != nil:
		return err // errorExitCode tells a GitHub or git failure that a retry may fix
	}
	if out.Evaluation != nil {
		for _, a := range out.Evaluation.Approvals {
			if a.Missing > 0 {
				j.Approvals = append(j.Approvals, jsonApproval{File: a.File, Required: a.Required, Missing: a.Missing, Owners: a.Owners})
			}
		}
	}
	if f.format == "json" {
		return writeChangeJSON(e, j)
	}
	printChange(e, out, j.Approvals)
	return nil
}

func writeChangeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write the output: %w", err)
	}
	return nil
}

// printChange writes the text report.
func printChange(e *env, out *promote.Outcome, approvals []jsonApproval) {
	w := e.stdout
	if out.DryRun {
		fmt.Fprint(w, "Dry run: nothing was written.\n\n")
		fmt.Fprint(w, out.Diff)
		if !strings.HasSuffix(out.Diff, "\n") {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "\nWould push branch %s (on %s at %s)\n", out.Branch, out.BaseBranch, shortCommit(out.BaseCommit))
		fmt.Fprintf(w, "Would open pull request: %s\n", out.Title)
		fmt.Fprintf(w, "Labels: %s\n\n", strings.Join(out.Labels, ", "))
		fmt.Fprint(w, out.Body)
		return
	}
	fmt.Fprintln(w, out.Title)
	for _, m := range out.Moves {
		if m.RestoredFrom != "" {
			fmt.Fprintf(w, "  %s: back to %s, pinned on %s by commit %s", m.Model, m.Version, m.RestoredAt.UTC().Format("2006-01-02 15:04 UTC"), shortCommit(m.RestoredFrom))
		} else if m.From != "" {
			fmt.Fprintf(w, "  %s: %s from %s", m.Model, m.Version, m.From)
		} else {
			fmt.Fprintf(w, "  %s: %s", m.Model, m.Version)
		}
		if m.Replaces != "" {
			fmt.Fprintf(w, " (replacing %s)", m.Replaces)
		}
		fmt.Fprintln(w)
	}
	if out.Pushed {
		fmt.Fprintf(w, "Pushed %s at %s (on %s at %s)\n", out.Branch, shortCommit(out.Commit), out.BaseBranch, shortCommit(out.BaseCommit))
	} else {
		fmt.Fprintf(w, "Branch %s is already up to date at %s\n", out.Branch, shortCommit(out.Commit))
	}
	if pr := out.PullRequest; pr != nil {
		verb := "Updated"
		if pr.Created {
			verb = "Opened"
		}
		fmt.Fprintf(w, "%s pull request #%d: %s\n", verb, pr.Number, pr.URL)
	}
	for _, a := range approvals {
		fmt.Fprintf(w, "Needs %d more %s for %s from %s\n", a.Missing, pluralWord(a.Missing, "approval", "approvals"), a.File, strings.Join(a.Owners, ", "))
	}
}

func shortCommit(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
