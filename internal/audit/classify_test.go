package audit

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// change builds a manifest change; an empty version means the side is
// absent, "!" an unreadable manifest.
func change(env, model, from, to string, fields ...string) ManifestChange {
	snap := func(v string) *ManifestSnapshot {
		switch v {
		case "":
			return nil
		case "!":
			return &ManifestSnapshot{Problem: "manifest is not valid YAML"}
		}
		return &ManifestSnapshot{Version: v, SHA256: "sha-" + v}
	}
	return ManifestChange{Path: fmt.Sprintf("environments/%s/%s.yaml", env, model), Old: snap(from), New: snap(to), Fields: fields}
}

func commits(changes ...[]ManifestChange) []CommitChanges {
	var out []CommitChanges
	for i, c := range changes {
		who := Person{Name: "Ann", Email: "ann@example.com", Time: t0.Add(time.Duration(i) * time.Hour)}
		out = append(out, CommitChanges{Commit: fmt.Sprintf("%040d", i+1), Author: who, Committer: who, Subject: fmt.Sprintf("change %d (#%d)", i+1, i+1), Changes: c})
	}
	return out
}

type kindLine struct {
	Env, Model, From, To string
	Kind                 Kind
	PromotedFrom         string
	Fields               []string
}

func kinds(records []Record) []kindLine {
	var out []kindLine
	for _, r := range records {
		out = append(out, kindLine{r.Environment, r.Model, r.FromVersion, r.ToVersion, r.Kind, r.PromotedFrom, r.ChangedFields})
	}
	return out
}

func TestClassify(t *testing.T) {
	order := []string{"dev", "test", "prod"}
	from := map[string]string{"test": "dev", "prod": "test"}
	for _, tc := range []struct {
		name    string
		commits []CommitChanges
		want    []kindLine
	}{
		{
			name: "register, promote twice, new version, rollback",
			commits: commits(
				[]ManifestChange{change("dev", "m", "", "1")},
				[]ManifestChange{change("test", "m", "", "1")},
				[]ManifestChange{change("prod", "m", "", "1")},
				[]ManifestChange{change("dev", "m", "1", "2")},
				[]ManifestChange{change("test", "m", "1", "2")},
				[]ManifestChange{change("prod", "m", "1", "2")},
				[]ManifestChange{change("prod", "m", "2", "1")},
			),
			want: []kindLine{
				{"dev", "m", "", "1", KindRegister, "", nil},
				{"test", "m", "", "1", KindPromote, "dev", nil},
				{"prod", "m", "", "1", KindPromote, "test", nil},
				{"dev", "m", "1", "2", KindRegister, "", nil},
				{"test", "m", "1", "2", KindPromote, "dev", nil},
				{"prod", "m", "1", "2", KindPromote, "test", nil},
				{"prod", "m", "2", "1", KindRollback, "", nil},
			},
		},
		{
			name: "edit, decommission, re-add",
			commits: commits(
				[]ManifestChange{change("dev", "m", "", "1")},
				[]ManifestChange{change("dev", "m", "1", "1", "notes")},
				[]ManifestChange{change("dev", "m", "1", "")},
				[]ManifestChange{change("dev", "m", "", "1")},
			),
			want: []kindLine{
				{"dev", "m", "", "1", KindRegister, "", nil},
				{"dev", "m", "1", "1", KindEdit, "", []string{"notes"}},
				{"dev", "m", "1", "", KindDecommission, "", nil},
				{"dev", "m", "", "1", KindRollback, "", nil},
			},
		},
		{
			name: "one commit pins a new version in two environments",
			commits: commits(
				[]ManifestChange{change("dev", "m", "", "1"), change("test", "m", "", "1")},
			),
			want: []kindLine{
				{"dev", "m", "", "1", KindRegister, "", nil},
				{"test", "m", "", "1", KindRegister, "", nil},
			},
		},
		{
			name: "a skipped environment is named as the source",
			commits: commits(
				[]ManifestChange{change("dev", "m", "", "1")},
				[]ManifestChange{change("prod", "m", "", "1")},
			),
			want: []kindLine{
				{"dev", "m", "", "1", KindRegister, "", nil},
				{"prod", "m", "", "1", KindPromote, "dev", nil},
			},
		},
		{
			name: "versions are per model",
			commits: commits(
				[]ManifestChange{change("dev", "a", "", "1")},
				[]ManifestChange{change("test", "b", "", "1")},
			),
			want: []kindLine{
				{"dev", "a", "", "1", KindRegister, "", nil},
				{"test", "b", "", "1", KindRegister, "", nil},
			},
		},
		{
			name: "an unreadable manifest",
			commits: commits(
				[]ManifestChange{change("dev", "m", "", "1")},
				[]ManifestChange{change("dev", "m", "1", "!")},
				[]ManifestChange{change("dev", "m", "!", "1")},
			),
			want: []kindLine{
				{"dev", "m", "", "1", KindRegister, "", nil},
				{"dev", "m", "1", "", KindEdit, "", nil},
				{"dev", "m", "", "1", KindRollback, "", nil},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := kinds(classify(tc.commits, order, from))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarkUnverified(t *testing.T) {
	for _, tc := range []struct {
		subject string
		pr      int
		bypass  bool
	}{
		{"Merge pull request #12 from acme/promote", 12, false},
		{"Promote forecaster to prod (#34)", 34, false},
		{"Hotfix prod", 0, true},
		{"Mention #5 in the middle", 0, true},
	} {
		r := []Record{{Subject: tc.subject}}
		markUnverified(r)
		got := 0
		if r[0].PullRequest != nil {
			got = r[0].PullRequest.Number
		}
		if got != tc.pr || r[0].Bypass != tc.bypass || r[0].Verified {
			t.Errorf("%q: pr %d bypass %v verified %v; want pr %d bypass %v", tc.subject, got, r[0].Bypass, r[0].Verified, tc.pr, tc.bypass)
		}
	}
}

func TestPinsAt(t *testing.T) {
	records := classify(commits(
		[]ManifestChange{change("prod", "m", "", "1")},           // 09:00
		[]ManifestChange{change("prod", "m", "1", "2")},          // 10:00
		[]ManifestChange{change("prod", "m", "2", "2", "notes")}, // 11:00
		[]ManifestChange{change("dev", "x", "", "7")},            // 12:00
		[]ManifestChange{change("prod", "m", "2", "")},           // 13:00
	), nil, nil)
	at := func(h, m int) time.Time { return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	type pin struct {
		Env, Model, Version string
		Edits               int
	}
	summarize := func(ps []Pin) []pin {
		var out []pin
		for _, p := range ps {
			out = append(out, pin{p.Environment, p.Model, p.Version, len(p.Edits)})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		filter   Filter
		want     []pin
	}{
		{name: "before anything", from: at(-1, 0), to: at(-1, 0)},
		{name: "the first instant", from: at(0, 0), to: at(0, 0), want: []pin{{"prod", "m", "1", 0}}},
		{name: "an instant after an edit", from: at(2, 30), to: at(2, 30), want: []pin{{"prod", "m", "2", 1}}},
		{name: "a window over a change", from: at(0, 30), to: at(1, 30), want: []pin{{"prod", "m", "1", 0}, {"prod", "m", "2", 1}}},
		{name: "environment order then name", from: at(3, 30), to: at(3, 30), want: []pin{{"dev", "x", "7", 0}, {"prod", "m", "2", 1}}},
		{name: "after the decommission", from: at(5, 0), to: at(5, 0), want: []pin{{"dev", "x", "7", 0}}},
		{name: "filtered", from: at(3, 30), to: at(3, 30), filter: Filter{Environments: []string{"prod"}}, want: []pin{{"prod", "m", "2", 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(PinsAt(records, tc.filter, []string{"dev", "test", "prod"}, tc.from, tc.to))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in       string
		end      bool
		want     string
		span, ok bool
	}{
		{in: "2026-06-05", want: "2026-06-05T00:00:00Z", span: true, ok: true},
		{in: "2026-06-05", end: true, want: "2026-06-05T23:59:59.999999999Z", span: true, ok: true},
		{in: "2026-06-05T14:00:00+02:00", want: "2026-06-05T12:00:00Z", ok: true},
		{in: "June 5"},
	} {
		got, span, err := ParseTime(tc.in, tc.end)
		if (err == nil) != tc.ok || (tc.ok && (got.Format(time.RFC3339Nano) != tc.want || span != tc.span)) {
			t.Errorf("ParseTime(%q, %v) = %v, %v, %v", tc.in, tc.end, got, span, err)
		}
	}
}
