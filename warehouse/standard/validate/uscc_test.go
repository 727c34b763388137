package validate

import "testing"

func TestUSCC(t *testing.T) {
	tests := []struct {
		in, want, wantKind string
	}{
		// Published codes of real organisations.
		{in: "91350100M000100Y43", want: "91350100M000100Y43"},
		{in: "914403001922038216", want: "914403001922038216"},
		{in: "91330100716105852F", want: "91330100716105852F"},
		{in: "91350100m000100y43", want: "91350100M000100Y43"},
		{in: " 9135 0100 M000 100Y 43 ", want: "91350100M000100Y43"},
		{in: "９１３５０１００Ｍ０００１００Ｙ４３", want: "91350100M000100Y43"},
		{in: "", wantKind: KindEmpty},
		{in: "91350100M000100Y4", wantKind: KindLength},
		{in: "91350100M000100Y433", wantKind: KindLength},
		{in: "91350100M000100Y42", wantKind: KindChecksum},
		{in: "91350100I000100Y43", wantKind: KindCharset}, // I is not in the set
		{in: "91350100M000100YO3", wantKind: KindCharset},
		{in: "9135A100M000100Y43", wantKind: KindCharset}, // address code not digits
		{in: "91350100M000100Y4Z", wantKind: KindCharset},
	}
	for _, tt := range tests {
		got, err := USCC(tt.in)
		if tt.wantKind != "" {
			if KindOf(err) != tt.wantKind {
				t.Errorf("USCC(%q) = %q, %v; want kind %s", tt.in, got, err, tt.wantKind)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("USCC(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
