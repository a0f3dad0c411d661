package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// reportPercentiles reports the 50th and 99th percentiles and the maximum
// of samples, in milliseconds.
func reportPercentiles(b *testing.B, samples []time.Duration) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(q float64) time.Duration { return samples[min(len(samples)-1, int(q*float64(len(samples))))] }
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(at(0.50)), "p50-ms")
	b.ReportMetric(ms(at(0.99)), "p99-ms")
	b.ReportMetric(ms(samples[len(samples)-1]), "max-ms")
}

// BenchmarkWebhookAckAt500PerSecond sends signed pull_request_review
// deliveries of a realistic size (~8 kB) to the real HTTP server on
// loopback at a fixed 500 per second, open loop (each on schedule, whether
// or not earlier ones were answered, so a slow answer never delays the
// next delivery), while every worker is busy, and reports the percentiles
// of the acknowledgement latency, from sending a delivery to reading its
// answer. The deliveries are about 200 pull requests, so they coalesce and
// the queue never fills. Run it for a few seconds:
//
//	go test -run '^$' -bench WebhookAckAt500PerSecond -benchtime 2500x ./internal/bot/
func BenchmarkWebhookAckAt500PerSecond(b *testing.B) {
	const rate = 500
	gh := &fakeGitHub{noRecord: true}
	bot, err := newBot(Config{
		AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Logger: slog.New(slog.DiscardHandler),
		Workers: 4, QueueSize: 1000, Now: time.Now,
	}, deps{client: func(int64) (githubAPI, error) { return gh, nil }, mirrors: &fakeMirrors{block: true}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(bot.Handler())
	defer func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = bot.Shutdown(ctx)
	}()

	type delivery struct{ body, signature []byte }
	var payloads []delivery
	for n := 1; n <= 200; n++ {
		pr := prJSON(n, fmt.Sprintf("%040x", n))
		pr["body"] = strings.Repeat("promotion notes ", 500)
		body, _ := json.Marshal(envelope("submitted", m{"review": m{"id": n, "state": "approved"}, "pull_request": pr}))
		mac := hmac.New(sha256.New, []byte(testSecret))
		mac.Write(body)
		payloads = append(payloads, delivery{body: body, signature: []byte("sha256=" + hex.EncodeToString(mac.Sum(nil)))})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}, Timeout: 10 * time.Second}
	send := func(i int, id string) (int, error) {
		p := payloads[i%len(payloads)]
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhook", bytes.NewReader(p.body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "pull_request_review")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", string(p.signature))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
	// Warm the connections up.
	for i := range 16 {
		if _, err := send(i, fmt.Sprintf("warm-%d", i)); err != nil {
			b.Fatal(err)
		}
	}

	latencies := make([]time.Duration, b.N)
	failures := make(chan error, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		due := start.Add(time.Duration(i) * time.Second / rate)
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			status, err := send(i, fmt.Sprintf("bench-%d", i))
			latencies[i] = time.Since(sent)
			if err == nil && status != http.StatusAccepted {
				err = fmt.Errorf("status %d", status)
			}
			if err != nil {
				failures <- err
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(failures)
	for err := range failures {
		b.Fatalf("delivery failed: %v", err)
	}
	reportPercentiles(b, latencies)
	b.ReportMetric(0, "ns/op") // the rate, not the loop, sets the time
}

// evaluationFixture is a large change for the bot's side of an
// evaluation: 50 prod manifests promoted, 200 reviews by 40 reviewers, the
// owning teams and the reviewers' permissions.
func evaluationFixture(tb testing.TB) (*evaluate.Input, *fakeGitHub) {
	tb.Helper()
	pol, problems := repoconfig.LoadPolicy(policy.Path, []byte(evaltest.Policy), nil)
	if len(problems) > 0 {
		tb.Fatal(problems)
	}
	var owners strings.Builder
	owners.WriteString(evaltest.CodeOwners)
	model := func(i int) string { return fmt.Sprintf("model-%03d", i) }
	for i := range 50 {
		fmt.Fprintf(&owners, "/environments/prod/%s.yaml  @example-org/model-risk @example-org/release-managers\n", model(i))
	}
	co, warnings := codeowners.Parse([]byte(owners.String()))
	if len(warnings) > 0 {
		tb.Fatal(warnings)
	}
	now, _ := time.Parse(time.RFC3339, evaltest.DefaultNow)
	in := &evaluate.Input{
		Policy: pol, Owners: co, OwnersPath: ".github/CODEOWNERS",
		Base: map[string]*manifest.Document{}, Head: map[string]*manifest.Document{}, History: map[string][]evaluate.Pin{},
		Artifacts:   map[string]evaluate.ArtifactCheck{},
		PullRequest: evaluate.PullRequest{BaseSHA: evaltest.BaseSHA, HeadSHA: evaltest.HeadSHA},
		Commits:     []evaluate.Commit{{SHA: evaltest.HeadSHA, Author: evaltest.Identity("alex"), Committer: evaltest.Identity("alex")}},
	}
	load := func(env, name, version string) *manifest.Document {
		text := strings.ReplaceAll(evaltest.Manifest(env, evaltest.Unbundled, version), evaltest.Unbundled, name)
		d, problems := repoconfig.LoadManifest(evaltest.ManifestPath(env, name), []byte(text), nil)
		if len(problems) > 0 {
			tb.Fatal(problems)
		}
		return d
	}
	for i := range 50 {
		name := model(i)
		for env, v := range map[string]string{"dev": evaltest.V3, "test": evaltest.V2, "prod": evaltest.V1} {
			in.Base[evaltest.ManifestPath(env, name)] = load(env, name, v)
		}
		p := evaltest.ManifestPath("prod", name)
		in.Head[p] = load("prod", name, evaltest.V2)
		in.Changes = append(in.Changes, evaluate.Change{Path: p, Status: evaluate.Modified})
		in.Artifacts[p] = evaluate.ArtifactCheck{Verified: true, Detail: "ok"}
		var pins []evaluate.Pin
		for k := range 10 {
			since := now.AddDate(0, 0, -7*(10-k))
			pins = append(pins, evaluate.Pin{Version: fmt.Sprintf("2026.%02d.%02d-1", k%9+1, k+1), Commit: "h", Since: since, Until: since.AddDate(0, 0, 7)})
		}
		in.History[p] = pins
	}

	teams := map[string][]string{}
	perms := map[string]string{}
	for team, members := range evaltest.Teams() {
		teams[team] = members
		for _, login := range members {
			perms[login] = "write"
		}
	}
	var reviews []githubapi.Review
	for i := range 200 {
		user := fmt.Sprintf("reviewer-%02d", i%40)
		state := "COMMENTED"
		switch {
		case i == 198:
			user, state = "mara", "APPROVED"
		case i == 199:
			user, state = "rita", "APPROVED"
		case i%5 == 0:
			state = "APPROVED"
		}
		perms[user] = "write"
		reviews = append(reviews, githubapi.Review{ID: int64(i + 1), User: user, State: state, CommitID: evaltest.HeadSHA, SubmittedAt: now.Add(time.Duration(i) * time.Second)})
	}
	pr := &githubapi.PullRequest{Number: 7, State: "open", Author: "alex", BaseRef: "main", HeadSHA: evaltest.HeadSHA, CloneURL: "https://example.invalid/x.git"}
	return in, &fakeGitHub{noRecord: true, reviews: reviews, teams: teams, perms: perms, pulls: map[int]*githubapi.PullRequest{7: pr}}
}

func TestEvaluationFixturePasses(t *testing.T) {
	in, gh := evaluationFixture(t)
	engine := &recordingEngine{}
	u := newUnitBot(t, gh, &fakeMirrors{input: in}, func(c *Config) { c.Engine = engine })
	pr := &githubapi.PullRequest{Number: 7, State: "open", Author: "alex", BaseRef: "main", HeadSHA: evaltest.HeadSHA, CloneURL: "https://example.invalid/x.git"}
	tgt := target{installation: testInstallationID, owner: testOwner, name: testRepo, number: 7, sha: pr.HeadSHA, pr: pr}
	if err := u.evaluatePullRequest(t.Context(), world.Logger(t), gh, tgt); err != nil {
		t.Fatal(err)
	}
	res := evaluate.Evaluate(engine.last)
	if res.Verdict != evaluate.VerdictPass || len(res.Promotions) != 50 || len(engine.last.Reviews) != 200 {
		t.Fatalf("verdict %s %q with %d promotions and %d reviews; want a pass of 50 promotions and 200 reviews",
			res.Verdict, res.Title, len(res.Promotions), len(engine.last.Reviews))
	}
}

// BenchmarkEvaluationNoNetwork measures the bot's side of one evaluation,
// with GitHub and git faked in memory: the in-progress check run, filling
// the input from the API (200 reviews, teams, 40 permissions), the policy
// engine on 50 promoted manifests, rendering the summary and annotations,
// and completing the check run. It reports the latency percentiles:
//
//	go test -run '^$' -bench EvaluationNoNetwork ./internal/bot/
func BenchmarkEvaluationNoNetwork(b *testing.B) {
	in, gh := evaluationFixture(b)
	now := time.Now()
	bot, err := newBot(Config{AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }},
		deps{client: func(int64) (githubAPI, error) { return gh, nil }, mirrors: &fakeMirrors{input: in}})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = bot.Shutdown(context.Background()) }()
	pr := &githubapi.PullRequest{Number: 7, State: "open", Author: "alex", BaseRef: "main", HeadSHA: evaltest.HeadSHA, CloneURL: "https://example.invalid/x.git"}
	// force: every iteration evaluates, though its inputs are unchanged.
	tgt := target{installation: testInstallationID, owner: testOwner, name: testRepo, number: 7, sha: pr.HeadSHA, pr: pr, force: true}
	logger := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	latencies := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := bot.evaluatePullRequest(ctx, logger, gh, tgt); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, latencies)
}
