// Package analytics is the CityPulse tracking SDK for server-side Go services: it sends track,
// page, screen, identify and alias calls to a CityPulse collector (or any Segment-compatible
// endpoint) in the background, in batches, and tells you what became of them. It depends on
// the standard library only. It must not block or slow the service that uses it: when the
// collector cannot keep up, it drops and counts rather than waits (unless told to wait, up to a
// limit). It does not validate events against the tracking plan; the collector does, and the
// client reports what the collector rejected.
//
// # Sending events
//
// Make one Client per process with the app's write key and the collector's base URL, send
// typed messages, and Close it on shutdown so that what is queued is delivered:
//
//	client, err := analytics.New("citypulse-dev-key", "http://127.0.0.1:8080",
//		analytics.WithDefaultContext(analytics.Context{
//			App:    analytics.App{Name: "市民云-社保服务", Version: "2.3.1"},
//			Device: analytics.Device{Type: "server"},
//		}),
//		analytics.WithLogger(slog.Default()),
//	)
//	if err != nil {
//		return err
//	}
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//		defer cancel()
//		_ = client.Close(ctx) // delivers what is queued, retrying until ctx ends
//	}()
//
//	err = client.Track(analytics.Track{
//		UserID:     "u-1024",
//		Event:      "appointment_booked",
//		Properties: analytics.Properties{"hospital": "华西医院", "department": "口腔科"},
//		Context:    &analytics.Context{RegionCode: "510104017001", ServiceID: 12},
//	})
//
// Track, Page, Screen, Identify and Alias only queue the message and return: they never wait
// for the network. Each fills in a random MessageID (the warehouse keeps one row per
// MessageID, so a message delivered twice is stored once) and Timestamp = now when they are
// empty. They return an error, and send nothing, when the message cannot be accepted:
// ErrInvalid (no UserID or AnonymousID, a track without Event, an alias without PreviousID),
// ErrTooLarge (over MaxEventBytes, 32 KiB, as JSON), ErrQueueFull, ErrClosed.
//
// # Delivery
//
// Messages wait in a bounded queue (WithQueueSize, default 10,000 messages, and WithQueueBytes,
// default 16 MiB of JSON, whichever is reached first). One goroutine cuts them
// into batches of at most WithBatchSize (100) messages and WithMaxBatchBytes (512 KiB), or
// whatever has waited WithFlushInterval (1s); WithConcurrency (2) goroutines post them, gzipped,
// to /v1/batch with the write key as HTTP Basic username and sentAt = the time of sending, from
// which the collector corrects this machine's clock skew. When the queue is full, Enqueue drops
// the message at once, or after waiting WithBlockTimeout.
//
// Network errors, 429 and 5xx answers are retried with exponential backoff and jitter
// (WithBackoff), or after what a Retry-After header asks (up to a minute), up to WithMaxAttempts
// (10) attempts in all; then the batch is dropped. Any other 4xx answer (a wrong write key, a body over the
// collector's limit) cannot succeed on retry: the batch is dropped at once. A 200 answer lists
// the events the collector rejected (a bad field, a tracking-plan violation), which went to
// its dead-letter queue; they are counted and passed to WithRejectionHandler.
//
// # Knowing what happened
//
// Stats returns plain counters: messages enqueued, sent, accepted and rejected by the
// collector, retries, pending, and dropped by reason (DropQueueFull, DropTooLarge, DropInvalid,
// DropClosed, DropRetriesExhausted, "http_<status>"). Export them to whatever metrics system the
// service uses; WithDropHandler receives the dropped messages themselves.
package analytics
