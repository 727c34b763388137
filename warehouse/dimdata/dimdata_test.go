package dimdata

import "testing"

func TestRegions(t *testing.T) {
	tests := []struct {
		city                                   string
		districts, streets, communities, total int
	}{
		{"510100000000", 20, 261, 3047, 3329},
		{"5101", 20, 261, 3047, 3329},
		{"411000000000", 0, 0, 0, 2618},
	}
	for _, tt := range tests {
		regs, err := Regions(tt.city)
		if err != nil {
			t.Fatalf("%s: %v", tt.city, err)
		}
		if len(regs) != tt.total {
			t.Errorf("%s: %d regions, want %d", tt.city, len(regs), tt.total)
		}
		count := map[string]int{}
		byCode := map[string]Region{}
		for _, r := range regs {
			count[r.Level]++
			byCode[r.Code] = r
		}
		if count[LevelCity] != 1 {
			t.Errorf("%s: %d cities", tt.city, count[LevelCity])
		}
		if tt.districts > 0 && (count[LevelDistrict] != tt.districts || count[LevelStreet] != tt.streets || count[LevelCommunity] != tt.communities) {
			t.Errorf("%s: levels %v", tt.city, count)
		}
		for _, r := range regs {
			if r.Level == LevelCity {
				continue
			}
			p, ok := byCode[r.ParentCode]
			if !ok {
				t.Errorf("%s: parent %s of %s missing", tt.city, r.ParentCode, r.Code)
				continue
			}
			if pre := Prefix(p.Code, p.Level); r.Code[:len(pre)] != pre {
				t.Errorf("%s does not start with its parent's prefix %s", r.Code, pre)
			}
		}
	}
}

func TestRegionsUnknownCity(t *testing.T) {
	for _, c := range []string{"110100000000", "51", ""} {
		if _, err := Regions(c); err == nil {
			t.Errorf("Regions(%q): want an error", c)
		}
	}
}

func TestServices(t *testing.T) {
	svcs, err := Services()
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 230 {
		t.Fatalf("%d services, want 230", len(svcs))
	}
	other := 0
	for i, s := range svcs {
		if s.ID != uint32(i+1) {
			t.Fatalf("service %d has id %d", i, s.ID)
		}
		if s.Category == OtherCategory {
			other++
			t.Logf("uncategorized: %s", s.Name)
		}
	}
	if other > 10 {
		t.Errorf("%d services have no category; extend categoryRules", other)
	}
}

func TestCategorize(t *testing.T) {
	tests := map[string]string{
		"社保服务-生育待遇":  "社保医保",
		"公积金查询-账户信息": "公积金",
		"实时公交":       "交通出行",
		"挂号就医":       "医疗健康",
		"社区-投诉建议":    "社区服务",
		"天气预报":       "生活服务",
	}
	for name, want := range tests {
		if got := Categorize(name); got != want {
			t.Errorf("Categorize(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestLevelOfAndPrefix(t *testing.T) {
	tests := []struct{ code, level, prefix string }{
		{"510100000000", LevelCity, "5101"},
		{"510104000000", LevelDistrict, "510104"},
		{"510104017000", LevelStreet, "510104017"},
		{"510104017001", LevelCommunity, "510104017001"},
	}
	for _, tt := range tests {
		if got := LevelOf(tt.code); got != tt.level {
			t.Errorf("LevelOf(%s) = %s", tt.code, got)
		}
		if got := Prefix(tt.code, tt.level); got != tt.prefix {
			t.Errorf("Prefix(%s) = %s", tt.code, got)
		}
	}
}
