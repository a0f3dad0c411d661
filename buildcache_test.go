package promobot_test

// Builds shared by the tests of one test process: the files `go build
// ./cmd/promobot` reads, listed once, and a go for the Action's scripts that
// builds promobot once and hands every later identical build the same bytes.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// shared is what the tests of this process build once.
var shared struct {
	mu         sync.Mutex
	dir        string   // removed when the tests end
	goDir      string   // holds the caching go, once written
	buildFiles []string // once listed
}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.mu.Lock()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// sharedDir returns a directory that lives as long as the test process.
// The caller holds shared.mu.
func sharedDir(t *testing.T) string {
	t.Helper()
	if shared.dir == "" {
		dir, err := os.MkdirTemp("", "promobot-packaging-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
	}
	return shared.dir
}

// cachingGoScript is a go that remembers builds. `go build … -o OUT …` run
// before with the same arguments (the output aside), in the same directory
// and with the same CGO_ENABLED, GOFLAGS, GOOS and GOARCH copies the earlier
// output to OUT; the first such build, and every other go command, run the
// real go. A lock directory keeps two identical builds from both compiling.
const cachingGoScript = `#!/bin/sh
real=%q
cache=%q
[ "$1" = build ] || exec "$real" "$@"
sum=sha256sum
command -v sha256sum >/dev/null 2>&1 || sum="shasum -a 256"
out=
prev=
key=$(
	{
		printf '%%s\n' "$PWD" "CGO_ENABLED=${CGO_ENABLED-}" "GOFLAGS=${GOFLAGS-}" "GOOS=${GOOS-}" "GOARCH=${GOARCH-}"
		for a in "$@"; do
			[ "$prev" = -o ] || printf '%%s\n' "$a"
			prev=$a
		done
	} | $sum | cut -d' ' -f1
)
prev=
for a in "$@"; do
	[ "$prev" = -o ] && out=$a
	prev=$a
done
[ -n "$out" ] || exec "$real" "$@"
until mkdir "$cache/$key.lock" 2>/dev/null; do sleep 0.05; done
trap 'rmdir "$cache/$key.lock"' EXIT
if [ ! -f "$cache/$key" ]; then
	"$real" "$@" || exit
	cp "$out" "$cache/$key.tmp" && mv "$cache/$key.tmp" "$cache/$key" || exit
	exit 0
fi
mkdir -p "$(dirname "$out")" && cp "$cache/$key" "$out" && chmod +x "$out"
`

// cachingGo returns a directory holding the caching go (cachingGoScript),
// to put first on PATH. Its cache lives as long as the test process.
func cachingGo(t *testing.T) string {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.goDir != "" {
		return shared.goDir
	}
	real, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	if real, err = filepath.Abs(real); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(sharedDir(t), "go")
	cache := filepath.Join(sharedDir(t), "builds")
	for _, d := range []string{dir, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf(cachingGoScript, real, cache)
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	shared.goDir = dir
	return dir
}

// actionTestVersion is the action_ref of the Action's tests, stamped into
// the promobot it builds.
const actionTestVersion = "v0.0.0-action-test"

// actionBuild runs the Action's install steps (up to its build) from the
// checkout, on a Linux runner with no released binary pinned for this
// source, with the caching go; it returns the promobot they built. The
// Action's tests that build the same way get the same binary without
// linking again.
func actionBuild(t *testing.T) string {
	t.Helper()
	a := loadAction(t)
	var steps []actionStep
	for _, s := range a.Runs.Steps {
		steps = append(steps, s)
		if s.ID == "build" {
			break
		}
	}
	a.Runs.Steps = steps
	noPins := filepath.Join(t.TempDir(), "action-binaries.txt")
	writeFiles(t, filepath.Dir(noPins), map[string]string{"action-binaries.txt": readRootFile(t, "action-binaries.txt")})
	env := append(withPath(os.Environ(), cachingGo(t)), "RUNNER_OS=Linux", "RUNNER_ARCH=X64", "ACTION_BINARIES_FILE="+noPins)
	r := &runner{t: t, action: a, github: map[string]any{"action_path": moduleRoot(t), "action_ref": actionTestVersion},
		workspace: t.TempDir(), env: env, steps: map[string]map[string]any{}}
	outputs := r.run()
	if r.failed || outputs["promobot"] == "" {
		t.Fatalf("the Action's build failed:\n%s", r.log.String())
	}
	return outputs["promobot"]
}

// withPath returns env with dir first on its PATH.
func withPath(env []string, dir string) []string {
	path := os.Getenv("PATH")
	for _, e := range env {
		if p, ok := strings.CutPrefix(e, "PATH="); ok {
			path = p
		}
	}
	return append(env, "PATH="+dir+string(os.PathListSeparator)+path)
}

// buildFiles lists, relative to the module root, every file `go build
// ./cmd/promobot` reads from the module (listBuildFiles), once per process.
func buildFiles(t *testing.T, root string) []string {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.buildFiles == nil {
		shared.buildFiles = listBuildFiles(t, root)
	}
	return slices.Clone(shared.buildFiles)
}
