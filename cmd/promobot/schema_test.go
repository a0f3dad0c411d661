package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/example-org/promobot/internal/audit"
)

// schemaBase is the $id prefix of every schema in schemas/.
const schemaBase = "https://promobot.example.org/schemas/"

// outputSchemas compiles the published output schemas of schemas/, with
// the manifest schema they refer to, once.
var outputSchemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	files, err := filepath.Glob(filepath.Join("..", "..", "schemas", "*.schema.json"))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(schemaBase+filepath.Base(f), strings.NewReader(string(data))); err != nil {
			return nil, err
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, f := range files {
		name := filepath.Base(f)
		if !strings.Contains(name, "-output.") {
			continue
		}
		s, err := c.Compile(schemaBase + name)
		if err != nil {
			return nil, err
		}
		out[name] = s
	}
	return out, nil
})

// assertSchema fails the test unless output is one JSON document valid
// against schemas/name.
func assertSchema(t *testing.T, name, output string) {
	t.Helper()
	schemas, err := outputSchemas()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := schemas[name]
	if !ok {
		t.Fatalf("no schema %s in schemas/", name)
	}
	dec := json.NewDecoder(strings.NewReader(output))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, output)
	}
	if dec.More() {
		t.Fatalf("output holds more than one JSON document:\n%s", output)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("output does not follow %s: %#v\n%s", name, err, output)
	}
}

// TestOutputSchemasDescribeEveryField checks the contract's own rules: no
// field without a description, and no object that accepts unknown fields.
func TestOutputSchemasDescribeEveryField(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "schemas", "*-output.schema.json"))
	if len(files) < 6 {
		t.Fatalf("found %d output schemas, want at least 6", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: not draft 2020-12", f)
		}
		var walk func(path string, node map[string]any)
		walk = func(path string, node map[string]any) {
			if node["type"] == "object" && node["additionalProperties"] != false {
				t.Errorf("%s: %s accepts unknown fields", filepath.Base(f), path)
			}
			if props, ok := node["properties"].(map[string]any); ok {
				for name, p := range props {
					pm, _ := p.(map[string]any)
					_, hasRef := pm["$ref"]
					if _, ok := pm["description"]; !ok && !hasRef {
						t.Errorf("%s: %s.%s has no description", filepath.Base(f), path, name)
					}
					walk(path+"."+name, pm)
				}
			}
			if items, ok := node["items"].(map[string]any); ok {
				walk(path+"[]", items)
			}
			if defs, ok := node["$defs"].(map[string]any); ok {
				for name, d := range defs {
					if dm, ok := d.(map[string]any); ok {
						walk("$defs."+name, dm)
					}
				}
			}
		}
		walk("", doc)
	}
}

// TestAuditRecordSchemaCoversEveryField checks a record with every optional
// field set, the freeze override and the pull request's labels included,
// against schemas/audit-output.schema.json: a field added to the record
// without the schema fails here even when no other test produces it.
func TestAuditRecordSchemaCoversEveryField(t *testing.T) {
	when := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC)
	person := audit.Person{Name: "Pat", Email: "pat@example.com", Time: when}
	rec := audit.Record{
		Time: when, Environment: "prod", Model: "elasticnet-ndx", Path: "environments/prod/elasticnet-ndx.yaml",
		Kind: audit.KindPromote, FromVersion: "1", ToVersion: "2", PromotedFrom: "test",
		ArtifactSHA256: strings.Repeat("a", 64), ChangedFields: []string{"version"}, Problem: "none",
		Commit: strings.Repeat("c", 40), Subject: "promote", Author: person, Committer: person,
		PullRequest: &audit.PullRequest{
			Number: 4, Title: "promote", Author: "dana", URL: "https://github.com/o/r/pull/4",
			MergedAt: when, MergedBy: "remy", Approvers: []string{"rita"}, Check: "success", Labels: []string{"freeze-override"},
		},
		Verified: true, Bypass: true, BypassReason: "reason",
		Freeze: &audit.Freeze{Window: "year-end close", OverrideLabel: "freeze-override", Overridden: true, Approvers: []string{"rita"}},
	}
	out, err := json.Marshal(map[string]any{
		"repository": "o/r", "ref": "refs/heads/main", "tip": rec.Commit, "tipTime": when, "verified": true,
		"records": []audit.Record{rec},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertSchema(t, "audit-output.schema.json", string(out))
}
