package quant

import (
	"context"
	"reflect"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestQuantizeKeepsModelMeta: the quantized graph carries the float
// model's Model Metadata and raw metadata entries (its label files, its
// normalisation), copied rather than shared.
func TestQuantizeKeepsModelMeta(t *testing.T) {
	g := tinyCNN(5)
	g.Meta = &graph.ModelMeta{Name: "tiny", Inputs: []graph.TensorMeta{{Mean: []float32{127.5}, Std: []float32{127.5}}},
		Outputs: []graph.TensorMeta{{Labels: []graph.LabelFile{{FileName: "labels.txt", Type: graph.LabelsAxis, Names: []string{"a", "b"}}}}},
		Files:   []graph.AssociatedFile{{Name: "labels.txt", Data: []byte("a\nb\n")}}}
	g.Metadata = map[string][]byte{"TFLITE_METADATA": {1, 2, 3}}
	q, _, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 20, 6)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q.Meta, g.Meta) || !reflect.DeepEqual(q.Metadata, g.Metadata) {
		t.Fatalf("quantized graph metadata %+v / %v, want %+v / %v", q.Meta, q.Metadata, g.Meta, g.Metadata)
	}
	q.Meta.Files[0].Data[0] = 'x'
	if g.Meta.Files[0].Data[0] != 'a' {
		t.Error("quantized graph shares metadata memory with the float graph")
	}
}
