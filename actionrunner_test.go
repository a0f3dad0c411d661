package promobot_test

// A small stand-in for the GitHub runner: it evaluates the expressions
// action.yml uses, runs each step's script with bash as the runner does, and
// builds the git repositories a pull request's workflow sees.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// runner runs an action's steps as the GitHub runner does, for the
// expressions action.yml uses.
type runner struct {
	t         *testing.T
	action    *action
	inputs    map[string]string
	github    map[string]any
	workspace string
	env       []string
	temp      string // RUNNER_TEMP; a new directory when empty
	summary   string
	steps     map[string]map[string]any // a step found here already ran
	failed    bool
	log       strings.Builder
}

// lookup resolves a context path such as github.event.pull_request.head.sha
// or github.event.pull_request.labels.*.name.
func (r *runner) lookup(path string) any {
	parts := strings.Split(path, ".")
	var cur any
	switch parts[0] {
	case "inputs":
		v, ok := r.inputs[parts[1]]
		if !ok {
			v = r.action.Inputs[parts[1]].Default
		}
		return v
	case "github":
		cur = r.github
	case "steps":
		cur = map[string]any{}
		if s, ok := r.steps[parts[1]]; ok {
			cur = s
		}
		parts = parts[1:]
	default:
		r.t.Fatalf("the harness knows no context %q", parts[0])
	}
	for i, p := range parts[1:] {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[p]
		case []any:
			if p != "*" {
				return nil
			}
			var out []any
			for _, e := range v {
				if m, ok := e.(map[string]any); ok && i+2 < len(parts) {
					out = append(out, m[parts[i+2]])
				}
			}
			return out
		default:
			return nil
		}
	}
	return cur
}

func (r *runner) value(expr string) string {
	for _, alt := range strings.Split(expr, "||") {
		alt = strings.TrimSpace(alt)
		var v any
		if inner, ok := strings.CutPrefix(alt, "toJSON("); ok {
			data, err := json.Marshal(r.lookup(strings.TrimSuffix(inner, ")")))
			if err != nil {
				r.t.Fatal(err)
			}
			v = string(data)
		} else {
			v = r.lookup(alt)
		}
		if s := fmt.Sprint(v); v != nil && s != "" {
			return s
		}
	}
	return ""
}

func (r *runner) expand(text string) string {
	return expression.ReplaceAllStringFunc(text, func(m string) string {
		return r.value(expression.FindStringSubmatch(m)[1])
	})
}

// condition evaluates a step's if: absent means success().
func (r *runner) condition(cond string) bool {
	if cond == "" {
		return !r.failed
	}
	m := expression.FindStringSubmatch(cond)
	if m == nil {
		r.t.Fatalf("if: %q is not an expression", cond)
	}
	ok := true
	for _, term := range strings.Split(m[1], "&&") {
		term = strings.TrimSpace(term)
		switch left, right, isEq := strings.Cut(term, "=="); {
		case term == "!cancelled()":
		case term == "success()":
			ok = ok && !r.failed
		case isEq:
			ok = ok && r.value(strings.TrimSpace(left)) == strings.Trim(strings.TrimSpace(right), "'")
		default:
			r.t.Fatalf("the harness cannot evaluate %q", term)
		}
	}
	return ok
}

// run runs every step that has not run yet (r.steps); it returns the
// action's outputs.
func (r *runner) run() map[string]string {
	temp := r.temp
	if temp == "" {
		temp = r.t.TempDir()
	}
	r.summary = filepath.Join(temp, "summary.md")
	for i, s := range r.action.Runs.Steps {
		if s.Uses != "" {
			continue // actions/setup-go: the test's Go is on PATH
		}
		id := s.ID
		if id == "" {
			id = fmt.Sprintf("__%d", i)
		}
		if _, done := r.steps[id]; done {
			continue
		}
		if !r.condition(s.If) {
			r.steps[id] = map[string]any{"outcome": "skipped", "outputs": map[string]any{}}
			continue
		}
		outputFile := filepath.Join(temp, id+".output")
		script := filepath.Join(temp, id+".sh")
		if err := os.WriteFile(script, []byte(s.Run), 0o600); err != nil {
			r.t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = filepath.Join(r.workspace, r.expand(s.WorkingDirectory))
		cmd.Env = append(append([]string{}, r.env...),
			"GITHUB_OUTPUT="+outputFile, "GITHUB_STEP_SUMMARY="+r.summary,
			"GITHUB_PATH="+filepath.Join(temp, "path"), "RUNNER_TEMP="+temp)
		for k, v := range s.Env {
			cmd.Env = append(cmd.Env, k+"="+r.expand(v))
		}
		out, err := cmd.CombinedOutput()
		fmt.Fprintf(&r.log, "## %s (exit %v)\n%s\n", s.Name, err, out)
		outcome := "success"
		if err != nil {
			outcome, r.failed = "failure", true
		}
		r.steps[id] = map[string]any{"outcome": outcome, "outputs": readOutputs(r.t, outputFile)}
	}
	outputs := map[string]string{}
	for name, o := range r.action.Outputs {
		outputs[name] = r.expand(o.Value)
	}
	return outputs
}

func readOutputs(t *testing.T, path string) map[string]any {
	t.Helper()
	out := map[string]any{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out
	} else if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			t.Fatalf("%s: %q is not key=value", path, sc.Text())
		}
		out[k] = v
	}
	return out
}

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// fixtureFiles is this repository's GitOps content: its manifests, policy,
// keys, CODEOWNERS and schemas. The freeze window is dropped so that the
// outcome does not depend on the date the test runs.
func fixtureFiles(t *testing.T) map[string]string {
	t.Helper()
	root := moduleRoot(t)
	files := map[string]string{}
	for _, pattern := range []string{"environments/*/*.yaml", ".github/promobot.yaml", ".github/keys/*", "CODEOWNERS", "schemas/*.json"} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil || len(matches) == 0 {
			t.Fatalf("no %s in %s: %v", pattern, root, err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(root, m)
			files[filepath.ToSlash(rel)] = readRootFile(t, filepath.ToSlash(rel))
		}
	}
	policy := files[".github/promobot.yaml"]
	start := strings.Index(policy, "    freeze:\n")
	end := strings.Index(policy, "\nartifacts:")
	if start < 0 || end < start {
		t.Fatal("the sample policy has no freeze block before artifacts:")
	}
	files[".github/promobot.yaml"] = policy[:start] + policy[end:]
	return files
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The author and committer of the pull request's commits.
const (
	gitName  = "Alice"
	gitEmail = "1001+alice@users.noreply.github.com"
)

// pullRequest writes to a bare origin, with one git fast-import, main (the
// fixture, edited by base when not nil) and a pull request with the change
// (branch pr, and the merge commit refs/pull/1/merge of pr into main, as
// GitHub makes it), checks the merge commit out as actions/checkout does
// (shallowly, or with every branch when full), and returns the workspace
// and the head commit.
func pullRequest(t *testing.T, env []string, full bool, base, change func(files map[string]string)) (workspace, head string) {
	t.Helper()
	dir := t.TempDir()
	origin := filepath.Join(dir, "origin.git")
	git(t, env, dir, "init", "--quiet", "--bare", "--initial-branch=main", origin)
	appendFile(t, filepath.Join(origin, "config"), "[uploadpack]\n\tallowAnySHA1InWant = true\n")

	files := fixtureFiles(t)
	if base != nil {
		base(files)
	}
	changed := maps.Clone(files)
	change(changed)

	var stream bytes.Buffer
	when := fmt.Sprintf("%d +0000", time.Now().Unix())
	// commit writes a commit of the files whose content differs from
	// before (all of them when before is nil) on ref.
	commit := func(ref string, mark int, message string, parents []int, before, after map[string]string) {
		fmt.Fprintf(&stream, "commit %s\nmark :%d\n", ref, mark)
		fmt.Fprintf(&stream, "author %s <%s> %s\ncommitter %s <%s> %s\n", gitName, gitEmail, when, gitName, gitEmail, when)
		fmt.Fprintf(&stream, "data %d\n%s\n", len(message), message)
		for i, p := range parents {
			verb := "from"
			if i > 0 {
				verb = "merge"
			}
			fmt.Fprintf(&stream, "%s :%d\n", verb, p)
		}
		for _, name := range slices.Sorted(maps.Keys(before)) {
			if _, ok := after[name]; !ok {
				fmt.Fprintf(&stream, "D %s\n", name)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(after)) {
			if old, ok := before[name]; ok && old == after[name] {
				continue
			}
			fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", name, len(after[name]), after[name])
		}
		stream.WriteString("\n")
	}
	commit("refs/heads/main", 1, "sample GitOps repository", nil, nil, files)
	commit("refs/heads/pr", 2, "the change", []int{1}, files, changed)
	// main has not moved since pr branched: the merge's tree is pr's.
	commit("refs/pull/1/merge", 3, "Merge pr into main", []int{1, 2}, files, changed)
	marks := filepath.Join(dir, "marks")
	cmd := exec.Command("git", "fast-import", "--quiet", "--export-marks="+marks)
	cmd.Dir = origin
	cmd.Env = env
	cmd.Stdin = &stream
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	for _, line := range strings.Split(readFile(t, marks), "\n") {
		if sha, ok := strings.CutPrefix(line, ":2 "); ok {
			head = sha
		}
	}
	if head == "" {
		t.Fatalf("git fast-import marked no head commit:\n%s", readFile(t, marks))
	}

	// actions/checkout: init, the remote, fetch, checkout.
	workspace = filepath.Join(dir, "workspace")
	git(t, env, dir, "init", "--quiet", workspace)
	appendFile(t, filepath.Join(workspace, ".git", "config"),
		"[remote \"origin\"]\n\turl = file://"+origin+"\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n")
	if full {
		// fetch-depth: 0 fetches every branch; then origin goes away, to
		// show the action needs nothing more (no credentials either).
		git(t, env, workspace, "fetch", "--quiet", "--no-tags", "origin",
			"+refs/heads/*:refs/remotes/origin/*", "+refs/pull/1/merge:refs/remotes/pull/1/merge")
		defer func() {
			if err := os.Rename(origin, origin+".gone"); err != nil {
				t.Fatal(err)
			}
		}()
	} else {
		git(t, env, workspace, "fetch", "--quiet", "--no-tags", "--depth=1", "origin", "+refs/pull/1/merge:refs/remotes/pull/1/merge")
	}
	git(t, env, workspace, "checkout", "--quiet", "--detach", "refs/remotes/pull/1/merge")
	return workspace, head
}

// appendFile appends text to the file at path.
func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// edit returns a change that rewrites one file.
func edit(path, old, replacement string) func(map[string]string) {
	return func(files map[string]string) {
		files[path] = strings.Replace(files[path], old, replacement, 1)
	}
}

// promote copies both models of the bundle from one environment to the next.
func promote(from, to string) func(map[string]string) {
	return func(files map[string]string) {
		for _, model := range []string{"elasticnet-ndx", "elasticnet-ndx-threshold"} {
			src := files["environments/"+from+"/"+model+".yaml"]
			m := strings.Replace(src, "environment: "+from, "environment: "+to, 1)
			// The sample's prod requires a rationale the change writes, in
			// the approval block a test manifest carries.
			if to == "prod" {
				m = strings.Replace(m, "\nnotes:", "\n  rationale: Weekly retrain, better on every gated metric.\nnotes:", 1)
			}
			files["environments/"+to+"/"+model+".yaml"] = m
		}
	}
}
