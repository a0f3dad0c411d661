package promote

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzRetarget checks that the text edit either refuses or produces a
// document whose environment and ticket are the requested ones and whose
// other top-level keys are unchanged.
func FuzzRetarget(f *testing.F) {
	files := baseFiles(f)
	for _, p := range []string{testNDX, prodNDX, devNDX} {
		f.Add(files[p], "CHG-1")
	}
	f.Add("environment: 'a' # c\napproval: {ticket: x}\n", "")
	f.Add("environment: \"a\\\"b\"\r\napproval:\r\n  ticket: |\r\n    x\r\nnotes: n\r\n", "CHG-1")
	f.Fuzz(func(t *testing.T, src, ticket string) {
		out, err := retarget([]byte(src), "prod", ticket)
		if err != nil {
			return
		}
		var before, after map[string]any
		if yaml.Unmarshal([]byte(src), &before) != nil {
			t.Fatalf("retarget accepted a document yaml.v3 cannot decode")
		}
		if err := yaml.Unmarshal(out, &after); err != nil {
			t.Fatalf("retarget produced invalid YAML: %v\n%q\n->\n%q", err, src, out)
		}
		if after["environment"] != "prod" {
			t.Fatalf("environment = %#v in\n%q", after["environment"], out)
		}
		ap, _ := after["approval"].(map[string]any)
		if ticket == "" && after["approval"] != nil || ticket != "" && (ap == nil || ap["ticket"] != ticket) {
			t.Fatalf("approval = %#v, want ticket %q in\n%q", after["approval"], ticket, out)
		}
		for k := range before {
			if k == "environment" || k == "approval" {
				continue
			}
			if _, ok := after[k]; !ok {
				t.Fatalf("key %q lost:\n%q\n->\n%q", k, src, out)
			}
		}
	})
}
