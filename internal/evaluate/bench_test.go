package evaluate_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// benchInput builds a large evaluation: models promoted from test to prod,
// reviews, a CODEOWNERS file of ownersLines lines (parsed, as the adapter
// caches it), 50 teams of 20 members, and 20 earlier pins per changed file.
func benchInput(tb testing.TB, models, reviews, ownersLines int) *evaluate.Input {
	tb.Helper()
	pol, problems := repoconfig.LoadPolicy(policy.Path, []byte(evaltest.Policy), nil)
	if len(problems) > 0 {
		tb.Fatal(problems)
	}
	// Unbundled model names, so that bundles do not fail every file.
	name := func(i int) string { return fmt.Sprintf("model-%03d", i) }

	var co strings.Builder
	co.WriteString("/environments/prod/  @example-org/model-risk @example-org/release-managers\n")
	for i := 1; i < ownersLines; i++ {
		// Mostly rules that never match, plus per-model rules near the end,
		// so that matching has to get past thousands of lines.
		if i >= ownersLines-models {
			m := i - (ownersLines - models)
			fmt.Fprintf(&co, "/environments/prod/%s.yaml  @example-org/team-%02d @example-org/release-managers @owner-%d\n", name(m), m%50, m)
			continue
		}
		fmt.Fprintf(&co, "/services/svc-%d/**/*.go  @example-org/team-%02d @dev-%d\n", i, i%50, i)
	}
	owners, warns := codeowners.Parse([]byte(co.String()))
	if len(warns) > 0 {
		tb.Fatal(warns)
	}
	teams := map[string][]string{"example-org/release-managers": {"rita", "rob"}, "example-org/model-risk": {"mara", "mike"}}
	for t := range 50 {
		var members []string
		for m := range 20 {
			members = append(members, fmt.Sprintf("member-%02d-%02d", t, m))
		}
		teams[fmt.Sprintf("example-org/team-%02d", t)] = members
	}

	in := &evaluate.Input{
		Policy: pol, Owners: owners, OwnersPath: ".github/CODEOWNERS",
		Base: map[string]*manifest.Document{}, Head: map[string]*manifest.Document{}, History: map[string][]evaluate.Pin{},
		PullRequest: evaluate.PullRequest{Number: 7, Author: "alex", HeadSHA: evaltest.HeadSHA},
		Commits:     []evaluate.Commit{{SHA: "c1", Author: evaltest.Identity("alex"), Committer: evaltest.Identity("alex")}},
		Teams:       teams,
		Now:         time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC),
	}
	load := func(env, model, version string) *manifest.Document {
		text := strings.ReplaceAll(evaltest.Manifest(env, evaltest.Unbundled, version), evaltest.Unbundled, model)
		d, problems := repoconfig.LoadManifest(evaltest.ManifestPath(env, model), []byte(text), nil)
		if len(problems) > 0 {
			tb.Fatal(problems)
		}
		return d
	}
	for i := range models {
		m := name(i)
		for env, v := range map[string]string{"dev": evaltest.V3, "test": evaltest.V2, "prod": evaltest.V1} {
			in.Base[evaltest.ManifestPath(env, m)] = load(env, m, v)
		}
		p := evaltest.ManifestPath("prod", m)
		in.Head[p] = load("prod", m, evaltest.V2)
		in.Changes = append(in.Changes, evaluate.Change{Path: p, Status: evaluate.Modified})
		var pins []evaluate.Pin
		for k := range 20 {
			since := in.Now.AddDate(0, 0, -7*(20-k))
			pins = append(pins, evaluate.Pin{Version: fmt.Sprintf("2025.%02d.%02d-1", k%12+1, k+1), Commit: "h", Since: since, Until: since.AddDate(0, 0, 7)})
		}
		in.History[p] = pins
		in.Artifacts = map[string]evaluate.ArtifactCheck{p: {Verified: true, Detail: "ok"}}
	}
	for i := range reviews {
		user := fmt.Sprintf("member-%02d-%02d", i%50, (i/50)%20)
		switch i {
		case 0, 100:
			user = "rita"
		case 1:
			user = "mara"
		}
		state := evaluate.Approved
		if i%7 == 3 {
			state = evaluate.Commented
		}
		commit := evaltest.HeadSHA
		if i >= 150 { // the last round of reviews predates a push
			commit = evaltest.StaleSHA
		}
		in.Reviews = append(in.Reviews, evaluate.Review{ID: int64(i), User: user, State: state, CommitID: commit, SubmittedAt: in.Now})
	}
	return in
}

func TestBenchInputPasses(t *testing.T) {
	res := evaluate.Evaluate(benchInput(t, 50, 200, 5000))
	if res.Verdict != evaluate.VerdictPass {
		t.Fatalf("verdict %s: %s", res.Verdict, res.Title)
	}
	if len(res.Approvals) != 50 || len(res.Promotions) != 50 {
		t.Fatalf("got %d approvals and %d promotions, want 50 each", len(res.Approvals), len(res.Promotions))
	}
}

// BenchmarkEvaluate measures one evaluation of 50 changed manifests, 200
// reviews and a 5,000-line CODEOWNERS file.
func BenchmarkEvaluate(b *testing.B) {
	in := benchInput(b, 50, 200, 5000)
	b.ReportAllocs()
	for b.Loop() {
		evaluate.Evaluate(in)
	}
}
