package testenv

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/citypulse/citypulse/internal/bus"
)

// PrefixedBus returns the broker's settings with a topic prefix of the test's own
// (bus.Config.TopicPrefix = ID() + "."), so that every topic a component given this config
// derives (bus.Config.Topics: events, dead letters, feeds) is the test's alone: tests share a
// real broker without locks and without reading each other's records. The core topics
// (Topics().Core()) are created with the broker's partition count before it returns, as
// StartEmbedded does for its own. On a real broker, when the test ends and unless it failed,
// every topic under the prefix and every consumer group whose name contains ID() are deleted.
// On an embedded broker (the test's own) the prefix is used too, so both paths run the same
// names.
func (k *KafkaBroker) PrefixedBus() bus.Config {
	k.t.Helper()
	cfg := k.Bus
	cfg.TopicPrefix = k.id + "."
	cl := k.Client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bus.EnsureTopics(ctx, cl, cfg.Partitions, cfg.Topics().Core()...); err != nil {
		k.t.Fatalf("kafka %v: %v", cfg.Brokers, err)
	}
	if k.External() {
		k.t.Cleanup(func() {
			if k.t.Failed() {
				k.t.Logf("test failed: keeping topics %s* and groups *%s* on %v", cfg.TopicPrefix, k.id, cfg.Brokers)
				return
			}
			k.deletePrefixed(cfg.TopicPrefix)
		})
	}
	return cfg
}

// deletePrefixed deletes the topics whose names start with prefix and the test's consumer
// groups (deleteGroups).
func (k *KafkaBroker) deletePrefixed(prefix string) {
	k.deleteGroups()
	cl, err := bus.NewClient(k.Bus)
	if err != nil {
		k.t.Errorf("clean up kafka: %v", err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		k.t.Errorf("clean up kafka: list topics: %v", err)
		return
	}
	var names []string
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		k.deleteTopics(names)
	}
}

// deleteGroups deletes the consumer groups whose names contain the test's ID.
func (k *KafkaBroker) deleteGroups() {
	cl, err := bus.NewClient(k.Bus)
	if err != nil {
		k.t.Errorf("clean up kafka: %v", err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		k.t.Errorf("clean up kafka: list groups: %v", err)
		return
	}
	var mine []string
	for _, g := range groups.Groups() {
		if strings.Contains(g, k.id) {
			mine = append(mine, g)
		}
	}
	if len(mine) == 0 {
		return
	}
	resps, err := adm.DeleteGroups(ctx, mine...)
	if err == nil {
		err = resps.Error()
	}
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		k.t.Errorf("clean up kafka: delete groups %v: %v", mine, err)
	}
}
