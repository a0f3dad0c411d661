package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyTheCommandImportsTheBot keeps the dependency arrows pointing
// down: the shared adapters and features (the GitHub client, git, audit,
// promote) sit below the bot, so nothing outside internal/bot may import
// internal/bot or a package under it; only this command wires it in.
// The bot's test harnesses (internal/testing/bottest and the features'
// internal/testing/featurekittest), which ship in no binary, are the
// exceptions.
func TestOnlyTheCommandImportsTheBot(t *testing.T) {
	const bot = "github.com/example-org/promobot/internal/bot"
	root := filepath.Join("..", "..", "internal")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "bot" || d.Name() == "bottest" || d.Name() == "featurekittest" || d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == bot || strings.HasPrefix(path, bot+"/") {
				t.Errorf("%s imports %s", fset.Position(imp.Pos()), path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoProductionCodeImportsTestSupport keeps the emulators and fixtures
// under internal/testing out of the shipped binary: no non-test file outside
// internal/testing and the demo (cmd/promobot-demo) may import them.
func TestNoProductionCodeImportsTestSupport(t *testing.T) {
	const support = "github.com/example-org/promobot/internal/testing"
	fset := token.NewFileSet()
	for _, root := range []string{filepath.Join("..", "..", "internal"), ".."} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case "testing", "promobot-demo", "testdata", "node_modules":
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if path == support || strings.HasPrefix(path, support+"/") {
					t.Errorf("%s imports test support %s", fset.Position(imp.Pos()), path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
