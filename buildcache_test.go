package promobot_test

// What the tests of one test process build once: the files `go build
// ./cmd/promobot` reads, listed once, and the Action's install steps, run
// once from the checkout; every test that runs the Action's promobot reuses
// that job's binary instead of linking promobot again.

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// shared is what the tests of this process build once.
var shared struct {
	mu         sync.Mutex
	dir        string   // removed when the tests end
	buildFiles []string // once listed

	installMu sync.Mutex // held while the install steps run
	install   *installation
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

// actionTestVersion is the action_ref of the Action's tests, stamped into
// the promobot it builds.
const actionTestVersion = "v0.0.0-action-test"

// installation is one run of the Action's install steps (up to its build):
// the steps' results as the runner records them, and their output.
type installation struct {
	steps  map[string]map[string]any
	log    string
	failed bool
	path   string // the promobot they installed
}

// actionInstall runs the Action's install steps once per process from the
// checkout, on a Linux runner with no released binary pinned for this
// source, into a RUNNER_TEMP that lives as long as the process; every later
// call returns the same installation. It fails the test when the steps did.
func actionInstall(t *testing.T) *installation {
	t.Helper()
	shared.installMu.Lock()
	defer shared.installMu.Unlock()
	if shared.install == nil {
		a := loadAction(t)
		var steps []actionStep
		for _, s := range a.Runs.Steps {
			steps = append(steps, s)
			if s.ID == "build" {
				break
			}
		}
		a.Runs.Steps = steps
		shared.mu.Lock()
		dir := filepath.Join(sharedDir(t), "install")
		shared.mu.Unlock()
		noPins := filepath.Join(dir, "action-binaries.txt")
		writeFiles(t, dir, map[string]string{"action-binaries.txt": readRootFile(t, "action-binaries.txt")})
		runnerTemp := filepath.Join(dir, "runner-temp")
		if err := os.MkdirAll(runnerTemp, 0o755); err != nil {
			t.Fatal(err)
		}
		env := append(os.Environ(), "RUNNER_OS=Linux", "RUNNER_ARCH=X64", "ACTION_BINARIES_FILE="+noPins, "GOFLAGS=-mod=readonly")
		r := &runner{t: t, action: a, github: map[string]any{"action_path": moduleRoot(t), "action_ref": actionTestVersion},
			workspace: dir, env: env, temp: runnerTemp, steps: map[string]map[string]any{}}
		outputs := r.run()
		shared.install = &installation{steps: r.steps, log: r.log.String(), failed: r.failed || outputs["promobot"] == "",
			path: outputs["promobot"]}
	}
	if shared.install.failed {
		t.Fatalf("the Action's install steps failed:\n%s", shared.install.log)
	}
	return shared.install
}

// actionBuild returns the promobot the Action's install steps built
// (actionInstall).
func actionBuild(t *testing.T) string {
	t.Helper()
	return actionInstall(t).path
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
