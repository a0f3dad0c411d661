// Package openapitest checks JSON values against GitHub's published OpenAPI
// description, so test doubles of GitHub cannot drift from the real API.
//
// The description comes from the @octokit/openapi npm package, pinned in
// the repository's package.json and installed by `make npm-deps` into
// node_modules next to go.mod. Load parses it; Match maps a concrete
// request to the operation GitHub documents for it; ResponsePointer and
// WebhookPointer locate the schema of a response or a webhook payload; and
// Compile turns those locations into validators. The description is
// OpenAPI 3.0, whose "nullable" keyword JSON Schema does not know, so
// Compile rewrites it into a type union first.
package openapitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// DescriptionFile is the path of GitHub.com's OpenAPI description inside
// node_modules.
const DescriptionFile = "@octokit/openapi/generated/api.github.com.json"

// ExamplesFile is the path of GitHub.com's webhook payload examples inside
// node_modules.
const ExamplesFile = "@octokit/webhooks-examples/api.github.com/index.json"

// FindNodeModules walks up from dir to the nearest directory holding go.mod
// and returns the path of the node_modules directory beside it, whether or
// not that exists yet. It fails when no go.mod is found.
func FindNodeModules(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("openapitest: resolve %s: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "node_modules"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("openapitest: no go.mod in %s or any parent", abs)
		}
	}
}

// Operation is one operation of the description, such as
// GET /repos/{owner}/{repo}/pulls.
type Operation struct {
	// Method is the upper-case HTTP method.
	Method string
	// Path is the path template as the description spells it.
	Path string
	// ID is the operationId, such as "pulls/list".
	ID string
}

// String returns the method, path template and operation id.
func (o Operation) String() string { return o.Method + " " + o.Path + " (" + o.ID + ")" }

// Description is a parsed OpenAPI description. It is read-only after Load
// and safe for concurrent use.
type Description struct {
	// Version is the OpenAPI version, such as "3.0.3".
	Version string

	doc        map[string]any
	operations map[string]Operation // "GET /path" → operation
	templates  []template
}

// template is one operation's path template, split into segments.
type template struct {
	op       Operation
	segments []string
	multi    map[string]bool // parameters marked x-multi-segment
}

// Load reads and parses the OpenAPI description at path.
func Load(path string) (*Description, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("openapitest: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("openapitest: parse %s: %w", path, err)
	}
	return newDescription(doc)
}

// Parse parses an OpenAPI description held in memory.
func Parse(data []byte) (*Description, error) {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("openapitest: parse description: %w", err)
	}
	return newDescription(doc)
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func newDescription(doc map[string]any) (*Description, error) {
	version, _ := doc["openapi"].(string)
	if !strings.HasPrefix(version, "3.") {
		return nil, fmt.Errorf("openapitest: unsupported OpenAPI version %q", version)
	}
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		return nil, errors.New("openapitest: description has no paths")
	}
	d := &Description{Version: version, doc: doc, operations: map[string]Operation{}}
	for _, p := range sortedKeys(paths) {
		item, _ := paths[p].(map[string]any)
		for _, m := range methods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			id, _ := op["operationId"].(string)
			method := strings.ToUpper(m)
			o := Operation{Method: method, Path: p, ID: id}
			d.operations[method+" "+p] = o
			multi := map[string]bool{}
			for _, params := range []any{item["parameters"], op["parameters"]} {
				list, _ := params.([]any)
				for _, prm := range list {
					d.markMultiSegment(prm, multi)
				}
			}
			d.templates = append(d.templates, template{op: o, segments: strings.Split(strings.Trim(p, "/"), "/"), multi: multi})
		}
	}
	return d, nil
}

// markMultiSegment records a path parameter GitHub marks
// "x-multi-segment", whose value may contain slashes.
func (d *Description) markMultiSegment(param any, multi map[string]bool) {
	m, _ := param.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		node, _ := d.resolve(ref)
		m, _ = node.(map[string]any)
	}
	name, _ := m["name"].(string)
	if in, _ := m["in"].(string); in == "path" && m["x-multi-segment"] == true {
		multi[name] = true
	}
}

// Operation returns the operation documented for method and path template,
// for example "GET" and "/repos/{owner}/{repo}".
func (d *Description) Operation(method, pathTemplate string) (Operation, bool) {
	op, ok := d.operations[strings.ToUpper(method)+" "+pathTemplate]
	return op, ok
}

// Match returns the operation serving a request with method and escaped
// URL path, such as "/repos/acme/models/commits/feature%2Fx/status".
//
// A path parameter matches one segment, or several when GitHub marks it
// "x-multi-segment" (refs and file paths), and a trailing slash leaves an
// empty last parameter, as in ".../contents/" for the root directory. When
// several templates match, the one with the most literal segments wins,
// then the one whose earlier parameters span fewer segments. It fails when
// no template matches or the best ones tie.
func (d *Description) Match(method, escapedPath string) (Operation, error) {
	method = strings.ToUpper(method)
	raw := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return Operation{}, fmt.Errorf("openapitest: bad path %q: %w", escapedPath, err)
		}
		segs[i] = u
	}
	best := d.match(method, segs)
	if len(best) == 0 && len(segs) > 1 && segs[len(segs)-1] == "" {
		best = d.match(method, segs[:len(segs)-1])
	}
	switch len(best) {
	case 0:
		return Operation{}, fmt.Errorf("openapitest: GitHub documents no operation for %s %s", method, escapedPath)
	case 1:
		return best[0], nil
	}
	var names []string
	for _, op := range best {
		names = append(names, op.Path)
	}
	return Operation{}, fmt.Errorf("openapitest: %s %s matches %d templates equally well: %s", method, escapedPath, len(best), strings.Join(names, ", "))
}

// match returns the best matching operations for segs: one, or several
// when they tie.
func (d *Description) match(method string, segs []string) []Operation {
	var (
		best      []Operation
		bestLits  int
		bestSpans []int
	)
	for _, t := range d.templates {
		if t.op.Method != method {
			continue
		}
		op := t.op
		spans, ok := matchSegments(t.segments, t.multi, segs, nil)
		if !ok {
			continue
		}
		lits := countLiterals(t.segments)
		cmp := 0
		switch {
		case len(best) == 0 || lits > bestLits:
			cmp = -1
		case lits < bestLits:
			cmp = 1
		default:
			cmp = slices.Compare(spans, bestSpans)
		}
		switch cmp {
		case -1:
			best, bestLits, bestSpans = []Operation{op}, lits, spans
		case 0:
			best = append(best, op)
		}
	}
	return best
}

func countLiterals(pattern []string) int {
	n := 0
	for _, p := range pattern {
		if !strings.HasPrefix(p, "{") {
			n++
		}
	}
	return n
}

// matchSegments reports whether segs match pattern and returns how many
// segments each parameter spans. Trying the shortest span first makes the
// first matching found the lexicographically smallest.
func matchSegments(pattern []string, multi map[string]bool, segs []string, spans []int) ([]int, bool) {
	if len(pattern) == 0 {
		return spans, len(segs) == 0
	}
	if len(segs) == 0 {
		return nil, false
	}
	p := pattern[0]
	if !strings.HasPrefix(p, "{") {
		if segs[0] != p {
			return nil, false
		}
		return matchSegments(pattern[1:], multi, segs[1:], spans)
	}
	if segs[0] == "" {
		// Only a trailing slash may leave a parameter empty.
		if len(pattern) == 1 && len(segs) == 1 {
			return append(spans, 1), true
		}
		return nil, false
	}
	most := 1
	if multi[strings.Trim(p, "{}")] {
		most = len(segs) - len(pattern) + 1
	}
	for n := 1; n <= most; n++ {
		if slices.Contains(segs[1:n], "") {
			break
		}
		if got, ok := matchSegments(pattern[1:], multi, segs[n:], append(spans[:len(spans):len(spans)], n)); ok {
			return got, true
		}
	}
	return nil, false
}

// ResponsePointer returns the JSON pointer, as a URI fragment such as
// "#/paths/~1repos~1{owner}~1{repo}/get/responses/200/content/application~1json/schema",
// of the schema GitHub documents for op's response with status. It follows
// a $ref from the operation to a shared response. documented is false when
// GitHub lists no such status for op; pointer is empty when the status is
// documented without a JSON body.
func (d *Description) ResponsePointer(op Operation, status int) (pointer string, documented bool, err error) {
	base := "#" + Pointer("paths", op.Path, strings.ToLower(op.Method), "responses", strconv.Itoa(status))
	node, at, err := d.deref(base)
	if err != nil {
		return "", false, err
	}
	if node == nil {
		return "", false, nil
	}
	resp, ok := node.(map[string]any)
	if !ok {
		return "", false, fmt.Errorf("openapitest: %s is not a response object", at)
	}
	content, _ := resp["content"].(map[string]any)
	if content == nil {
		return "", true, nil
	}
	for _, media := range []string{"application/json", "application/scim+json"} {
		if _, ok := content[media]; ok {
			return at + Pointer("content", media, "schema"), true, nil
		}
	}
	return "", true, nil
}

// WebhookPointer returns the JSON pointer, as a URI fragment, of the
// payload schema of webhook name, such as "pull-request-opened" or "push".
// OpenAPI 3.1 descriptions list webhooks under "webhooks", 3.0 ones under
// "x-webhooks".
func (d *Description) WebhookPointer(name string) (string, error) {
	for _, section := range []string{"webhooks", "x-webhooks"} {
		hooks, _ := d.doc[section].(map[string]any)
		if _, ok := hooks[name]; !ok {
			continue
		}
		body, at, err := d.deref("#" + Pointer(section, name, "post", "requestBody"))
		if err != nil {
			return "", err
		}
		if b, ok := body.(map[string]any); ok {
			if content, ok := b["content"].(map[string]any); ok && content["application/json"] != nil {
				return at + Pointer("content", "application/json", "schema"), nil
			}
		}
		return "", fmt.Errorf("openapitest: webhook %s has no application/json payload", name)
	}
	return "", fmt.Errorf("openapitest: GitHub documents no webhook %q", name)
}

// WebhookNames returns the names of every documented webhook, sorted.
func (d *Description) WebhookNames() []string {
	var out []string
	for _, section := range []string{"webhooks", "x-webhooks"} {
		hooks, _ := d.doc[section].(map[string]any)
		out = append(out, sortedKeys(hooks)...)
	}
	return out
}

// deref resolves pointer, following a $ref at the node it names (but not
// inside it). It returns a nil node when a member on the way is missing.
func (d *Description) deref(pointer string) (node any, at string, err error) {
	node, err = d.resolve(pointer)
	for hops := 0; err == nil && node != nil; hops++ {
		m, ok := node.(map[string]any)
		if !ok {
			break
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			break
		}
		if hops > 10 {
			return nil, "", fmt.Errorf("openapitest: $ref loop at %s", pointer)
		}
		pointer = ref
		node, err = d.resolve(ref)
		if err == nil && node == nil {
			return nil, "", fmt.Errorf("openapitest: dangling $ref %s", ref)
		}
	}
	return node, pointer, err
}

// resolve returns the node at a "#/..." pointer, or nil when it is absent.
func (d *Description) resolve(pointer string) (any, error) {
	if !strings.HasPrefix(pointer, "#/") {
		return nil, fmt.Errorf("openapitest: only local pointers are supported, got %q", pointer)
	}
	var node any = d.doc
	for _, tok := range splitPointer(pointer) {
		switch n := node.(type) {
		case map[string]any:
			node = n[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, nil
			}
			node = n[i]
		default:
			return nil, nil
		}
		if node == nil {
			return nil, nil
		}
	}
	return node, nil
}

// pointerEscaper and pointerUnescaper apply and undo the escaping of JSON
// pointer tokens (RFC 6901).
var (
	pointerEscaper   = strings.NewReplacer("~", "~0", "/", "~1")
	pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

// Pointer joins tokens into a JSON pointer, escaping "~" and "/".
func Pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(t))
	}
	return b.String()
}

func splitPointer(pointer string) []string {
	toks := strings.Split(strings.TrimPrefix(pointer, "#/"), "/")
	for i, t := range toks {
		toks[i] = pointerUnescaper.Replace(t)
	}
	return toks
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
