package validate

import "testing"

func TestText(t *testing.T) {
	tests := []struct {
		in, want, wantKind string
	}{
		{in: "plain", want: "plain"},
		{in: "  two   words\t\n", want: "two words"},
		{in: "锦江区\u3000春熙路　１２号", want: "锦江区 春熙路 12号"},
		{in: "ＡＢＣ－１２３，好的（对）", want: "ABC－123，好的（对）"},
		{in: "a\x00b\x07c\x7fd\u0085e", want: "abcd e"},
		{in: "\ufeffBOM\u200b zero\u200dwidth \u202eevil", want: "BOM zerowidth evil"},
		{in: "line1\r\nline2", want: "line1 line2"},
		{in: "", want: ""},
		{in: " \t ", want: ""},
		{in: "bad\xffbyte", wantKind: KindEncoding},
	}
	for _, tt := range tests {
		got, err := Text(tt.in)
		if tt.wantKind != "" {
			if KindOf(err) != tt.wantKind {
				t.Errorf("Text(%q) = %q, %v; want kind %s", tt.in, got, err, tt.wantKind)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Text(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMultiLine(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{in: "a\r\nb", want: "a\nb"},
		{in: "a\rb", want: "a\nb"},
		{in: "a \n  b", want: "a\nb"},
		{in: "a\n\n\n\n b  c", want: "a\n\nb c"},
		{in: "\n\n  a\n\n", want: "a"},
		{in: "a\u2028b", want: "a\nb"},
	}
	for _, tt := range tests {
		if got, err := MultiLine(tt.in); err != nil || got != tt.want {
			t.Errorf("MultiLine(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestEscapeControl(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x00b", `a\u0000b`},
		{"tab\there", `tab\u0009here`},
		{"中文\u200b", `中文\u200b`},
		{"bad\xffbyte", `bad\xffbyte`},
		{`back\slash`, `back\\slash`},
	}
	for _, tt := range tests {
		if got := EscapeControl(tt.in); got != tt.want {
			t.Errorf("EscapeControl(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFoldWidth(t *testing.T) {
	if got := FoldWidth("１２３ＡＢＣ－，中文\u3000ｶ"); got != "123ABC-,中文 カ" {
		t.Fatalf("FoldWidth = %q", got)
	}
}

func TestTextCleanASCIIDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Text("Chengdu Jinjiang 12"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("allocs = %v, want 0", allocs)
	}
}
