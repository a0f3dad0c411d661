package dashboard

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

// staticFiles are the dashboard's scripts and styles: htmx.min.js, copied
// from the pinned npm package htmx.org (see package.json), and
// dashboard.css.
//
//go:embed static/htmx.min.js static/dashboard.css
var staticFiles embed.FS

// HTMX returns the embedded htmx.min.js.
func HTMX() []byte {
	data, _ := staticFiles.ReadFile("static/htmx.min.js")
	return data
}

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"short":      short,
	"join":       strings.Join,
	"pathEscape": url.PathEscape,
	"date":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"day":        func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).ParseFS(templateFiles, "templates/*.html"))

// staticHandler serves the embedded static files, cacheable for an hour.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
