package train

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// TestModelMetaNormalization: qbench's x·scale + offset and mean/std specs
// become TFLite's (pixel − mean) / std on 0..255 pixels.
func TestModelMetaNormalization(t *testing.T) {
	bgr := dataset.DefaultSpec(8, 8)
	bgr.ChannelOrder = dataset.OrderBGR
	gray := dataset.DefaultSpec(8, 8)
	gray.Channels = 1
	imagenet := dataset.DefaultSpec(8, 8)
	imagenet.Mean, imagenet.Std = []float32{123.675, 116.28, 103.53}, []float32{58.395, 57.12, 57.375}
	for _, c := range []struct {
		name      string
		spec      dataset.Spec
		mean, std []float32
		color     string
	}{
		{"train default (-1..1)", DefaultSpec(tinyArch), []float32{127.5}, []float32{127.5}, "RGB"},
		{"dataset default (0..1)", dataset.DefaultSpec(8, 8), []float32{0}, []float32{255}, "RGB"},
		{"bgr", bgr, []float32{0}, []float32{255}, ""},
		{"gray", gray, []float32{0}, []float32{255}, "GRAYSCALE"},
		{"mean/std", imagenet, imagenet.Mean, imagenet.Std, "RGB"},
	} {
		m, err := ModelMeta(c.spec, []string{"a", "b"})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		in := m.Input(0)
		if !reflect.DeepEqual(in.Mean, c.mean) || !reflect.DeepEqual(in.Std, c.std) || in.ColorSpace != c.color {
			t.Errorf("%s: mean %v std %v colour %q, want %v %v %q", c.name, in.Mean, in.Std, in.ColorSpace, c.mean, c.std, c.color)
		}
		// The metadata's formula must give what qbench feeds the model.
		for _, v := range []float32{0, 17, 255} {
			want := v*c.spec.Scale + c.spec.Offset
			if len(c.spec.Mean) > 0 {
				want = (v - c.spec.Mean[0]) / c.spec.Std[0]
			}
			if got := (v - in.Mean[0]) / in.Std[0]; got-want > 1e-6 || want-got > 1e-6 {
				t.Errorf("%s: pixel %v → %v by the metadata, %v by the spec", c.name, v, got, want)
			}
		}
		if got := m.AxisLabels(0); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Errorf("%s: labels %v", c.name, got)
		}
	}
	if _, err := ModelMeta(DefaultSpec(tinyArch), []string{"a\nb"}); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("class name with a newline: %v", err)
	}
}

// TestTrainedModelMetaRoundTrip: a trained model's file carries standard
// metadata (named after the architecture) and its label file; read → write
// → read keeps it, and LoadFromGraph (resume) keeps it too.
func TestTrainedModelMetaRoundTrip(t *testing.T) {
	trainSet := blobs(t, 30, 1)
	meta, err := ModelMeta(DefaultSpec(tinyArch), trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Arch: tinyArch, Epochs: 1, BatchSize: 10, Seed: 1, Meta: meta, Optim: OptimConfig{Name: OptAdam, LR: 0.01}}
	res, err := Run(context.Background(), cfg, trainSet, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tflite.Write(res.Best.Graph())
	if err != nil {
		t.Fatal(err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Warnings) != 0 || g.Meta == nil {
		t.Fatalf("meta %v, warnings %v", g.Meta, g.Warnings)
	}
	if g.Meta.Name != "tiny" || !strings.HasPrefix(g.Meta.Description, "qbench train: tiny 16x16x3") || g.Meta.Author != "qbench" {
		t.Errorf("name %q description %q author %q", g.Meta.Name, g.Meta.Description, g.Meta.Author)
	}
	if got := g.Meta.AxisLabels(0); !reflect.DeepEqual(got, []string{"tl", "tr", "bl"}) {
		t.Errorf("labels %v", got)
	}
	if len(g.Meta.Files) != 1 || g.Meta.Files[0].Name != LabelFile || string(g.Meta.Files[0].Data) != "tl\ntr\nbl\n" {
		t.Errorf("packed files %+v", g.Meta.Files)
	}
	if in := g.Meta.Input(0); in.ColorSpace != "RGB" || in.Mean[0] != 127.5 || in.Std[0] != 127.5 || *in.ValueRange != [2]int{0, 255} {
		t.Errorf("input %+v", in)
	}
	again, err := tflite.Write(g)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := tflite.Read(again)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g2.Meta, g.Meta) || !reflect.DeepEqual(g2.Metadata, g.Metadata) {
		t.Error("read → write → read changed the metadata")
	}
	m, err := LoadFromGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Graph().Meta, g.Meta) {
		t.Error("LoadFromGraph dropped the metadata")
	}
	// Resuming with new metadata replaces the old raw buffer.
	m.Metadata = map[string][]byte{graph.MetadataModelMeta: g.Metadata[graph.MetadataModelMeta]}
	meta2, _ := ModelMeta(DefaultSpec(tinyArch), []string{"x", "y", "z"})
	cfg.Init, cfg.Meta = m, meta2
	res, err = Run(context.Background(), cfg, trainSet, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err = tflite.Write(res.Best.Graph())
	if err != nil {
		t.Fatal(err)
	}
	if g, err = tflite.Read(data); err != nil || !reflect.DeepEqual(g.Meta.AxisLabels(0), []string{"x", "y", "z"}) {
		t.Errorf("resumed model labels %v (err %v)", g.Meta.AxisLabels(0), err)
	}
}
