// Package promobot_test holds how promobot is built and shipped to what is
// asked of it, next to the files it tests, so that none of it can regress
// silently: the Dockerfile (multi-stage, static, non-root, exec-form entry
// point) and its build context, the reproducible `make build`, the release
// workflow and its pinned binaries, the GitHub App manifest (least
// privilege) and the reusable GitHub Action in action.yml, whose scripts run
// against local git repositories. It has no code of its own.
//
// This file: the Dockerfile, its build context and the Makefile's build
// target (reproducible, static, stamped). Building the binary is skipped
// with -short.
package promobot_test

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// moduleRoot is the repository root, where this package lives.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the module root %s: %v", root, err)
	}
	return root
}

func readRootFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	cmd   string // upper case
	args  string
	stage int // index of the FROM it belongs to; -1 before the first FROM
	line  int
}

func parseDockerfile(t *testing.T, text string) []instruction {
	t.Helper()
	var out []instruction
	stage := -1
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if strings.HasPrefix(next, "#") {
				continue
			}
			line = strings.TrimSuffix(line, `\`) + " " + next
		}
		cmd, args, _ := strings.Cut(line, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{cmd: cmd, args: strings.TrimSpace(args), stage: stage, line: start})
	}
	return out
}

// makeVariable returns the value of a ":=" or "?=" assignment in the Makefile.
func makeVariable(t *testing.T, makefile, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*[:?]?=\s*(.*)$`).FindStringSubmatch(makefile)
	if m == nil {
		t.Fatalf("the Makefile assigns no %s", name)
	}
	return strings.TrimSpace(m[1])
}

// makeRecipe returns the recipe lines of a Makefile target.
func makeRecipe(t *testing.T, makefile, target string) []string {
	t.Helper()
	var recipe []string
	in := false
	for _, line := range strings.Split(makefile, "\n") {
		switch {
		case strings.HasPrefix(line, target+":"):
			in = true
		case in && strings.HasPrefix(line, "\t"):
			recipe = append(recipe, strings.TrimSpace(line))
		case in:
			return recipe
		}
	}
	if !in {
		t.Fatalf("the Makefile has no %s target", target)
	}
	return recipe
}

func TestMakeBuildFlags(t *testing.T) {
	makefile := readRootFile(t, "Makefile")
	ldflags := makeVariable(t, makefile, "LDFLAGS")
	for _, want := range []string{"-s", "-w", "-buildid=", "-X main.version=$(VERSION)"} {
		if !strings.Contains(" "+ldflags+" ", " "+want+" ") {
			t.Errorf("LDFLAGS %q lacks %q", ldflags, want)
		}
	}
	if v := makeVariable(t, makefile, "VERSION"); !strings.Contains(v, "git describe") {
		t.Errorf("VERSION = %q: want it stamped from git describe", v)
	}
	recipe := strings.Join(makeRecipe(t, makefile, "build"), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildvcs=false", "-ldflags '$(LDFLAGS)'", "./cmd/promobot"} {
		if !strings.Contains(recipe, want) {
			t.Errorf("the build recipe %q lacks %q", recipe, want)
		}
	}
}

func TestDockerfile(t *testing.T) {
	text := readRootFile(t, "Dockerfile")
	ins := parseDockerfile(t, text)
	makefile := readRootFile(t, "Makefile")
	goMod := readRootFile(t, "go.mod")

	// ARGs declared before the first FROM may be used in FROM lines.
	globalArgs := map[string]string{}
	var froms []instruction
	for _, in := range ins {
		if in.stage < 0 && in.cmd == "ARG" {
			name, value, _ := strings.Cut(in.args, "=")
			globalArgs[name] = value
		}
		if in.cmd == "FROM" {
			froms = append(froms, in)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("%d FROM instructions: want a multi-stage build", len(froms))
	}
	final := len(froms) - 1
	for i, from := range froms {
		fields := strings.Fields(from.args)
		image := os.Expand(fields[0], func(k string) string { return globalArgs[k] })
		name, tag, _ := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
		switch {
		case image == "scratch":
		case tag == "" && !strings.Contains(image, "@sha256:"):
			t.Errorf("line %d: base image %s is not pinned by tag or digest", from.line, image)
		case tag == "latest":
			t.Errorf("line %d: base image %s uses the moving tag latest", from.line, image)
		}
		if i < final && (len(fields) != 3 || !strings.EqualFold(fields[1], "AS")) {
			t.Errorf("line %d: build stage %q has no name (FROM image AS name)", from.line, from.args)
		}
		if i == final && image != "scratch" && !(strings.HasPrefix(image, "gcr.io/distroless/static") && strings.HasSuffix(tag, "nonroot")) {
			t.Errorf("line %d: final image %s (%s): want distroless static nonroot or scratch", from.line, image, name)
		}
	}

	// The Go version of the build image is the one go.mod asks for.
	goVersion := globalArgs["GO_VERSION"]
	modVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
	if modVersion == nil || !strings.HasPrefix(goVersion, modVersion[1]+".") {
		t.Errorf("ARG GO_VERSION=%s: want the Go %v of go.mod, pinned to a patch release", goVersion, modVersion)
	}

	var build, runtime []instruction
	for _, in := range ins {
		switch {
		case in.stage == final:
			runtime = append(runtime, in)
		case in.stage >= 0:
			build = append(build, in)
		}
		if in.cmd == "ADD" {
			t.Errorf("line %d: ADD %s: use COPY; ADD fetches URLs and unpacks archives", in.line, in.args)
		}
	}

	// The build stage runs `go build` with the flags of `make build`.
	ldflags := strings.ReplaceAll(makeVariable(t, makefile, "LDFLAGS"), "$(VERSION)", "${VERSION}")
	var goBuild string
	cgoOff := false
	for _, in := range build {
		if in.cmd == "ENV" && regexp.MustCompile(`(^|\s)CGO_ENABLED=0(\s|$)`).MatchString(in.args) {
			cgoOff = true
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	if goBuild == "" {
		t.Fatal("no RUN go build in the build stages")
	}
	if !cgoOff && !strings.Contains(goBuild, "CGO_ENABLED=0") {
		t.Error("the build does not set CGO_ENABLED=0: the binary would not be static")
	}
	for _, want := range []string{"-trimpath", "-buildvcs=false", `-ldflags "` + ldflags + `"`, "./cmd/promobot"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("RUN go build lacks %s\n%s", want, goBuild)
		}
	}

	// The runtime stage: no shell needed, a numeric non-root user, exec-form
	// entry point and command, the webhook port.
	got := map[string][]string{}
	for _, in := range runtime {
		got[in.cmd] = append(got[in.cmd], in.args)
		if in.cmd == "RUN" {
			t.Errorf("line %d: RUN in the final stage needs a shell the image does not have", in.line)
		}
	}
	users := got["USER"]
	if len(users) == 0 {
		t.Error("the final stage sets no USER: it would run as root")
	} else if u := users[len(users)-1]; !regexp.MustCompile(`^[1-9][0-9]*:[1-9][0-9]*$`).MatchString(u) {
		t.Errorf("USER %s: want a numeric non-root uid:gid so runAsNonRoot can check it", u)
	}
	execForm := func(cmd string, want []string) {
		t.Helper()
		values := got[cmd]
		if len(values) != 1 {
			t.Errorf("%d %s instructions in the final stage, want 1", len(values), cmd)
			return
		}
		var argv []string
		if err := json.Unmarshal([]byte(values[0]), &argv); err != nil {
			t.Errorf("%s %s is not the exec (JSON array) form: %v", cmd, values[0], err)
			return
		}
		if diff := cmp.Diff(want, argv); diff != "" {
			t.Errorf("%s (-want +got):\n%s", cmd, diff)
		}
	}
	execForm("ENTRYPOINT", []string{"/promobot"})
	execForm("CMD", []string{"serve"})
	if !slices.Contains(got["EXPOSE"], "8080") {
		t.Errorf("EXPOSE %v: want 8080, the default --addr", got["EXPOSE"])
	}
	for _, h := range got["HEALTHCHECK"] {
		if h != "NONE" && !strings.Contains(h, `CMD [`) {
			t.Errorf("HEALTHCHECK %s: the shell form needs a shell the image does not have", h)
		}
	}
	copied := false
	for _, c := range got["COPY"] {
		if strings.Contains(c, "--from=") && strings.HasSuffix(c, " /promobot") {
			copied = true
		}
	}
	if !copied {
		t.Error("the final stage does not COPY --from the build stage to /promobot")
	}
}

// dockerignore is a .dockerignore: patterns in order, the last match wins,
// a pattern matches a path or any of its parent folders.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

func parseDockerignore(t *testing.T, text string) dockerignore {
	t.Helper()
	var d dockerignore
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		negate := strings.HasPrefix(line, "!")
		pattern := filepath.ToSlash(filepath.Clean(strings.TrimPrefix(line, "!")))
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(pattern); i++ {
			switch c := pattern[i]; {
			case strings.HasPrefix(pattern[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(pattern[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		d = append(d, struct {
			re     *regexp.Regexp
			negate bool
		}{regexp.MustCompile(re.String()), negate})
	}
	return d
}

// excluded reports whether the slash path relative to the context root is
// left out of the build context.
func (d dockerignore) excluded(path string) bool {
	out := false
	for _, p := range d {
		parts := strings.Split(path, "/")
		for i := range parts {
			if p.re.MatchString(strings.Join(parts[:i+1], "/")) {
				out = !p.negate
				break
			}
		}
	}
	return out
}

// listBuildFiles lists, relative to the module root, every file `go build
// ./cmd/promobot` reads from the module: go.mod, go.sum, and the Go and
// embedded files of each package of the module it depends on.
func listBuildFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,GoFiles,SFiles,EmbedFiles,Module", "./cmd/promobot")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	files := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			Dir                         string
			GoFiles, SFiles, EmbedFiles []string
			Module                      *struct{ Main bool }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range slices.Concat(p.GoFiles, p.SFiles, p.EmbedFiles) {
			files = append(files, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	return files
}

func TestDockerignoreAdmitsTheBuildAndNothingElse(t *testing.T) {
	root := moduleRoot(t)
	ignore := parseDockerignore(t, readRootFile(t, ".dockerignore"))
	files := buildFiles(t, root)
	if len(files) < 10 {
		t.Fatalf("go list found only %v", files)
	}
	for _, f := range files {
		if ignore.excluded(f) {
			t.Errorf(".dockerignore leaves out %s, which the binary is built from", f)
		}
	}
	for _, f := range []string{".git/config", "node_modules/azurite/package.json", "bin/promobot", "promobot",
		".env", "app.pem", "internal/bot/bot_test.go", "internal/evaluate/testdata/x.golden", "docs/deploy.md"} {
		if !ignore.excluded(f) {
			t.Errorf(".dockerignore lets %s into the build context", f)
		}
	}
}

// makeBuild runs `make build` in dir with the given VERSION and output.
func makeBuild(dir, version, out string) error {
	cmd := exec.Command("make", "-s", "build", "VERSION="+version, "BIN="+out)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make build in %s: %v\n%s", dir, err, msg)
	}
	return nil
}

// TestMakeBuildIsReproducible builds promobot twice from different places:
// with `make build` from a copy of its source placed elsewhere, and with the
// Action's build step from the checkout (the build the Action's tests then
// share). The two must be the same bytes: -trimpath leaves no trace of where
// the module lives, and the Action builds what `make build` builds.
func TestMakeBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root := moduleRoot(t)

	// A copy of exactly the files the build reads, placed at another depth.
	files := append(buildFiles(t, root), "Makefile")
	copied := filepath.Join(t.TempDir(), "elsewhere", "deeper", "promobot")
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(copied, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	const version = actionTestVersion
	first := filepath.Join(t.TempDir(), "promobot")
	// Both at once: each mostly waits on the linker, which works alone.
	made := make(chan error, 1)
	go func() { made <- makeBuild(copied, version, first) }()
	second := actionBuild(t)
	if err := <-made; err != nil {
		t.Fatal(err)
	}
	copies := []string{copied, root}

	a, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("two builds of the same source from %s and %s differ (%d and %d bytes)", copies[0], copies[1], len(a), len(b))
	}

	// No path of this machine is left in the binary.
	goEnv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	for _, p := range []string{root, copies[0], copies[1], goEnv("GOROOT"), goEnv("GOMODCACHE"), goEnv("GOCACHE")} {
		if p != "" && bytes.Contains(a, []byte(p+"/")) {
			t.Errorf("the binary contains the absolute path %s", p)
		}
	}

	// The build settings Go records say how it was built (-ldflags is not
	// recorded with -trimpath; --version below shows the stamp).
	info, err := exec.Command("go", "version", "-m", first).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-trimpath=true", "CGO_ENABLED=0"} {
		if !bytes.Contains(info, []byte(want)) {
			t.Errorf("go version -m lacks %s:\n%s", want, info)
		}
	}
	if bytes.Contains(info, []byte("vcs.")) {
		t.Errorf("go version -m records VCS settings although -buildvcs=false:\n%s", info)
	}

	// Static: no program interpreter, no shared libraries.
	f, err := elf.Open(first)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is not static", p.Type)
		}
	}

	out, err := exec.Command(first, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("promobot --version: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "promobot version "+version; got != want {
		t.Errorf("promobot --version = %q, want %q", got, want)
	}
}
