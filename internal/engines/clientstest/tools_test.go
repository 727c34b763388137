package clientstest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// ClientsDirEnv names the directory deploy/clients/install.sh installed into (default
// <repo>/var/clients, the script's default too).
const ClientsDirEnv = "CITYPULSE_CLIENTS_DIR"

// javaSources are the files whose sha256, concatenated, install.sh writes to java/.stamp.
var javaSources = []string{"java/pom.xml", "java/src/main/java/io/github/citypulse/clients/SegmentSend.java"}

// tools are the installed clients and the paths to run them.
type tools struct {
	root    string // the repository
	deploy  string // <root>/deploy/clients
	dir     string // the install directory
	python  string // the venv's python
	javaDir string // classes/ and libs/ of the Java driver
}

func repoRoot(t *testing.T) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			t.Fatal("no go.mod above the test's directory")
		}
		d = up
	}
}

func findTools(t *testing.T) tools {
	t.Helper()
	root := repoRoot(t)
	dir := os.Getenv(ClientsDirEnv)
	if dir == "" {
		dir = filepath.Join(root, "var", "clients")
	}
	return tools{root: root, deploy: filepath.Join(root, "deploy", "clients"), dir: dir,
		python: filepath.Join(dir, "venv", "bin", "python"), javaDir: filepath.Join(dir, "java")}
}

// missing skips the test, or fails it when CI=true, because a client is not installed.
func missing(t *testing.T, what, part string) {
	t.Helper()
	msg := what + ": run deploy/clients/install.sh " + part + " (make test does), or set " + ClientsDirEnv
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true forbids skipping", msg)
	}
	t.Skip(msg)
}

// needPython returns the tools when the Python clients are installed.
func needPython(t *testing.T) tools {
	t.Helper()
	tl := findTools(t)
	if _, err := os.Stat(tl.python); err != nil {
		missing(t, "the Python clients are not installed ("+tl.python+" is missing)", "python")
	}
	return tl
}

// needJava returns the tools when the Java driver is built from the current sources.
func needJava(t *testing.T) tools {
	t.Helper()
	tl := findTools(t)
	if _, err := exec.LookPath("java"); err != nil {
		missing(t, "no java on PATH", "java")
	}
	stamp, err := os.ReadFile(filepath.Join(tl.javaDir, ".stamp"))
	if err != nil {
		missing(t, "the Segment Java driver is not built ("+tl.javaDir+")", "java")
	}
	h := sha256.New()
	for _, f := range javaSources {
		b, err := os.ReadFile(filepath.Join(tl.deploy, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	if strings.TrimSpace(string(stamp)) != hex.EncodeToString(h.Sum(nil)) {
		missing(t, "the Segment Java driver in "+tl.javaDir+" was built from other sources", "java")
	}
	return tl
}

// run runs a driver with in on stdin and returns its last stdout line, failing the test with
// both streams when it exits non-zero.
func run(t *testing.T, in []byte, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", filepath.Base(name), strings.TrimRight(stderr.String(), "\n"))
	}
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s", name, strings.Join(args, " "), err, stdout.String())
	}
	var last []byte
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			last = append(last[:0], sc.Bytes()...)
		}
	}
	if len(last) == 0 {
		t.Fatalf("%s printed nothing", name)
	}
	return last
}

// pin returns the version requirements.txt pins for a Python package.
func (tl tools) pin(t *testing.T, pkg string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tl.deploy, "requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(pkg) + `==(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("requirements.txt pins no %s", pkg)
	}
	return string(m[1])
}

// javaPin returns the Segment Java library version the pom pins.
func (tl tools) javaPin(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tl.deploy, "java", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<segment\.version>([^<]+)</segment\.version>`).FindSubmatch(b)
	if m == nil {
		t.Fatal("java/pom.xml has no segment.version")
	}
	return string(m[1])
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
