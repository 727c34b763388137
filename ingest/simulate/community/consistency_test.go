package community

import (
	"fmt"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

// people indexes the generated people of a clean run by ID and by mobile number.
type peopleIndex struct {
	byID     map[string]map[string]string
	byMobile map[string][]map[string]string
}

func indexPeople(t *testing.T, res *Result) peopleIndex {
	t.Helper()
	ix := peopleIndex{byID: map[string]map[string]string{}, byMobile: map[string][]map[string]string{}}
	for _, src := range []string{SourceCommunity, SourcePolice} {
		for _, row := range res.Batch(src, DatasetPerson).Rows {
			id, err := validate.ParseResidentID(row["id_card"], res.AsOf)
			if err != nil {
				t.Fatalf("%s: %v", row["id_card"], err)
			}
			if ix.byID[id.Number] != nil {
				t.Errorf("ID %s given twice", id.Number)
			}
			ix.byID[id.Number] = row
			if row["mobile"] != "" {
				ix.byMobile[row["mobile"]] = append(ix.byMobile[row["mobile"]], row)
			}
		}
	}
	return ix
}

func TestResidentsAreConsistent(t *testing.T) {
	cfg := testConfig()
	cfg.DefectRate, cfg.DirtyRate = 0, 0
	res := generate(t, cfg)
	asOf := res.AsOf
	ix := indexPeople(t, res)
	if len(ix.byID) != res.Stats.People {
		t.Errorf("%d distinct IDs, %d people", len(ix.byID), res.Stats.People)
	}
	houses := map[string]bool{} // region + address
	for _, row := range res.Batch(SourceCommunity, DatasetHouse).Rows {
		if houses[row["region_code"]+row["address"]] {
			t.Errorf("house %s %s twice", row["region_code"], row["address"])
		}
		houses[row["region_code"]+row["address"]] = true
	}
	current := map[string]string{} // ID → region + address of the open relation
	closed := 0
	for _, row := range res.Batch(SourceCommunity, DatasetPersonHouse).Rows {
		at := row["region_code"] + row["address"]
		if !houses[at] {
			t.Errorf("relation of %s to %s, which is no house", row["id_card"], at)
		}
		if ix.byID[row["id_card"]] == nil {
			t.Errorf("relation of %s, who is no person", row["id_card"])
		}
		if row["move_out_date"] != "" {
			closed++
			if row["move_out_date"] <= row["move_in_date"] {
				t.Errorf("relation %v: moved out before moving in", row)
			}
			continue
		}
		if current[row["id_card"]] != "" {
			t.Errorf("%s lives in two houses", row["id_card"])
		}
		current[row["id_card"]] = at
	}
	if closed == 0 {
		t.Error("nobody moved house")
	}
	ages := make([]int, 0, res.Stats.People)
	for id, row := range ix.byID {
		registered := row["residence_status"] == "1" || row["residence_status"] == residenceLabels["1"]
		if registered && id[:6] != row["region_code"][:6] {
			t.Errorf("registered resident %s lives in %s", id, row["region_code"])
		}
		if got := row["region_code"] + row["address"]; current[id] != got {
			t.Errorf("%s lives at %s, their open relation is to %q", id, got, current[id])
		}
		if n := []rune(row["name"]); len(n) < 2 || len(n) > 3 {
			t.Errorf("name %q", row["name"])
		}
		var y int
		fmt.Sscan(id[6:10], &y)
		ages = append(ages, asOf.Year()-y)
	}
	children, old := 0, 0
	for _, a := range ages {
		if a < 18 {
			children++
		}
		if a >= 60 {
			old++
		}
	}
	if c, o := float64(children)/float64(len(ages)), float64(old)/float64(len(ages)); c < 0.08 || c > 0.35 || o < 0.08 || o > 0.35 {
		t.Errorf("under 18: %.2f, 60 and over: %.2f; want both 0.08..0.35", c, o)
	}
}

// TestLinks checks that the datasets refer to each other: opinions, bookings and answers to
// people of their community, bookings to facilities, facilities to property companies.
func TestLinks(t *testing.T) {
	cfg := testConfig()
	cfg.DefectRate, cfg.DirtyRate, cfg.Scale = 0, 0, 5000
	res := generate(t, cfg)
	ix := indexPeople(t, res)
	livesIn := func(mobile, region string) bool {
		for _, p := range ix.byMobile[mobile] {
			if p["region_code"] == region {
				return true
			}
		}
		return false
	}
	orgs := map[string]map[string]string{}
	for _, row := range res.Batch(SourceMarket, DatasetOrg).Rows {
		if _, err := validate.USCC(row["uscc"]); err != nil {
			t.Errorf("org %s: %v", row["uscc"], err)
		}
		if orgs[row["uscc"]] != nil {
			t.Errorf("USCC %s twice", row["uscc"])
		}
		if row["uscc"][2:8] != row["region_code"][:6] {
			t.Errorf("org %s registered outside its district %s", row["uscc"], row["region_code"])
		}
		orgs[row["uscc"]] = row
	}
	facilities := map[string]map[string]string{}
	for _, row := range res.Batch(SourceCommunity, DatasetFacility).Rows {
		facilities[row["facility_id"]] = row
		if m := row["manager_uscc"]; m != "" && (orgs[m] == nil || orgs[m]["org_type"] != "小区物业") {
			t.Errorf("facility %s managed by %s, which is no property company", row["facility_id"], m)
		}
	}
	for _, tc := range []struct {
		source, dataset, mobile string
	}{
		{SourceHotline, DatasetOpinion, "submitter_mobile"},
		{SourceCommunity, DatasetSpaceBooking, "booker_mobile"},
		{SourceCommunity, DatasetSurvey, "respondent_mobile"},
	} {
		rows := res.Batch(tc.source, tc.dataset).Rows
		if len(rows) < 20 {
			t.Errorf("%s: %d rows", tc.dataset, len(rows))
		}
		for _, row := range rows {
			if !livesIn(row[tc.mobile], row["region_code"]) {
				t.Errorf("%s %v: no person with mobile %s lives in %s", tc.dataset, row, row[tc.mobile], row["region_code"])
			}
		}
	}
	for _, row := range res.Batch(SourceCommunity, DatasetSpaceBooking).Rows {
		f := facilities[row["space_id"]]
		if f == nil || f["region_code"] != row["region_code"] || f["name"] != row["space_name"] {
			t.Errorf("booking %s of space %s, which is no facility of %s", row["booking_id"], row["space_id"], row["region_code"])
		}
	}
	surveys := map[string]string{}
	for _, row := range res.Batch(SourceCommunity, DatasetSurvey).Rows {
		if r, ok := surveys[row["survey_id"]]; ok && r != row["region_code"] {
			t.Errorf("survey %s answered in %s and %s", row["survey_id"], r, row["region_code"])
		}
		surveys[row["survey_id"]] = row["region_code"]
	}
}

// TestStaleAndDuplicates checks the defects only the pipeline can see against the data itself.
func TestStaleAndDuplicates(t *testing.T) {
	cfg := testConfig()
	cfg.DefectRate, cfg.DirtyRate, cfg.Scale, cfg.Seed = 0.2, 0, 2000, 11
	// Defects in person rows only: the relations that prove a stale address must be intact.
	res, err := generateMem(cfg, func(g *gen) { g.plantIn = map[string]bool{DatasetPerson: true} })
	if err != nil {
		t.Fatal(err)
	}
	rels := map[string][]map[string]string{}
	for _, row := range res.Batch(SourceCommunity, DatasetPersonHouse).Rows {
		rels[row["id_card"]] = append(rels[row["id_card"]], row)
	}
	variants := map[string]int{}
	for _, d := range res.Defects {
		row := res.Record(d.Key)
		switch d.Kind {
		case KindStaleAddress:
			var movedOut, livesAt bool
			for _, rel := range rels[row["id_card"]] {
				same := rel["region_code"] == row["region_code"] && rel["address"] == row["address"]
				movedOut = movedOut || (same && rel["move_out_date"] != "")
				livesAt = livesAt || (rel["move_out_date"] == "" && rel["region_code"] == d.Current.RegionCode && rel["address"] == d.Current.Address)
			}
			if !movedOut || !livesAt || d.Action != ActionReport {
				t.Errorf("%s: moved out of the stated address %v, lives at the current %v (%v)", d, movedOut, livesAt, d.Current)
			}
			variants[string(d.Kind)]++
		case KindDuplicatePerson:
			orig := res.Record(*d.Of)
			a, err1 := validate.ParseResidentID(row["id_card"], res.AsOf)
			b, err2 := validate.ParseResidentID(orig["id_card"], res.AsOf)
			if err1 != nil || err2 != nil || a.Number != b.Number || row["id_card"] == orig["id_card"] || d.Action != ActionCollapse {
				t.Errorf("%s: %q is not a re-formatted %q (%v, %v)", d, row["id_card"], orig["id_card"], err1, err2)
			}
			if d.Variant == dupLegacy && len(row["id_card"]) != 15 {
				t.Errorf("%s: %q", d, row["id_card"])
			}
			if strings.ReplaceAll(row["name"], " ", "") != orig["name"] {
				t.Errorf("%s: name %q of %q", d, row["name"], orig["name"])
			}
			variants[d.Variant]++
		}
	}
	for _, v := range []string{string(KindStaleAddress), dupLegacy, dupSpaced} {
		if variants[v] == 0 {
			t.Errorf("no %s planted (%v)", v, variants)
		}
	}
}
