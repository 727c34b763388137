package validate

import "testing"

func TestMobile(t *testing.T) {
	tests := []struct {
		in, want, wantKind string
	}{
		{in: "13800138000", want: "13800138000"},
		{in: "+86 138 0013 8000", want: "13800138000"},
		{in: "+86-138-0013-8000", want: "13800138000"},
		{in: "0086 13800138000", want: "13800138000"},
		{in: "8613800138000", want: "13800138000"},
		{in: "(+86)19912345678", want: "19912345678"},
		{in: "１３８００１３８０００", want: "13800138000"},
		{in: "138\u30000013\u30008000", want: "13800138000"},
		{in: "138.0013.8000", want: "13800138000"},
		{in: "", wantKind: KindEmpty},
		{in: " - ", wantKind: KindEmpty},
		{in: "1380013800", wantKind: KindLength},
		{in: "138001380001", wantKind: KindLength},
		{in: "12800138000", wantKind: KindPrefix},
		{in: "23800138000", wantKind: KindPrefix},
		{in: "+1 415 555 0100", wantKind: KindPrefix},
		{in: "028-85551234", wantKind: KindPrefix}, // a landline
		{in: "028-8555123", wantKind: KindLength},
		{in: "1380013800O", wantKind: KindCharset},
		{in: "138\xff00138000", wantKind: KindEncoding},
	}
	for _, tt := range tests {
		got, err := Mobile(tt.in)
		if tt.wantKind != "" {
			if KindOf(err) != tt.wantKind {
				t.Errorf("Mobile(%q) = %q, %v; want kind %s", tt.in, got, err, tt.wantKind)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Mobile(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
