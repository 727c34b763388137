package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	first, err := stateToken(dir, adminTokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 32 {
		t.Fatalf("token %q: want 32 hex characters", first)
	}
	st, err := os.Stat(filepath.Join(dir, adminTokenFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v, want mode 0600", st, err)
	}
	again, err := stateToken(dir, adminTokenFile)
	if err != nil || again != first {
		t.Fatalf("second call: %q %v, want the same token %q", again, err, first)
	}
	if err := os.WriteFile(filepath.Join(dir, adminTokenFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := stateToken(dir, adminTokenFile); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("short token file: %v", err)
	}
}
