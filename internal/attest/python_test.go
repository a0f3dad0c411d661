package attest

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/testing/keyvaulttest"
)

// pythonVerifier is the repository path of the standalone verifier.
const pythonVerifier = "docs/examples/verify_attestation.py"

// requirePythonEnv turns a missing python3 with cryptography into a test
// failure instead of a skip; CI sets it.
const requirePythonEnv = "PROMOBOT_REQUIRE_PYTHON_CRYPTOGRAPHY"

// pythons returns the Python interpreters to run the verifier with: python3
// on PATH and, when it is another interpreter, Debian's /usr/bin/python3
// (python3-cryptography 38), each only if it can import cryptography.
func pythons(t *testing.T) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	candidates := []string{"python3", "/usr/bin/python3"}
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
		if seen[path] {
			continue
		}
		seen[path] = true
		if exec.Command(path, "-c", "import cryptography").Run() == nil {
			out = append(out, path)
		}
	}
	if len(out) == 0 && os.Getenv(requirePythonEnv) == "1" {
		t.Fatalf("no python3 that can import cryptography, and %s=1; install python3-cryptography (apt) or `pip install cryptography`", requirePythonEnv)
	}
	if len(out) == 0 {
		t.Skip("skipping: no python3 that can import cryptography; install python3-cryptography (apt) or `pip install cryptography`, or set " + requirePythonEnv + "=1 to make this a failure")
	}
	return out
}

// TestPythonVerifier runs the documented Python verifier on bundles the Go
// code issued, genuine and tampered.
func TestPythonVerifier(t *testing.T) {
	interpreters := pythons(t)
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", pythonVerifier)

	bot, _, botPub := newPEMSigner(t)
	operator, _, operatorPub := newPEMSigner(t)
	stranger, _, _ := newPEMSigner(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	artifactFile := write("model.onnx", []byte("model bytes"))
	otherFile := write("other.onnx", []byte("other bytes"))
	good := write("good.json", issue(t, bot, sampleSubject(), samplePredicate()))
	baseline := write("baseline.json", issue(t, operator, sampleSubject(), sampleBaseline()))
	botBaseline := write("bot-baseline.json", issue(t, bot, sampleSubject(), sampleBaseline()))
	edited := write("edited.json", editStatement(t, issue(t, bot, sampleSubject(), samplePredicate()), func(st map[string]any) {
		predicateOf(st)["environment"] = "dev"
	}))
	untrusted := write("untrusted.json", issue(t, stranger, sampleSubject(), samplePredicate()))
	payloadType := write("payload-type.json", editBundle(t, issue(t, bot, sampleSubject(), samplePredicate()), func(m map[string]any) {
		envelope(m)["payloadType"] = "application/json"
	}))

	vault := keyvaulttest.Start(t)
	kvSigner, err := NewKeyVaultSigner(t.Context(), vault.CreateKey("attest"), vault.Credential(), vault.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	kvDER, err := x509.MarshalPKIXPublicKey(kvSigner.Public())
	if err != nil {
		t.Fatal(err)
	}
	kvPub := write("kv.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: kvDER}))
	kvBundle := write("kv.json", issue(t, kvSigner, sampleSubject(), samplePredicate()))

	keys := []string{"--public-key", botPub, "--baseline-public-key", operatorPub, "--key-vault-key", kvSigner.KeyID() + "=" + kvPub}
	base := []string{"--repository", testRepo}
	tests := []struct {
		name   string
		args   []string
		status int
		output string
	}{
		{"genuine with artifact file", append([]string{"--bundle", good, "--artifact", artifactFile, "--environment", "prod", "--model", "churn", "--version", "3.1.0", "--manifest-blob", testBlob, "--merge-commit", mergeCommit}, base...), 0, "OK: churn 3.1.0 prod in " + testRepo},
		{"genuine with digest", []string{"--bundle", good, "--artifact-sha256", artifactDigest, "--repository", strings.ToUpper(testRepo)}, 0, "OK:"},
		{"signed in Key Vault", append([]string{"--bundle", kvBundle, "--artifact", artifactFile}, base...), 0, "OK:"},
		{"baseline by baseline key", append([]string{"--bundle", baseline, "--artifact", artifactFile}, base...), 0, "OK:"},
		{"other artifact bytes", append([]string{"--bundle", good, "--artifact", otherFile}, base...), 1, "REFUSED: the attestation is for artifact sha256"},
		{"other repository", []string{"--bundle", good, "--artifact", artifactFile, "--repository", "example-org/fork"}, 1, "REFUSED: the attestation is for repository"},
		{"other environment", append([]string{"--bundle", good, "--artifact", artifactFile, "--environment", "staging"}, base...), 1, "REFUSED: the attestation is for environment"},
		{"edited predicate", append([]string{"--bundle", edited, "--artifact", artifactFile}, base...), 1, "REFUSED: the signature does not verify"},
		{"untrusted key", append([]string{"--bundle", untrusted, "--artifact", artifactFile}, base...), 1, "REFUSED: signed by key"},
		{"baseline by bot key", append([]string{"--bundle", botBaseline, "--artifact", artifactFile}, base...), 1, "not a baseline key"},
		{"payload type changed", append([]string{"--bundle", payloadType, "--artifact", artifactFile}, base...), 1, "REFUSED: the payload type"},
		{"older manifest blob", append([]string{"--bundle", good, "--artifact", artifactFile, "--manifest-blob", olderBlob}, base...), 1, "REFUSED: the attestation is for manifest blob"},
	}
	cases := make([][]string, len(tests))
	for i, tc := range tests {
		cases[i] = append(append([]string{}, keys...), tc.args...)
	}
	for _, py := range interpreters {
		results := runPythonVerifier(t, py, script, cases)
		for i, tc := range tests {
			t.Run(filepath.Base(py)+"/"+tc.name, func(t *testing.T) {
				status, out := results[i].Status, results[i].Output
				if status != tc.status || !strings.Contains(out, tc.output) {
					t.Errorf("%s: exit %d, output %q; want exit %d with %q", py, status, out, tc.status, tc.output)
				}
			})
		}
	}
}

// pythonResult is one run of the verifier's main: its exit status and its
// standard output and error, in that order.
type pythonResult struct {
	Status int    `json:"status"`
	Output string `json:"output"`
}

// pythonDriver loads the verifier script as a module and runs its main once
// per argument list read from standard input (JSON), as `python3 script
// ARGS...` would (argparse errors exit 2), writing one pythonResult per
// case. One interpreter start serves every case.
const pythonDriver = `
import contextlib, importlib.util, io, json, sys
spec = importlib.util.spec_from_file_location("verify_attestation", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
results = []
for argv in json.load(sys.stdin):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            status = mod.main(argv)
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    results.append({"status": status or 0, "output": buf.getvalue()})
json.dump(results, sys.stdout)
`

// runPythonVerifier runs the verifier script with interpreter py over every
// argument list of cases in one process and returns their results in order.
func runPythonVerifier(t *testing.T, py, script string, cases [][]string) []pythonResult {
	t.Helper()
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), py, "-c", pythonDriver, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", py, err, stderr.Bytes())
	}
	var results []pythonResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("%s: %v\n%s", py, err, out)
	}
	if len(results) != len(cases) {
		t.Fatalf("%s: %d results for %d cases", py, len(results), len(cases))
	}
	return results
}
