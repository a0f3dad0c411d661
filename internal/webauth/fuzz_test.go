package webauth

import (
	"bytes"
	"testing"
)

// FuzzOpen checks that opening never panics and that only what the keys
// sealed for the same purpose opens, to the same bytes.
func FuzzOpen(f *testing.F) {
	keys, err := NewKeys(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	sealed := keys.seal(SessionCookie, []byte(`{"l":"carol"}`))
	for _, seed := range []string{sealed, "", "v1", "v1.", "v1..", "v1.00000000.", sealed[:len(sealed)-3], "v2" + sealed[2:], sealed + "A"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		plain, err := keys.open(SessionCookie, value)
		if err != nil {
			return
		}
		if value != sealed && !bytes.Equal(plain, []byte(`{"l":"carol"}`)) {
			t.Fatalf("%q opened to %q", value, plain)
		}
		if _, err := keys.open(StateCookie, value); err == nil {
			t.Fatalf("%q opens for another purpose", value)
		}
	})
}
