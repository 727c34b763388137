package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NewClient returns a franz-go client seeded with cfg.Brokers plus opts (producer, consumer and
// other options are the caller's). It does not connect until first used.
func NewClient(cfg Config, opts ...kgo.Opt) (*kgo.Client, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka client: kafka-brokers is empty")
	}
	all := append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %v: %w", cfg.Brokers, err)
	}
	return cl, nil
}

// EnsureTopics creates the topics that do not exist yet, with the given partition count and the
// broker's default replication factor. Topics that already exist are left as they are.
func EnsureTopics(ctx context.Context, cl *kgo.Client, partitions int, topics ...string) error {
	if len(topics) == 0 {
		return nil
	}
	adm := kadm.NewClient(cl) // not closed: that would close cl, which is the caller's
	resps, err := adm.CreateTopics(ctx, int32(partitions), -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", topics, err)
	}
	var errs []error
	for _, r := range resps.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %s: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}
