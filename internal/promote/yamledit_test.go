package promote

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/example-org/promobot/internal/manifest"
)

func TestRetarget(t *testing.T) {
	src := baseFiles(t)["environments/test/elasticnet-ndx.yaml"]
	dev := baseFiles(t)["environments/dev/elasticnet-ndx.yaml"]
	r := strings.NewReplacer
	tests := []struct {
		name        string
		src         string
		env, ticket string
		want        string
	}{
		{
			name: "environment and ticket replaced", src: src, env: "prod", ticket: "CHG-4901",
			want: r("environment: test\n", "environment: prod\n", "ticket: CHG-4821", "ticket: CHG-4901").Replace(src),
		},
		{
			name: "source ticket dropped when none is given", src: src, env: "prod",
			want: r("environment: test\n", "environment: prod\n", "approval:\n  ticket: CHG-4821\n", "").Replace(src),
		},
		{
			name: "approval inserted before notes", src: dev, env: "test", ticket: "CHG-1234",
			want: r("environment: dev\n", "environment: test\n", "notes:", "approval:\n  ticket: CHG-1234\nnotes:").Replace(dev),
		},
		{
			name: "approval appended when nothing follows it",
			src:  "environment: dev\nversion: \"1\"\nvalidation:\n  status: passed",
			env:  "test", ticket: "CHG-1",
			want: "environment: test\nversion: \"1\"\nvalidation:\n  status: passed\napproval:\n  ticket: CHG-1\n",
		},
		{
			name: "comments and a trailing comment are kept",
			src:  "# pinned by the nightly job\nenvironment: test   # stage\napproval:\n  ticket: CHG-1 # old\n# the notes\nnotes: x\n",
			env:  "prod", ticket: "CHG-2",
			want: "# pinned by the nightly job\nenvironment: prod   # stage\napproval:\n  ticket: CHG-2\n# the notes\nnotes: x\n",
		},
		{
			name: "quoted environment",
			src:  "environment: \"test\"\nnotes: x\n", env: "prod",
			want: "environment: prod\nnotes: x\n",
		},
		{
			name: "single-quoted environment with an escaped quote",
			src:  "environment: 'te''st'\nnotes: x\n", env: "prod",
			want: "environment: prod\nnotes: x\n",
		},
		{
			name: "flow approval replaced",
			src:  "environment: test\napproval: {ticket: CHG-1}\nnotes: x\n", env: "prod", ticket: "CHG-9",
			want: "environment: prod\napproval:\n  ticket: CHG-9\nnotes: x\n",
		},
		{
			name: "four-space indentation is followed",
			src:  "environment: test\nartifact:\n    uri: x\nnotes: x\n", env: "prod", ticket: "CHG-9",
			want: "environment: prod\nartifact:\n    uri: x\napproval:\n    ticket: CHG-9\nnotes: x\n",
		},
		{
			name: "windows line endings",
			src:  "environment: test\r\napproval:\r\n  ticket: CHG-1\r\nnotes: x\r\n", env: "prod", ticket: "CHG-2",
			want: "environment: prod\r\napproval:\r\n  ticket: CHG-2\r\nnotes: x\r\n",
		},
		{
			name: "a ticket that needs quotes",
			src:  "environment: test\n", env: "prod", ticket: "#42: yes",
			want: "environment: prod\napproval:\n  ticket: '#42: yes'\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := retarget([]byte(tt.src), tt.env, tt.ticket)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("retarget (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetargetKeepsArtifactAndLineageBytes(t *testing.T) {
	src := baseFiles(t)["environments/test/elasticnet-ndx.yaml"]
	got, err := retarget([]byte(src), "prod", "CHG-4901")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"artifact", "lineage", "metrics", "parameters", "validation"} {
		if diff := cmp.Diff(block(t, src, key), block(t, string(got), key)); diff != "" {
			t.Errorf("%s block changed (-source +promoted):\n%s", key, diff)
		}
	}
}

func TestRetargetRefusesWhatItCannotEditSafely(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"flow document", "{environment: test, version: '1'}\n", "flow mapping"},
		{"no environment", "version: '1'\n", "no environment field"},
		{"block scalar environment", "environment: |\n  test\nversion: '1'\n", "block scalar"},
		{"multi-line plain environment", "environment: te\n  st\nversion: '1'\n", "several lines"},
		{"not a mapping", "- a\n", "not a YAML mapping"},
		{"not YAML", "a: [\n", "parse manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := retarget([]byte(tt.src), "prod", "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("retarget error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBranchName(t *testing.T) {
	tests := []struct {
		name  string
		kind  Kind
		env   string
		moves map[string]string
		want  string
	}{
		{"one model", Promote, "prod", map[string]string{"elasticnet-ndx": "2026.06.05-3"}, "promobot/prod/elasticnet-ndx-2026.06.05-3"},
		{"rollback", Rollback, "prod", map[string]string{"elasticnet-ndx": "2026.06.05-3"}, "promobot/prod/rollback-elasticnet-ndx-2026.06.05-3"},
		{"bundle gets a hash suffix", Promote, "prod", map[string]string{"elasticnet-ndx": "1", "elasticnet-ndx-threshold": "2"}, "promobot/prod/elasticnet-ndx-1-d2887a77"},
		{"unsafe characters are replaced", Promote, "prod", map[string]string{"m": "1..2.lock"}, "promobot/prod/m-1.2-e479436e"},
		{"long names are capped", Register, "dev", map[string]string{strings.Repeat("m", 63): strings.Repeat("v", 64)}, "promobot/dev/" + strings.Repeat("m", 63) + "-" + strings.Repeat("v", 14) + "-5b90284b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BranchName(tt.kind, tt.env, tt.moves)
			if got != tt.want {
				t.Errorf("BranchName = %q, want %q", got, tt.want)
			}
			if len(got) > maxBranchLength {
				t.Errorf("BranchName is %d characters, more than %d", len(got), maxBranchLength)
			}
		})
	}
}

func TestRetargetApprovalWritesTheRationale(t *testing.T) {
	src := "apiVersion: promobot/v1\nenvironment: test\napproval:\n  ticket: CHG-1\nnotes: n\n"
	tests := []struct {
		name     string
		approval manifest.Approval
		want     string
	}{
		{"ticket and rationale", manifest.Approval{Ticket: "CHG-4901", Rationale: "Better r2: 0.62 vs 0.61, \"champion\" kept"},
			"apiVersion: promobot/v1\nenvironment: prod\napproval:\n  ticket: CHG-4901\n  rationale: \"Better r2: 0.62 vs 0.61, \\\"champion\\\" kept\"\nnotes: n\n"},
		{"rationale alone, on one line", manifest.Approval{Rationale: "two\nlines <b>"},
			"apiVersion: promobot/v1\nenvironment: prod\napproval:\n  rationale: \"two\\nlines <b>\"\nnotes: n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := retargetApproval([]byte(src), "prod", tt.approval)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var back struct {
				Approval manifest.Approval `yaml:"approval"`
			}
			if err := yaml.Unmarshal(got, &back); err != nil || back.Approval != tt.approval {
				t.Errorf("reads back as %+v (%v), want %+v", back.Approval, err, tt.approval)
			}
		})
	}
}
