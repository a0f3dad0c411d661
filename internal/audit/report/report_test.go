package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/example-org/promobot/internal/audit"
)

// hostile is a record whose every free-text field is written by an
// attacker who can push to the repository.
func hostile() audit.Record {
	evil := `<script>alert(1)</script>"><img src=x onerror=alert(2)>|` + "\n" + `=HYPERLINK("http://x")`
	return audit.Record{
		Time: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), Environment: "prod", Model: "m<b>", Path: "environments/prod/m.yaml",
		Kind: audit.KindRollback, FromVersion: "2", ToVersion: "1<i>", Commit: strings.Repeat("a", 40), Subject: evil,
		Author:      audit.Person{Name: "=cmd|' /C calc'!A0", Email: "x@example.com"},
		PullRequest: &audit.PullRequest{Number: 3, Title: evil, URL: "javascript:alert(3)", Approvers: []string{"<u>bob</u>"}},
		Verified:    true, Bypass: true, BypassReason: evil,
	}
}

func render(t *testing.T, f Format) string {
	t.Helper()
	r := hostile()
	var b bytes.Buffer
	h := History{Source: Source{Repository: "<repo>", Ref: "refs/heads/main", Tip: r.Commit, TipTime: r.Time.Add(time.Hour), Verified: true},
		Environments: []string{"prod"}, Records: []audit.Record{r}, Timeline: audit.Timeline([]audit.Record{r}, audit.Filter{})}
	if err := Records(&b, f, h); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	allowedElements   = map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "h1": true, "h2": true, "p": true, "span": true, "div": true, "table": true, "tr": true, "th": true, "td": true, "code": true, "ul": true, "li": true, "a": true}
	allowedAttributes = map[string]bool{"lang": true, "charset": true, "http-equiv": true, "content": true, "name": true, "class": true, "style": true, "title": true, "href": true}
)

// TestHTMLEscapesEverything tokenizes the page the way a browser would and
// checks that attacker-written text created no element, no attribute and
// no link other than the template's.
func TestHTMLEscapesEverything(t *testing.T) {
	out := render(t, HTML)
	z := html.NewTokenizer(strings.NewReader(out))
	sawEscapedScript := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if !allowedElements[tok.Data] {
				t.Errorf("unexpected element <%s>", tok.Data)
			}
			for _, a := range tok.Attr {
				if !allowedAttributes[a.Key] {
					t.Errorf("unexpected attribute %s on <%s>", a.Key, tok.Data)
				}
				if a.Key == "href" && !strings.HasPrefix(a.Val, "https://") && !strings.HasPrefix(a.Val, "http://") {
					t.Errorf("link to %q", a.Val)
				}
				if a.Key == "style" && strings.Contains(a.Val, "url(") {
					t.Errorf("style fetches: %q", a.Val)
				}
			}
		case html.TextToken:
			if strings.Contains(tok.Data, "<script>") {
				sawEscapedScript = true
			}
		}
	}
	if !sawEscapedScript {
		t.Error("the attacker's text was not shown as text")
	}
	if !strings.Contains(out, "default-src 'none'") {
		t.Error("the page has no Content-Security-Policy")
	}
}

func TestCSVNeutralizesFormulas(t *testing.T) {
	rows, err := csv.NewReader(strings.NewReader(render(t, CSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || len(rows[1]) != len(recordColumns) {
		t.Fatalf("rows = %d, columns %d", len(rows), len(rows[1]))
	}
	for i, cell := range rows[1] {
		if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
			t.Errorf("column %s starts a formula: %q", recordColumns[i], cell)
		}
	}
}

func TestTextFormatsStayOnOneLinePerRecord(t *testing.T) {
	for _, f := range []Format{Table, Markdown} {
		out := render(t, f)
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, `=HYPERLINK`) {
				t.Errorf("%s: a subject broke out of its row: %q", f, line)
			}
		}
		if f == Markdown && strings.Contains(out, "<script>") {
			t.Errorf("markdown holds raw HTML")
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"table", "json", "csv", "markdown", "html"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("yaml accepted")
	}
}
