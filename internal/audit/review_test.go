package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/policy"
)

const commitC = "cccccccccccccccccccccccccccccccccccccccc"

var merged = t0.Add(10 * time.Hour)

// pr is a merged pull request with a green check an hour before merge.
func pr(edit ...func(*EvidencePullRequest)) EvidencePullRequest {
	p := EvidencePullRequest{
		Number: 7, Title: "Promote", Author: "alice", State: "closed", Merged: true, MergedAt: merged, MergedBy: "carol",
		BaseRef: "main", HeadSHA: "hhhh", MergeCommitSHA: commitC,
		Reviews: []EvidenceReview{{ID: 1, Reviewer: "bob", State: "APPROVED", SubmittedAt: merged.Add(-2 * time.Hour)}},
		CheckRuns: []EvidenceCheckRun{{ID: 10, Name: "promobot", App: "promobot", HeadSHA: "hhhh", Status: "completed", Conclusion: "success",
			CompletedAt: merged.Add(-time.Hour)}},
	}
	for _, e := range edit {
		e(&p)
	}
	return p
}

func TestAssess(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prs       []EvidencePullRequest
		opts      AssessOptions
		reviewed  bool
		reason    string
		number    int
		check     string
		approvers []string
	}{
		{name: "reviewed", prs: []EvidencePullRequest{pr()}, reviewed: true, number: 7, check: "success", approvers: []string{"bob"}},
		{name: "direct push", reason: "no pull request: commit cccccccccccc was pushed to main directly"},
		{name: "open pull request", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) { p.Merged, p.State = false, "open" })},
			reason: "pull requests #7 (open into main) were not merged"},
		{name: "merged into another branch", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) { p.BaseRef = "release" })},
			reason: "#7 (merged into release)"},
		{name: "admin bypass", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) { p.CheckRuns[0].Conclusion = "failure" })},
			reason: `had concluded "failure" when carol merged it`, number: 7, check: "failure", approvers: []string{"bob"}},
		{name: "no check", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) { p.CheckRuns = nil })},
			reason: "the promobot check never ran on pull request #7", number: 7, approvers: []string{"bob"}},
		{name: "check still running", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) {
			p.CheckRuns[0].Status, p.CheckRuns[0].Conclusion, p.CheckRuns[0].CompletedAt = "in_progress", "", time.Time{}
		})}, reason: "had not completed when it was merged", number: 7, approvers: []string{"bob"}},
		{name: "green only after the merge", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) {
			p.CheckRuns[0].Conclusion = "failure"
			p.CheckRuns = append(p.CheckRuns, EvidenceCheckRun{ID: 11, Name: "promobot", HeadSHA: "hhhh", Status: "completed", Conclusion: "success", CompletedAt: merged.Add(time.Hour)})
		})}, reason: `concluded "failure"`, number: 7, check: "failure", approvers: []string{"bob"}},
		{name: "the latest check before the merge counts", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) {
			p.CheckRuns = append(p.CheckRuns, EvidenceCheckRun{ID: 9, Name: "promobot", HeadSHA: "hhhh", Status: "completed", Conclusion: "failure", CompletedAt: merged.Add(-3 * time.Hour)})
		})}, reviewed: true, number: 7, check: "success", approvers: []string{"bob"}},
		{name: "a check on an older head does not count", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) { p.CheckRuns[0].HeadSHA = "older" })},
			reason: "never ran", number: 7, approvers: []string{"bob"}},
		{name: "a check by another App does not count", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) { p.CheckRuns[0].App = "impostor" })},
			opts: AssessOptions{App: "promobot"}, reason: "never ran", number: 7, approvers: []string{"bob"}},
		{name: "a check on the merge commit counts", prs: []EvidencePullRequest{pr(func(p *EvidencePullRequest) { p.CheckRuns[0].HeadSHA = commitC })},
			reviewed: true, number: 7, check: "success", approvers: []string{"bob"}},
		{name: "the pull request whose merge commit it is wins", prs: []EvidencePullRequest{
			pr(func(p *EvidencePullRequest) { p.Number, p.MergeCommitSHA = 3, "other" }),
			pr(func(p *EvidencePullRequest) { p.Number = 8 }),
		}, reviewed: true, number: 8, check: "success", approvers: []string{"bob"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Assess(Evidence{Commit: commitC, DefaultBranch: "main", PullRequests: tc.prs}, tc.opts)
			if v.Reviewed != tc.reviewed || !strings.Contains(v.Reason, tc.reason) || (tc.reviewed && v.Reason != "") {
				t.Errorf("reviewed %v, reason %q; want %v, %q", v.Reviewed, v.Reason, tc.reviewed, tc.reason)
			}
			var number int
			var check string
			var approvers []string
			if v.PullRequest != nil {
				number, check, approvers = v.PullRequest.Number, v.PullRequest.Check, v.PullRequest.Approvers
			}
			if number != tc.number || check != tc.check || !cmp.Equal(approvers, tc.approvers, cmpEmpty) {
				t.Errorf("pull request #%d check %q approvers %v; want #%d %q %v", number, check, approvers, tc.number, tc.check, tc.approvers)
			}
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })

func TestApprovers(t *testing.T) {
	at := func(h int) time.Time { return merged.Add(time.Duration(h) * time.Hour) }
	reviews := []EvidenceReview{
		{ID: 1, Reviewer: "bob", State: "APPROVED", SubmittedAt: at(-5)},
		{ID: 2, Reviewer: "bob", State: "COMMENTED", SubmittedAt: at(-4)}, // a comment keeps the approval
		{ID: 3, Reviewer: "carol", State: "APPROVED", SubmittedAt: at(-5)},
		{ID: 4, Reviewer: "carol", State: "CHANGES_REQUESTED", SubmittedAt: at(-3)},
		{ID: 5, Reviewer: "dave", State: "APPROVED", SubmittedAt: at(-2)},
		{ID: 6, Reviewer: "dave", State: "DISMISSED", SubmittedAt: at(-1)},
		{ID: 7, Reviewer: "alice", State: "APPROVED", SubmittedAt: at(-1)}, // the author
		{ID: 8, Reviewer: "erin", State: "APPROVED", SubmittedAt: at(1)},   // after the merge
		{ID: 9, Reviewer: "frank", State: "CHANGES_REQUESTED", SubmittedAt: at(-6)},
		{ID: 10, Reviewer: "frank", State: "APPROVED", SubmittedAt: at(-5)},
	}
	got := approvers(EvidencePullRequest{Author: "alice", MergedAt: merged, Reviews: reviews})
	if diff := cmp.Diff([]string{"bob", "frank"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// fakeReviewer answers from a map; commits missing from it fail.
type fakeReviewer struct {
	verdicts map[string]Verdict
	asked    []string
}

func (f *fakeReviewer) Review(_ context.Context, commit string) (Verdict, error) {
	f.asked = append(f.asked, commit)
	v, ok := f.verdicts[commit]
	if !ok {
		return Verdict{}, errors.New("GitHub is down")
	}
	return v, nil
}

func TestRequireReviewed(t *testing.T) {
	history := &History{Records: classify(commits(
		[]ManifestChange{change("prod", "m", "", "1")},           // commit 1
		[]ManifestChange{change("prod", "m", "1", "2")},          // commit 2: bypass
		[]ManifestChange{change("prod", "m", "2", "1")},          // commit 3: reviewed rollback
		[]ManifestChange{change("prod", "m", "1", "1", "notes")}, // commit 4: edit
		[]ManifestChange{change("dev", "x", "", "5")},            // commit 5
	), nil, nil)}
	c := func(i int) string { return commits(nil, nil, nil, nil, nil)[i-1].Commit }
	ok := Verdict{Reviewed: true, PullRequest: &PullRequest{Number: 1, Approvers: []string{"bob"}}}
	for _, tc := range []struct {
		name     string
		env      string
		verdicts map[string]Verdict
		want     string // substring of the error; empty for none
		asked    int
	}{
		{name: "pin and edit reviewed", env: "prod", verdicts: map[string]Verdict{c(3): ok, c(4): ok}, asked: 2},
		{name: "an unreviewed edit", env: "prod", verdicts: map[string]Verdict{c(3): ok, c(4): {Reason: "no pull request"}},
			want: "the manifest of m in prod was changed without review: edit 1 (commit 000000000000): no pull request", asked: 2},
		{name: "GitHub unreachable", env: "prod", verdicts: map[string]Verdict{}, want: "GitHub is down", asked: 1},
		{name: "not pinned", env: "test", want: "no manifest is pinned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &fakeReviewer{verdicts: tc.verdicts}
			check, err := RequireReviewed(t.Context(), history, r, tc.env, "m")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if check.Pinned.Commit != c(3) || len(check.Changes) != 2 {
					t.Errorf("pinned by %s with %d changes", check.Pinned.Commit, len(check.Changes))
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if len(r.asked) != tc.asked {
				t.Errorf("asked about %d commits, want %d", len(r.asked), tc.asked)
			}
			var unreviewed *UnreviewedError
			if tc.name == "an unreviewed edit" && !errors.As(err, &unreviewed) {
				t.Errorf("err is %T, want *UnreviewedError", err)
			}
		})
	}
	// Once the unreviewed version is gone, the bypass no longer matters.
	if _, err := RequireReviewed(t.Context(), history, &fakeReviewer{verdicts: map[string]Verdict{c(5): ok}}, "dev", "x"); err != nil {
		t.Errorf("dev/x: %v", err)
	}
}

func TestDetectBypass(t *testing.T) {
	records := classify(commits(
		[]ManifestChange{change("prod", "m", "", "1"), change("prod", "n", "", "1")},
		[]ManifestChange{change("prod", "m", "1", "2")},
	), nil, nil)
	c := records[2].Commit
	r := &fakeReviewer{verdicts: map[string]Verdict{
		records[0].Commit: {Reviewed: true},
		c:                 {Reason: "no pull request: commit 000000000000 was pushed to main directly"},
	}}
	findings, err := DetectBypass(t.Context(), r, records)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.asked) != 2 {
		t.Errorf("asked %d times for 2 commits", len(r.asked))
	}
	if len(findings) != 1 || findings[0].Record.Commit != c || records[2].Verified {
		t.Fatalf("findings = %+v (the input records must not change)", findings)
	}
	f := findings[0]
	if got := f.Title(); got != "Unreviewed promotion of m to prod" {
		t.Errorf("title %q", got)
	}
	if d := f.StatusDescription(); len(d) > 140 || !strings.HasPrefix(d, "Unreviewed change of m in prod: no pull request") {
		t.Errorf("status description %q", d)
	}
	f.Record.Subject = "Hotfix @everyone | `rm -rf` <b>"
	body := f.IssueBody()
	for _, want := range []string{"`Hotfix @everyone / 'rm -rf' <b>`", "| Change | register 1 → 2 |", "`no pull request: commit 000000000000 was pushed to main directly`"} {
		if !strings.Contains(body, want) {
			t.Errorf("issue body lacks %q:\n%s", want, body)
		}
	}
	if _, err := DetectBypass(t.Context(), &fakeReviewer{}, records); err == nil {
		t.Error("a reviewer error was swallowed")
	}
}

func TestStatusDescriptionKeepsCharactersWhole(t *testing.T) {
	for _, tc := range []struct {
		name, reason string
	}{
		{name: "ascii", reason: strings.Repeat("x", 200)},
		{name: "multi-byte at the cut", reason: strings.Repeat("é", 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Finding{Record: Record{Environment: "prod", Model: "m"}, Verdict: Verdict{Reason: tc.reason}}
			d := f.StatusDescription()
			if len(d) > 140 || !utf8.ValidString(d) || !strings.HasSuffix(d, "...") {
				t.Errorf("StatusDescription() = %q (%d bytes)", d, len(d))
			}
		})
	}
}

// TestFreezeOverrideIsRecorded marks records that landed in a freeze window
// and says, from the merging pull request's labels, whether the freeze was
// overridden and with whose approval.
func TestFreezeOverrideIsRecorded(t *testing.T) {
	window := policy.FreezeWindow{Name: "year-end close", Start: merged.Add(-time.Hour), End: merged.Add(time.Hour), OverrideLabel: "freeze-override"}
	freezes := map[string][]policy.FreezeWindow{"prod": {window}}
	tests := []struct {
		name   string
		env    string
		labels []string
		want   *Freeze
	}{
		{name: "overridden with the label", env: "prod", labels: []string{"Freeze-Override"},
			want: &Freeze{Window: "year-end close", OverrideLabel: "freeze-override", Overridden: true, Approvers: []string{"bob"}}},
		{name: "merged in the window without the label", env: "prod",
			want: &Freeze{Window: "year-end close", OverrideLabel: "freeze-override"}},
		{name: "another environment is not frozen", env: "dev", labels: []string{"freeze-override"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records := []Record{{Time: merged, Environment: tt.env, Model: "m", Commit: commitC}}
			markFreezes(records, freezes)
			v := Assess(Evidence{Commit: commitC, DefaultBranch: "main", PullRequests: []EvidencePullRequest{pr(func(p *EvidencePullRequest) { p.Labels = tt.labels })}}, AssessOptions{})
			if err := Enrich(t.Context(), records, &fakeReviewer{verdicts: map[string]Verdict{commitC: v}}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, records[0].Freeze); diff != "" {
				t.Errorf("freeze (-want +got):\n%s", diff)
			}
		})
	}
}
