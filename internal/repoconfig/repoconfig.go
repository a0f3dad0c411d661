// Package repoconfig loads the typed configuration a GitOps repository
// carries: the promotion policy (.github/promobot.yaml) and the model
// deployment manifests (environments/<env>/<model>.yaml).
//
// It is the one place where that configuration is read from untrusted
// bytes: YAML safety and limits, the schemas built into the binary and the
// repository's own copies in schemas/, then decoding into the typed
// policy.Policy and manifest.Document. Everything that reads a policy or a
// manifest (the git layer, promote, resolve, validate, check and the bot)
// loads it here, so that they never disagree about what a file means.
//
// The package reads only the fs.FS or bytes it is given.
package repoconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/internal/yamldoc"
	"github.com/example-org/promobot/schemas"
)

// Schemas returns the repository's schemas from schemas/, or the built-in
// ones for those it does not carry. A broken schema file is a problem and
// the built-in schema is used in its place so that validation still says
// something. Documents are checked against the built-in schemas in any
// case (LoadPolicy, LoadManifest).
func Schemas(fsys fs.FS) (manifestSchema, policySchema *schema.Schema, problems []diag.Problem) {
	load := func(p string, def *schema.Schema) *schema.Schema {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return def
		}
		s, err := schema.Compile(path.Base(p), data)
		if err != nil {
			problems = append(problems, diag.Problem{File: p, Message: fmt.Sprintf("schema does not compile: %v", err)})
			return def
		}
		return s
	}
	return load(schemas.ModelDeploymentPath, BuiltinManifestSchema), load(schemas.PolicyPath, BuiltinPolicySchema), problems
}

// ReadPolicy reads .github/promobot.yaml from fsys and loads it with
// LoadPolicy against sch, the repository's policy schema from Schemas. A
// missing or oversized file is a problem; the error is reserved for
// failures to read fsys at all.
func ReadPolicy(fsys fs.FS, sch *schema.Schema) (*policy.Policy, []diag.Problem, error) {
	data, err := yamldoc.ReadFile(fsys, policy.Path, yamldoc.DefaultLimits)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, []diag.Problem{{File: policy.Path, Message: "policy file not found: every repository needs " + policy.Path}}, nil
	}
	if err != nil {
		var tooBig *yamldoc.Error
		if errors.As(err, &tooBig) {
			return nil, []diag.Problem{tooBig.Problem(policy.Path)}, nil
		}
		return nil, nil, err
	}
	pol, ps := LoadPolicy(policy.Path, data, sch)
	return pol, ps, nil
}
