package main

import (
	"strings"
	"testing"
)

// TestAuditStats runs audit --stats on the shared history, with GitHub
// (review wait measured) and without, and refuses formats it has not.
func TestAuditStats(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	cache := t.TempDir()
	for _, format := range []string{"text", "json", "csv", "markdown"} {
		res := f.run(t, cache, append([]string{"audit", "--stats", "--format", format}, f.github...)...)
		if res.code != 0 || !strings.Contains(res.stdout, "prod") {
			t.Errorf("--format %s: exit %d\n%s%s", format, res.code, res.stdout, res.stderr)
		}
	}
	res := f.run(t, cache, "audit", "--stats", "--format", "json")
	if res.code != 0 || !strings.Contains(res.stdout, `"reviewWaitMeasured": false`) {
		t.Errorf("without GitHub: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = f.run(t, cache, append([]string{"audit", "--stats", "--format", "json"}, f.github...)...)
	if !strings.Contains(res.stdout, `"reviewWaitMeasured": true`) || !strings.Contains(res.stdout, `"reviewWaitMedianHours": 0.`) {
		t.Errorf("with GitHub, review wait is not measured:\n%s", res.stdout)
	}
	assertSchema(t, "audit-stats-output.schema.json", res.stdout)
	if res := f.run(t, cache, "audit", "--stats", "--format", "html"); res.code != exitUsage {
		t.Errorf("--format html: exit %d, want 2", res.code)
	}
}
