package quant

import (
	"context"
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
)

// newOpsNet uses the elementwise ops and reductions of kernels' binary,
// unary and reduce families on a 1x4x5x6 input, each quantized by its own
// rule: MUL/SUB/SQUARED_DIFFERENCE/PRELU/ABS/HARD_SWISH/GELU/SUM calibrated,
// MINIMUM/MAXIMUM/REDUCE_MAX sharing one scale with their inputs (a
// requantize for the other operand), TANH and L2_NORMALIZATION at 1/128, DIV and EXP staying
// float between DEQUANTIZE and QUANTIZE, a comparison and ARG_MAX giving a
// bool and indices that a float SELECT and CAST consume.
func newOpsNet() *graph.Graph {
	rng := rand.New(rand.NewSource(9))
	g := &graph.Graph{}
	s := []int{1, 4, 5, 6}
	x := g.AddTensor(act("x", s...))
	add := func(kind graph.OpKind, opts any, shape []int, dt graph.DType, ins ...int) int {
		o := g.AddTensor(&graph.Tensor{Name: kind.String() + "_out", Shape: shape, DType: dt})
		g.Tensors[o].Name = kind.String() + "_" + string(rune('a'+len(g.Ops)))
		g.AddOp(kind, ins, []int{o}, opts)
		return o
	}
	f := graph.Float32
	c6 := g.AddTensor(randConst(rng, "c6", []int{6}, 1.5))
	mul := add(graph.OpMul, &graph.ArithOptions{}, s, f, x, c6)
	sub := add(graph.OpSub, &graph.ArithOptions{Activation: graph.ActRelu6}, s, f, mul, x)
	sqd := add(graph.OpSquaredDifference, nil, s, f, x, g.AddTensor(randConst(rng, "c1", []int{1}, 0.5)))
	mx := add(graph.OpMaximum, nil, s, f, sub, sqd)
	mn := add(graph.OpMinimum, nil, s, f, mx, g.AddTensor(randConst(rng, "c5x1", []int{5, 1}, 2)))
	pr := add(graph.OpPrelu, nil, s, f, mn, g.AddTensor(randConst(rng, "alpha", []int{6}, 0.5)))
	ab := add(graph.OpAbs, nil, s, f, pr)
	hs := add(graph.OpHardSwish, nil, s, f, x)
	ge := add(graph.OpGelu, &graph.GeluOptions{Approximate: true}, s, f, hs)
	th := add(graph.OpTanh, nil, s, f, ge)
	l2 := add(graph.OpL2Normalization, &graph.L2NormOptions{}, s, f, th)
	sum := add(graph.OpSum, &graph.ReducerOptions{KeepDims: true}, []int{1, 4, 1, 6}, f, ab, g.AddTensor(i32c("ax2", 2)))
	rmax := add(graph.OpReduceMax, &graph.ReducerOptions{KeepDims: true}, []int{1, 4, 1, 6}, f, l2, g.AddTensor(i32c("ax2b", 2)))
	dv := add(graph.OpDiv, &graph.ArithOptions{}, []int{1, 4, 1, 6}, f, sum, g.AddTensor(randConst(rng, "den", []int{6}, 1)))
	ex := add(graph.OpExp, nil, []int{1, 4, 1, 6}, f, rmax)
	gt := add(graph.OpGreater, nil, []int{1, 4, 1, 6}, graph.Bool, dv, ex)
	sel := add(graph.OpSelectV2, nil, []int{1, 4, 1, 6}, f, gt, dv, ex)
	am := add(graph.OpArgMax, &graph.ArgOptions{OutType: graph.Int32}, []int{1, 1, 6}, graph.Int32, sel, g.AddTensor(i32c("ax1", 1)))
	cf := add(graph.OpCast, &graph.CastOptions{InType: graph.Int32, OutType: f}, []int{1, 1, 6}, f, am)
	out := add(graph.OpMul, &graph.ArithOptions{}, []int{1, 4, 1, 6}, f, sel, cf)
	g.Inputs, g.Outputs = []int{x}, []int{out}
	return g
}

func i32c(name string, v ...int32) *graph.Tensor {
	return &graph.Tensor{Name: name, Shape: []int{len(v)}, DType: graph.Int32, Data: graph.EncodeInt32s(v)}
}

// TestNewOpsQuantizedForms checks each op of newOpsNet got the form its
// rule gives: integer ops where TFLite has int8 kernels (TANH at 1/128,
// MAXIMUM with its inputs' scale), float DIV and EXP, bool and int32
// results unquantized.
func TestNewOpsQuantizedForms(t *testing.T) {
	g := newOpsNet()
	q, _, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 32, 3)), Options{IO: graph.Int8})
	if err != nil {
		t.Fatal(err)
	}
	want := map[graph.OpKind]graph.DType{
		graph.OpMul: graph.Int8, graph.OpSub: graph.Int8, graph.OpSquaredDifference: graph.Int8,
		graph.OpMaximum: graph.Int8, graph.OpMinimum: graph.Int8, graph.OpPrelu: graph.Int8, graph.OpAbs: graph.Int8,
		graph.OpHardSwish: graph.Int8, graph.OpGelu: graph.Int8, graph.OpTanh: graph.Int8, graph.OpSum: graph.Int8,
		graph.OpL2Normalization: graph.Int8,
		graph.OpReduceMax:       graph.Int8, graph.OpDiv: graph.Float32, graph.OpExp: graph.Float32,
		graph.OpGreater: graph.Bool, graph.OpSelectV2: graph.Float32, graph.OpArgMax: graph.Int32, graph.OpCast: graph.Float32,
	}
	for _, op := range q.Ops {
		out := q.Tensors[op.Outputs[0]]
		if d, ok := want[op.Kind]; ok && out.DType != d {
			t.Errorf("%s: output %s, want %s", op.Kind, out.DType, d)
		}
		switch op.Kind {
		case graph.OpTanh, graph.OpL2Normalization:
			if p := out.Quant; p == nil || p.Scale[0] != 1.0/128 || p.ZeroPoint[0] != 0 {
				t.Errorf("%s output quantization %+v, want 1/128, 0", op.Kind, p)
			}
		case graph.OpMaximum, graph.OpMinimum:
			for _, i := range op.Inputs {
				if a, b := q.Tensors[i].Quant, out.Quant; a.Scale[0] != b.Scale[0] || a.ZeroPoint[0] != b.ZeroPoint[0] {
					t.Errorf("%s: input %q quantization %v/%v differs from the output's %v/%v", op.Kind, q.Tensors[i].Name, a.Scale, a.ZeroPoint, b.Scale, b.ZeroPoint)
				}
			}
		}
	}
}

// A CONCATENATION of branches with different ranges gets inputs requantized
// to its output's quantization: the TFLite runtime refuses an int8 one whose
// inputs' scales differ (and copies int16 ones unrescaled), and so does
// qbench; the quantized model compiles.
func TestConcatInputsShareOutputQuantization(t *testing.T) {
	for _, mode := range []Options{{IO: graph.Int8}, {Mode: Mode16x8, IO: graph.Int16}} {
		g := &graph.Graph{}
		s := []int{1, 4, 5, 6}
		x := g.AddTensor(act("x", s...))
		r := g.AddTensor(act("r", s...))
		m := g.AddTensor(act("m", s...))
		y := g.AddTensor(act("y", 1, 4, 5, 12))
		g.AddOp(graph.OpRelu, []int{x}, []int{r}, nil)
		g.AddOp(graph.OpMul, []int{x, g.AddTensor(randConst(rand.New(rand.NewSource(3)), "k", []int{6}, 4))}, []int{m}, &graph.ArithOptions{})
		g.AddOp(graph.OpConcatenation, []int{r, m}, []int{y}, &graph.ConcatenationOptions{Axis: 3})
		g.Inputs, g.Outputs = []int{x}, []int{y}
		q, _, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 32, 5)), mode)
		if err != nil {
			t.Fatal(err)
		}
		seen := false
		for _, op := range q.Ops {
			if op.Kind != graph.OpConcatenation {
				continue
			}
			seen = true
			out := q.Tensors[op.Outputs[0]].Quant
			for _, i := range op.Inputs {
				if a := q.Tensors[i].Quant; a == nil || a.Scale[0] != out.Scale[0] || a.ZeroPoint[0] != out.ZeroPoint[0] {
					t.Errorf("%v: CONCATENATION input %q quantization %+v differs from the output's %+v", mode.Mode, q.Tensors[i].Name, a, out)
				}
			}
		}
		if !seen {
			t.Fatalf("%v: no CONCATENATION in the quantized model", mode.Mode)
		}
	}
}
