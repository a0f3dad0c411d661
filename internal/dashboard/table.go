package dashboard

import (
	"html"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// matrixTable renders the environment × model table. It is the large part
// of the matrix page (a cell per model and environment), so it is written
// directly rather than through html/template, and kept per head: every text
// and attribute value goes through html.EscapeString, and only http and
// https links are written.
func matrixTable(repo *Repository, view *matrixView) template.HTML {
	var b strings.Builder
	b.Grow(len(view.Rows) * len(view.Snap.Environments) * 400)
	b.WriteString(`<div class="scroll">` + "\n" + `<table class="matrix">` + "\n")
	b.WriteString("<caption>Each environment's pinned version of each model: since when, through which pull request, and whether review can be verified.</caption>\n")
	b.WriteString(`<thead><tr><th scope="col">Model</th>`)
	for _, env := range view.Snap.Environments {
		b.WriteString(`<th scope="col">` + html.EscapeString(env) + `</th>`)
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	base := html.EscapeString(repo.Base())
	for _, row := range view.Rows {
		name := html.EscapeString(row.Model)
		b.WriteString(`<tr><th scope="row"><a href="` + base + "models/" + html.EscapeString(url.PathEscape(row.Model)) + `">` + name + `</a></th>`)
		for _, c := range row.Cells {
			b.WriteString("<td>")
			writeCell(&b, c)
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n</div>\n")
	return template.HTML(b.String())
}

func writeCell(b *strings.Builder, c cellView) {
	p := c.Pin
	if p == nil {
		b.WriteString(`<span class="none">not pinned</span>`)
		return
	}
	b.WriteString(`<span class="version">` + html.EscapeString(p.Version) + "</span>\n")
	b.WriteString(`<span class="since">since <time datetime="` + p.From.UTC().Format(time.RFC3339) + `">` + p.From.UTC().Format("2006-01-02") + "</time></span>\n")
	b.WriteString(`<span class="by">`)
	if pr := p.Pinned.PullRequest; pr != nil {
		n := "#" + strconv.Itoa(pr.Number)
		if u := safeURL(pr.URL); u != "" {
			b.WriteString(`<a href="` + html.EscapeString(u) + `">` + n + "</a>")
		} else {
			b.WriteString(n)
		}
	} else {
		b.WriteString("commit <code>" + html.EscapeString(short(p.Pinned.Commit)) + "</code>")
	}
	b.WriteString("</span>\n")
	switch {
	case p.Pinned.Bypass:
		b.WriteString(`<span class="flag bad" title="` + html.EscapeString(p.Pinned.BypassReason) + `">bypass</span>`)
	case p.Pinned.BeforeJudging:
		b.WriteString(`<span class="flag">before judging</span>`)
	case p.Pinned.Verified:
		b.WriteString(`<span class="flag good">reviewed</span>`)
	default:
		b.WriteString(`<span class="flag">unverified</span>`)
	}
	if c.Drift {
		b.WriteString("\n" + `<span class="flag bad">drift</span>`)
	}
	if c.Attestation != "" {
		class := "flag"
		switch c.Attestation {
		case "verified":
			class += " good"
		case "refused":
			class += " bad"
		}
		b.WriteString("\n" + `<span class="` + class + `" title="` + html.EscapeString(c.AttestationDetail) + `">` + html.EscapeString(c.Attestation) + "</span>")
	}
}

// safeURL returns u when it is an absolute http or https address, else "".
func safeURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
		return ""
	}
	return u
}
