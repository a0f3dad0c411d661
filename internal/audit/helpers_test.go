package audit

import (
	"os"
)

func writeFile(t interface {
	Helper()
	Fatal(...any)
}, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
