package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/sdk/go/analytics"
)

// A service identifies a resident who logged in, joins their anonymous history, and tracks a
// booking; one event breaks a field rule and comes back as a rejection.
func Example() {
	endpoint, stop := exampleCollector() // a real collector on an embedded broker
	defer stop()

	client, err := analytics.New("citypulse-dev-key", endpoint,
		analytics.WithDefaultContext(analytics.Context{
			App:    analytics.App{Name: "社保服务", Version: "2.3.1"},
			Device: analytics.Device{Type: "server"},
		}),
		analytics.WithRejectionHandler(func(r analytics.Rejection) {
			fmt.Printf("rejected %s: %s\n", r.Field, r.Code)
		}),
	)
	if err != nil {
		log.Fatal(err)
	}

	_ = client.Identify(analytics.Identify{UserID: "u-1024", AnonymousID: "device-7f3a",
		Traits: analytics.Traits{"district": "锦江区"}})
	_ = client.Alias(analytics.Alias{PreviousID: "device-7f3a", UserID: "u-1024"})
	_ = client.Track(analytics.Track{UserID: "u-1024", Event: "appointment_booked",
		Properties: analytics.Properties{"hospital": "华西医院"},
		Context:    &analytics.Context{RegionCode: "510104017001", ServiceID: 12}})
	_ = client.Track(analytics.Track{UserID: "u-1024", Event: "appointment_booked",
		Context: &analytics.Context{RegionCode: "5101"}}) // not a 12-digit code

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Close(ctx); err != nil {
		log.Fatal(err)
	}
	st := client.Stats()
	fmt.Printf("sent %d, accepted %d, rejected %d, dropped %d\n", st.Sent, st.Accepted, st.Rejected, st.DroppedTotal())
	// Output:
	// rejected context.region_code: invalid
	// sent 4, accepted 3, rejected 1, dropped 0
}

// A request handler must not wait for analytics: with the default BlockTimeout of 0, a full
// queue costs the event, never the request.
func ExampleClient_Track() {
	client, err := analytics.New("citypulse-dev-key", "http://127.0.0.1:8080", analytics.WithQueueSize(50_000))
	if err != nil {
		log.Fatal(err)
	}
	defer closeWithin(client, 5*time.Second)

	err = client.Track(analytics.Track{AnonymousID: "device-7f3a", Event: "bus_arrival_viewed",
		Context: &analytics.Context{RegionCode: "510104017001", ServiceID: 3}})
	switch {
	case errors.Is(err, analytics.ErrQueueFull):
		// Counted in Stats().Dropped["queue_full"]; the request goes on.
	case err != nil:
		log.Printf("bad analytics call: %v", err) // ErrInvalid or ErrTooLarge: a bug to fix
	}
}

// Export the counters to the service's own metrics from time to time.
func ExampleClient_Stats() {
	client, err := analytics.New("citypulse-dev-key", "http://127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	defer closeWithin(client, 5*time.Second)

	st := client.Stats()
	slog.Info("analytics", "enqueued", st.Enqueued, "accepted", st.Accepted, "rejected", st.Rejected,
		"retries", st.Retries, "pending", st.Pending, "dropped", st.Dropped)
}

// closeWithin delivers what is queued, giving up after d (the collector may be down).
func closeWithin(client *analytics.Client, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := client.Close(ctx); err != nil {
		log.Printf("analytics: %v", err)
	}
}

// exampleCollector runs the real collector on an embedded broker in a temporary directory.
func exampleCollector() (endpoint string, stop func()) {
	dir, err := os.MkdirTemp("", "analytics-example-")
	if err != nil {
		log.Fatal(err)
	}
	url, _, stopCollector, err := startCollector(collector.DefaultConfig(), dir, quietLog)
	if err != nil {
		log.Fatal(err)
	}
	return url, func() { stopCollector(); _ = os.RemoveAll(dir) }
}
