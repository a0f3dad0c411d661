package promobot_test

// Tests of the composite GitHub Action in action.yml. The static tests hold
// its shape (documented inputs, no expressions inside scripts); the others
// run its steps the way the runner does, with bash, against a local origin
// repository and a shallow checkout of a pull request's merge commit.

import (
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// action is the part of action.yml the tests read.
type action struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Inputs      map[string]struct {
		Description string `yaml:"description"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	ID               string            `yaml:"id"`
	Name             string            `yaml:"name"`
	If               string            `yaml:"if"`
	Uses             string            `yaml:"uses"`
	With             map[string]string `yaml:"with"`
	Shell            string            `yaml:"shell"`
	WorkingDirectory string            `yaml:"working-directory"`
	Env              map[string]string `yaml:"env"`
	Run              string            `yaml:"run"`
}

func loadAction(t *testing.T) *action {
	t.Helper()
	var a action
	if err := yaml.Unmarshal([]byte(readRootFile(t, "action.yml")), &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return &a
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

func TestActionShape(t *testing.T) {
	a := loadAction(t)
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite", a.Runs.Using)
	}
	if !strings.Contains(a.Description, "approvals are evaluated only by the promobot GitHub App") {
		t.Errorf("the description must say that approvals are evaluated only by the App:\n%s", a.Description)
	}
	for name, in := range a.Inputs {
		if strings.TrimSpace(in.Description) == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	for name, out := range a.Outputs {
		if strings.TrimSpace(out.Description) == "" || out.Value == "" {
			t.Errorf("output %s needs a description and a value", name)
		}
	}
	ids := map[string]bool{}
	used := map[string]bool{}
	var texts []string
	for _, s := range a.Runs.Steps {
		ids[s.ID] = true
		texts = append(texts, s.If, s.WorkingDirectory)
		for _, v := range s.Env {
			texts = append(texts, v)
		}
		for _, v := range s.With {
			texts = append(texts, v)
		}
		if s.Run == "" {
			continue
		}
		if s.Shell != "bash" {
			t.Errorf("step %q: shell %q, want bash", s.Name, s.Shell)
		}
		// A value pasted into a script by an expression is shell code: a
		// branch name or label could run commands. Pass values in env.
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q: an expression inside run; pass it through env", s.Name)
		}
	}
	for _, out := range a.Outputs {
		texts = append(texts, out.Value)
	}
	for _, text := range texts {
		for _, m := range regexp.MustCompile(`inputs\.([a-z-]+)`).FindAllStringSubmatch(text, -1) {
			used[m[1]] = true
			if _, ok := a.Inputs[m[1]]; !ok {
				t.Errorf("%q refers to the undeclared input %s", text, m[1])
			}
		}
		for _, m := range regexp.MustCompile(`steps\.([a-z-]+)\.`).FindAllStringSubmatch(text, -1) {
			if !ids[m[1]] {
				t.Errorf("%q refers to the unknown step %s", text, m[1])
			}
		}
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but never used", name)
		}
	}
}

func TestActionOnPullRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds promobot and runs git")
	}
	for _, tool := range []string{"bash", "git", "jq", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	t.Parallel()
	// A fresh HOME keeps the developer's git configuration out; git's
	// background maintenance is off, as it does nothing for these
	// short-lived repositories. The install steps (download, build) run
	// once for every case (actionInstall): a Linux runner, and no released
	// binary pinned for this source, so the Action builds promobot from
	// source.
	home := t.TempDir()
	writeFiles(t, home, map[string]string{"gitconfig": "[maintenance]\n\tauto = false\n[gc]\n\tauto = 0\n"})
	env := append(os.Environ(), "RUNNER_OS=Linux", "RUNNER_ARCH=X64")
	env = append(env, "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"),
		"GIT_AUTHOR_NAME="+gitName, "GIT_AUTHOR_EMAIL="+gitEmail,
		"GIT_COMMITTER_NAME="+gitName, "GIT_COMMITTER_EMAIL="+gitEmail,
		"GOFLAGS=-mod=readonly")

	// Without the sample's verifyArtifacts on prod, a prod promotion is
	// judged without storage, so what is left is the approvals.
	noProdVerification := edit(".github/promobot.yaml", "    verifyArtifacts: true\n", "")
	tests := []struct {
		name        string
		event       string
		fullHistory bool                    // checkout with fetch-depth: 0
		base        func(map[string]string) // edits the base branch
		change      func(map[string]string)
		labels      []string
		inputs      map[string]string
		wantFailed  bool
		wantOutputs map[string]string
		wantLog     []string // substrings of the steps' output
		notLog      []string
		wantSummary []string
	}{{
		name:        "a dev change needs no approval and passes",
		event:       "pull_request",
		change:      edit("environments/dev/elasticnet-ndx.yaml", "notes: Weekly retrain", "notes: Weekly retrained"),
		wantOutputs: map[string]string{"verdict": "pass", "blocking-rules": "0", "missing-approvals": "0"},
		wantLog:     []string{"this commit's source is not a release's; building from source", "promobot version", "check: verdict pass"},
		wantSummary: []string{"PASS", "approvals are evaluated by the promobot GitHub App"},
	}, {
		name:        "a full checkout needs no fetch",
		event:       "pull_request",
		fullHistory: true,
		change:      edit("environments/dev/elasticnet-ndx.yaml", "notes: Weekly retrain", "notes: Weekly retrained"),
		wantOutputs: map[string]string{"verdict": "pass", "blocking-rules": "0", "missing-approvals": "0"},
	}, {
		name:        "a prod promotion awaits approvals the workflow cannot see",
		event:       "pull_request",
		base:        noProdVerification,
		change:      promote("test", "prod"),
		labels:      []string{"release", "a,b: c"},
		wantOutputs: map[string]string{"verdict": "fail", "blocking-rules": "0", "missing-approvals": "2"},
		wantLog:     []string{"2 file(s) awaiting approvals (fail-on: rules)"},
		wantSummary: []string{"0/2"},
	}, {
		name:        "fail-on any counts missing approvals",
		event:       "pull_request",
		base:        noProdVerification,
		change:      promote("test", "prod"),
		inputs:      map[string]string{"fail-on": "any"},
		wantFailed:  true,
		wantOutputs: map[string]string{"verdict": "fail", "blocking-rules": "0", "missing-approvals": "2"},
	}, {
		// The sample's prod sets verifyArtifacts: check reads the bytes
		// whatever the verify-artifacts input says, and a job without
		// storage credentials cannot: neither can it read the validation
		// report nor the rollback target prod requires.
		name:        "a prod promotion without storage credentials cannot be verified",
		event:       "pull_request",
		change:      promote("test", "prod"),
		wantFailed:  true,
		wantOutputs: map[string]string{"verdict": "fail", "blocking-rules": "5", "missing-approvals": "2"},
		wantLog:     []string{"title=promobot artifact::could not verify artifact: no storage credentials"},
	}, {
		name:        "an unvalidated version cannot reach test",
		event:       "pull_request",
		change:      promote("dev", "test"),
		wantFailed:  true,
		wantOutputs: map[string]string{"verdict": "fail", "blocking-rules": "2", "missing-approvals": "2"},
		wantLog:     []string{"::error file=environments/test/elasticnet-ndx.yaml,line=27,title=promobot validation::validation.status"},
		notLog:      []string{"unresolvable-owner"},
	}, {
		name:        "a rule in warn mode reports without blocking",
		event:       "pull_request",
		base:        edit(".github/promobot.yaml", "  validation: enforce", "  validation: warn"),
		change:      promote("dev", "test"),
		wantOutputs: map[string]string{"verdict": "fail", "blocking-rules": "0", "missing-approvals": "2"},
		wantLog:     []string{"::warning file=environments/test/elasticnet-ndx.yaml,line=27,title=promobot validation::"},
	}, {
		name:       "a manifest the schema refuses fails validate, and check still reports",
		event:      "pull_request",
		change:     edit("environments/dev/elasticnet-ndx.yaml", "notes:", "colour: blue\nnotes:"),
		wantFailed: true,
		wantLog:    []string{"::error file=environments/dev/elasticnet-ndx.yaml", "check: verdict fail"},
	}, {
		name:  "text from the pull request cannot start a workflow command",
		event: "pull_request",
		change: func(files map[string]string) {
			promote("test", "prod")(files)
			edit("environments/prod/elasticnet-ndx.yaml", "ticket: CHG-4821", `ticket: "CHG-1\n::error::injected 100%"`)(files)
		},
		wantFailed: true,
		wantLog:    []string{`::injected 100%25" does not match`}, // % escaped
		notLog:     []string{"\n::error::injected"},
	}, {
		name:        "a push only validates",
		event:       "push",
		change:      edit("environments/dev/elasticnet-ndx.yaml", "notes: Weekly retrain", "notes: Weekly retrained"),
		wantOutputs: map[string]string{"verdict": "", "blocking-rules": "", "missing-approvals": ""},
		wantLog:     []string{"check: runs on pull requests only; skipped for push"},
	}, {
		name:       "an unknown fail-on is refused",
		event:      "pull_request",
		change:     edit("environments/dev/elasticnet-ndx.yaml", "notes: Weekly retrain", "notes: Weekly retrained"),
		inputs:     map[string]string{"fail-on": "sometimes"},
		wantFailed: true,
		wantLog:    []string{"fail-on must be rules, any or never"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			installed := actionInstall(t)
			workspace, head := pullRequest(t, env, tc.fullHistory, tc.base, tc.change)
			labels := []any{}
			for _, l := range tc.labels {
				labels = append(labels, map[string]any{"name": l})
			}
			github := map[string]any{
				"event_name": tc.event, "action_path": moduleRoot(t), "action_ref": actionTestVersion,
				"event": map[string]any{},
			}
			if tc.event == "pull_request" {
				github["base_ref"] = "main"
				github["event"] = map[string]any{"pull_request": map[string]any{
					"head": map[string]any{"sha": head}, "user": map[string]any{"login": "alice"}, "labels": labels,
				}}
			}
			r := &runner{t: t, action: loadAction(t), inputs: tc.inputs, github: github,
				workspace: workspace, env: env, steps: maps.Clone(installed.steps)}
			r.log.WriteString(installed.log)
			outputs := r.run()
			log := r.log.String()
			if testing.Verbose() {
				t.Log(log)
			}
			if r.failed != tc.wantFailed {
				t.Errorf("failed = %v, want %v\n%s", r.failed, tc.wantFailed, log)
			}
			if tc.wantOutputs != nil {
				got := map[string]string{}
				for k := range tc.wantOutputs {
					got[k] = outputs[k]
				}
				if diff := cmp.Diff(tc.wantOutputs, got); diff != "" {
					t.Errorf("outputs (-want +got):\n%s\n%s", diff, log)
				}
			}
			for _, want := range tc.wantLog {
				if !strings.Contains(log, want) {
					t.Errorf("the steps' output lacks %q:\n%s", want, log)
				}
			}
			for _, unwanted := range tc.notLog {
				if strings.Contains(log, unwanted) {
					t.Errorf("the steps' output has %q:\n%s", unwanted, log)
				}
			}
			summary, _ := os.ReadFile(r.summary)
			for _, want := range tc.wantSummary {
				if !strings.Contains(string(summary), want) {
					t.Errorf("the job summary lacks %q:\n%s", want, summary)
				}
			}
		})
	}
}

// TestActionDownloadsThePinnedRelease runs the Action's install steps
// against a local HTTPS server standing in for the releases: the binary
// pinned for this source and runner is downloaded and run only when its
// sha256 is the pinned one; anything else builds from source, here with a
// stand-in go so that no test builds promobot again.
func TestActionDownloadsThePinnedRelease(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	const version = "v1.2.3"
	released := "#!/bin/sh\necho 'promobot version " + version + " (released)'\n"
	tampered := "#!/bin/sh\necho 'promobot version " + version + " (tampered)'\n"

	// The pins of a release of this very source, written by the release
	// tooling from stand-in binaries.
	dir := t.TempDir()
	pins := filepath.Join(dir, "action-binaries.txt")
	dist := filepath.Join(dir, "dist")
	files := map[string]string{}
	for _, p := range makePlatforms(t) {
		files["promobot_"+version+"_"+strings.ReplaceAll(p, "/", "_")] = released
	}
	writeFiles(t, dist, files)
	writeFiles(t, dir, map[string]string{"action-binaries.txt": readRootFile(t, "action-binaries.txt")})
	if out, err := pinScript(t, pins, "pin", version, dist); err != nil {
		t.Fatalf("pin: %v\n%s", err, out)
	}
	otherSource := filepath.Join(dir, "other-source.txt")
	writeFiles(t, dir, map[string]string{"other-source.txt": regexp.MustCompile(` [0-9a-f]{64} `).
		ReplaceAllString(readFile(t, pins), " "+strings.Repeat("1", 64)+" ")})
	malformed := filepath.Join(dir, "malformed.txt")
	writeFiles(t, dir, map[string]string{"malformed.txt": readFile(t, pins) + "v1.2.4 linux/amd64\n"})

	// Each case asks under a prefix of its own (/<case>/releases/…), so
	// that the cases run at once and each sees its own requests.
	var (
		mu       sync.Mutex
		requests = map[string][]string{}
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix, path, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		path = "/" + path
		mu.Lock()
		requests[prefix] = append(requests[prefix], path)
		mu.Unlock()
		switch path {
		case "/releases/download/v1.2.3/promobot_v1.2.3_linux_amd64", "/releases/download/v1.2.3/promobot_v1.2.3_darwin_arm64":
			io.WriteString(w, released)
		case "/releases/download/v1.2.3/promobot_v1.2.3_linux_arm64":
			io.WriteString(w, tampered)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	// A go that "builds" by writing a script, so the fallback is seen
	// without compiling.
	fakeBin := filepath.Join(dir, "fakebin")
	writeFiles(t, fakeBin, map[string]string{"go": `#!/bin/sh
out=
while [ $# -gt 0 ]; do
	if [ "$1" = -o ]; then out=$2; fi
	shift
done
printf '#!/bin/sh\necho "promobot version built from source"\n' >"$out"
chmod +x "$out"
`})
	if err := os.Chmod(filepath.Join(fakeBin, "go"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		runner       string // RUNNER_OS/RUNNER_ARCH
		pins         string
		url          string // the releases; srv's when empty
		wantFailed   bool
		wantLog      []string
		wantVersion  string // the installed promobot --version
		wantRequests []string
	}{{
		name:         "the pinned release for linux/amd64 is downloaded and verified",
		runner:       "Linux/X64",
		pins:         pins,
		wantLog:      []string{"promobot: v1.2.3 for linux/amd64, sha256", "as pinned"},
		wantVersion:  "promobot version v1.2.3 (released)",
		wantRequests: []string{"/releases/download/v1.2.3/promobot_v1.2.3_linux_amd64"},
	}, {
		name:         "darwin/arm64 gets its own binary",
		runner:       "macOS/ARM64",
		pins:         pins,
		wantVersion:  "promobot version v1.2.3 (released)",
		wantRequests: []string{"/releases/download/v1.2.3/promobot_v1.2.3_darwin_arm64"},
	}, {
		name:         "a download whose sha256 is not the pinned one is refused",
		runner:       "Linux/ARM64",
		pins:         pins,
		wantFailed:   true,
		wantLog:      []string{"::error title=promobot::", "but this action pins", "refusing to run it"},
		wantRequests: []string{"/releases/download/v1.2.3/promobot_v1.2.3_linux_arm64"},
	}, {
		name:         "a release asset that cannot be downloaded falls back to the source",
		runner:       "macOS/X64",
		pins:         pins,
		wantLog:      []string{"::warning title=promobot::could not download", "building from source"},
		wantVersion:  "promobot version built from source",
		wantRequests: []string{"/releases/download/v1.2.3/promobot_v1.2.3_darwin_amd64"},
	}, {
		name:        "releases are fetched over HTTPS only",
		runner:      "Linux/X64",
		pins:        pins,
		url:         "http://127.0.0.1:1/releases/download",
		wantLog:     []string{"could not download http://127.0.0.1:1/"},
		wantVersion: "promobot version built from source",
	}, {
		name:        "a source no release was built from builds",
		runner:      "Linux/X64",
		pins:        otherSource,
		wantLog:     []string{"this commit's source is not a release's; building from source"},
		wantVersion: "promobot version built from source",
	}, {
		name:        "a runner without a released binary builds",
		runner:      "Windows/X64",
		pins:        pins,
		wantLog:     []string{"no released binary for Windows/X64; building from source"},
		wantVersion: "promobot version built from source",
	}, {
		name:        "a pin file that cannot be read builds, with a warning",
		runner:      "Linux/X64",
		pins:        malformed,
		wantLog:     []string{"::warning title=promobot::cannot read the pinned release binaries"},
		wantVersion: "promobot version built from source",
	}}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := strconv.Itoa(i)
			a := loadAction(t)
			var steps []actionStep
			for _, s := range a.Runs.Steps {
				if s.ID == "release" {
					url := tc.url
					if url == "" {
						url = srv.URL + "/" + prefix + "/releases/download"
					}
					s.Env["RELEASES_URL"] = url
				}
				steps = append(steps, s)
				if s.ID == "build" {
					break // the install steps only; validate and check need a repository
				}
			}
			a.Runs.Steps = steps
			osName, arch, _ := strings.Cut(tc.runner, "/")
			env := append(os.Environ(), "RUNNER_OS="+osName, "RUNNER_ARCH="+arch, "ACTION_BINARIES_FILE="+tc.pins,
				"CURL_CA_BUNDLE="+caFile, "PATH="+fakeBin+string(os.PathListSeparator)+os.Getenv("PATH"))
			r := &runner{t: t, action: a, github: map[string]any{"action_path": moduleRoot(t), "action_ref": "0123abc"},
				workspace: t.TempDir(), env: env, steps: map[string]map[string]any{}}
			outputs := r.run()
			log := r.log.String()
			if r.failed != tc.wantFailed {
				t.Errorf("failed = %v, want %v\n%s", r.failed, tc.wantFailed, log)
			}
			for _, want := range tc.wantLog {
				if !strings.Contains(log, want) {
					t.Errorf("the steps' output lacks %q:\n%s", want, log)
				}
			}
			mu.Lock()
			got := requests[prefix]
			mu.Unlock()
			if diff := cmp.Diff(tc.wantRequests, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			path := outputs["promobot"]
			if tc.wantFailed {
				if path != "" {
					t.Errorf("output promobot = %q after a refused download", path)
				}
				return
			}
			out, err := exec.Command(path).CombinedOutput()
			if got := strings.TrimSpace(string(out)); err != nil || got != tc.wantVersion {
				t.Errorf("%s: %q, %v; want %q\n%s", path, got, err, tc.wantVersion, log)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), "promobot.download")); !os.IsNotExist(err) {
				t.Errorf("the download is left next to the binary: %v", err)
			}
		})
	}
}
