// Package chromiumtest runs Debian's headless Chromium for tests that need a
// real browser's layout: it loads a page, lets a measuring script write its
// findings into the DOM, dumps the DOM and takes screenshots. A test skips
// when Chromium is missing, or fails when PROMOBOT_REQUIRE_CHROMIUM=1 (as
// `make test` sets it, after installing Chromium).
package chromiumtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/procutil"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// Chromium into a test failure instead of a skip.
const RequireEnv = "PROMOBOT_REQUIRE_CHROMIUM"

// ArtifactsEnv names the folder where tests keep what a person may want to
// look at after a run, such as screenshots; without it they go under the
// system's temporary folder, in promobot-test-artifacts.
const ArtifactsEnv = "PROMOBOT_TEST_ARTIFACTS"

// candidates are where Chromium is looked for, in order.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// Browser is a headless Chromium.
type Browser struct {
	path string
}

// Require finds Chromium, skipping the test when it is missing, or failing
// it when PROMOBOT_REQUIRE_CHROMIUM=1.
func Require(t testing.TB) *Browser {
	t.Helper()
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return &Browser{path: p}
		}
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("chromiumtest: Chromium is required (%s=1) but missing; install it with `apt-get install chromium` (make chromium)", RequireEnv)
	}
	t.Skipf("skipping: Chromium is not installed; `apt-get install chromium`, or set %s=1 to make this a failure", RequireEnv)
	return nil
}

// run runs Chromium headless on a file with extra flags and returns its
// standard output.
func (b *Browser) run(t testing.TB, page string, width, height int, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--hide-scrollbars", "--force-device-scale-factor=1", "--user-data-dir=" + t.TempDir(),
		fmt.Sprintf("--window-size=%d,%d", width, height),
	}
	args = append(append(args, extra...), "file://"+page)
	cmd := exec.CommandContext(ctx, b.path, args...)
	procutil.DieWithParent(cmd)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromiumtest: %s: %v\n%s", b.path, err, stderr.String())
	}
	return stdout.String()
}

// measured finds the text a measuring script wrote into <pre id="measured">.
var measured = regexp.MustCompile(`(?s)<pre id="measured">(.*?)</pre>`)

// Measure loads html, with its Content-Security-Policy removed and script
// appended to its body, in a window of the given size, and returns the text
// script put into a <pre id="measured"> element it appends to the body.
// The page is laid out exactly as without the script, which only reads it.
func (b *Browser) Measure(t testing.TB, html, script string, width, height int) string {
	t.Helper()
	csp := regexp.MustCompile(`(?i)<meta http-equiv="Content-Security-Policy"[^>]*>`)
	page := csp.ReplaceAllString(html, "")
	page = strings.Replace(page, "</body>", "<script>"+script+"</script>\n</body>", 1)
	file := filepath.Join(t.TempDir(), "measure.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := b.run(t, file, width, height, "--dump-dom", "--virtual-time-budget=3000")
	m := measured.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("chromiumtest: the script wrote no <pre id=\"measured\">; the DOM:\n%.2000s", dom)
	}
	return unescape.Replace(m[1])
}

var unescape = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&amp;", "&")

// Screenshot loads html as it is (with its Content-Security-Policy) in a
// window of the given size and saves a PNG screenshot as name in the
// artifacts folder, returning its path.
func (b *Browser) Screenshot(t testing.TB, html, name string, width, height int) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(file, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(ArtifactDir(t), name)
	b.run(t, file, width, height, "--screenshot="+out)
	if info, err := os.Stat(out); err != nil || info.Size() == 0 {
		t.Fatalf("chromiumtest: no screenshot at %s: %v", out, err)
	}
	return out
}

// ArtifactDir returns the folder for test artifacts ($PROMOBOT_TEST_ARTIFACTS,
// else promobot-test-artifacts under the temporary folder), created if
// needed.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "promobot-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("chromiumtest: %v", err)
	}
	return dir
}
