package bus

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// embeddedStartTimeout bounds creating the topics of a freshly started embedded broker.
const embeddedStartTimeout = 30 * time.Second

// Embedded is a running single-node Kafka-protocol broker (franz-go's kfake). With a DataDir,
// every produced batch is appended to its segment file before the broker acknowledges it, so a
// killed process loses nothing that was acknowledged; SyncWrites adds an fsync per batch.
type Embedded struct {
	cluster *kfake.Cluster
	addrs   []string
}

// StartEmbedded starts the embedded broker on the address of cfg.Brokers[0] (port 0: any free
// port), reloading cfg.DataDir when it holds earlier state, and makes sure the events and
// dead-letter topics (cfg.Topics().Core(): EventsTopic and DLQTopic after cfg.TopicPrefix) exist
// with cfg.Partitions partitions (topics that already exist keep theirs). It logs
// to log (nil: nowhere).
func StartEmbedded(cfg Config, log *slog.Logger) (*Embedded, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, port, _ := splitHostPort(cfg.Brokers[0])
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		// kfake listens on 127.0.0.1; listen on the configured host instead (it is advertised
		// in metadata as the listener's address).
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			_, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
		kfake.WithLogger(slogLogger{log}),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.SeedTopics(int32(cfg.Partitions), cfg.Topics().Core()...),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
		if cfg.SyncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s (data dir %q): %w", net.JoinHostPort(host, strconv.Itoa(port)), cfg.DataDir, err)
	}
	e := &Embedded{cluster: cluster, addrs: cluster.ListenAddrs()}

	// Seed topics are created only in a fresh data dir; state reloaded from an older one may lack
	// them, so create whatever is missing.
	ctx, cancel := context.WithTimeout(context.Background(), embeddedStartTimeout)
	defer cancel()
	ccfg := cfg
	ccfg.Brokers = e.addrs
	cl, err := NewClient(ccfg)
	if err == nil {
		err = EnsureTopics(ctx, cl, cfg.Partitions, cfg.Topics().Core()...)
		cl.Close()
	}
	if err != nil {
		cluster.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	log.Info("embedded kafka broker started", "addrs", e.addrs, "data_dir", cfg.DataDir, "sync_writes", cfg.SyncWrites)
	return e, nil
}

// Addrs returns the address the broker listens on (with the real port when 0 was asked for).
func (e *Embedded) Addrs() []string { return append([]string(nil), e.addrs...) }

// Cluster exposes the underlying kfake cluster, for tests that inject faults (ControlKey).
func (e *Embedded) Cluster() *kfake.Cluster { return e.cluster }

// Close stops the broker: it stops listening, writes its state to the data dir and closes its
// files. Calling it again does nothing.
func (e *Embedded) Close() { e.cluster.Close() }

// slogLogger adapts kfake's printf logger to slog. kfake logs every request at info level, so
// its info and debug both go to slog's debug.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	var lv slog.Level
	switch level {
	case kfake.LogLevelError:
		lv = slog.LevelError
	case kfake.LogLevelWarn:
		lv = slog.LevelWarn
	default:
		lv = slog.LevelDebug
	}
	ctx := context.Background()
	if !l.log.Enabled(ctx, lv) {
		return
	}
	l.log.Log(ctx, lv, fmt.Sprintf(msg, args...), "component", "kfake")
}
