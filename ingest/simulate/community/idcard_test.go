package community

import (
	"testing"
	"time"

	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

func TestResidentIDHelpers(t *testing.T) {
	asOf := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	birth := time.Date(1987, 2, 28, 0, 0, 0, 0, chinaTime)
	for _, tc := range []struct {
		name   string
		id     string
		kind   string // "" = valid
		gender string
	}{
		{"male", residentID("510104", birth, 17, true), "", "1"},
		{"female", residentID("510104", birth, 17, false), "", "2"},
		{"sequence wraps", residentID("500101", birth, 999, true), "", "1"},
		{"bad check", withBadCheck(residentID("510104", birth, 3, true), 0), validate.KindChecksum, ""},
		{"bad check, other pick", withBadCheck(residentID("510104", birth, 3, true), 7), validate.KindChecksum, ""},
		{"30 February", withBadBirthDate(residentID("510104", birth, 3, true), 0), validate.KindDate, ""},
		{"month 13", withBadBirthDate(residentID("510104", birth, 3, true), 1), validate.KindDate, ""},
		{"day 0", withBadBirthDate(residentID("510104", birth, 3, true), 2), validate.KindDate, ""},
		{"31 June", withBadBirthDate(residentID("510104", birth, 3, true), 3), validate.KindDate, ""},
		{"future", withBadBirthDate(residentID("510104", birth, 3, true), 4), validate.KindFuture, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := validate.ParseResidentID(tc.id, asOf)
			if got := validate.KindOf(err); got != tc.kind {
				t.Fatalf("%s: kind %q (%v), want %q", tc.id, got, err, tc.kind)
			}
			if tc.kind == "" && (id.Gender != tc.gender || id.BirthDate != "1987-02-28") {
				t.Fatalf("%s: gender %s birth %s", tc.id, id.Gender, id.BirthDate)
			}
		})
	}
}
