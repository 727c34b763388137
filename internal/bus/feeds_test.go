package bus

import "testing"

func TestFeedsTopic(t *testing.T) {
	for _, tc := range []struct {
		dataset, want string
	}{
		{"person", "citypulse.feeds.person.v1"},
		{"person_house", "citypulse.feeds.person_house.v1"},
		{"org2", "citypulse.feeds.org2.v1"},
		{"", ""},
		{"Person", ""},
		{"2org", ""},
		{"a.b", ""},
		{"a-b", ""},
		{"人口", ""},
		{"a_very_long_dataset_name_that_goes_on_and_on_and_on_and_on_and_on_x", ""},
	} {
		got, err := FeedsTopic(tc.dataset), ValidateDataset(tc.dataset)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("FeedsTopic(%q) = %q, %v; want %q", tc.dataset, got, err, tc.want)
		}
	}
}
