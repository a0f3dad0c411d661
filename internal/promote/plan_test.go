package promote

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
)

const (
	testNDX = "environments/test/elasticnet-ndx.yaml"
	prodNDX = "environments/prod/elasticnet-ndx.yaml"
	devNDX  = "environments/dev/elasticnet-ndx.yaml"

	prodThreshold = "environments/prod/elasticnet-ndx-threshold.yaml"
)

func TestPlanPromote(t *testing.T) {
	files := baseFiles(t)
	plan, err := PlanPromote(baseFS(t, nil), PromoteRequest{
		Models: []string{"elasticnet-ndx-threshold", "elasticnet-ndx"}, To: "prod", Ticket: "CHG-4901",
		History: map[string][]PinRecord{prodNDX: {{Version: "2026.11.06-1", Commit: "c0ffee0000000000000000000000000000000000", Since: time.Date(2026, 11, 9, 15, 0, 0, 0, time.UTC)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	type move struct{ Model, Version, From, Replaces, Path string }
	var got []move
	for _, m := range plan.Moves {
		got = append(got, move{m.Model, m.Version, m.From, m.Replaces, m.Path})
	}
	want := []move{
		{"elasticnet-ndx", "2026.11.13-2", "test", "2026.11.06-1", prodNDX},
		{"elasticnet-ndx-threshold", "2026.11.13-2", "test", "2026.11.06-1", "environments/prod/elasticnet-ndx-threshold.yaml"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("moves (-want +got):\n%s", diff)
	}
	wantAfter := strings.NewReplacer("environment: test\n", "environment: prod\n", "ticket: CHG-4821", "ticket: CHG-4901").Replace(files[testNDX])
	if diff := cmp.Diff(wantAfter, string(plan.Moves[0].After)); diff != "" {
		t.Errorf("promoted manifest (-want +got):\n%s", diff)
	}
	if plan.Moves[0].RollbackTarget == nil || plan.Moves[0].RollbackTarget.Commit != "c0ffee0000000000000000000000000000000000" {
		t.Errorf("rollback target = %+v, want the pin of 2026.11.06-1", plan.Moves[0].RollbackTarget)
	}
	if plan.Branch != "promobot/prod/elasticnet-ndx-2026.11.13-2-6a931077" {
		t.Errorf("branch = %q", plan.Branch)
	}
	golden(t, "promote-bundle.commit.txt", plan.CommitMessage)
	if diff := cmp.Diff([]string{"promotion", "env:prod"}, plan.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
}

func TestPlanPromoteVersionFromAnyEnvironment(t *testing.T) {
	plan, err := PlanPromote(baseFS(t, nil), PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "test", Version: "2026.11.06-1"})
	if err != nil {
		t.Fatal(err)
	}
	m := plan.Moves[0]
	if m.From != "prod" || m.Version != "2026.11.06-1" || m.Replaces != "2026.11.13-2" {
		t.Errorf("move = from %s version %s replaces %s, want from prod version 2026.11.06-1 replaces 2026.11.13-2", m.From, m.Version, m.Replaces)
	}
	if plan.Title != "Promote elasticnet-ndx 2026.11.06-1 to test" || plan.Branch != "promobot/test/elasticnet-ndx-2026.11.06-1" {
		t.Errorf("title %q branch %q", plan.Title, plan.Branch)
	}
}

func TestPlanPromoteErrors(t *testing.T) {
	files := baseFiles(t)
	prodCopy := strings.NewReplacer("environment: test\n", "environment: prod\n").Replace(files[testNDX])
	prodCopy = strings.Replace(prodCopy, "approval:\n  ticket: CHG-4821\n", "approval:\n  ticket: CHG-1\n", 1)
	tests := []struct {
		name  string
		edits map[string]string
		req   PromoteRequest
		kind  any
		want  string
	}{
		{"unknown environment", nil, PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "staging"}, &UsageError{},
			`environment "staging" is not declared in .github/promobot.yaml (declared: dev, test, prod)`},
		{"first environment", nil, PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "dev"}, &UsageError{},
			"dev is the first environment: new versions enter it with promobot register, not promote"},
		{"bad model name", nil, PromoteRequest{Models: []string{"../x"}, To: "prod"}, &UsageError{},
			`model "../x" is not a valid name`},
		{"nothing in the source environment", map[string]string{testNDX: ""}, PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "prod"}, &RefusedError{},
			"refused: test has no version of elasticnet-ndx to promote to prod: environments/test/elasticnet-ndx.yaml does not exist"},
		{"version pinned nowhere", nil, PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "prod", Version: "1999.01.01-1"}, &RefusedError{},
			"refused: version 1999.01.01-1 of elasticnet-ndx is not pinned in any environment other than prod, so there is nothing to copy"},
		{"broken source manifest", map[string]string{testNDX: "model: [\n"}, PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "prod"}, &RefusedError{},
			"refused: the base manifest is invalid: environments/test/elasticnet-ndx.yaml:1:1: invalid YAML"},
		{"broken policy", map[string]string{".github/promobot.yaml": "apiVersion: promobot/v1\n"}, PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "prod"}, &RefusedError{},
			"refused: the base branch's policy cannot be used: "},
		{"already there", map[string]string{prodNDX: prodCopy}, PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "prod", Ticket: "CHG-1"}, &NothingToDoError{},
			"prod already pins elasticnet-ndx 2026.11.13-2 with these exact manifests"},
		{"no models", nil, PromoteRequest{To: "prod"}, &UsageError{}, "name at least one model to promote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlanPromote(baseFS(t, tt.edits), tt.req)
			checkError(t, err, tt.kind, tt.want)
		})
	}
}

// checkError checks the error's type and that its message starts with want.
func checkError(t *testing.T, err error, kind any, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %T %q", kind, want)
	}
	ok := false
	switch kind.(type) {
	case *UsageError:
		var e *UsageError
		ok = errors.As(err, &e)
	case *RefusedError:
		var e *RefusedError
		ok = errors.As(err, &e)
	case *NothingToDoError:
		var e *NothingToDoError
		ok = errors.As(err, &e)
	}
	if !ok {
		t.Errorf("error %T %v, want a %T", err, err, kind)
	}
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want it to start with %q", err.Error(), want)
	}
	if !failure.IsTerminal(err) {
		t.Errorf("failure.IsTerminal(%v) = false", err)
	}
}

// TestPlanRollback rolls back a model on its own: prod pins no other model
// of its bundle (TestPlanRollbackBundle covers the bundle).
func TestPlanRollback(t *testing.T) {
	files := baseFiles(t)
	alone := map[string]string{prodThreshold: ""}
	old := strings.NewReplacer("2026.11.06-1", "2026.10.30-1", "CHG-4790", "CHG-4700").Replace(files[prodNDX])
	day := func(d int) time.Time { return time.Date(2026, 10, d, 12, 0, 0, 0, time.UTC) }
	history := []PinRecord{
		{Version: "2026.10.23-1", Commit: strings.Repeat("1", 40), Since: day(24), Content: []byte(strings.ReplaceAll(old, "2026.10.30-1", "2026.10.23-1"))},
		{Version: "2026.10.30-1", Commit: strings.Repeat("2", 40), Since: day(31), Content: []byte(old)},
		{Version: "2026.11.06-1", Commit: strings.Repeat("3", 40), Since: day(31).AddDate(0, 0, 9), Content: []byte(files[prodNDX])},
	}
	tests := []struct {
		name      string
		toVersion string
		want      PinRecord
	}{
		{"previous version", "", history[1]},
		{"named version", "2026.10.23-1", history[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := PlanRollback(baseFS(t, alone), RollbackRequest{Environment: "prod", Models: []RollbackModel{{Model: "elasticnet-ndx", ToVersion: tt.toVersion, History: history}}})
			if err != nil {
				t.Fatal(err)
			}
			m := plan.Moves[0]
			if diff := cmp.Diff(string(tt.want.Content), string(m.After)); diff != "" {
				t.Errorf("restored bytes (-want +got):\n%s", diff)
			}
			if m.Restored.Commit != tt.want.Commit || m.Replaces != "2026.11.06-1" || m.Version != tt.want.Version {
				t.Errorf("restored %s from %s replacing %s", m.Version, m.Restored.Commit, m.Replaces)
			}
			if m.RollbackTarget == nil || m.RollbackTarget.Version != "2026.11.06-1" {
				t.Errorf("rollback target = %+v, want the current pin", m.RollbackTarget)
			}
			wantTitle := "Roll back elasticnet-ndx in prod to " + tt.want.Version
			if plan.Title != wantTitle || plan.Branch != "promobot/prod/rollback-elasticnet-ndx-"+tt.want.Version {
				t.Errorf("title %q branch %q", plan.Title, plan.Branch)
			}
			if diff := cmp.Diff([]string{"promotion", "env:prod", "rollback"}, plan.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}

	errs := []struct {
		name      string
		toVersion string
		history   []PinRecord
		kind      any
		want      string
	}{
		{"no earlier version", "", history[2:], &RefusedError{}, "refused: prod has no version of elasticnet-ndx pinned before 2026.11.06-1 on the base branch"},
		{"never pinned", "2020.01.01-1", history, &RefusedError{}, "refused: prod never pinned elasticnet-ndx 2020.01.01-1 on the base branch"},
		{"current version", "2026.11.06-1", history, &NothingToDoError{}, "prod already pins elasticnet-ndx 2026.11.06-1"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlanRollback(baseFS(t, alone), RollbackRequest{Environment: "prod", Models: []RollbackModel{{Model: "elasticnet-ndx", ToVersion: tt.toVersion, History: tt.history}}})
			checkError(t, err, tt.kind, tt.want)
		})
	}
}

const candidate = `# Candidate written by the training pipeline.
model: gbm-vix
version: "2026.11.27-1"
artifact:
  uri: https://mlartifacts.blob.core.windows.net/models/gbm-vix/2026.11.27-1/model.pkl
lineage:
  trainingRun: azureml-run-9a1b2c
  sourceCommit: 0123456789abcdef0123456789abcdef01234567
  dataWindow: {start: 2021-11-01, end: 2026-11-21}
  featureSet: vix-features-v3
  dataVersion: ohlcv-2026-11-21
metrics:
  rmse: 0.0201 # on the hold-out set
  mae: 0.015
validation:
  status: passed
approval:
  ticket: CHG-1
`

func TestPlanRegister(t *testing.T) {
	size := int64(65536)
	plan, err := PlanRegister(baseFS(t, nil), RegisterRequest{
		Environment: "dev", Candidate: []byte(candidate),
		Artifact: ArtifactFields{SHA256: strings.Repeat("ab", 32), Size: &size},
		Metrics:  map[string]float64{"r2": 0.5, "count": 3},
		Notes:    "First VIX model.",
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "register.yaml", string(plan.Moves[0].After))
	golden(t, "register.commit.txt", plan.CommitMessage)
	if plan.Branch != "promobot/dev/gbm-vix-2026.11.27-1" {
		t.Errorf("branch = %q", plan.Branch)
	}
}

func TestPlanRegisterErrors(t *testing.T) {
	files := baseFiles(t)
	devDoc := files[devNDX]
	tests := []struct {
		name string
		req  RegisterRequest
		kind any
		want string
	}{
		{"not the first environment", RegisterRequest{Environment: "test", Candidate: []byte(candidate)}, &UsageError{},
			"new versions are registered in dev, the first environment; test is reached by promotion"},
		{"model contradicts the file", RegisterRequest{Model: "other", Candidate: []byte(candidate)}, &UsageError{},
			`the model is "other" but the candidate file says "gbm-vix"`},
		{"digest contradicts the file", RegisterRequest{Candidate: []byte(strings.Replace(candidate, "  uri:", "  sha256: "+strings.Repeat("cd", 32)+"\n  uri:", 1)),
			Artifact: ArtifactFields{SHA256: strings.Repeat("ab", 32)}}, &UsageError{},
			"the artifact's sha256 is abab"},
		{"invalid result", RegisterRequest{Candidate: []byte(candidate)}, &UsageError{},
			"the registered manifest of gbm-vix 2026.11.27-1 would be invalid:\n  environments/dev/gbm-vix.yaml:8:3: artifact: missing required field \"sha256\""},
		{"no version", RegisterRequest{Model: "gbm-vix"}, &UsageError{}, "the version is missing"},
		{"version reused for other bytes", RegisterRequest{Model: "elasticnet-ndx", Version: "2026.11.06-1",
			Candidate: []byte(strings.Replace(devDoc, "version: \"2026.11.20-1\"", "version: \"2026.11.06-1\"", 1))}, &RefusedError{},
			"refused: version 2026.11.06-1 of elasticnet-ndx already exists (pinned in prod) with a different artifact, lineage, metrics; a version id names one set of bytes forever"},
		{"version reused in history", RegisterRequest{Candidate: []byte(candidate), Artifact: ArtifactFields{SHA256: strings.Repeat("ab", 32)},
			History: map[string][]PinRecord{"environments/prod/gbm-vix.yaml": {{Version: "2026.11.27-1", Commit: strings.Repeat("9", 40),
				Content: []byte(strings.Replace(strings.Replace(candidate, "  uri:", "  sha256: "+strings.Repeat("cd", 32)+"\n  uri:", 1), "model: gbm-vix\n", "model: gbm-vix\nenvironment: prod\napiVersion: promobot/v1\nkind: ModelDeployment\n", 1))}}}}, &RefusedError{},
			"refused: version 2026.11.27-1 of gbm-vix already exists (pinned at environments/prod/gbm-vix.yaml by commit 999999999999) with a different artifact"},
		{"already registered", RegisterRequest{Candidate: []byte(devDoc)}, &NothingToDoError{}, "dev already pins elasticnet-ndx 2026.11.20-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlanRegister(baseFS(t, nil), tt.req)
			checkError(t, err, tt.kind, tt.want)
		})
	}
}

func TestPlanRegisterBundleInOneChange(t *testing.T) {
	other := strings.NewReplacer("gbm-vix", "gbm-vix-band", "azureml-run-9a1b2c", "azureml-run-9a1b2d").Replace(candidate)
	sum := strings.Repeat("ab", 32)
	plan, err := PlanRegister(baseFS(t, nil),
		RegisterRequest{Candidate: []byte(other), Artifact: ArtifactFields{SHA256: sum}},
		RegisterRequest{Candidate: []byte(candidate), Artifact: ArtifactFields{SHA256: sum}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Moves) != 2 || plan.Moves[0].Model != "gbm-vix" || plan.Moves[1].Model != "gbm-vix-band" {
		t.Fatalf("moves %+v", plan.Moves)
	}
	if plan.Title != "Register gbm-vix 2026.11.27-1 and gbm-vix-band 2026.11.27-1 in dev" || !strings.HasPrefix(plan.Branch, "promobot/dev/gbm-vix-2026.11.27-1-") {
		t.Errorf("title %q branch %q", plan.Title, plan.Branch)
	}
	_, err = PlanRegister(baseFS(t, nil), RegisterRequest{Candidate: []byte(candidate), Artifact: ArtifactFields{SHA256: sum}}, RegisterRequest{Candidate: []byte(candidate), Artifact: ArtifactFields{SHA256: sum}})
	checkError(t, err, &UsageError{}, "model gbm-vix is registered twice in one change")
}
