package feeds_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds"
	"github.com/citypulse/citypulse/ingest/feeds/formats"
	"github.com/citypulse/citypulse/ingest/simulate/community"
)

// benchBodies are a simulated city's person files (about 21,000 people) as the community office
// (UTF-8, standard columns) and the police (GBK, Chinese columns) send them, by source. Only the
// files are kept, so the generator's heap does not weigh on the collector during the benchmark.
var benchBodies = sync.OnceValues(func() (map[string][]byte, error) {
	cfg := community.DefaultConfig()
	cfg.Scale = 1000
	cfg.AsOf = "2026-03-05"
	res, err := community.Generate(cfg)
	if err != nil {
		return nil, err
	}
	bodies := map[string][]byte{}
	for _, s := range community.Sources() {
		for _, d := range s.Datasets {
			if d.Dataset != community.DatasetPerson {
				continue
			}
			opt := community.WriteOptions{Rename: d.Rename}
			if s.ID == community.SourcePolice {
				opt.Encoding, opt.GB18030Fallback = community.EncodingGBK, true
			}
			var body bytes.Buffer
			if err := community.WriteCSV(&body, res.Batch(s.ID, d.Dataset), opt); err != nil {
				return nil, err
			}
			bodies[s.ID] = body.Bytes()
		}
	}
	return bodies, nil
})

// BenchmarkPushRows measures the push path's CPU per row (one op is one row): read, map and
// encode person rows of the simulator's files, as the gateway does between the spooled body and
// Kafka / ods_feed_records.
func BenchmarkPushRows(b *testing.B) {
	bodies, err := benchBodies()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, source, charset string }{
		{"community-utf8", community.SourceCommunity, "utf-8"},
		{"police-gbk", community.SourcePolice, "gbk"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var src feeds.Source
			for _, s := range community.Sources() {
				if s.ID == tc.source {
					src = s.Definition("510100000000")
				}
			}
			m := feeds.Manifest{BatchID: "01KMXV3T8Q0000000000000000", Source: src.ID, SourceKind: src.Kind,
				Dataset: community.DatasetPerson, Format: string(formats.CSV), StandardVersion: "1.0",
				StartedAt: time.Date(2026, 3, 5, 1, 2, 3, 0, time.UTC)}
			feeds.BenchReadAhead(b, formats.CSV, tc.charset, bodies[tc.source], m, src.Datasets[community.DatasetPerson])
		})
	}
}
