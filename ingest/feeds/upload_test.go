package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"
	"golang.org/x/text/encoding/simplifiedchinese"
)

type parquetPerson struct {
	Name string `parquet:"姓名"`
	ID   string `parquet:"证件号"`
	Age  int32  `parquet:"年龄"`
}

func parquetFile(t *testing.T, rows []parquetPerson) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[parquetPerson](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func arrowFile(t *testing.T, names, ids []string) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "姓名", Type: arrow.BinaryTypes.String}, {Name: "证件号", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(names, nil)
	b.Field(1).(*array.StringBuilder).AppendValues(ids, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func multipartFile(t *testing.T, filename, contentType string, data []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("comment", "第三季度")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+filename+`"`)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// TestUploadFiles imports a GBK CSV, a Parquet file and an Arrow file, in the ways a source may
// send them, and finds every row on the topic and in ods_feed_records.
func TestUploadFiles(t *testing.T) {
	e := newEnv(t, nil)
	gbkCSV, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("姓名,证件号\n赵一,510104199001011111\n钱二,510104199001012222\n"))
	if err != nil {
		t.Fatal(err)
	}
	pq := parquetFile(t, []parquetPerson{{"孙三", "510104199001013333", 30}, {"李四", "510104199001014444", 41}})
	mp, mpType := multipartFile(t, "人口.parquet", "", pq)
	arr := arrowFile(t, []string{"周五", "吴六"}, []string{"510104199001015555", "510104199001016666"})

	for _, tc := range []struct {
		name    string
		body    []byte
		header  http.Header
		format  string
		charset string
		names   []string
	}{
		{"gbk csv, raw, format from filename", gbkCSV, http.Header{HeaderFilename: {"社区人口.csv"}}, "csv", "gb18030", []string{"赵一", "钱二"}},
		{"parquet, multipart", mp, http.Header{"Content-Type": {mpType}}, "parquet", "", []string{"孙三", "李四"}},
		{"arrow, gzip, format header", gzipped(t, arr), http.Header{HeaderFormat: {"arrow"}, "Content-Encoding": {"gzip"}}, "arrow", "", []string{"周五", "吴六"}},
		{"arrow, raw, content type", arr, http.Header{"Content-Type": {"application/vnd.apache.arrow.file"}}, "arrow", "", []string{"周五", "吴六"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m, eb := e.do(e.request("POST", "/v1/feeds/person/files", tc.body, tc.header))
			if status != http.StatusOK || m.RowsAccepted != 2 || m.RowsRejected != 0 || m.Format != tc.format || m.Charset != tc.charset || m.Kind != "upload" {
				t.Fatalf("%d %+v %+v", status, m, eb)
			}
			var names []string
			rows, err := e.conn.Query(context.Background(), "SELECT raw FROM ods_feed_records WHERE batch_id = ? ORDER BY row_no", m.BatchID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var raw string
				if err := rows.Scan(&raw); err != nil {
					t.Fatal(err)
				}
				names = append(names, raw)
			}
			if err := rows.Err(); err != nil || len(names) != 2 || !bytes.Contains([]byte(names[0]), []byte(tc.names[0])) {
				t.Fatalf("ods raw %q %v", names, err)
			}
		})
	}
	recs := e.consume("person", 8)
	got := map[string]string{}
	for _, r := range recs {
		got[r.Fields["name"].(string)] = r.Fields["id_number"].(string)
	}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(got) != 6 || got["赵一"] != "510104199001011111" || got["孙三"] != "510104199001013333" || got["吴六"] != "510104199001016666" {
		t.Fatalf("records by name %v", got)
	}
	for _, r := range recs {
		if r.Fields["name"] == "孙三" && r.Unmapped["年龄"] != 30.0 {
			t.Fatalf("parquet unmapped %+v", r)
		}
	}

	// A file the gateway cannot read at all is refused whole, and the attempt is logged.
	status, m, _ := e.do(e.request("POST", "/v1/feeds/person/files", []byte("PAR1 not parquet"), http.Header{HeaderFormat: {"parquet"}}))
	if status != http.StatusUnprocessableEntity || m.Status != StatusFailed || m.Error == "" {
		t.Fatalf("garbage parquet: %d %+v", status, m)
	}
	if n := e.count("SELECT count() FROM ods_feed_batches WHERE status = 'failed'"); n != 1 {
		t.Fatalf("%d failed batches recorded", n)
	}
	if status, _, eb := e.do(e.request("POST", "/v1/feeds/person/files", []byte("x"), nil)); status != http.StatusUnsupportedMediaType || eb.Error.Field != HeaderFormat {
		t.Fatalf("no format: %d %+v", status, eb)
	}
}
