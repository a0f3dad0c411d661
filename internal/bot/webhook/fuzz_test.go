package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDispatcher checks that no body or signature makes the dispatcher,
// holding two secrets as during a rotation, panic or call a handler
// without a valid signature. Hex digits may be in either case, as GitHub's
// libraries accept.
func FuzzDispatcher(f *testing.F) {
	f.Add(`{"action":"opened"}`, "", "application/json", true)
	f.Add(`payload=%7B%7D`, "sha256=00", "application/x-www-form-urlencoded", false)
	f.Add(`{`, "sha256=", "application/json; charset=utf-8", true)
	const oldSecret = "old-s3cret"
	f.Fuzz(func(t *testing.T, body, signature, contentType string, signIt bool) {
		called := false
		d, err := NewDispatcher([][]byte{[]byte(oldSecret), []byte(secret)}, map[string]Handler{
			"pull_request": HandlerFunc(func(context.Context, Delivery) error { called = true; return nil }),
		}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if signIt {
			signature = sign(secret, body)
		}
		req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.Set("X-Hub-Signature-256", signature)
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, req)
		hexOf := func(key string) string { return strings.TrimPrefix(sign(key, body), "sha256=") }
		digits, prefixed := strings.CutPrefix(signature, "sha256=")
		valid := prefixed && (strings.EqualFold(digits, hexOf(secret)) || strings.EqualFold(digits, hexOf(oldSecret)))
		if called && !valid {
			t.Errorf("handler called for a delivery signed %q", signature)
		}
		if rec.Code == http.StatusUnauthorized && valid {
			t.Errorf("a correctly signed delivery was refused as unauthorized")
		}
	})
}
