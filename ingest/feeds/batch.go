package feeds

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/citypulse/citypulse/ingest/feeds/formats"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/httpserve"
)

// serveBatch handles a push or an upload: authenticate, spool the body while hashing it, verify
// the signature, check the source may send the dataset, then stream the rows out.
func (g *Gateway) serveBatch(w http.ResponseWriter, r *http.Request, kind string) {
	ctx := r.Context()
	dataset := r.PathValue("dataset")
	if err := bus.ValidateDataset(dataset); err != nil {
		g.fail(w, &reqError{http.StatusNotFound, "dataset", err.Error(), "bad_request"})
		return
	}
	p, src, secrets, rerr := g.authenticate(ctx, r)
	if rerr != nil {
		g.fail(w, rerr)
		return
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && enc != "gzip" {
		g.fail(w, &reqError{http.StatusUnsupportedMediaType, "Content-Encoding", fmt.Sprintf("%q: want gzip or none", enc), "bad_request"})
		return
	}
	spool, sum, n, err := g.spool(w, r)
	if spool != nil {
		defer removeTemp(spool)
	}
	g.m.bytes.Add(float64(n))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			g.fail(w, &reqError{http.StatusRequestEntityTooLarge, "body", fmt.Sprintf("larger than %d bytes", g.cfg.MaxBodyBytes), "bad_request"})
			return
		}
		g.fail(w, &reqError{http.StatusBadRequest, "body", "could not be read: " + err.Error(), "bad_request"})
		return
	}
	if rerr := g.verify(ctx, r, p, secrets, sum); rerr != nil {
		g.fail(w, rerr)
		return
	}
	if src.Disabled {
		g.fail(w, &reqError{http.StatusForbidden, "X-CityPulse-Source", fmt.Sprintf("source %q is disabled", src.ID), "forbidden"})
		return
	}
	dc, ok := src.Datasets[dataset]
	if !ok {
		g.fail(w, &reqError{http.StatusForbidden, "dataset", fmt.Sprintf("source %q may not send dataset %q", src.ID, dataset), "forbidden"})
		return
	}
	body, rerr := g.openBody(r, kind, spool, enc == "gzip")
	if rerr != nil {
		g.fail(w, rerr)
		return
	}
	defer body.close()
	m := Manifest{
		BatchID: newBatchID(g.now()), Source: src.ID, SourceKind: src.Kind, Dataset: dataset, Kind: kind, Filename: body.filename,
		Format: string(body.format), StandardVersion: r.Header.Get(HeaderStandardVersion), ContentSHA256: sum,
		Bytes: n, Status: StatusRunning, RemoteAddr: remoteHost(r), StartedAt: g.now().UTC().Truncate(1e9),
	}
	g.ship(ctx, w, m, dc, body)
}

// spool copies the body, at most MaxBodyBytes, to a temporary file while hashing it, and
// rewinds the file.
func (g *Gateway) spool(w http.ResponseWriter, r *http.Request) (*os.File, string, int64, error) {
	f, err := os.CreateTemp(g.cfg.SpoolDir, "citypulse-feed-*")
	if err != nil {
		return nil, "", 0, fmt.Errorf("spool: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(f, io.TeeReader(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes), h))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	return f, hex.EncodeToString(h.Sum(nil)), n, err
}

func removeTemp(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// body is the readable form of a spooled request: a stream for text formats, a random-access
// file for Parquet and Arrow.
type body struct {
	format   formats.Format
	charset  string
	filename string
	text     io.Reader
	file     *os.File // random access; may be the spool itself
	size     int64
	cleanup  []func()
}

func (b *body) close() {
	for _, c := range b.cleanup {
		c()
	}
}

// openBody works out the format and gives the body in the form its reader needs.
func (g *Gateway) openBody(r *http.Request, kind string, spool *os.File, gz bool) (*body, *reqError) {
	b := &body{filename: r.Header.Get(HeaderFilename)}
	var in io.Reader = spool
	if gz {
		zr, err := gzip.NewReader(bufio.NewReader(spool))
		if err != nil {
			return nil, &reqError{http.StatusBadRequest, "Content-Encoding", "body is not gzip: " + err.Error(), "bad_request"}
		}
		in = zr
	}
	ct := r.Header.Get("Content-Type")
	mt, params, _ := mime.ParseMediaType(ct)
	if kind == kindUpload && mt == "multipart/form-data" {
		part, err := firstFile(multipart.NewReader(in, params["boundary"]))
		if err != nil {
			return nil, &reqError{http.StatusBadRequest, "body", err.Error(), "bad_request"}
		}
		in, b.filename, ct = part, part.FileName(), part.Header.Get("Content-Type")
		gz = true // not the spool as is: binary formats copy it out
	}
	var rerr *reqError
	if b.format, b.charset, rerr = g.format(r, kind, ct, b.filename); rerr != nil {
		return nil, rerr
	}
	if b.format.Text() {
		b.text = in
		return b, nil
	}
	if !gz {
		st, err := spool.Stat()
		if err != nil {
			return nil, g.internal("stat spool", err)
		}
		b.file, b.size = spool, st.Size()
		return b, nil
	}
	// Decompressed or multipart binary file: copy it out for random access.
	f, err := os.CreateTemp(g.cfg.SpoolDir, "citypulse-feed-file-*")
	if err != nil {
		return nil, g.internal("spool file", err)
	}
	b.cleanup = append(b.cleanup, func() { removeTemp(f) })
	n, err := io.Copy(f, io.LimitReader(in, 16*g.cfg.MaxBodyBytes))
	if err != nil {
		b.close()
		return nil, &reqError{http.StatusBadRequest, "body", "could not be decoded: " + err.Error(), "bad_request"}
	}
	b.file, b.size = f, n
	return b, nil
}

// firstFile returns the first part of a multipart body that carries a file.
func firstFile(mr *multipart.Reader) (*multipart.Part, error) {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, errors.New("multipart body holds no file part")
		}
		if err != nil {
			return nil, fmt.Errorf("multipart body: %w", err)
		}
		if p.FileName() != "" {
			return p, nil
		}
	}
}

// format decides the body's format: a push takes it from Content-Type (CSV or JSON lines); an
// upload from X-CityPulse-Format, else the file name's extension, else Content-Type.
func (g *Gateway) format(r *http.Request, kind, ct, filename string) (formats.Format, string, *reqError) {
	charset := ""
	if _, params, err := mime.ParseMediaType(ct); err == nil {
		charset = params["charset"]
	}
	var f formats.Format
	if kind == kindUpload {
		if h := r.Header.Get(HeaderFormat); h != "" {
			var err error
			if f, err = formats.ParseFormat(h); err != nil {
				return "", "", &reqError{http.StatusUnsupportedMediaType, HeaderFormat, err.Error(), "bad_request"}
			}
		} else if f = formats.FromFilename(filename); f == "" && ct == "" {
			return "", "", &reqError{http.StatusUnsupportedMediaType, HeaderFormat,
				"cannot tell the file's format: send X-CityPulse-Format, a file name with its extension or a Content-Type", "bad_request"}
		}
	}
	if f == "" {
		var err error
		f, charset, err = formats.FromContentType(ct)
		if err != nil {
			return "", "", &reqError{http.StatusUnsupportedMediaType, "Content-Type", err.Error(), "bad_request"}
		}
	}
	if kind == kindPush && !f.Text() {
		return "", "", &reqError{http.StatusUnsupportedMediaType, "Content-Type",
			fmt.Sprintf("%s is uploaded as a file: POST /v1/feeds/{dataset}/files", f), "bad_request"}
	}
	if _, err := formats.ParseCharset(charset); err != nil {
		return "", "", &reqError{http.StatusUnsupportedMediaType, "Content-Type", err.Error(), "bad_request"}
	}
	return f, charset, nil
}

// answer writes the manifest with the status that fits it.
func (g *Gateway) answer(w http.ResponseWriter, m Manifest, status int, outcome string) {
	g.m.requests.WithLabelValues(outcome).Inc()
	httpserve.WriteJSON(w, status, m)
}
