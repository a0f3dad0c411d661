package bot

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// testutilCounter reports whether GET /metrics shows line.
func testutilCounter(t *testing.T, h *harness, line string) bool {
	t.Helper()
	return strings.Contains(h.get("/metrics"), line)
}

// get returns the body of a GET on the bot's server.
func (h *harness) get(path string) string {
	h.T.Helper()
	resp, err := http.Get(h.server.URL + path)
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
