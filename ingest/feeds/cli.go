package feeds

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// RegisterFile registers (or replaces) the source described by a JSON file in Source's shape:
//
//	{"id": "shebao", "name": "市社保局", "kind": "department",
//	 "datasets": {"person": {"mapping": {"姓名": "name", "证件号": "id_number"}, "key_field": "id_number"}}}
//
// Unknown keys are errors, so a typo cannot silently drop a mapping.
func RegisterFile(ctx context.Context, st *Store, path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return Source{}, fmt.Errorf("source file: %w", err)
	}
	defer f.Close()
	s, _, err := DecodeSource(f, "")
	if err != nil {
		return Source{}, fmt.Errorf("source file %s: %w", path, err)
	}
	if err := st.Register(ctx, s); err != nil {
		return Source{}, fmt.Errorf("source file %s: %w", path, err)
	}
	return st.Source(ctx, s.ID)
}

// WriteSource prints a source, its datasets and its active keys (ids only, never secrets).
func WriteSource(w io.Writer, s Source, keys []Key) error {
	var b strings.Builder
	state := "enabled"
	if s.Disabled {
		state = "disabled"
	}
	fmt.Fprintf(&b, "source %s (%s, %s, %s)", s.ID, s.Name, s.Kind, state)
	if s.RegionCode != "" {
		fmt.Fprintf(&b, " region %s", s.RegionCode)
	}
	b.WriteString("\n")
	names := make([]string, 0, len(s.Datasets))
	for n := range s.Datasets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := s.Datasets[n]
		fmt.Fprintf(&b, "  dataset %s: %d mapped columns", n, len(d.Mapping))
		if d.KeyField != "" {
			fmt.Fprintf(&b, ", keyed by %s", d.KeyField)
		}
		b.WriteString("\n")
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "  key %s created %s\n", k.ID, k.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteNewKey prints a freshly created key with its secret: the only time the secret is shown.
func WriteNewKey(w io.Writer, source string, k Key) error {
	_, err := fmt.Fprintf(w, "new key %s for source %s\nsecret (hex; shown once, keep it safe): %s\n", k.ID, source, hex.EncodeToString(k.Secret))
	return err
}
