package validate

import (
	"errors"
	"testing"
	"time"
)

var asOf = time.Date(2026, 3, 5, 12, 0, 0, 0, ChinaTime)

func TestParseResidentID(t *testing.T) {
	tests := []struct {
		in       string
		want     ResidentID
		wantKind string
	}{
		// The example of GB 11643-1999 itself.
		{in: "11010519491231002X", want: ResidentID{Number: "11010519491231002X", Region: "110105", BirthDate: "1949-12-31", Gender: "2"}},
		{in: "11010519491231002x", want: ResidentID{Number: "11010519491231002X", Region: "110105", BirthDate: "1949-12-31", Gender: "2"}},
		{in: " 110105 19491231 002X ", want: ResidentID{Number: "11010519491231002X", Region: "110105", BirthDate: "1949-12-31", Gender: "2"}},
		{in: "１１０１０５１９４９１２３１００２Ｘ", want: ResidentID{Number: "11010519491231002X", Region: "110105", BirthDate: "1949-12-31", Gender: "2"}},
		{in: "510104199001011230", want: ResidentID{Number: "510104199001011230", Region: "510104", BirthDate: "1990-01-01", Gender: "1"}},
		{in: "51010420000229002X", want: ResidentID{Number: "51010420000229002X", Region: "510104", BirthDate: "2000-02-29", Gender: "2"}},
		// 15-digit legacy numbers are upgraded: "19" inserted, check digit appended.
		{in: "130503670401001", want: ResidentID{Number: "130503196704010016", Region: "130503", BirthDate: "1967-04-01", Gender: "1", Upgraded: true}},
		{in: "110105491231002", want: ResidentID{Number: "11010519491231002X", Region: "110105", BirthDate: "1949-12-31", Gender: "2", Upgraded: true}},
		// Foreigners' permanent residence ID (2023): starts with 9, same check.
		{in: "933000197507010017", want: ResidentID{Number: "933000197507010017", Region: "933000", BirthDate: "1975-07-01", Gender: "1"}},

		{in: "", wantKind: KindEmpty},
		{in: "   ", wantKind: KindEmpty},
		{in: "11010519491231002", wantKind: KindLength},
		{in: "11010519491231002X1", wantKind: KindLength},
		{in: "1101051949123100XX", wantKind: KindCharset},
		{in: "11010519491231002Y", wantKind: KindCharset},
		{in: "13050367040100A", wantKind: KindCharset},
		{in: "110105194912310021", wantKind: KindChecksum},
		{in: "510104199001011234", wantKind: KindChecksum},
		{in: "001105194912310025", wantKind: KindPrefix},
		{in: "51010419900230123X", wantKind: KindDate},   // 30 February
		{in: "510104199013011238", wantKind: KindDate},   // month 13
		{in: "440524188001010014", wantKind: KindDate},   // 1880: before 1890
		{in: "51010420270305001X", wantKind: KindFuture}, // after asOf
		{in: "51010419900101123\xff", wantKind: KindEncoding},
	}
	for _, tt := range tests {
		got, err := ParseResidentID(tt.in, asOf)
		if tt.wantKind != "" {
			if err == nil || KindOf(err) != tt.wantKind {
				t.Errorf("ParseResidentID(%q) = %+v, %v; want kind %s", tt.in, got, err, tt.wantKind)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseResidentID(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseResidentIDSentinels(t *testing.T) {
	_, err := ParseResidentID("110105194912310021", asOf)
	if !errors.Is(err, ErrChecksum) || errors.Is(err, ErrLength) {
		t.Fatalf("errors.Is: %v", err)
	}
	if err.Error() != "resident ID: check character is 1, want X" {
		t.Fatalf("reason: %q", err)
	}
}

// An upgraded legacy number is itself a valid 18-digit number.
func TestUpgradeRoundTrip(t *testing.T) {
	for _, in := range []string{"130503670401001", "510104850615123", "410102991231998"} {
		up, err := ParseResidentID(in, asOf)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		again, err := ParseResidentID(up.Number, asOf)
		if err != nil || again.BirthDate != up.BirthDate || again.Gender != up.Gender {
			t.Fatalf("%s → %s: %+v, %v", in, up.Number, again, err)
		}
	}
}
