package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/resolve"
)

// Environment variables resolve reads for its report.
const (
	envReport = "PROMOBOT_REPORT"
	envJobID  = "PROMOBOT_JOB_ID"
)

// reportFlags say where resolve records what the job loaded.
type reportFlags struct {
	sink    string
	job     string
	timeout time.Duration
}

func (r *reportFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&r.sink, "report", "", "record what was loaded in this append-only store: file:DIR or azblob://ACCOUNT/CONTAINER/PREFIX (default: $"+envReport+"); never changes the exit status")
	fl.StringVar(&r.job, "job-id", "", "the scoring job's identity in the report (default: $"+envJobID+", then the host name)")
	fl.DurationVar(&r.timeout, "report-timeout", 10*time.Second, "give up recording the report after this long")
}

// write records the load. It is bounded by the timeout and only warns on
// failure: the report is for monitoring and must not stop a job whose
// model resolved.
func (r *reportFlags) write(ctx context.Context, e *env, f *resolveFlags, res *resolve.Resolution) {
	sink := r.sink
	if sink == "" {
		sink = e.getenv(envReport)
	}
	if sink == "" {
		return
	}
	warn := func(err error) { fmt.Fprintf(e.stderr, "warning: the load was not reported to %s: %v\n", sink, err) }
	job := r.job
	if job == "" {
		job = e.getenv(envJobID)
	}
	if job == "" {
		host, err := os.Hostname()
		if err != nil {
			warn(fmt.Errorf("no --job-id, $%s or host name: %w", envJobID, err))
			return
		}
		job = host
	}
	if err := drift.CheckJob(job); err != nil {
		warn(err)
		return
	}
	timeout := r.timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	store, err := openReportStore(e, sink)
	if err != nil {
		warn(err)
		return
	}
	l := drift.Load{
		Repository: reportRepository(f), Environment: f.env, Model: f.model,
		Version: res.Manifest.Version, SHA256: res.Manifest.Artifact.SHA256, Commit: res.Commit,
		Verified: res.Verified, Attestation: drift.AttestationNone, Job: job, Time: time.Now().UTC(),
	}
	if res.Attestation != nil && res.Attestation.Status != "" {
		l.Attestation = res.Attestation.Status
	}
	if err := store.Append(ctx, l); err != nil {
		warn(err)
	}
}

// reportRepository names the GitOps repository in a report: OWNER/REPO
// when known, else the repository argument's last path element.
func reportRepository(f *resolveFlags) string {
	if f.githubRepo != "" {
		return f.githubRepo
	}
	if owner, name, ok := githubRepoFromURL(f.repo, ""); ok {
		return owner + "/" + name
	}
	if f.repo == "" {
		return ""
	}
	return strings.TrimSuffix(filepath.Base(filepath.Clean(f.repo)), ".git")
}

// openReportStore opens a report store with the command's storage
// credentials and, in tests, its HTTP client.
func openReportStore(e *env, sink string) (drift.Store, error) {
	var opts *azcore.ClientOptions
	if e.blobOptions != nil {
		opts = &azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: e.blobOptions.MaxRetries}}
		if e.blobOptions.HTTPClient != nil {
			opts.Transport = e.blobOptions.HTTPClient
		}
	}
	return drift.Open(sink, func() (artifact.Credentials, error) { return artifact.CredentialsFromEnv(e.getenv) }, opts)
}
