package quant

import (
	"context"
	"math/rand"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
)

// ssdTail is the end of an SSD detector: class logits and box encodings
// from one FULLY_CONNECTED, split, LOGISTIC on the scores, then
// TFLite_Detection_PostProcess with constant anchors.
func ssdTail(seed int64) *graph.Graph {
	rng := rand.New(rand.NewSource(seed))
	const n, nc = 6, 3
	g := &graph.Graph{}
	x := g.AddTensor(act("features", 1, 8))
	w := g.AddTensor(randConst(rng, "w", []int{n * (4 + nc), 8}, 0.5))
	b := g.AddTensor(randConst(rng, "b", []int{n * (4 + nc)}, 0.1))
	fc := g.AddTensor(act("fc", 1, n*(4+nc)))
	g.AddOp(graph.OpFullyConnected, []int{x, w, b}, []int{fc}, &graph.FullyConnectedOptions{})
	rs := g.AddTensor(act("rows", 1, n, 4+nc))
	g.AddOp(graph.OpReshape, []int{fc, g.AddTensor(i32t("shape", nil, 1, n, 4+nc))}, []int{rs}, &graph.ReshapeOptions{NewShape: []int{1, n, 4 + nc}})
	boxes := g.AddTensor(act("boxes", 1, n, 4))
	logits := g.AddTensor(act("logits", 1, n, nc))
	g.AddOp(graph.OpSplitV, []int{rs, g.AddTensor(i32t("sizes", nil, 4, nc)), g.AddTensor(i32t("axis", []int{}, 2))},
		[]int{boxes, logits}, &graph.SplitOptions{NumSplits: 2})
	scores := g.AddTensor(act("scores", 1, n, nc))
	g.AddOp(graph.OpLogistic, []int{logits}, []int{scores}, nil)
	a := make([]float32, 4*n)
	for i := range n {
		a[4*i], a[4*i+1], a[4*i+2], a[4*i+3] = float32(i)/n, 0.5, 0.3, 0.3
	}
	anchors := g.AddTensor(&graph.Tensor{Name: "anchors", DType: graph.Float32, Shape: []int{n, 4}, Data: graph.EncodeFloat32s(a)})
	o := &graph.DetectionPostProcessOptions{MaxDetections: 4, MaxClassesPerDetection: 1, DetectionsPerClass: 4, NumClasses: nc,
		NMSScoreThreshold: 0.1, NMSIoUThreshold: 0.5, YScale: 10, XScale: 10, HScale: 5, WScale: 5}
	var outs []int
	for i, s := range [][]int{{1, 4, 4}, {1, 4}, {1, 4}, {1}} {
		outs = append(outs, g.AddTensor(act([]string{"det_boxes", "det_classes", "det_scores", "num"}[i], s...)))
	}
	g.AddOp(graph.OpDetectionPostProcess, []int{boxes, scores, anchors}, outs, o)
	g.Inputs, g.Outputs = []int{x}, outs
	return g
}

// TestQuantizeKeepsDetectionFloat: the detector's tail quantizes to int8
// with TFLite_Detection_PostProcess left float between DEQUANTIZE ops, its
// four outputs float32, as the converter writes SSD models.
func TestQuantizeKeepsDetectionFloat(t *testing.T) {
	g := ssdTail(1)
	q, _, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 16, 2)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(opKinds(q), " ")
	want := "QUANTIZE FULLY_CONNECTED RESHAPE SPLIT_V LOGISTIC DEQUANTIZE DEQUANTIZE TFLite_Detection_PostProcess"
	if got != want {
		t.Errorf("quantized ops:\n got %s\nwant %s", got, want)
	}
	for _, o := range q.Outputs {
		if dt := q.Tensors[o].DType; dt != graph.Float32 {
			t.Errorf("output %q is %s, want float32", q.Tensors[o].Name, dt)
		}
	}
}

// TestQuantizeDetectionIntIO: with int8 or uint8 I/O the model input is
// integer but the detection results stay float32.
func TestQuantizeDetectionIntIO(t *testing.T) {
	for _, io := range []graph.DType{graph.Int8, graph.UInt8} {
		g := ssdTail(1)
		q, _, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 16, 2)), Options{IO: io})
		if err != nil {
			t.Fatal(err)
		}
		if dt := q.Tensors[q.Inputs[0]].DType; dt != io {
			t.Errorf("%s I/O: input is %s", io, dt)
		}
		for _, o := range q.Outputs {
			if dt := q.Tensors[o].DType; dt != graph.Float32 {
				t.Errorf("%s I/O: output %q is %s, want float32", io, q.Tensors[o].Name, dt)
			}
		}
		if k := opKinds(q); k[len(k)-1] != "TFLite_Detection_PostProcess" {
			t.Errorf("%s I/O: ops end %v", io, k)
		}
	}
}
