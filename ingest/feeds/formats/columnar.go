package formats

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/parquet-go/parquet-go"
)

type parquetReader struct {
	r   *parquet.Reader
	row int64
	n   int64
}

// NewParquet reads the rows of a Parquet file of size bytes, one at a time (parquet-go reads a
// page at a time). Nested groups become maps and repeated fields slices; byte arrays become
// strings.
func NewParquet(ra io.ReaderAt, size int64) (r Reader, err error) {
	f, err := parquet.OpenFile(ra, size)
	if err != nil {
		return nil, formatErr("Parquet: %v", err)
	}
	defer func() { // NewReader panics on files it cannot read
		if p := recover(); p != nil {
			r, err = nil, formatErr("Parquet: %v", p)
		}
	}()
	return &parquetReader{r: parquet.NewReader(f), n: f.NumRows()}, nil
}

func (p *parquetReader) Charset() string { return "" }
func (p *parquetReader) Close() error    { return p.r.Close() }

func (p *parquetReader) Next() (rec Record, err error) {
	if p.row >= p.n {
		return Record{}, io.EOF
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Parquet row %d: %v", p.row, r)
		}
	}()
	m := map[string]any{}
	if err := p.r.Read(&m); err != nil {
		if err == io.EOF {
			return Record{}, io.EOF
		}
		return Record{}, fmt.Errorf("Parquet row %d: %w", p.row+1, err)
	}
	p.row++
	for k, v := range m {
		m[k] = plain(v)
	}
	return Record{Row: p.row, Fields: m}, nil
}

// plain turns byte slices into strings, recursively, so values marshal as text.
func plain(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
	}
	return v
}

// arrowBatches is what the file and stream readers have in common: the next record batch.
type arrowBatches interface {
	next() (arrow.RecordBatch, error) // io.EOF at the end; the batch is valid until the next call
	close()
}

type arrowReader struct {
	src   arrowBatches
	batch arrow.RecordBatch
	i     int
	row   int64
}

var arrowMagic = []byte("ARROW1")

// NewArrow reads Arrow IPC of size bytes from ra: the file format (starting with "ARROW1", read
// batch by batch through its footer) or the stream format. Values are what the arrays give for
// JSON (GetOneForMarshal); only one record batch is held at a time.
func NewArrow(ra io.ReaderAt, size int64) (Reader, error) {
	sr := io.NewSectionReader(ra, 0, size)
	head := make([]byte, len(arrowMagic))
	if _, err := ra.ReadAt(head, 0); err == nil && bytes.Equal(head, arrowMagic) {
		fr, err := ipc.NewFileReader(sr)
		if err != nil {
			return nil, formatErr("Arrow file: %v", err)
		}
		return &arrowReader{src: &arrowFile{r: fr}}, nil
	}
	rr, err := ipc.NewReader(sr)
	if err != nil {
		return nil, formatErr("Arrow stream: %v", err)
	}
	return &arrowReader{src: &arrowStream{r: rr}}, nil
}

func (a *arrowReader) Charset() string { return "" }
func (a *arrowReader) Close() error {
	a.src.close()
	return nil
}

func (a *arrowReader) Next() (Record, error) {
	for a.batch == nil || a.i >= int(a.batch.NumRows()) {
		b, err := a.src.next()
		if err != nil {
			return Record{}, err
		}
		a.batch, a.i = b, 0
	}
	schema := a.batch.Schema()
	fields := make(map[string]any, a.batch.NumCols())
	for c, col := range a.batch.Columns() {
		if col.IsNull(a.i) {
			fields[schema.Field(c).Name] = nil
			continue
		}
		fields[schema.Field(c).Name] = col.GetOneForMarshal(a.i)
	}
	a.i++
	a.row++
	return Record{Row: a.row, Fields: fields}, nil
}

type arrowFile struct {
	r *ipc.FileReader
	i int
}

func (f *arrowFile) next() (arrow.RecordBatch, error) {
	if f.i >= f.r.NumRecords() {
		return nil, io.EOF
	}
	b, err := f.r.RecordBatch(f.i) // releases the previous batch
	if err != nil {
		return nil, fmt.Errorf("Arrow file batch %d: %w", f.i, err)
	}
	f.i++
	return b, nil
}

func (f *arrowFile) close() { _ = f.r.Close() }

type arrowStream struct{ r *ipc.Reader }

func (s *arrowStream) next() (arrow.RecordBatch, error) {
	if s.r.Next() { // releases the previous batch
		return s.r.RecordBatch(), nil
	}
	if err := s.r.Err(); err != nil && err != io.EOF {
		return nil, fmt.Errorf("Arrow stream: %w", err)
	}
	return nil, io.EOF
}

func (s *arrowStream) close() { s.r.Release() }
