package quant

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/internal/testshared"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/tflite"
)

func i32t(name string, shape []int, v ...int32) *graph.Tensor {
	if shape == nil {
		shape = []int{len(v)}
	}
	return &graph.Tensor{Name: name, Shape: shape, DType: graph.Int32, Data: graph.EncodeInt32s(v)}
}

// layoutNet is a float model with the layout ops and the shape arithmetic
// converters emit: CONV_2D → SPACE_TO_BATCH_ND → BATCH_TO_SPACE_ND →
// TRANSPOSE → STRIDED_SLICE → SPLIT → PACK → RESHAPE to [SHAPE(x)[0], -1]
// (SHAPE → STRIDED_SLICE → PACK) → FULLY_CONNECTED → SOFTMAX. Without
// computed the reshape target is the constant [2, -1].
func layoutNet(seed int64, computed bool) *graph.Graph {
	rng := rand.New(rand.NewSource(seed))
	g := &graph.Graph{}
	in := g.AddTensor(act("input", 1, 4, 4, 2))
	w1 := g.AddTensor(randConst(rng, "conv_w", []int{3, 3, 3, 2}, 0.5))
	b1 := g.AddTensor(randConst(rng, "conv_b", []int{3}, 0.2))
	c1 := g.AddTensor(act("conv", 1, 4, 4, 3))
	g.AddOp(graph.OpConv2D, []int{in, w1, b1}, []int{c1}, &graph.Conv2DOptions{
		Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: graph.ActRelu})
	s2b := g.AddTensor(act("s2b", 4, 3, 3, 3))
	g.AddOp(graph.OpSpaceToBatchND, []int{c1, g.AddTensor(i32t("block", nil, 2, 2)), g.AddTensor(i32t("pads", []int{2, 2}, 1, 1, 0, 2))}, []int{s2b}, nil)
	b2s := g.AddTensor(act("b2s", 1, 4, 4, 3))
	g.AddOp(graph.OpBatchToSpaceND, []int{s2b, g.AddTensor(i32t("block2", nil, 2, 2)), g.AddTensor(i32t("crops", []int{2, 2}, 1, 1, 0, 2))}, []int{b2s}, nil)
	tr := g.AddTensor(act("transposed", 1, 3, 4, 4))
	g.AddOp(graph.OpTranspose, []int{b2s, g.AddTensor(i32t("perm", nil, 0, 3, 1, 2))}, []int{tr}, nil)
	ss := g.AddTensor(act("sliced", 1, 3, 3, 4))
	g.AddOp(graph.OpStridedSlice, []int{tr, g.AddTensor(i32t("b", nil, 0, 0, 1, 0)), g.AddTensor(i32t("e", nil, 0, 0, 0, 0)),
		g.AddTensor(i32t("s", nil, 1, 1, 1, 1))}, []int{ss}, &graph.StridedSliceOptions{BeginMask: 0b1011, EndMask: 0b1111})
	a := g.AddTensor(act("split_a", 1, 3, 3, 2))
	b := g.AddTensor(act("split_b", 1, 3, 3, 2))
	g.AddOp(graph.OpSplit, []int{g.AddTensor(i32t("axis", []int{}, 3)), ss}, []int{a, b}, &graph.SplitOptions{NumSplits: 2})
	pk := g.AddTensor(act("packed", 2, 1, 3, 3, 2))
	g.AddOp(graph.OpPack, []int{a, b}, []int{pk}, &graph.PackOptions{ValuesCount: 2})
	tgt := g.AddTensor(i32t("target", nil, 2, -1))
	if computed {
		// Keras Flatten: reshape to [shape[0], -1] computed in the graph.
		g.Tensors[tgt].Data = nil
		shp := g.AddTensor(&graph.Tensor{Name: "shape", Shape: []int{5}, DType: graph.Int32})
		g.AddOp(graph.OpShape, []int{pk}, []int{shp}, &graph.ShapeOptions{OutType: graph.Int32})
		n0 := g.AddTensor(&graph.Tensor{Name: "n", Shape: []int{}, DType: graph.Int32})
		g.AddOp(graph.OpStridedSlice, []int{shp, g.AddTensor(i32t("b0", nil, 0)), g.AddTensor(i32t("e0", nil, 1)), g.AddTensor(i32t("s0", nil, 1))},
			[]int{n0}, &graph.StridedSliceOptions{ShrinkAxisMask: 1})
		g.AddOp(graph.OpPack, []int{n0, g.AddTensor(i32t("minus1", []int{}, -1))}, []int{tgt}, &graph.PackOptions{ValuesCount: 2})
	}
	fl := g.AddTensor(act("flat", 2, 18))
	g.AddOp(graph.OpReshape, []int{pk, tgt}, []int{fl}, &graph.ReshapeOptions{})
	w2 := g.AddTensor(randConst(rng, "fc_w", []int{4, 18}, 0.5))
	b3 := g.AddTensor(randConst(rng, "fc_b", []int{4}, 0.2))
	lo := g.AddTensor(act("logits", 2, 4))
	g.AddOp(graph.OpFullyConnected, []int{fl, w2, b3}, []int{lo}, &graph.FullyConnectedOptions{})
	pr := g.AddTensor(act("probs", 2, 4))
	g.AddOp(graph.OpSoftmax, []int{lo}, []int{pr}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{in}, []int{pr}
	return g
}

// TestQuantizeFoldsShapeArithmetic: quantize works on a float model whose
// reshape target is computed by SHAPE → STRIDED_SLICE → PACK; the integer
// model holds the folded constant, and the layout ops keep their input's
// parameters.
func TestQuantizeFoldsShapeArithmetic(t *testing.T) {
	g := layoutNet(5, true)
	q, rep, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 32, 3)), Options{IO: graph.Int8})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[graph.OpKind]int{}
	for _, op := range q.Ops {
		kinds[op.Kind]++
	}
	if kinds[graph.OpShape] != 0 || kinds[graph.OpPack] != 1 || kinds[graph.OpStridedSlice] != 1 {
		t.Errorf("quantized ops %v: want the shape arithmetic folded, the data PACK and STRIDED_SLICE kept", kinds)
	}
	params := ParamsOf(q)
	for _, name := range []string{"s2b", "b2s", "transposed", "sliced", "split_a", "split_b", "packed"} {
		p, ok := params[name]
		if !ok {
			t.Errorf("%s: no quantized tensor", name)
			continue
		}
		if c := params["conv"]; c == nil || p.Scale[0] != c.Scale[0] || p.ZeroPoint[0] != c.ZeroPoint[0] {
			t.Errorf("%s: parameters %v differ from the conv output's %v", name, p, c)
		}
	}
	_ = rep
}

// TestQuantizeZooDilatedConv: quantize on a real float model whose dilated
// convolution is SPACE_TO_BATCH_ND → CONV_2D → BATCH_TO_SPACE_ND with
// paddings a SHAPE subgraph computes: the integer model holds only the four
// compute ops, runs in the TFLite oracle, and is bit-identical with qbench.
func TestQuantizeZooDilatedConv(t *testing.T) {
	zoo := testshared.Dir(t, "models", "zoo")
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	g, err := tflite.ReadFile(filepath.Join(zoo, "tfls_dilated_conv.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	q, _, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 64, 3)), Options{IO: graph.Int8})
	if errors.Is(err, kernels.ErrUnsupported) {
		t.Skipf("an op of another family has no kernel yet: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, op := range q.Ops {
		kinds = append(kinds, op.Kind.String())
	}
	if got := strings.Join(kinds, " "); got != "SPACE_TO_BATCH_ND CONV_2D BATCH_TO_SPACE_ND ADD" {
		t.Errorf("quantized ops: %s", got)
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
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("int8 outputs differ from the oracle\nqbench %v\noracle %v", want[:16], got[:16])
	}
}
