package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"testing"
)

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func ioCopy(w io.Writer, resp *http.Response) (int64, error) { return io.Copy(w, resp.Body) }

// chromiumPath finds the Chromium chromiumtest.Require found.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, c := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed")
	return ""
}
