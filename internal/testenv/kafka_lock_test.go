//go:build unix

package testenv

import (
	"path/filepath"
	"testing"
)

func TestSharedTopicsLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared-topics.lock")
	first, err := tryLockFile(path)
	if err != nil || first == nil {
		t.Fatalf("first lock: %v, %v", first, err)
	}
	if second, err := tryLockFile(path); err != nil || second != nil {
		t.Fatalf("second lock while the first is held: %v, %v; want nil, nil", second, err)
	}
	first.Close()
	third, err := tryLockFile(path)
	if err != nil || third == nil {
		t.Fatalf("lock after release: %v, %v", third, err)
	}
	third.Close()
}
