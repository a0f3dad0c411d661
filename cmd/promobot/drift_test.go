package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// TestResolveReportAndDrift has a scoring job resolve with --report into
// Azurite append blobs, then has drift compare the reports with the pins:
// the load is the pin but unattested, so drift exits 1. A report that
// cannot be written never changes resolve's exit status.
func TestResolveReportAndDrift(t *testing.T) {
	t.Parallel()
	r := newArtifactRepo(t)
	client, err := azblob.NewClientFromConnectionString(r.connection, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(t.Context(), "scoring-reports", nil); err != nil {
		t.Fatal(err)
	}
	sink := r.endpoint + "/scoring-reports/loads"

	got := r.run(t, "resolve", "--env", "prod", "--model", "good", "--ref", "main", "--report", sink, "--job-id", "scoring-prod-1")
	if got.code != 0 || strings.Contains(got.stderr, "warning") {
		t.Fatalf("resolve with a report: exit %d, stderr %s", got.code, got.stderr)
	}
	day := time.Now().UTC().Format("2006-01-02")
	blob, err := client.DownloadStream(t.Context(), "scoring-reports", "loads/"+day+"/scoring-prod-1.jsonl", nil)
	if err != nil {
		t.Fatalf("the report blob: %v", err)
	}
	var line map[string]any
	if err := json.NewDecoder(blob.Body).Decode(&line); err != nil {
		t.Fatal(err)
	}
	blob.Body.Close()
	if line["version"] != "1.0.0" || line["verified"] != true || line["attestation"] != "none" || line["job"] != "scoring-prod-1" {
		t.Errorf("report line = %v", line)
	}

	for name, bad := range map[string][]string{
		"unreachable store":  {"--report", "http://127.0.0.1:1/devstoreaccount1/c/p", "--report-timeout", "2s", "--job-id", "j1"},
		"store is not a dir": {"--report", "file:" + filepath.Join(r.dir, ".github", "promobot.yaml"), "--job-id", "j1"},
		"bad job id":         {"--report", "file:" + t.TempDir(), "--job-id", "../j1"},
	} {
		start := time.Now()
		got := r.run(t, append([]string{"resolve", "--env", "prod", "--model", "good", "--ref", "main"}, bad...)...)
		if got.code != 0 || !strings.Contains(got.stderr, "warning: the load was not reported") {
			t.Errorf("%s: exit %d, stderr %q; want 0 and a warning", name, got.code, got.stderr)
		}
		if time.Since(start) > 20*time.Second {
			t.Errorf("%s: resolve took %s", name, time.Since(start))
		}
	}

	for _, format := range []string{"text", "json", "markdown"} {
		got := r.run(t, "drift", "--reports", sink, "--ref", "main", "--format", format)
		if got.code != exitFailed || !strings.Contains(got.stdout, "unattested") || strings.Contains(got.stdout, "not-pinned") {
			t.Errorf("drift --format %s: exit %d, want 1 with unattested only\nstdout:\n%s\nstderr:\n%s", format, got.code, got.stdout, got.stderr)
		}
		if format == "json" {
			assertSchema(t, "drift-output.schema.json", got.stdout)
		}
	}
	// Dev-only filters see nothing: no drift.
	if got := r.run(t, "drift", "--reports", sink, "--ref", "main", "--env", "test"); got.code != 0 {
		t.Errorf("drift --env test: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if got := r.run(t, "drift", "--ref", "main"); got.code != exitUsage {
		t.Errorf("drift without --reports: exit %d, want 2", got.code)
	}
}
