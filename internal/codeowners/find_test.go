package codeowners

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLocationsIsGitHubSearchOrder(t *testing.T) {
	want := []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}
	if diff := cmp.Diff(want, Locations); diff != "" {
		t.Errorf("Locations mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, locations[:]); diff != "" {
		t.Errorf("search order mismatch (-want +got):\n%s", diff)
	}
}

func TestFind(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		files     map[string]string
		failOn    string
		wantPath  string
		wantData  string
		wantErr   error
		wantReads []string
	}{
		{
			name:      "github directory wins over the others",
			files:     map[string]string{".github/CODEOWNERS": "a", "CODEOWNERS": "b", "docs/CODEOWNERS": "c"},
			wantPath:  ".github/CODEOWNERS",
			wantData:  "a",
			wantReads: []string{".github/CODEOWNERS"},
		},
		{
			name:      "root wins over docs",
			files:     map[string]string{"CODEOWNERS": "b", "docs/CODEOWNERS": "c"},
			wantPath:  "CODEOWNERS",
			wantData:  "b",
			wantReads: []string{".github/CODEOWNERS", "CODEOWNERS"},
		},
		{
			name:      "docs last",
			files:     map[string]string{"docs/CODEOWNERS": "c"},
			wantPath:  "docs/CODEOWNERS",
			wantData:  "c",
			wantReads: []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"},
		},
		{
			name:      "empty file still counts",
			files:     map[string]string{"CODEOWNERS": "", "docs/CODEOWNERS": "c"},
			wantPath:  "CODEOWNERS",
			wantReads: []string{".github/CODEOWNERS", "CODEOWNERS"},
		},
		{
			name:      "none found",
			wantErr:   ErrNotFound,
			wantReads: []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"},
		},
		{
			name:      "read error stops the search",
			files:     map[string]string{"CODEOWNERS": "b"},
			failOn:    ".github/CODEOWNERS",
			wantErr:   errBoom,
			wantReads: []string{".github/CODEOWNERS"},
		},
		{
			name:      "too large for GitHub",
			files:     map[string]string{"CODEOWNERS": strings.Repeat("#", MaxFileSize), "docs/CODEOWNERS": "c"},
			wantPath:  "CODEOWNERS",
			wantErr:   ErrTooLarge,
			wantReads: []string{".github/CODEOWNERS", "CODEOWNERS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reads []string
			read := func(p string) ([]byte, bool, error) {
				reads = append(reads, p)
				if p == tt.failOn {
					return nil, false, errBoom
				}
				d, ok := tt.files[p]
				return []byte(d), ok, nil
			}
			path, data, err := Find(read)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Find() error = %v, want %v", err, tt.wantErr)
			}
			if path != tt.wantPath || string(data) != tt.wantData {
				t.Errorf("Find() = %q, %q; want %q, %q", path, data, tt.wantPath, tt.wantData)
			}
			if diff := cmp.Diff(tt.wantReads, reads); diff != "" {
				t.Errorf("reads mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
