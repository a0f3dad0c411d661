package yamldoc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestParseOneDocument holds the in-memory decoding of a single document
// and the stream decoding of a file with document markers to one result.
func TestParseOneDocument(t *testing.T) {
	tests := []struct {
		name, data string
		wantErr    string // "" when the document decodes
	}{
		{name: "one document", data: "a: 1\nb: [x, y]\n"},
		{name: "one document after ---", data: "---\na: 1\n"},
		{name: "one document ended by ...", data: "a: 1\n...\n"},
		{name: "--- inside a value is not a marker", data: "a: x---\nb: '---'\n"},
		{name: "two documents", data: "a: 1\n---\nb: 2\n", wantErr: "2:1: file holds more than one YAML document"},
		{name: "two documents, CR line breaks", data: "a: 1\r---\rb: 2\r", wantErr: "more than one YAML document"},
		{name: "a document after ...", data: "a: 1\n...\nb: 2\n", wantErr: "2:1: invalid YAML"},
		{name: "empty", data: "", wantErr: "1:1: file is empty"},
		{name: "comments only", data: "# nothing\n", wantErr: "1:1: file is empty"},
		{name: "invalid", data: "a: [1\n", wantErr: "invalid YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data), DefaultLimits)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Parse: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Parse: %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestBufferReadFile reads files of growing and shrinking sizes into one
// buffer, and refuses what ReadFile refuses.
func TestBufferReadFile(t *testing.T) {
	big := strings.Repeat("x", 10<<10)
	fsys := fstest.MapFS{
		"small.yaml": {Data: []byte("a: 1\n")},
		"big.yaml":   {Data: []byte(big)},
		"empty.yaml": {Data: nil},
		"dir/x.yaml": {Data: []byte("x")},
	}
	var b Buffer
	for _, name := range []string{"small.yaml", "big.yaml", "empty.yaml", "small.yaml"} {
		got, err := b.ReadFile(fsys, name, DefaultLimits)
		if err != nil || string(got) != string(fsys[name].Data) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", name, len(got), err, len(fsys[name].Data))
		}
	}
	if _, err := b.ReadFile(fsys, "big.yaml", Limits{MaxBytes: 100}); err == nil || !strings.Contains(err.Error(), "larger than the limit of 100 bytes") {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := b.ReadFile(fsys, "dir", DefaultLimits); err == nil {
		t.Error("a folder was read")
	}
	if _, err := b.ReadFile(fsys, "missing.yaml", DefaultLimits); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ReadFile(os.DirFS(dir), "m.yaml", DefaultLimits); err != nil || string(got) != big {
		t.Errorf("from disk: %d bytes, %v", len(got), err)
	}
}
