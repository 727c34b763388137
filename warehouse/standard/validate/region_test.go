package validate

import (
	"testing"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

func TestRegions(t *testing.T) {
	rs, err := LoadRegions()
	if err != nil {
		t.Fatal(err)
	}
	if rs.Len() < 3000 {
		t.Fatalf("Len = %d, want the embedded cities", rs.Len())
	}
	tests := []struct {
		in, level string
		want      Region
		wantKind  string
	}{
		{in: "510100000000", want: Region{Code: "510100000000", Name: "成都市", Level: dimdata.LevelCity, City: "510100000000"}},
		{in: "510104000000", want: Region{Code: "510104000000", Name: "锦江区", Level: dimdata.LevelDistrict, City: "510100000000", District: "510104000000"}},
		{in: "510104000000", level: dimdata.LevelCommunity, wantKind: KindLevel},
		{in: "510104", wantKind: KindLength},
		{in: "51010400000A", wantKind: KindCharset},
		{in: "110101000000", wantKind: KindUnknown},
		{in: "", wantKind: KindEmpty},
	}
	for _, tt := range tests {
		got, err := rs.LookupLevel(tt.in, tt.level)
		if tt.wantKind != "" {
			if KindOf(err) != tt.wantKind {
				t.Errorf("Lookup(%q, %q) = %+v, %v; want kind %s", tt.in, tt.level, got, err, tt.wantKind)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}

	// Every community resolves to all four levels, each a prefix of the community code.
	regions, err := dimdata.Regions("5101")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range regions {
		if r.Level != dimdata.LevelCommunity {
			continue
		}
		n++
		got, err := rs.LookupLevel("　"+r.Code, dimdata.LevelCommunity)
		if err != nil {
			t.Fatal(err)
		}
		if got.Community != r.Code || got.Street != r.ParentCode || got.District == "" || got.City != "510100000000" {
			t.Fatalf("%s: %+v", r.Code, got)
		}
	}
	if n < 3000 {
		t.Fatalf("%d communities", n)
	}
}
