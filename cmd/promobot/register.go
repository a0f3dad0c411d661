package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/promote"
)

func init() { subcommands = append(subcommands, newRegisterCommand) }

// registerFlags are the per-version flags of promobot register.
type registerFlags struct {
	model, env, version, notes         string
	files                              []string
	artifact, uri, sha, signature      string
	size                               int64
	trainingRun, sourceCommit          string
	featureSet, dataVersion, dataRange string
	metrics                            []string
	// rationale applies to every registration of the run.
	rationale string
}

// single reports whether any flag that describes one version was set.
func (r *registerFlags) single(cmd *cobra.Command) []string {
	var set []string
	for _, name := range []string{"version", "artifact", "uri", "sha256", "size", "signature", "training-run", "source-commit", "feature-set", "data-version", "data-window", "metric", "notes", "model"} {
		if cmd.Flags().Changed(name) {
			set = append(set, "--"+name)
		}
	}
	return set
}

func newRegisterCommand(e *env) *cobra.Command {
	var (
		f changeFlags
		r registerFlags
	)
	cmd := &cobra.Command{
		Use:   "register --model M [--env FIRST_ENV] [--from-file candidate.yaml] [flags]",
		Short: "Open the pull request that registers a new candidate version",
		Long: `Register writes a new candidate version into the first environment of the
policy (the one without "from"), with validation.status pending. Fields come
from --from-file (a manifest or part of one, whose comments and field order
are kept) and from flags, which take precedence. --artifact hashes a local
file to fill artifact.sha256 and artifact.size; a candidate file that says
otherwise is an error.

A version id that the model already uses, now or earlier in any environment,
for a different artifact, lineage, metrics or parameters is refused. Several
--from-file flags register several models (a bundle) in one pull request; the
per-version flags then cannot be used.

Exit status: 0 done (or nothing to do); 1 refused by the policy; 2 usage or
configuration error; 3 unknown environment or model; 4 GitHub or the git
remote could not answer (a retry may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reqs, err := r.requests(cmd, e)
			if err != nil {
				return err
			}
			x, err := f.executor(e)
			if err != nil {
				return err
			}
			out, err := x.Register(cmd.Context(), reqs, f.options())
			return reportChange(e, &f, out, err)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&r.model, "model", "", "model (default: the candidate file's)")
	fl.StringVar(&r.env, "env", "", "environment; must be the policy's first environment (default: it)")
	fl.StringArrayVar(&r.files, "from-file", nil, "candidate manifest in YAML (repeatable for a bundle)")
	fl.StringVar(&r.version, "version", "", "version id (default: the candidate file's)")
	fl.StringVar(&r.artifact, "artifact", "", "local artifact file: its sha256 and size are computed")
	fl.StringVar(&r.uri, "uri", "", "artifact URI")
	fl.StringVar(&r.sha, "sha256", "", "artifact SHA-256, hex")
	fl.Int64Var(&r.size, "size", -1, "artifact size in bytes")
	fl.StringVar(&r.signature, "signature", "", "artifact signature, base64")
	fl.StringVar(&r.trainingRun, "training-run", "", "lineage.trainingRun")
	fl.StringVar(&r.sourceCommit, "source-commit", "", "lineage.sourceCommit (40 hex digits)")
	fl.StringVar(&r.featureSet, "feature-set", "", "lineage.featureSet")
	fl.StringVar(&r.dataVersion, "data-version", "", "lineage.dataVersion")
	fl.StringVar(&r.dataRange, "data-window", "", "lineage.dataWindow as START..END (YYYY-MM-DD..YYYY-MM-DD)")
	fl.StringArrayVar(&r.metrics, "metric", nil, "metric NAME=VALUE (repeatable)")
	fl.StringVar(&r.notes, "notes", "", "notes")
	fl.StringVar(&r.rationale, "rationale", "", "why the version is registered, written to approval.rationale (required where the policy sets requireRationale)")
	f.register(fl)
	return cmd
}

// requests turns the flags into registration requests.
func (r *registerFlags) requests(cmd *cobra.Command, e *env) ([]promote.RegisterRequest, error) {
	cwd, err := e.getwd()
	if err != nil {
		return nil, usageError("%v", err)
	}
	read := func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, usageError("--from-file: %v", err)
		}
		return data, nil
	}
	if len(r.files) > 1 {
		if set := r.single(cmd); len(set) > 0 {
			return nil, usageError("with several --from-file, describe each version in its file; %s cannot be used", strings.Join(set, ", "))
		}
		var reqs []promote.RegisterRequest
		for _, p := range r.files {
			data, err := read(p)
			if err != nil {
				return nil, err
			}
			reqs = append(reqs, promote.RegisterRequest{Environment: r.env, Candidate: data, Rationale: r.rationale})
		}
		return reqs, nil
	}
	req := promote.RegisterRequest{
		Model: r.model, Environment: r.env, Version: r.version, Notes: r.notes, Rationale: r.rationale,
		Artifact: promote.ArtifactFields{URI: r.uri, SHA256: r.sha, Signature: r.signature},
		Lineage:  promote.LineageFields{TrainingRun: r.trainingRun, SourceCommit: r.sourceCommit, FeatureSet: r.featureSet, DataVersion: r.dataVersion},
	}
	if len(r.files) == 1 {
		if req.Candidate, err = read(r.files[0]); err != nil {
			return nil, err
		}
	} else if r.model == "" {
		return nil, usageError("register needs --model or --from-file")
	}
	if r.size >= 0 {
		req.Artifact.Size = &r.size
	}
	if r.artifact != "" {
		p := r.artifact
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		sum, size, err := digestFile(p)
		if err != nil {
			return nil, usageError("--artifact: %v", err)
		}
		if r.sha != "" && !strings.EqualFold(r.sha, sum) {
			return nil, usageError("--sha256 %s does not match the artifact file, whose SHA-256 is %s", r.sha, sum)
		}
		if req.Artifact.Size != nil && *req.Artifact.Size != size {
			return nil, usageError("--size %d does not match the artifact file, which has %d bytes", *req.Artifact.Size, size)
		}
		req.Artifact.SHA256, req.Artifact.Size = sum, &size
	}
	if r.dataRange != "" {
		start, end, ok := strings.Cut(r.dataRange, "..")
		if !ok || start == "" || end == "" {
			return nil, usageError("--data-window must be START..END, not %q", r.dataRange)
		}
		req.Lineage.DataWindowStart, req.Lineage.DataWindowEnd = start, end
	}
	for _, m := range r.metrics {
		name, value, ok := strings.Cut(m, "=")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || name == "" || err != nil {
			return nil, usageError("--metric must be NAME=NUMBER, not %q", m)
		}
		if req.Metrics == nil {
			req.Metrics = map[string]float64{}
		}
		req.Metrics[name] = v
	}
	return []promote.RegisterRequest{req}, nil
}

// digestFile streams a file through SHA-256.
func digestFile(p string) (sum string, size int64, err error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
