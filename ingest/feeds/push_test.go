package feeds

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestPushFile(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("姓名,证件号\n张三,510104199001011234\n李四,510104198502022345\n"))
	if err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csv, gbk, 0o600); err != nil {
		t.Fatal(err)
	}

	m, err := PushFile(ctx, nil, e.srv.URL, "shebao", e.secret, "person", csv, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.RowsAccepted != 2 || m.Format != "csv" || m.Filename != "people.csv" || m.Source != "shebao" {
		t.Fatalf("manifest %+v", m)
	}
	if n := e.count("SELECT count() FROM ods_feed_records WHERE batch_id = ?", m.BatchID); n != 2 {
		t.Fatalf("%d raw rows for the pushed file, want 2", n)
	}

	// A wrong secret is refused with the reason; an unknown extension needs a format.
	if _, err := PushFile(ctx, nil, e.srv.URL, "shebao", []byte("wrong secret"), "person", csv, ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong secret: %v, want a 401", err)
	}
	odd := filepath.Join(dir, "people.dat")
	if err := os.WriteFile(odd, gbk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := PushFile(ctx, nil, e.srv.URL, "shebao", e.secret, "person", odd, ""); err == nil || !strings.Contains(err.Error(), "format") {
		t.Fatalf("unknown extension: %v", err)
	}
}
