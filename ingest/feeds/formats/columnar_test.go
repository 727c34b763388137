package formats

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"
)

type person struct {
	Name   string  `parquet:"name"`
	Age    int64   `parquet:"age"`
	Score  float64 `parquet:"score"`
	Region *string `parquet:"region,optional"`
}

// ParquetFile writes rows people as Parquet, for tests.
func parquetBytes(t testing.TB, rows []person) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[person](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func arrowBytes(t testing.TB, file bool, names []string, ages []int64) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "name", Type: arrow.BinaryTypes.String}, {Name: "age", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	var buf bytes.Buffer
	var w interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	if file {
		fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	} else {
		w = ipc.NewWriter(&buf, ipc.WithSchema(schema))
	}
	for i := range names { // one batch per row: the reader must walk batches
		b.Field(0).(*array.StringBuilder).Append(names[i])
		if ages[i] < 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(ages[i])
		}
		rec := b.NewRecordBatch()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParquet(t *testing.T) {
	jj := "510104"
	data := parquetBytes(t, []person{{"张三", 30, 1.5, &jj}, {"李四", 41, 0, nil}})
	r, err := NewParquet(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, rejects, err := readAll(t, r)
	want := []string{`1:{"age":30,"name":"张三","region":"510104","score":1.5}`, `2:{"age":41,"name":"李四","region":null,"score":0}`}
	if err != nil || rejects != nil || !reflect.DeepEqual(recs, want) {
		t.Fatalf("got %q %q %v\nwant %q", recs, rejects, err, want)
	}
	if _, err := NewParquet(bytes.NewReader([]byte("PAR1 not really")), 15); err == nil {
		t.Fatal("garbage read as Parquet")
	}
}

func TestArrow(t *testing.T) {
	want := []string{`1:{"age":7,"name":"王五"}`, `2:{"age":null,"name":"赵六"}`}
	for _, file := range []bool{true, false} {
		data := arrowBytes(t, file, []string{"王五", "赵六"}, []int64{7, -1})
		r, err := NewArrow(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		recs, rejects, err := readAll(t, r)
		r.Close()
		if err != nil || rejects != nil || !reflect.DeepEqual(recs, want) {
			t.Fatalf("file=%v: got %q %q %v\nwant %q", file, recs, rejects, err, want)
		}
	}
}
