package dataset

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/tflite"
)

// imageInput returns a graph with one input of the given shape and type.
func imageInput(shape []int, dt graph.DType, q *graph.Quantization) *graph.Graph {
	g := &graph.Graph{}
	g.Inputs = []int{g.AddTensor(&graph.Tensor{Name: "image", Shape: shape, DType: dt, Quant: q})}
	return g
}

func TestResolveSpecPrecedence(t *testing.T) {
	meta := &graph.ModelMeta{Inputs: []graph.TensorMeta{{Mean: []float32{127.5}, Std: []float32{127.5}}}}
	// Metadata normalisation when the model has no qbench spec.
	g := imageInput([]int{1, 16, 16, 3}, graph.Float32, nil)
	g.Meta = meta
	s, notes, err := ResolveSpec(g, SpecFlags{})
	if err != nil || len(s.Mean) != 3 || s.Mean[2] != 127.5 || s.Std[0] != 127.5 || len(notes) != 1 || !strings.Contains(notes[0], "metadata") {
		t.Fatalf("metadata: spec %+v notes %v err %v", s, notes, err)
	}
	// qbench's stored spec wins over the metadata, flags over both.
	stored := DefaultSpec(16, 16)
	stored.Resize = ResizeArea
	if err := stored.Store(g); err != nil {
		t.Fatal(err)
	}
	if s, notes, err = ResolveSpec(g, SpecFlags{}); err != nil || s.Mean != nil || s.Scale != 1.0/255 || s.Resize != ResizeArea || len(notes) != 0 {
		t.Fatalf("stored spec: %+v notes %v err %v", s, notes, err)
	}
	s, _, err = ResolveSpec(g, SpecFlags{Range: RangeSigned, Channels: "bgr", Resize: "nearest", Crop: "center:0.875"})
	if err != nil || s.Scale != 2.0/255 || s.Offset != -1 || s.ChannelOrder != OrderBGR || s.Resize != ResizeNearest || s.Crop != "center:0.875" {
		t.Fatalf("flags: %+v err %v", s, err)
	}
	if s, _, err = ResolveSpec(g, SpecFlags{Mean: []float32{1, 2, 3}, Std: []float32{4}}); err != nil || s.Mean[1] != 2 || s.Std[2] != 4 {
		t.Fatalf("--mean/--std: %+v err %v", s, err)
	}
	for _, bad := range []SpecFlags{{Range: "0..2"}, {Range: Range01, Mean: []float32{1}}, {Mean: []float32{1, 2}},
		{Channels: "gray"}, {Channels: "cmyk"}, {Crop: "center:1.5"}, {Resize: "cubic"}} {
		if _, _, err := ResolveSpec(g, bad); err == nil {
			t.Errorf("flags %+v: want an error", bad)
		}
	}
}

func TestResolveSpecFromQuantizationAndShape(t *testing.T) {
	cases := []struct {
		dt    graph.DType
		scale float32
		zp    int64
		scl   float32
		off   float32
		note  string
	}{
		{graph.Int8, 1, -128, 1, 0, "0..255"},             // MLPerf Tiny ResNet-8: raw pixels
		{graph.UInt8, 1.0 / 255, 0, 1.0 / 255, 0, "0..1"}, // 0..1 in uint8
		{graph.Int8, 1.0 / 128, 0, 2.0 / 255, -1, "-1..1"},
		{graph.UInt8, 0.02, 3, 1.0 / 255, 0, "assuming"}, // nothing exact: the stated assumption
	}
	for _, c := range cases {
		g := imageInput([]int{1, 8, 8, 3}, c.dt, &graph.Quantization{Scale: []float32{c.scale}, ZeroPoint: []int64{c.zp}})
		s, notes, err := ResolveSpec(g, SpecFlags{})
		if err != nil || s.Scale != c.scl || s.Offset != c.off || len(notes) != 1 || !strings.Contains(notes[0], c.note) {
			t.Errorf("%s scale %g zp %d: spec %+v notes %v err %v", c.dt, c.scale, c.zp, s, notes, err)
		}
	}
	// Channels first.
	s, _, err := ResolveSpec(imageInput([]int{1, 3, 10, 12}, graph.Float32, nil), SpecFlags{})
	if err != nil || s.Layout != LayoutNCHW || s.Height != 10 || s.Width != 12 || s.Channels != 3 {
		t.Fatalf("NCHW: %+v err %v", s, err)
	}
	if _, _, err := ResolveSpec(imageInput([]int{1, 10}, graph.Float32, nil), SpecFlags{}); err == nil {
		t.Fatal("a 2-D input: want an error")
	}
}

// Nearest resize, the central crop and the NCHW layout on a small image
// whose pixel (x, y) has red 10x+y.
func TestApplyNearestCenterCropNCHW(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			img.SetRGBA(x, y, color.RGBA{uint8(10*x + y), 0, 200, 255})
		}
	}
	s := Spec{Height: 2, Width: 2, Channels: 3, Resize: ResizeNearest, Crop: "center:0.5", Scale: 1}
	dst := make([]float32, 12)
	if err := s.Apply(img, nil, dst); err != nil {
		t.Fatal(err)
	}
	// The central 4x4 (x, y in 2..5) sampled at its pixels 1 and 3
	// (floor((out+0.5)*2)), i.e. image coordinates 3 and 5.
	want := []float32{33, 0, 200, 53, 0, 200, 35, 0, 200, 55, 0, 200}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("NHWC %v, want %v", dst, want)
		}
	}
	s.Layout = LayoutNCHW
	chw := make([]float32, 12)
	if err := s.Apply(img, nil, chw); err != nil {
		t.Fatal(err)
	}
	for c := range 3 {
		for i := range 4 {
			if chw[c*4+i] != dst[i*3+c] {
				t.Fatalf("NCHW %v is not NHWC %v transposed", chw, dst)
			}
		}
	}
	if err := s.CheckShape([]int{1, 3, 2, 2}); err != nil {
		t.Fatal(err)
	}
}

// MLPerf Tiny's int8 ResNet-8 gets raw pixels (its input scale 1 and zero
// point -128 cover 0..255 exactly), not x/255.
func TestResolveSpecResNet8(t *testing.T) {
	p := testshared.Dir(t, "models", "zoo")
	g, err := tflite.ReadFile(p + "/mlt_resnet8_i8.tflite")
	if err != nil {
		t.Fatal(err)
	}
	s, notes, err := ResolveSpec(g, SpecFlags{})
	if err != nil || s.Scale != 1 || s.Offset != 0 || s.Height != 32 || len(notes) != 1 || !strings.Contains(notes[0], "0..255") {
		t.Fatalf("spec %+v notes %v err %v", s, notes, err)
	}
}

// An [N, H, W] input (MNIST-style, e.g. an LSTM reading rows as time steps)
// is a batch of one-channel images without a channel dimension.
func TestResolveSpecNHW(t *testing.T) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 28, 20}})
	g.Inputs = []int{x}
	s, _, err := ResolveSpec(g, SpecFlags{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Height != 28 || s.Width != 20 || s.Channels != 1 || s.layout() != LayoutNHWC {
		t.Errorf("spec %dx%dx%d %s, want 28x20x1 NHWC", s.Height, s.Width, s.Channels, s.layout())
	}
	if err := s.CheckShape([]int{1, 20, 28}); err == nil {
		t.Error("[1 20 28] accepted for a 28x20 spec")
	}
	if err := s.CheckShape([]int{28, 20, 1}); err != nil {
		t.Errorf("HWC shape: %v", err)
	}
}
