// Package drift compares what scoring jobs report they loaded with what
// the manifests pinned at the time, and reports the difference: a job that
// loaded something other than the pin after a grace period, a version never
// pinned there, a digest that is not the pinned one, an unverified or
// unattested load, a job that stopped reporting.
//
// A report is the job's own claim: promobot resolve writes it where the job
// runs, so it shows what the job says it loaded, not what it served. The
// store is append-only and kept apart from the models (see Store).
package drift

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Attestation statuses a Load reports.
const (
	// AttestationNone: resolve ran without a trust root, so no attestation
	// was required.
	AttestationNone = "none"
)

// Load is what one resolve run reports: a scoring job loaded a version.
// It is one line of a report blob (schemas/drift-output.schema.json,
// $defs/load).
type Load struct {
	// Repository names the GitOps repository, as the job gave it.
	Repository string `json:"repository"`
	// Environment, Model and Version say what was resolved.
	Environment string `json:"environment"`
	Model       string `json:"model"`
	Version     string `json:"version"`
	// SHA256 is the artifact digest the manifest pinned.
	SHA256 string `json:"sha256"`
	// Commit is the commit of the GitOps repository that was read.
	Commit string `json:"commit"`
	// Verified is true when the artifact was read from storage and its
	// size, digest and signature verified.
	Verified bool `json:"verified"`
	// Attestation is "verified", "baseline" or "none".
	Attestation string `json:"attestation"`
	// Job is the identity the job gave (--job-id or PROMOBOT_JOB_ID).
	Job string `json:"job"`
	// Time is when resolve finished.
	Time time.Time `json:"time"`
}

var jobPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// CheckJob says whether a job identity can name a report blob: letters,
// digits, '.', '_' and '-', at most 128 characters, starting with a letter
// or digit.
func CheckJob(job string) error {
	if !jobPattern.MatchString(job) {
		return fmt.Errorf("job id %q must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", job)
	}
	return nil
}

// Line returns the load as one JSON line.
func (l Load) Line() []byte {
	b, _ := json.Marshal(l)
	return append(b, '\n')
}

// ParseLines reads a report blob. A line that is not a load (a torn
// write, an edit) is skipped and counted, never fatal: one bad line must
// not hide the others.
func ParseLines(r io.Reader) (loads []Load, skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var l Load
		if err := json.Unmarshal(line, &l); err != nil || l.Environment == "" || l.Model == "" || l.Job == "" || l.Time.IsZero() {
			skipped++
			continue
		}
		loads = append(loads, l)
	}
	return loads, skipped, sc.Err()
}
