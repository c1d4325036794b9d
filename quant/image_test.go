package quant

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/tflite"
)

// imageNet is a float model with the image and matrix ops next to the new
// elementwise and layout ones, as a decoder head uses them:
// CONV_2D(RELU) [1,5,5,4] → RESIZE_BILINEAR (half-pixel) to 9x9 → MUL and
// SUB by constants → TRANSPOSE_CONV (stride 2, SAME) to [1,18,18,3] →
// RESIZE_NEAREST_NEIGHBOR back to 9x9 → CONCATENATION with the bilinear
// branch → RESHAPE [1,81,7] → BATCH_MATMUL by a constant [7,5] →
// TRANSPOSE to [1,5,81].
func imageNet(seed int64) *graph.Graph {
	rng := rand.New(rand.NewSource(seed))
	g := &graph.Graph{}
	in := g.AddTensor(act("input", 1, 5, 5, 3))
	c1 := g.AddTensor(act("conv", 1, 5, 5, 4))
	g.AddOp(graph.OpConv2D, []int{in, g.AddTensor(randConst(rng, "conv_w", []int{4, 3, 3, 3}, 0.5)),
		g.AddTensor(randConst(rng, "conv_b", []int{4}, 0.2))}, []int{c1},
		&graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: graph.ActRelu})
	up := g.AddTensor(act("bilinear", 1, 9, 9, 4))
	g.AddOp(graph.OpResizeBilinear, []int{c1, g.AddTensor(i32t("size9", nil, 9, 9))}, []int{up}, &graph.ResizeOptions{HalfPixelCenters: true})
	mu := g.AddTensor(act("mul", 1, 9, 9, 4))
	g.AddOp(graph.OpMul, []int{up, g.AddTensor(randConst(rng, "gain", []int{4}, 1.5))}, []int{mu}, &graph.ArithOptions{})
	su := g.AddTensor(act("sub", 1, 9, 9, 4))
	g.AddOp(graph.OpSub, []int{mu, g.AddTensor(randConst(rng, "offset", []int{4}, 0.3))}, []int{su}, &graph.ArithOptions{})
	tc := g.AddTensor(act("deconv", 1, 18, 18, 3))
	g.AddOp(graph.OpTransposeConv, []int{g.AddTensor(i32t("out_shape", nil, 1, 18, 18, 3)),
		g.AddTensor(randConst(rng, "deconv_w", []int{3, 3, 3, 4}, 0.5)), su, g.AddTensor(randConst(rng, "deconv_b", []int{3}, 0.2))},
		[]int{tc}, &graph.TransposeConvOptions{Padding: graph.PaddingSame, StrideW: 2, StrideH: 2})
	nn := g.AddTensor(act("nearest", 1, 9, 9, 3))
	g.AddOp(graph.OpResizeNearestNeighbor, []int{tc, g.AddTensor(i32t("size9b", nil, 9, 9))}, []int{nn}, &graph.ResizeOptions{})
	cat := g.AddTensor(act("concat", 1, 9, 9, 7))
	g.AddOp(graph.OpConcatenation, []int{nn, up}, []int{cat}, &graph.ConcatenationOptions{Axis: 3})
	fl := g.AddTensor(act("rows", 1, 81, 7))
	g.AddOp(graph.OpReshape, []int{cat, g.AddTensor(i32t("rows_shape", nil, 1, 81, 7))}, []int{fl}, &graph.ReshapeOptions{NewShape: []int{1, 81, 7}})
	mm := g.AddTensor(act("matmul", 1, 81, 5))
	g.AddOp(graph.OpBatchMatMul, []int{fl, g.AddTensor(randConst(rng, "proj", []int{7, 5}, 0.5))}, []int{mm}, &graph.BatchMatMulOptions{})
	out := g.AddTensor(act("output", 1, 5, 81))
	g.AddOp(graph.OpTranspose, []int{mm, g.AddTensor(i32t("perm", nil, 0, 2, 1))}, []int{out}, nil)
	g.Inputs, g.Outputs = []int{in}, []int{out}
	return g
}

// TestQuantizeImageOpsMatchTFLite is issue 14's acceptance for a float
// model using the new elementwise, layout and resize ops: quantize writes a
// full-integer model (int8 and 16x8, integer and float I/O) that the TFLite
// oracle runs, bit-identical with qbench on it; resizes keep their input's
// parameters.
func TestQuantizeImageOpsMatchTFLite(t *testing.T) {
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	for _, o := range []Options{{IO: graph.Int8}, {IO: graph.Float32}, {IO: graph.Int16, Mode: Mode16x8}} {
		name := fmt.Sprintf("%s/%s", o.Mode, o.IO)
		g := imageNet(7)
		if err := graph.InferShapes(g, nil); err != nil {
			t.Fatal(err)
		}
		q, _, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 32, 3)), o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		kinds := map[graph.OpKind]graph.DType{}
		for _, op := range q.Ops {
			kinds[op.Kind] = q.Tensors[op.Outputs[0]].DType
		}
		ints := []graph.OpKind{graph.OpResizeBilinear, graph.OpTransposeConv, graph.OpResizeNearestNeighbor, graph.OpBatchMatMul,
			graph.OpSub, graph.OpTranspose, graph.OpConcatenation, graph.OpMul}
		for _, k := range ints {
			if dt, ok := kinds[k]; !ok || dt == graph.Float32 {
				t.Errorf("%s: %s is not integer in the quantized model (%v)", name, k, dt)
			}
		}
		params := ParamsOf(q)
		for _, pair := range [][2]string{{"bilinear", "conv"}, {"nearest", "deconv"}} {
			a, b := params[pair[0]], params[pair[1]]
			if a == nil || b == nil || a.Scale[0] != b.Scale[0] || a.ZeroPoint[0] != b.ZeroPoint[0] {
				t.Errorf("%s: %s parameters %v, its input %s %v: a resize must keep them", name, pair[0], a, pair[1], b)
			}
		}
		path := filepath.Join(t.TempDir(), "q.tflite")
		if err := tflite.WriteFile(path, q); err != nil {
			t.Fatal(err)
		}
		back, err := tflite.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		eval := randomSamples(g, 16, 5)
		raw := rawInputs(back, eval)
		want := runRaw(t, back, raw, len(eval))
		got, err := r.Run(path, raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(want, got) {
			n := 0
			for i := range want {
				if i < len(got) && want[i] != got[i] {
					n++
				}
			}
			t.Errorf("%s: qbench and the oracle differ in %d of %d bytes", name, n, len(want))
			continue
		}
		t.Logf("%s: %d bytes over %d samples identical with the oracle", name, len(want), len(eval))
	}
}
