package dashboard

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example-org/promobot/internal/testing/chromiumtest"
)

// browser drives headless Chromium against one dashboard.
type browser struct {
	t   *testing.T
	ctx context.Context
	axe string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	chromium := chromiumtest.Require(t)
	axe, err := os.ReadFile(requireNodeModule(t, "axe-core/axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium.Path()), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return &browser{t: t, ctx: ctx, axe: string(axe)}
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression through the DevTools protocol.
func eval[T any](b *browser, expr string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// text returns the visible text of the page's main element.
func (b *browser) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// screenshot keeps the viewport as name in the artifacts folder.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	out := filepath.Join(chromiumtest.ArtifactDir(b.t), name)
	if err := os.WriteFile(out, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", out)
	return out
}

// axeViolation is one rule axe-core found broken.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAccessibility runs axe-core on the page, injected through the
// DevTools protocol (which the page's Content-Security-Policy does not
// govern), and fails on any violation.
func (b *browser) checkAccessibility(page string) {
	b.t.Helper()
	if !eval[bool](b, `typeof axe !== "undefined"`) {
		eval[any](b, b.axe+"\n;null")
	}
	out := eval[string](b, `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`,
		chromedp.EvalAwaitPromise)
	var violations []axeViolation
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		b.t.Fatalf("axe: %v: %s", err, out)
	}
	for _, v := range violations {
		b.t.Errorf("%s: axe-core %s (%s): %s at %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
	}
}

// The pages in a real browser: open the matrix, follow a model, see the
// approvals a pending pull request lacks; every page passes axe-core, htmx
// runs under the Content-Security-Policy without a violation, and the
// screenshots are kept.
func TestDashboardInBrowser(t *testing.T) {
	b := newBrowser(t)
	w := newWorld(t)
	repo := &Repository{Owner: "acme", Name: "models", Path: w.history.Path, CacheDir: t.TempDir(), GitHub: w.client}
	srv := server(t, Options{Gate: AllowAll, Repositories: []*Repository{repo}, Local: true})

	b.do(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.matrix")))
	eval[bool](b, `window.cspViolations = []; document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI)); true`)
	if !eval[bool](b, `typeof htmx !== "undefined" && htmx.config.allowEval === false`) {
		t.Error("htmx is not loaded with allowEval off")
	}
	matrix := b.text()
	for _, want := range []string{"What runs where", "forecaster", "1.2.0", "reviewed", "bypass"} {
		if !strings.Contains(matrix, want) {
			t.Errorf("the matrix lacks %q:\n%s", want, matrix)
		}
	}
	b.screenshot("dashboard-matrix.png")
	b.checkAccessibility("matrix")

	b.do(chromedp.Click(chromedp.CSS(`table.matrix a[href$="/models/forecaster"]`)), chromedp.WaitVisible(chromedp.CSS("ol.timeline")))
	location, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(location, "/r/acme/models/models/forecaster") {
		t.Errorf("following the model led to %s", location)
	}
	timeline := b.text()
	for _, want := range []string{"Rollback in prod: 1.1.0 → 1.0.0", "CHG-1011", "keep 1.0.0 until the retrained version passes test", "bob, carol"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, timeline)
		}
	}
	b.screenshot("dashboard-model.png")
	b.checkAccessibility("model")

	b.do(chromedp.Click(chromedp.CSS(`nav a[href$="/pulls"]`)), chromedp.WaitVisible(chromedp.CSS("section.pull")))
	pulls := b.text()
	for _, want := range []string{"Promote forecaster 1.2.0 to test", "1 more approval for environments/test/forecaster.yaml from @bob or @carol"} {
		if !strings.Contains(pulls, want) {
			t.Errorf("the open promotions lack %q:\n%s", want, pulls)
		}
	}
	b.screenshot("dashboard-pulls.png")
	b.checkAccessibility("pulls")

	b.do(chromedp.Click(chromedp.CSS(`nav a[href$="/findings"]`)), chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="Findings"]`)))
	b.checkAccessibility("findings")

	violations := eval[[]string](b, `window.cspViolations || ["the page was reloaded: htmx did not boost the links"]`)
	if len(violations) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", violations)
	}
}
