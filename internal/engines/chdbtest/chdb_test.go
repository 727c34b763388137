package chdbtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// PythonEnv names the variable that gives the chDB venv's interpreter; by default the tests use
// var/chdb/venv/bin/python of the repository (deploy/chdb/chdb.sh install makes it).
const PythonEnv = "CITYPULSE_TEST_CHDB_PYTHON"

// repoRoot is the repository's top directory (this package is internal/engines/chdbtest).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// chdbPython returns the venv interpreter that imports chdb, or skips (fails when CI=true).
func chdbPython(t testing.TB) string {
	t.Helper()
	py := os.Getenv(PythonEnv)
	if py == "" {
		py = filepath.Join(repoRoot(t), "var", "chdb", "venv", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		msg := "no chDB: " + py + " is missing; run deploy/chdb/chdb.sh install (make test-deps does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + ", and CI=true forbids skipping")
		}
		t.Skip(msg)
	}
	return py
}

// runScript runs a deploy/chdb script with the chDB interpreter and returns its stdout, stderr
// and exit code.
func runScript(t testing.TB, script string, args ...string) (stdout, stderr []byte, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chdbPython(t), append([]string{filepath.Join(repoRoot(t), "deploy", "chdb", script)}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.Bytes(), errb.Bytes(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run %s: %v\n%s", script, err, errb.Bytes())
	}
	return out.Bytes(), errb.Bytes(), 0
}

// goldenRequest and goldenResponse are deploy/chdb/golden.py's input and output.
type goldenRequest struct {
	Database   string        `json:"database"`
	Migrations string        `json:"migrations"`
	Setup      []string      `json:"setup"`
	Queries    []goldenQuery `json:"queries"`
}

type goldenQuery struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

type goldenResponse struct {
	Version           string `json:"version"`
	MigrationFailures []struct {
		Migration string `json:"migration"`
		Statement int    `json:"statement"`
		Error     string `json:"error"`
	} `json:"migration_failures"`
	SetupFailures []struct {
		SQL   string `json:"sql"`
		Error string `json:"error"`
	} `json:"setup_failures"`
	Results []goldenResult `json:"results"`
}

type goldenResult struct {
	Name    string   `json:"name"`
	Columns []column `json:"columns"`
	Rows    [][]any  `json:"rows"`
	Error   string   `json:"error"`
}

type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// runGolden runs the request on chDB.
func runGolden(t testing.TB, req goldenRequest) goldenResponse {
	t.Helper()
	f := filepath.Join(t.TempDir(), "golden.json")
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runScript(t, "golden.py", f)
	if code != 0 {
		t.Fatalf("golden.py exit %d:\n%s", code, stderr)
	}
	var resp goldenResponse
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("golden.py output: %v\n%.2000s", err, out)
	}
	return resp
}
