package shard

import (
	"bytes"
	"encoding/binary"
	"image"
	"math"
	"testing"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/report"
)

// smallPartial builds a valid partial in memory: 2 models (two
// preprocessing groups), 3 classes, two splits.
func smallPartial(t testing.TB) []byte {
	h := &Header{
		Format: Format, QBench: "fuzz", Kernels: "go", Shard: Spec{2, 3}, Seed: 1,
		Options: map[string]string{"a": "b"}, Schema: report.Schema, Classes: []string{"x", "y", "z"},
		DataRoot: "/d", TopK: []int{1}, Rounding: "single", DataSHA256: "00",
		Models: []report.ModelInfo{{Name: "f", Preprocess: "p1"}, {Name: "q", Preprocess: "p2"}},
		Splits: []SplitHeader{{Name: "a", Samples: 5, Count: 2}, {Name: "b", Samples: 1, Count: 0}},
	}
	var buf bytes.Buffer
	w, err := newWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 0, 24)
	for i := range 6 {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(i)/6))
	}
	recs := []Record{
		{Index: 1, Sample: dataset.Sample{Path: "/d/y/1.png", Label: 2, Folder: "y", ROI: &image.Rectangle{Max: image.Pt(3, 4)}}, Outputs: out},
		{Index: 4, Sample: dataset.Sample{Path: "/d/x/4.png", Label: 0}, Outputs: out,
			Skips: []SkipRecord{{Group: 1, Path: "x/4.png", Reason: "corrupt"}}},
	}
	if err := w.count(2); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.record(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.count(0); err != nil {
		t.Fatal(err)
	}
	if err := w.finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decode reads a whole partial from memory.
func decode(b []byte) (*Header, []Record, error) {
	h, rd, err := readHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	var rs []Record
	err = rd.records(h, func(_ int, r Record) error {
		r.Skips = append([]SkipRecord(nil), r.Skips...)
		r.Outputs = append([]byte(nil), r.Outputs...)
		rs = append(rs, r)
		return nil
	})
	return h, rs, err
}

func TestPartialRoundTrip(t *testing.T) {
	b := smallPartial(t)
	h, rs, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Shard != (Spec{2, 3}) || len(rs) != 2 || rs[1].Skips[0].Reason != "corrupt" || rs[0].Sample.Path != "/d/y/1.png" || rs[0].Sample.ROI.Max.Y != 4 {
		t.Fatalf("round trip: %+v %+v", h, rs)
	}
	// Every single-byte change and every truncation is caught.
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 1
		if _, _, err := decode(c); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	for n := range len(b) {
		if _, _, err := decode(b[:n]); err == nil {
			t.Fatalf("truncation to %d bytes went unnoticed", n)
		}
	}
	if _, _, err := decode(append(b, 0)); err == nil {
		t.Fatal("a trailing byte went unnoticed")
	}
}

// FuzzRead feeds arbitrary bytes to the partial reader: it must return
// an error or records, never panic, hang or allocate beyond the input's
// size.
func FuzzRead(f *testing.F) {
	b := smallPartial(f)
	f.Add(b)
	f.Add(b[:40])
	f.Add([]byte("QBPART\n\x00\x01\x00\x00\x00\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, rs, err := decode(data)
		if err != nil {
			return
		}
		n := 0
		for _, s := range h.Splits {
			n += s.Count
		}
		if len(rs) != n {
			t.Fatalf("%d records for counts adding to %d", len(rs), n)
		}
	})
}
