package bus

import (
	"fmt"
	"regexp"
)

// MaxDatasetLen bounds a feed dataset name, which becomes part of a topic name (Kafka allows 249
// characters in all).
const MaxDatasetLen = 64

var datasetRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ValidateDataset returns nil when name can name a feed dataset: lower-case ASCII letters,
// digits and underscores, starting with a letter, at most MaxDatasetLen characters (e.g.
// "person_house"). Dots and dashes are refused so that one dataset can never spell another's
// topic. The error names the dataset and the rule.
func ValidateDataset(name string) error {
	if len(name) > MaxDatasetLen || !datasetRE.MatchString(name) {
		return fmt.Errorf("feed dataset %q: want lower-case letters, digits and _ starting with a letter, at most %d characters", name, MaxDatasetLen)
	}
	return nil
}

// FeedsTopic is the topic of a departmental or community feed dataset:
// "citypulse.feeds.<dataset>.v1". It returns "" for a name ValidateDataset refuses (producing to
// "" fails), so check untrusted names with ValidateDataset first.
func FeedsTopic(dataset string) string {
	if ValidateDataset(dataset) != nil {
		return ""
	}
	return "citypulse.feeds." + dataset + ".v1"
}
