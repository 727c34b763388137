package js_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"regexp"
	"testing"
)

// maxGzipBytes is the budget of the IIFE build, gzipped: it loads on every H5 page.
const maxGzipBytes = 8 << 10

// TestBundles checks the shape of the built files: the IIFE defines the citypulse global, needs
// nothing else at run time and fits the size budget; the ES module exports the same API.
func TestBundles(t *testing.T) {
	api := []string{"init", "track", "page", "identify", "alias", "reset", "flush", "setConsent", "anonymousId", "userId", "sessionId", "stats", "Client"}
	for _, tc := range []struct {
		file   string
		starts *regexp.Regexp
		budget bool
	}{
		{"citypulse.min.js", regexp.MustCompile(`^"use strict";var citypulse=\(\(\)=>\{`), true},
		{"citypulse.esm.js", regexp.MustCompile(`(?m)^export \{`), false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src, err := os.ReadFile(distFile(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.starts.Match(src) {
				t.Errorf("%s does not match %s", tc.file, tc.starts)
			}
			if regexp.MustCompile(`\brequire\(|(?m)^import |\bimport\(`).Match(src) {
				t.Errorf("%s loads other modules at run time", tc.file)
			}
			for _, name := range api {
				if !bytes.Contains(src, []byte(name)) {
					t.Errorf("%s lacks %s", tc.file, name)
				}
			}
			var gz bytes.Buffer
			w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
			_, _ = w.Write(src)
			_ = w.Close()
			t.Logf("%s: %d bytes, %d gzipped", tc.file, len(src), gz.Len())
			if tc.budget && gz.Len() > maxGzipBytes {
				t.Errorf("%s is %d bytes gzipped, over the %d budget", tc.file, gz.Len(), maxGzipBytes)
			}
		})
	}
}
