package cleaning

// Specs are the datasets the cleaning pipeline handles, by dataset name. Adding one is an entry
// here and a migration for its table; TestSpecsFollowStandard checks an entry against the
// standard and the integration tests check it against its table.
//
// Column order follows the standard's field order, after identity_key; a region field brings its
// four level codes; a protected field becomes <field>_hash and <field>_masked (protectedColumns).
// Every personal field with a resident-ID or mobile format is protected, as is every other
// personal field of a dataset added after dwd_person (dwd_person keeps name and the ID-derived
// fields in clear, as it was built).
var Specs = map[string]Spec{
	"person": {
		Dataset: "person",
		Table:   "dwd_person",
		Protect: map[string]func(string) string{"id_card": MaskIDCard, "mobile": MaskMobile},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
		}, protectedColumns("id_card"), []Column{
			{Name: "name", Kind: KindString},
			{Name: "gender", Kind: KindString},
			{Name: "birth_date", Kind: KindDate},
			{Name: "ethnicity", Kind: KindString},
			{Name: "marital_status", Kind: KindString},
		}, protectedColumns("mobile"), []Column{
			{Name: "residence_status", Kind: KindString},
		}, regionColumns("region_code"), []Column{
			{Name: "address", Kind: KindString},
			{Name: "hukou_address", Kind: KindString},
			{Name: "registered_at", Kind: KindDateTimeOr},
		}, lineageColumns),
	},
	"house": {
		Dataset: "house",
		Table:   "dwd_house",
		Protect: map[string]func(string) string{"owner_id_card": MaskIDCard},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
		}, regionColumns("region_code"), []Column{
			{Name: "address", Kind: KindString},
			{Name: "house_no", Kind: KindString},
			{Name: "compound", Kind: KindString},
			{Name: "building", Kind: KindString},
			{Name: "unit", Kind: KindString},
			{Name: "floor", Kind: KindInt64Or},
			{Name: "room", Kind: KindString},
			{Name: "use", Kind: KindString},
			{Name: "status", Kind: KindString},
			{Name: "area", Kind: KindFloat64Or},
		}, protectedColumns("owner_id_card"), []Column{
			{Name: "built_year", Kind: KindInt64Or},
		}, lineageColumns),
	},
	"person_house": {
		Dataset: "person_house",
		Table:   "dwd_person_house",
		// Move-ins and move-outs that departments report are reviewed by the community.
		Review:  true,
		Protect: map[string]func(string) string{"id_card": MaskIDCard},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
		}, protectedColumns("id_card"), regionColumns("region_code"), []Column{
			{Name: "address", Kind: KindString},
			{Name: "relation", Kind: KindString},
			{Name: "is_householder", Kind: KindBoolOr},
			{Name: "move_in_date", Kind: KindDateOr},
			{Name: "move_out_date", Kind: KindDateOr},
		}, lineageColumns),
	},
	"org": {
		Dataset: "org",
		Table:   "dwd_org",
		Protect: map[string]func(string) string{"legal_person": MaskName, "contact_mobile": MaskMobile},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
			{Name: "uscc", Kind: KindString},
			{Name: "name", Kind: KindString},
			{Name: "org_type", Kind: KindString},
			{Name: "status", Kind: KindString},
		}, regionColumns("region_code"), []Column{
			{Name: "address", Kind: KindString},
		}, protectedColumns("legal_person"), protectedColumns("contact_mobile"), []Column{
			{Name: "established_date", Kind: KindDateOr},
			{Name: "employees", Kind: KindInt64Or},
			{Name: "industry", Kind: KindString},
		}, lineageColumns),
	},
	"facility": {
		Dataset: "facility",
		Table:   "dwd_facility",
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
			{Name: "facility_id", Kind: KindString},
			{Name: "name", Kind: KindString},
			{Name: "category", Kind: KindString},
			{Name: "status", Kind: KindString},
		}, regionColumns("region_code"), []Column{
			{Name: "address", Kind: KindString},
			{Name: "longitude", Kind: KindFloat64Or},
			{Name: "latitude", Kind: KindFloat64Or},
			{Name: "installed_date", Kind: KindDateOr},
			{Name: "manager_uscc", Kind: KindString},
			{Name: "checked_at", Kind: KindDateTimeOr},
		}, lineageColumns),
	},
	"opinion": {
		Dataset: "opinion",
		Table:   "dwd_opinion",
		Protect: map[string]func(string) string{"submitter_mobile": MaskMobile},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
			{Name: "opinion_id", Kind: KindString},
		}, regionColumns("region_code"), []Column{
			{Name: "category", Kind: KindString},
			{Name: "channel", Kind: KindString},
			{Name: "title", Kind: KindString},
			{Name: "content", Kind: KindString},
		}, protectedColumns("submitter_mobile"), []Column{
			{Name: "submitted_at", Kind: KindDateTime},
			{Name: "status", Kind: KindString},
			{Name: "closed_at", Kind: KindDateTimeOr},
			{Name: "satisfaction", Kind: KindInt64Or},
		}, lineageColumns),
	},
	"activity": {
		Dataset: "activity",
		Table:   "dwd_activity",
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
			{Name: "activity_id", Kind: KindString},
			{Name: "title", Kind: KindString},
			{Name: "category", Kind: KindString},
		}, regionColumns("region_code"), []Column{
			{Name: "organizer", Kind: KindString},
			{Name: "status", Kind: KindString},
			{Name: "start_at", Kind: KindDateTime},
			{Name: "end_at", Kind: KindDateTimeOr},
			{Name: "capacity", Kind: KindInt64Or},
			{Name: "signups", Kind: KindInt64Or},
			{Name: "participants", Kind: KindInt64Or},
		}, lineageColumns),
	},
	"space_booking": {
		Dataset: "space_booking",
		Table:   "dwd_space_booking",
		Protect: map[string]func(string) string{"booker_mobile": MaskMobile},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
			{Name: "booking_id", Kind: KindString},
			{Name: "space_id", Kind: KindString},
			{Name: "space_name", Kind: KindString},
			{Name: "space_type", Kind: KindString},
		}, regionColumns("region_code"), protectedColumns("booker_mobile"), []Column{
			{Name: "start_at", Kind: KindDateTime},
			{Name: "end_at", Kind: KindDateTime},
			{Name: "attendees", Kind: KindInt64Or},
			{Name: "status", Kind: KindString},
			{Name: "booked_at", Kind: KindDateTimeOr},
		}, lineageColumns),
	},
	"survey": {
		Dataset: "survey",
		Table:   "dwd_survey",
		Protect: map[string]func(string) string{"respondent_mobile": MaskMobile},
		Columns: columns([]Column{
			{Name: "identity_key", Kind: KindString},
			{Name: "response_id", Kind: KindString},
			{Name: "survey_id", Kind: KindString},
			{Name: "survey_title", Kind: KindString},
			{Name: "category", Kind: KindString},
		}, regionColumns("region_code"), protectedColumns("respondent_mobile"), []Column{
			{Name: "submitted_at", Kind: KindDateTime},
			{Name: "completed", Kind: KindBool},
			{Name: "answered", Kind: KindInt64Or},
			{Name: "satisfaction", Kind: KindInt64Or},
		}, lineageColumns),
	},
}
