package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/signature"
)

// PushFile uploads a file to a gateway's /v1/feeds/{dataset}/files as source, signed with
// secret, and returns the gateway's manifest. The file is hashed, then streamed: never read
// whole. format is csv, jsonl, parquet or arrow; empty means from the file's extension.
func PushFile(ctx context.Context, client *http.Client, gatewayURL, source string, secret []byte, dataset, path, format string) (Manifest, error) {
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv", ".txt":
			format = "csv"
		case ".jsonl", ".ndjson", ".json":
			format = "jsonl"
		case ".parquet":
			format = "parquet"
		case ".arrow", ".feather", ".ipc", ".arrows":
			format = "arrow"
		default:
			return Manifest{}, fmt.Errorf("push %s: cannot tell the format from the extension; give it (csv, jsonl, parquet, arrow)", path)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("push: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return Manifest{}, fmt.Errorf("push: hash %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, fmt.Errorf("push: %w", err)
	}
	u := strings.TrimRight(gatewayURL, "/") + "/v1/feeds/" + url.PathEscape(dataset) + "/files"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, f)
	if err != nil {
		return Manifest{}, fmt.Errorf("push: %w", err)
	}
	req.ContentLength = size
	req.Header.Set(HeaderFormat, format)
	req.Header.Set(HeaderFilename, filepath.Base(path))
	signature.Sign(req, source, secret, hex.EncodeToString(h.Sum(nil)), time.Now())
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Manifest{}, fmt.Errorf("push %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return Manifest{}, fmt.Errorf("push %s: read the answer: %w", path, err)
	}
	var m Manifest
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &m); err != nil {
			return Manifest{}, fmt.Errorf("push %s: answer is not a manifest: %w", path, err)
		}
		return m, nil
	}
	var e struct {
		Error struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		if e.Error.Field != "" {
			return Manifest{}, fmt.Errorf("push %s: gateway answered %d: %s: %s", path, resp.StatusCode, e.Error.Field, e.Error.Message)
		}
		return Manifest{}, fmt.Errorf("push %s: gateway answered %d: %s", path, resp.StatusCode, e.Error.Message)
	}
	_ = json.Unmarshal(b, &m) // a failed batch answers its manifest
	return m, fmt.Errorf("push %s: gateway answered %d (batch %s, status %s)", path, resp.StatusCode, m.BatchID, m.Status)
}
