package tflite

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/testshared"
)

// coralMeta reads the Coral MobileNet's file, which carries TFLite Model
// Metadata (normalisation, ImageNet labels in an appended zip).
func coralFile(t testing.TB) []byte {
	t.Helper()
	dir := testshared.Dir(t, "models", "zoo")
	b, err := os.ReadFile(filepath.Join(dir, "coral_mnv1_025_128_u8.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadModelMetaCoral(t *testing.T) {
	file := coralFile(t)
	m, warnings, err := ReadModelMeta(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if m == nil {
		t.Fatal("no metadata")
	}
	in := m.Input(0)
	if in == nil || !reflect.DeepEqual(in.Mean, []float32{127.5}) || !reflect.DeepEqual(in.Std, []float32{127.5}) {
		t.Fatalf("input 0 metadata %+v, want mean and std 127.5", in)
	}
	labels := m.AxisLabels(0)
	if len(labels) != 1001 {
		t.Fatalf("%d axis labels, want 1001", len(labels))
	}
	if labels[0] != "background" || !strings.HasPrefix(labels[1], "tench") {
		t.Errorf("labels start %q, %q", labels[0], labels[1])
	}
}

// sampleMeta is the metadata qbench writes into a classifier it trains.
func sampleMeta() *graph.ModelMeta {
	return &graph.ModelMeta{
		Name: "seed-cnn", Description: "30 road-sign classes", Version: "3", Author: "qbench", License: "MIT",
		Inputs: []graph.TensorMeta{{
			Name: "image", Description: "RGB image", Mean: []float32{0, 0, 0}, Std: []float32{255, 255, 255},
			ColorSpace: "RGB", Min: []float32{0}, Max: []float32{255}, ValueRange: &[2]int{0, 255},
		}},
		Outputs: []graph.TensorMeta{{
			Name: "probabilities", DimRange: &[2]int{1, 1},
			Labels: []graph.LabelFile{
				{FileName: "labels.txt", Description: "class names", Type: graph.LabelsAxis, Names: []string{"a", "b", "c"}},
				{FileName: "labels_de.txt", Type: graph.LabelsAxis, Locale: "de", Names: []string{"A", "B", "C"}},
			},
		}},
	}
}

// metaGraph is a tiny float classifier carrying sampleMeta.
func metaGraph() *graph.Graph {
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "image", Shape: []int{1, 2, 2, 3}, DType: graph.Float32})
	flat := g.AddTensor(&graph.Tensor{Name: "flat", Shape: []int{1, 12}, DType: graph.Float32})
	w := g.AddTensor(&graph.Tensor{Name: "w", Shape: []int{3, 12}, DType: graph.Float32, Data: graph.EncodeFloat32s(make([]float32, 36))})
	logits := g.AddTensor(&graph.Tensor{Name: "logits", Shape: []int{1, 3}, DType: graph.Float32})
	out := g.AddTensor(&graph.Tensor{Name: "probabilities", Shape: []int{1, 3}, DType: graph.Float32})
	g.AddOp(graph.OpReshape, []int{in}, []int{flat}, &graph.ReshapeOptions{NewShape: []int{1, 12}})
	g.AddOp(graph.OpFullyConnected, []int{flat, w, -1}, []int{logits}, &graph.FullyConnectedOptions{})
	g.AddOp(graph.OpSoftmax, []int{logits}, []int{out}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{in}, []int{out}
	g.Meta = sampleMeta()
	return g
}

// TestMetadataRoundTrip: metadata built in Go is encoded, packed with its
// label files, and reads back field for field; a second write of the read
// graph (raw buffer kept) gives the same bytes.
func TestMetadataRoundTrip(t *testing.T) {
	g := metaGraph()
	data, err := Write(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Warnings) != 0 {
		t.Fatalf("warnings: %v", back.Warnings)
	}
	want := sampleMeta()
	want.Files = []graph.AssociatedFile{{Name: "labels.txt", Data: []byte("a\nb\nc\n")}, {Name: "labels_de.txt", Data: []byte("A\nB\nC\n")}}
	if !reflect.DeepEqual(back.Meta, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", back.Meta, want)
	}
	if got := back.Meta.AxisLabels(0); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("AxisLabels = %v", got)
	}
	again, err := Write(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Errorf("rewriting the read graph changed the file (%d vs %d bytes)", len(again), len(data))
	}
}

// TestCoralMetadataSurvivesRewrite: reading the Coral model and writing it
// again keeps its metadata buffer byte for byte and its label archive.
func TestCoralMetadataSurvivesRewrite(t *testing.T) {
	file := coralFile(t)
	g, err := Read(file)
	if err != nil {
		t.Skipf("the reader does not take this model yet: %v", err)
	}
	if g.Meta == nil || len(g.Warnings) != 0 {
		t.Fatalf("meta %v, warnings %v", g.Meta, g.Warnings)
	}
	out, err := Write(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Warnings) != 0 {
		t.Fatalf("warnings after rewrite: %v", back.Warnings)
	}
	if !bytes.Equal(back.Metadata[MetadataKey], g.Metadata[MetadataKey]) {
		t.Error("metadata buffer changed")
	}
	if !reflect.DeepEqual(back.Meta, g.Meta) {
		t.Error("parsed metadata changed")
	}
}

// corruptions of a written model's metadata: each must leave the model
// readable, drop what is broken, and say so in a warning naming it.
func TestMetadataCorruptionWarns(t *testing.T) {
	data, err := Write(metaGraph())
	if err != nil {
		t.Fatal(err)
	}
	g, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	raw := g.Metadata[MetadataKey]
	at := bytes.Index(data, raw)
	zipAt := bytes.Index(data, []byte("PK\x03\x04"))
	if at < 0 || zipAt < 0 {
		t.Fatal("cannot locate metadata buffer or archive")
	}
	cases := []struct {
		name    string
		mutate  func(b []byte) []byte
		warning string
		meta    bool
	}{
		{"identifier", func(b []byte) []byte { b[at+4] = 'X'; return b }, "TFLITE_METADATA", false},
		{"root offset", func(b []byte) []byte { b[at+2] = 0x7f; return b }, "TFLITE_METADATA", false},
		{"archive checksum", func(b []byte) []byte {
			i := bytes.Index(b[zipAt:], []byte("a\nb\nc\n"))
			b[zipAt+i] = 'z'
			return b
		}, "labels.txt", true},
		{"archive cut", func(b []byte) []byte { return b[:zipAt+10] }, "no zip archive", true},
		{"entry renamed", func(b []byte) []byte {
			for _, i := range allIndex(b[zipAt:], []byte("labels_de.txt")) {
				b[zipAt+i] = 'L'
			}
			return b
		}, `"labels_de.txt", which is not in`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := Read(c.mutate(append([]byte(nil), data...)))
			if err != nil {
				t.Fatalf("model became unreadable: %v", err)
			}
			if (g.Meta != nil) != c.meta {
				t.Errorf("Meta = %v, want present %v", g.Meta, c.meta)
			}
			if !strings.Contains(strings.Join(g.Warnings, "\n"), c.warning) {
				t.Errorf("warnings %q lack %q", g.Warnings, c.warning)
			}
		})
	}
}

func allIndex(b, sub []byte) []int {
	var out []int
	for off := 0; ; {
		i := bytes.Index(b[off:], sub)
		if i < 0 {
			return out
		}
		out = append(out, off+i)
		off += i + 1
	}
}

func TestMetadataMismatchWarns(t *testing.T) {
	g := metaGraph()
	g.Meta.Outputs[0].Labels[0].Names = []string{"a", "b"}
	data, err := Write(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(back.Warnings, "\n"); !strings.Contains(w, "3 values per sample but its label file has 2 names") {
		t.Errorf("warnings %q", w)
	}
	g.Meta.Outputs[0].Labels[0].Names = []string{"a\nb"}
	if _, err := Write(g); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("a name with a line break: err %v", err)
	}
}
