package promobot_test

// Tests of the release: the workflow that publishes binaries and the image,
// the binaries the Action may download (action-binaries.txt and
// scripts/action-binaries.sh), and every action pinned by commit. The
// workflows themselves are linted by actionlint in `make lint`; these tests
// hold what actionlint cannot know: that the release builds what `make
// build` builds and that the Action's pins fit the release.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// workflow is the part of a workflow file the tests read.
type workflow struct {
	On struct {
		Push struct {
			Tags []string `yaml:"tags"`
		} `yaml:"push"`
	} `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Needs       any               `yaml:"needs"`
		Permissions map[string]string `yaml:"permissions"`
		Steps       []actionStep      `yaml:"steps"`
	} `yaml:"jobs"`
}

func loadWorkflow(t *testing.T, name string) *workflow {
	t.Helper()
	var w workflow
	if err := yaml.Unmarshal([]byte(readRootFile(t, name)), &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &w
}

// uses finds the steps of a job that use an action, by its name without
// the ref (actions/checkout, anchore/sbom-action/download-syft).
func uses(steps []actionStep, action string) []actionStep {
	var out []actionStep
	for _, s := range steps {
		if name, _, _ := strings.Cut(s.Uses, "@"); name == action {
			out = append(out, s)
		}
	}
	return out
}

// makePlatforms returns the GOOS/GOARCH pairs `make dist` builds.
func makePlatforms(t *testing.T) []string {
	t.Helper()
	return strings.Fields(makeVariable(t, readRootFile(t, "Makefile"), "PLATFORMS"))
}

var pinnedUses = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+?)(?:\s+#\s*(.*))?$`)

func TestActionsArePinnedByCommit(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(moduleRoot(t), ".github", "workflows", "*.y*ml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("workflows: %v %v", files, err)
	}
	files = append(files, filepath.Join(moduleRoot(t), "action.yml"))
	commit := regexp.MustCompile(`^[0-9a-f]{40}$`)
	version := regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	versions := map[string]string{} // action@sha → version comment
	for _, file := range files {
		rel, _ := filepath.Rel(moduleRoot(t), file)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			m := pinnedUses.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			ref, comment := m[1], strings.TrimSpace(m[2])
			if strings.HasPrefix(ref, "./") {
				continue // this repository's own action, at the same commit
			}
			name, sha, _ := strings.Cut(ref, "@")
			if !commit.MatchString(sha) {
				t.Errorf("%s:%d: %s is not pinned by a full commit sha", rel, i+1, ref)
				continue
			}
			if !version.MatchString(comment) {
				t.Errorf("%s:%d: %s: want a # vX.Y.Z comment naming the release of that commit, not %q", rel, i+1, name, comment)
			}
			// One commit of an action is one version everywhere.
			if prev, ok := versions[name+"@"+sha]; ok && prev != comment {
				t.Errorf("%s:%d: %s is %s here and %s elsewhere", rel, i+1, ref, comment, prev)
			}
			versions[name+"@"+sha] = comment
		}
	}
	if len(versions) < 5 {
		t.Errorf("only %d pinned actions found: %v", len(versions), versions)
	}
}

func TestReleaseWorkflow(t *testing.T) {
	w := loadWorkflow(t, ".github/workflows/release.yml")
	if diff := cmp.Diff([]string{"v*"}, w.On.Push.Tags); diff != "" {
		t.Errorf("on.push.tags (-want +got):\n%s", diff)
	}
	if len(w.Permissions) != 0 {
		t.Errorf("permissions: %v; want none for the workflow, each job asking for its own", w.Permissions)
	}
	for name, job := range w.Jobs {
		if len(job.Permissions) == 0 {
			t.Errorf("job %s: no permissions block; it would get the repository's default token", name)
		}
		for _, s := range uses(job.Steps, "actions/checkout") {
			if s.With["persist-credentials"] != "false" {
				t.Errorf("job %s: actions/checkout keeps the token in .git/config; set persist-credentials: false", name)
			}
		}
		for _, s := range job.Steps {
			if regexp.MustCompile(`\bgo (build|install)\b`).MatchString(s.Run) {
				t.Errorf("job %s, step %q runs go build itself; the release builds with make dist, the flags of make build", name, s.Name)
			}
		}
	}

	// The binaries: make dist for the tag, checked against the Action's
	// pins, SBOMs, provenance, without caches from other runs.
	binaries := w.Jobs["binaries"]
	var runs []string
	for _, s := range binaries.Steps {
		if s.Run != "" {
			runs = append(runs, strings.TrimSpace(s.Run))
			if strings.Contains(s.Run, "$TAG") && s.Env["TAG"] != "${{ github.ref_name }}" {
				t.Errorf("step %q: TAG = %q, want the pushed tag ${{ github.ref_name }}", s.Name, s.Env["TAG"])
			}
		}
	}
	dist := slices.Index(runs, `make dist VERSION="$TAG"`)
	check := slices.Index(runs, `make check-pins VERSION="$TAG"`)
	if dist < 0 || check < dist {
		t.Errorf("the binaries job must run make dist VERSION=\"$TAG\", then make check-pins VERSION=\"$TAG\":\n%s", strings.Join(runs, "\n---\n"))
	}
	for _, s := range uses(binaries.Steps, "actions/setup-go") {
		if s.With["cache"] != "false" {
			t.Error("the release restores the Go cache of other runs; set cache: false")
		}
	}
	for _, action := range []string{"actions/attest-build-provenance", "anchore/sbom-action/download-syft", "actions/upload-artifact"} {
		if len(uses(binaries.Steps, action)) != 1 {
			t.Errorf("the binaries job does not use %s once", action)
		}
	}
	if p := binaries.Permissions; p["id-token"] != "write" || p["attestations"] != "write" || p["contents"] != "read" {
		t.Errorf("binaries permissions %v: want contents read, id-token and attestations write", p)
	}

	// The image: both architectures, labelled with its source and
	// revision, with the tag as VERSION, SBOM and provenance.
	image := w.Jobs["image"]
	push := uses(image.Steps, "docker/build-push-action")
	if len(push) != 1 {
		t.Fatalf("the image job has %d docker/build-push-action steps, want 1", len(push))
	}
	with := push[0].With
	for key, want := range map[string]string{
		"context": ".", "platforms": "linux/amd64,linux/arm64", "push": "true",
		"build-args": "VERSION=${{ github.ref_name }}", "sbom": "true", "provenance": "mode=max",
	} {
		if with[key] != want {
			t.Errorf("docker/build-push-action %s = %q, want %q", key, with[key], want)
		}
	}
	for _, want := range []string{
		"org.opencontainers.image.source=${{ github.server_url }}/${{ github.repository }}",
		"org.opencontainers.image.revision=${{ github.sha }}",
	} {
		if !slices.Contains(strings.Split(with["labels"], "\n"), want) {
			t.Errorf("the image's labels lack %s:\n%s", want, with["labels"])
		}
	}
	for _, action := range []string{"actions/attest-build-provenance", "actions/attest-sbom"} {
		steps := uses(image.Steps, action)
		if len(steps) != 1 || steps[0].With["push-to-registry"] != "true" || steps[0].With["subject-digest"] != "${{ steps.push.outputs.digest }}" {
			t.Errorf("the image job needs one %s of the pushed digest, pushed to the registry: %+v", action, steps)
		}
	}
	if image.Permissions["packages"] != "write" {
		t.Errorf("image permissions %v: pushing to ghcr.io needs packages: write", image.Permissions)
	}
	release := w.Jobs["release"]
	if release.Permissions["contents"] != "write" || len(release.Permissions) != 1 {
		t.Errorf("release permissions %v: want contents: write alone", release.Permissions)
	}
}

// TestDistBuildsWithMakeBuild holds the release binaries to `make build`:
// `make dist` runs it for each platform with the Go of the Dockerfile, so
// the release, the image and a developer's rebuild share one set of flags.
func TestDistBuildsWithMakeBuild(t *testing.T) {
	makefile := readRootFile(t, "Makefile")
	if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"}, makePlatforms(t)); diff != "" {
		t.Errorf("PLATFORMS (-want +got):\n%s", diff)
	}
	if v := makeVariable(t, makefile, "GO_VERSION"); !strings.Contains(v, "ARG GO_VERSION=") || !strings.Contains(v, "Dockerfile") {
		t.Errorf("GO_VERSION = %s: want it read from the Dockerfile's ARG GO_VERSION", v)
	}
	recipe := strings.Join(makeRecipe(t, makefile, "dist"), "\n")
	for _, want := range []string{
		"GOTOOLCHAIN=go$(GO_VERSION)", "GOOS=$${p%/*}", "GOARCH=$${p#*/}", "for p in $(PLATFORMS)",
		"$(MAKE) -s --no-print-directory build VERSION=$(VERSION) BIN=$(DIST)/promobot_$(VERSION)_$${p%/*}_$${p#*/}",
		">SHA256SUMS",
	} {
		if !strings.Contains(recipe, want) {
			t.Errorf("the dist recipe lacks %s:\n%s", want, recipe)
		}
	}
	if strings.Contains(recipe, "go build") || strings.Contains(recipe, "ldflags") {
		t.Errorf("the dist recipe has build flags of its own; it must run make build:\n%s", recipe)
	}
}

// TestActionBuildsWithMakeFlags holds the Action's fallback build to the
// flags of `make build`, read from the Makefile.
func TestActionBuildsWithMakeFlags(t *testing.T) {
	makefile := readRootFile(t, "Makefile")
	ldflags := strings.ReplaceAll(makeVariable(t, makefile, "LDFLAGS"), "$(VERSION)", "${ACTION_REF:-action}")
	var build string
	for _, s := range loadAction(t).Runs.Steps {
		if s.ID == "build" {
			build = strings.ReplaceAll(s.Run, "\\\n", " ")
		}
	}
	build = strings.Join(strings.Fields(build), " ")
	recipe := strings.Join(makeRecipe(t, makefile, "build"), " ")
	var want []string
	for _, flag := range strings.Fields(recipe) {
		if strings.HasPrefix(flag, "CGO_ENABLED=") || strings.HasPrefix(flag, "-trimpath") || strings.HasPrefix(flag, "-buildvcs") {
			want = append(want, flag)
		}
	}
	if len(want) != 3 {
		t.Fatalf("the build recipe %q: want CGO_ENABLED, -trimpath and -buildvcs among its words, got %v", recipe, want)
	}
	want = append(want, `-ldflags "`+ldflags+`"`, "./cmd/promobot")
	for _, w := range want {
		if !strings.Contains(build, w) {
			t.Errorf("the Action's build lacks %s (from the Makefile):\n%s", w, build)
		}
	}
}

// pinLine is one line of action-binaries.txt.
type pinLine struct {
	version, source, platform, sha256 string
	line                              int
}

var (
	hex64         = regexp.MustCompile(`^[0-9a-f]{64}$`)
	releaseTag    = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	releasePrefix = "https://github.com/example-org/promobot/releases/download"
)

func parsePins(t *testing.T, text string) []pinLine {
	t.Helper()
	var pins []pinLine
	for i, line := range strings.Split(text, "\n") {
		if s := strings.TrimSpace(line); s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 || !releaseTag.MatchString(f[0]) || !hex64.MatchString(f[1]) || !hex64.MatchString(f[3]) {
			t.Errorf("action-binaries.txt:%d: want VERSION SOURCE-SHA256 OS/ARCH BINARY-SHA256, not %q", i+1, line)
			continue
		}
		pins = append(pins, pinLine{f[0], f[1], f[2], f[3], i + 1})
	}
	return pins
}

// TestActionBinariesPins checks the committed pins: well formed, every
// platform of make dist for each version, one source per version, and the
// Action downloading from this repository's releases with the names make
// dist gives.
func TestActionBinariesPins(t *testing.T) {
	platforms := makePlatforms(t)
	byVersion := map[string][]pinLine{}
	for _, p := range parsePins(t, readRootFile(t, "action-binaries.txt")) {
		if !slices.Contains(platforms, p.platform) {
			t.Errorf("action-binaries.txt:%d: %s is not a platform of make dist %v", p.line, p.platform, platforms)
		}
		byVersion[p.version] = append(byVersion[p.version], p)
	}
	for version, pins := range byVersion {
		var got []string
		for _, p := range pins {
			got = append(got, p.platform)
			if p.source != pins[0].source {
				t.Errorf("action-binaries.txt:%d: %s pinned for two sources", p.line, version)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(platforms))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: pinned platforms (-make dist +pinned):\n%s", version, diff)
		}
	}

	var release actionStep
	for _, s := range loadAction(t).Runs.Steps {
		if s.ID == "release" {
			release = s
		}
	}
	if release.Env["RELEASES_URL"] != releasePrefix {
		t.Errorf("the Action downloads from %q, want this repository's releases %s", release.Env["RELEASES_URL"], releasePrefix)
	}
	if module := regexp.MustCompile(`(?m)^module (\S+)`).FindStringSubmatch(readRootFile(t, "go.mod")); module == nil ||
		!strings.HasPrefix(releasePrefix, "https://"+module[1]+"/") {
		t.Errorf("the releases %s are not those of the module %v", releasePrefix, module)
	}
	// The asset names: make dist's $(DIST)/promobot_$(VERSION)_OS_ARCH.
	if !strings.Contains(release.Run, `url="${RELEASES_URL}/${version}/promobot_${version}_${platform%/*}_${platform#*/}"`) {
		t.Errorf("the Action does not download promobot_VERSION_OS_ARCH, the names of make dist:\n%s", release.Run)
	}
}

// pinScript runs scripts/action-binaries.sh with the pin file pins.
func pinScript(t *testing.T, pins string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{filepath.Join(moduleRoot(t), "scripts", "action-binaries.sh")}, args...)...)
	cmd.Env = append(os.Environ(), "ACTION_BINARIES_FILE="+pins)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestActionBinariesScript runs the pin, check and lookup of a release on
// stand-in binaries (no build): what make pins writes, make check-pins and
// the Action accept, and what they refuse.
func TestActionBinariesScript(t *testing.T) {
	header := readRootFile(t, "action-binaries.txt")
	const version = "v1.2.3"
	platforms := makePlatforms(t)
	source, err := pinScript(t, filepath.Join(t.TempDir(), "none"), "digest")
	if err != nil || !hex64.MatchString(strings.TrimSpace(source)) {
		t.Fatalf("digest: %v\n%s", err, source)
	}
	source = strings.TrimSpace(source)

	tests := []struct {
		name      string
		pinned    func(dir string) // edits the binaries after pinning
		edit      func(pins string) string
		checkVer  string
		wantCheck string // "" when check passes
	}{{
		name: "the binaries pinned pass",
	}, {
		name:      "a rebuilt binary that differs is refused",
		pinned:    func(dir string) { writeFiles(t, dir, map[string]string{"promobot_v1.2.3_linux_arm64": "other bytes"}) },
		wantCheck: "the build is not the one pinned",
	}, {
		name:      "a binary built but not pinned is refused",
		pinned:    func(dir string) { writeFiles(t, dir, map[string]string{"promobot_v1.2.3_freebsd_amd64": "x"}) },
		wantCheck: "is not pinned for v1.2.3",
	}, {
		name:      "a pinned binary not built is refused",
		pinned:    func(dir string) { os.Remove(filepath.Join(dir, "promobot_v1.2.3_darwin_amd64")) },
		wantCheck: "darwin/amd64 is pinned, but",
	}, {
		name:      "binaries pinned for other source are refused",
		edit:      func(pins string) string { return strings.ReplaceAll(pins, source, strings.Repeat("0", 64)) },
		wantCheck: "was pinned for source 0000",
	}, {
		name:      "a version never pinned is refused",
		pinned:    func(dir string) { writeFiles(t, dir, map[string]string{"promobot_v1.2.4_linux_amd64": "x"}) },
		checkVer:  "v1.2.4",
		wantCheck: "pins no binaries for v1.2.4",
	}, {
		name:      "a malformed line is refused",
		edit:      func(pins string) string { return pins + "v1.2.3 linux/amd64\n" },
		wantCheck: "want VERSION SOURCE-SHA256 OS/ARCH BINARY-SHA256",
	}}
	// Pin stand-in binaries once (twice: pinning again replaces the
	// version's lines); each case then edits a copy.
	dir := t.TempDir()
	pins := filepath.Join(dir, "pins.txt")
	writeFiles(t, dir, map[string]string{"pins.txt": header})
	dist := map[string]string{"SHA256SUMS": "not a binary", "promobot_v1.2.3_linux_amd64.spdx.json": "{}"}
	for _, p := range platforms {
		dist["promobot_v1.2.3_"+strings.ReplaceAll(p, "/", "_")] = "#!/bin/sh\necho promobot " + p + "\n"
	}
	writeFiles(t, filepath.Join(dir, "dist"), dist)
	for range 2 {
		if out, err := pinScript(t, pins, "pin", version, filepath.Join(dir, "dist")); err != nil {
			t.Fatalf("pin: %v\n%s", err, out)
		}
	}
	pinned := readFile(t, pins)
	if !strings.HasPrefix(pinned, header) {
		t.Errorf("pin dropped the header:\n%s", pinned)
	}
	if lines := parsePins(t, pinned); len(lines) != len(platforms) {
		t.Errorf("%d lines pinned, want one per platform:\n%s", len(lines), pinned)
	}
	if out, err := pinScript(t, pins, "lookup", "linux/arm64"); err != nil || !strings.HasPrefix(out, version+" ") {
		t.Errorf("lookup linux/arm64 = %q, %v; want %s and its sha256", out, err, version)
	}
	if out, err := pinScript(t, pins, "lookup", "windows/amd64"); err != nil || out != "" {
		t.Errorf("lookup windows/amd64 = %q, %v; want nothing", out, err)
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pins := filepath.Join(dir, "pins.txt")
			text := pinned
			if tc.edit != nil {
				text = tc.edit(text)
			}
			writeFiles(t, dir, map[string]string{"pins.txt": text})
			distDir := filepath.Join(dir, "dist")
			writeFiles(t, distDir, dist)
			if tc.pinned != nil {
				tc.pinned(distDir)
			}
			checkVer := version
			if tc.checkVer != "" {
				checkVer = tc.checkVer
			}
			out, err := pinScript(t, pins, "check", checkVer, distDir)
			switch {
			case tc.wantCheck == "" && err != nil:
				t.Errorf("check: %v\n%s", err, out)
			case tc.wantCheck != "" && err == nil:
				t.Errorf("check passed, want it to fail with %q:\n%s", tc.wantCheck, out)
			case !strings.Contains(out, tc.wantCheck):
				t.Errorf("check says\n%s\nwant %q", out, tc.wantCheck)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDocsShowHowToVerifyReleases keeps the install and verification
// instructions next to what the release workflow publishes.
func TestDocsShowHowToVerifyReleases(t *testing.T) {
	for doc, wants := range map[string][]string{
		"README.md": {"ghcr.io/example-org/promobot", "releases", "gh attestation verify"},
		"docs/deploy.md": {"ghcr.io/example-org/promobot", "sha256sum --check", "gh attestation verify",
			"oci://ghcr.io/example-org/promobot", "make dist pins VERSION=", "action-binaries.txt", ".spdx.json"},
	} {
		text := readRootFile(t, doc)
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not mention %s", doc, want)
			}
		}
	}
}
