package interp_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// cpSpec is one random conv → pool model of TestConvPoolRewrite.
type cpSpec struct {
	f       int // filter size, 1 or 3
	pad     graph.Padding
	h, w    int // input size
	cin     int
	cout    int
	act     graph.Activation // the conv's fused activation
	tail    graph.OpKind     // after the pool: RELU, RELU6 or none (OpUnknown)
	blocks  int              // conv → pool blocks, 1 or 2
	variant string           // "", "conv out" (the conv output is a graph output too), "pool 3x3", "odd"
}

// cpCNN builds x[1,h,w,cin] → blocks × (CONV_2D → MAX_POOL_2D → tail) →
// RESHAPE → FULLY_CONNECTED in float32, quantized to int8 on noise.
func cpCNN(t *testing.T, s cpSpec, rng *rand.Rand) *graph.Graph {
	t.Helper()
	g := &graph.Graph{}
	ft := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape})
	}
	fc := func(name string, shape ...int) int {
		v := make([]float32, graph.NumElements(shape))
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)})
	}
	x := ft("x", 1, s.h, s.w, s.cin)
	g.Inputs = []int{x}
	cur, h, w, c := x, s.h, s.w, s.cin
	for b := range s.blocks {
		ch := graph.ConvOutputSize(s.pad, h, s.f, 1, 1)
		cw := graph.ConvOutputSize(s.pad, w, s.f, 1, 1)
		conv := ft(fmt.Sprintf("conv%d", b), 1, ch, cw, s.cout)
		g.AddOp(graph.OpConv2D, []int{cur, fc(fmt.Sprintf("w%d", b), s.cout, s.f, s.f, c), fc(fmt.Sprintf("b%d", b), s.cout)}, []int{conv},
			&graph.Conv2DOptions{Padding: s.pad, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: s.act})
		if s.variant == "conv out" {
			g.Outputs = append(g.Outputs, conv)
		}
		pf, ps := 2, 2
		if s.variant == "pool 3x3" {
			pf = 3
		}
		ph, pw := graph.ConvOutputSize(graph.PaddingValid, ch, pf, ps, 1), graph.ConvOutputSize(graph.PaddingValid, cw, pf, ps, 1)
		pool := ft(fmt.Sprintf("pool%d", b), 1, ph, pw, s.cout)
		g.AddOp(graph.OpMaxPool2D, []int{conv}, []int{pool}, &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideW: ps, StrideH: ps, FilterW: pf, FilterH: pf})
		cur, h, w, c = pool, ph, pw, s.cout
		if s.tail != graph.OpUnknown {
			r := ft(fmt.Sprintf("relu%d", b), 1, h, w, c)
			g.AddOp(s.tail, []int{cur}, []int{r}, nil)
			cur = r
		}
	}
	per := h * w * c
	flat := ft("flat", 1, per)
	g.AddOp(graph.OpReshape, []int{cur, g.AddTensor(&graph.Tensor{Name: "shape", DType: graph.Int32, Shape: []int{2},
		Data: graph.EncodeInt32s([]int32{-1, int32(per)})})}, []int{flat}, &graph.ReshapeOptions{NewShape: []int{-1, per}})
	y := ft("y", 1, 5)
	g.AddOp(graph.OpFullyConnected, []int{flat, fc("fw", 5, per), fc("fb", 5)}, []int{y}, &graph.FullyConnectedOptions{})
	g.Outputs = append(g.Outputs, y)
	qg, err := quantizeOnNoise(g, rng, s.h*s.w*s.cin, 2)
	if err != nil {
		t.Fatal(err)
	}
	return qg
}

// TestConvPoolRewrite: int8 CONV_2D → 2×2 MAX_POOL_2D pairs (3×3 and 1×1
// filters, SAME and VALID, even sizes, with and without the conv's
// activation, the pool followed by nothing, by a clamp-only RELU or RELU6
// (a fused activation) or by a rescaling one (kernels.MaxPoolMapOptions),
// one or two blocks) become one op each and give the plain schedule's
// bytes at batch 1 and 5, one image per step or the whole batch, every
// rounding; a conv read twice, a 3×3 pool or an odd conv output stays a
// pair.
func TestConvPoolRewrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(91, 92))
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}
	tails := []graph.OpKind{graph.OpUnknown, graph.OpRelu, graph.OpRelu6}
	var specs []cpSpec
	for i := range 18 {
		k := func() int { return 2 + rng.IntN(3) }
		s := cpSpec{f: []int{3, 1}[i%2], pad: []graph.Padding{graph.PaddingSame, graph.PaddingValid}[i/2%2],
			h: 2 * k(), w: 2 * k(), cin: 1 + rng.IntN(8), cout: []int{4, 7, 16, 32}[rng.IntN(4)],
			act: acts[i%3], tail: tails[i/3%3], blocks: 1 + rng.IntN(2)}
		if s.blocks == 2 {
			s.h, s.w = 4*k(), 4*k() // block 2's conv output even too
		}
		if s.pad == graph.PaddingValid && s.f == 3 {
			s.h, s.w = s.h+2, s.w+2
		}
		specs = append(specs, s)
	}
	specs = append(specs,
		cpSpec{f: 3, pad: graph.PaddingSame, h: 8, w: 8, cin: 3, cout: 4, tail: graph.OpRelu, blocks: 1, variant: "conv out"},
		cpSpec{f: 3, pad: graph.PaddingSame, h: 9, w: 9, cin: 3, cout: 4, tail: graph.OpRelu, blocks: 1, variant: "pool 3x3"},
		cpSpec{f: 3, pad: graph.PaddingSame, h: 7, w: 8, cin: 3, cout: 4, tail: graph.OpRelu, blocks: 1, variant: "odd"},
		cpSpec{f: 3, pad: graph.PaddingValid, h: 9, w: 10, cin: 3, cout: 4, tail: graph.OpRelu, blocks: 1, variant: "odd"},
	)
	for i, s := range specs {
		g := cpCNN(t, s, rng)
		for _, clamp := range []bool{false, true} {
			if clamp && s.tail == graph.OpUnknown {
				continue
			}
			gg := g
			if clamp {
				gg = sameQuantRelus(g)
			}
			want := s.blocks
			if s.variant != "" {
				want = 0
			}
			name := fmt.Sprintf("%d %+v clamp=%v", i, s, clamp)
			t.Run(name, func(t *testing.T) {
				for _, r := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
					for _, o := range []interp.Options{{Batch: 1}, {Batch: 5}, {Batch: 5, ChunkBytes: -1}} {
						o.Rounding = r
						o.ConvPools = interp.ConvPoolsAll // the generic path too
						fast := runBothWith(t, gg, o)
						if sc := fast.Schedule(); sc.ConvPools != want {
							t.Fatalf("%s %+v: schedule %+v, want %d conv+pool ops", r, o, sc, want)
						}
					}
				}
			})
		}
	}
}

// TestConvPoolSeedCNN: the int8 seed-cnn's four conv → pool → RELU
// chains run as four fused ops, bit-identical to the plain schedule at
// batch 1, 5 and 64 (several images per step) in every rounding; so does
// the demo's int8-full.tflite when it is there (QBENCH_SEED_INT8 names
// it, default where `qbench demo` writes it in /tmp/rep/demo1).
func TestConvPoolSeedCNN(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and quantizes the seed-cnn")
	}
	_, qg := seedCNNGraphs(t)
	graphs := []struct {
		name string
		g    *graph.Graph
	}{{"seed-cnn", qg}}
	path := os.Getenv("QBENCH_SEED_INT8")
	if path == "" {
		path = "/tmp/rep/demo1/models/int8-full.tflite"
	}
	if dg, err := tflite.ReadFile(path); err == nil {
		graphs = append(graphs, struct {
			name string
			g    *graph.Graph
		}{path, dg})
	} else {
		t.Logf("demo model not checked: %v (set QBENCH_SEED_INT8)", err)
	}
	native := 0
	defer func() { t.Logf("%d runtime-rounding schedules pooled natively", native) }()
	for _, c := range graphs {
		for _, r := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
			for _, b := range []int{1, 5, 64} {
				fast := runBothWith(t, c.g, interp.Options{Batch: b, Rounding: r, ConvPools: interp.ConvPoolsAll})
				if s := fast.Schedule(); s.ConvPools != 4 {
					t.Errorf("%s %s batch %d: schedule %+v, want 4 conv+pool ops", c.name, r, b, s)
				}
				// By default only the pairs whose conv pools natively on
				// this CPU (none on AVX-512 CPUs; conv1..conv3 under
				// runtime rounding on AVX2 without AVX-512).
				fast = runBothWith(t, c.g, interp.Options{Batch: b, Rounding: r})
				if s, want := fast.Schedule(), nativeConvPools(c.g, r); s.ConvPools != want {
					t.Errorf("%s %s batch %d: default schedule %+v, want %d conv+pool ops", c.name, r, b, s, want)
				}
				if r == fixedpoint.RuntimeRounding && nativeConvPools(c.g, r) > 0 {
					native++
				}
			}
		}
	}
}

// nativeConvPools counts g's CONV_2D → 2×2 MAX_POOL_2D pairs (the pool the
// conv output's only reader) whose conv pools natively under rnd on this
// CPU: what the default schedule fuses.
func nativeConvPools(g *graph.Graph, rnd fixedpoint.Rounding) int {
	cons := g.Consumers()
	n := 0
	for _, op := range g.Ops {
		if op.Kind != graph.OpConv2D || len(op.Outputs) != 1 {
			continue
		}
		mid := op.Outputs[0]
		if len(cons[mid]) != 1 || g.Ops[cons[mid][0]].Kind != graph.OpMaxPool2D {
			continue
		}
		ins := make([]*graph.Tensor, len(op.Inputs))
		for i, t := range op.Inputs {
			ins[i] = g.Tensor(t)
		}
		if kernels.ConvPoolNative(op, ins, g.Tensors[mid], rnd) {
			n++
		}
	}
	return n
}
