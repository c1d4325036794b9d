package onnx

import (
	"testing"

	"github.com/qbench/qbench/graph"
)

// opsGraph builds x[2,4,5,3] → PAD → MUL by a [3] constant (broadcast) →
// SUB a [1,1,1,3] constant → HARD_SWISH → CONCATENATION with TANH(x') on
// channels → MEAN over H,W (keep dims) → SQUEEZE, plus a SPLIT of x into
// three channel outputs and LOGISTIC(MAXIMUM(x, MINIMUM(x, 0.25))): the
// ops beyond the CNN set in float32 or int8 (per-tensor parameters chosen
// to cover each value range; the CONCATENATION operands share the
// output's, as TFLite's int8 kernel requires).
func opsGraph(int8Model bool) *graph.Graph {
	g := &graph.Graph{}
	dt := graph.Float32
	if int8Model {
		dt = graph.Int8
	}
	act := func(name string, s float32, zp int64, shape ...int) int {
		t := &graph.Tensor{Name: name, Shape: shape, DType: dt}
		if int8Model {
			t.Quant = &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{zp}}
		}
		return g.AddTensor(t)
	}
	cnst := func(name string, shape []int, v ...float32) int {
		t := &graph.Tensor{Name: name, Shape: shape, DType: graph.Float32, Data: graph.EncodeFloat32s(v)}
		if int8Model {
			// Symmetric int8 with the largest magnitude at 127.
			m := float32(0)
			for _, x := range v {
				m = max(m, x, -x)
			}
			s := m / 127
			q := make([]byte, len(v))
			for i, x := range v {
				q[i] = byte(int8(x/s + 0.5*sign(x)))
			}
			t = &graph.Tensor{Name: name, Shape: shape, DType: graph.Int8, Data: q,
				Quant: &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{0}}}
		}
		return g.AddTensor(t)
	}
	ints := func(name string, shape []int, v ...int32) int {
		return g.AddTensor(&graph.Tensor{Name: name, Shape: shape, DType: graph.Int32, Data: graph.EncodeInt32s(v)})
	}
	x := act("x", 1.0/128, 0, 2, 4, 5, 3)
	pad := act("pad", 1.0/128, 0, 2, 5, 8, 3)
	g.AddOp(graph.OpPad, []int{x, ints("paddings", []int{4, 2}, 0, 0, 1, 0, 2, 1, 0, 0)}, []int{pad}, nil)
	mul := act("mul", 1.5/128, 0, 2, 5, 8, 3)
	g.AddOp(graph.OpMul, []int{pad, cnst("m", []int{3}, 0.5, -1.5, 1.25)}, []int{mul}, &graph.ArithOptions{})
	sub := act("sub", 2.0/128, -20, 2, 5, 8, 3)
	g.AddOp(graph.OpSub, []int{mul, cnst("s", []int{1, 1, 1, 3}, 0.25, -0.5, 0.125)}, []int{sub}, &graph.ArithOptions{})
	hs := act("hswish", 2.0/128, -60, 2, 5, 8, 3)
	g.AddOp(graph.OpHardSwish, []int{sub}, []int{hs}, nil)
	x2 := act("x2", 1.0/128, 0, 2, 5, 8, 3)
	g.AddOp(graph.OpPad, []int{x, ints("paddings2", []int{4, 2}, 0, 0, 0, 1, 1, 2, 0, 0)}, []int{x2}, nil)
	th := act("tanh", 2.0/128, -60, 2, 5, 8, 3)
	g.AddOp(graph.OpTanh, []int{x2}, []int{th}, nil)
	cat := act("concat", 2.0/128, -60, 2, 5, 8, 6)
	g.AddOp(graph.OpConcatenation, []int{hs, th}, []int{cat}, &graph.ConcatenationOptions{Axis: 3})
	mean := act("mean", 1.0/128, -30, 2, 1, 1, 6)
	g.AddOp(graph.OpMean, []int{cat, ints("axes", []int{2}, 1, 2)}, []int{mean}, &graph.ReducerOptions{KeepDims: true})
	sq := act("squeezed", 1.0/128, -30, 2, 6)
	g.AddOp(graph.OpSqueeze, []int{mean}, []int{sq}, &graph.SqueezeOptions{Dims: []int{1, 2}})
	var parts []int
	for i := range 3 {
		parts = append(parts, act("part"+string(rune('0'+i)), 1.0/128, 0, 2, 4, 5, 1))
	}
	g.AddOp(graph.OpSplit, []int{ints("split_axis", nil, 3), x}, parts, &graph.SplitOptions{NumSplits: 3})
	mn := act("min", 1.0/128, 0, 2, 4, 5, 3)
	g.AddOp(graph.OpMinimum, []int{x, cnst("quarter", []int{1}, 0.25)}, []int{mn}, nil)
	mx := act("max", 1.0/128, 0, 2, 4, 5, 3)
	g.AddOp(graph.OpMaximum, []int{x, mn}, []int{mx}, nil)
	lg := act("logistic", 1.0/256, -128, 2, 4, 5, 3)
	g.AddOp(graph.OpLogistic, []int{mx}, []int{lg}, nil)
	g.Inputs = []int{x}
	g.Outputs = append([]int{sq, lg}, parts...)
	return g
}

func sign(x float32) float32 {
	if x < 0 {
		return -1
	}
	return 1
}

// TestOpsInORT runs the ops beyond the CNN set, float and int8 (both
// activation forms), in ONNX Runtime against qbench.
func TestOpsInORT(t *testing.T) {
	ort := findORT(t)
	for _, int8Model := range []bool{false, true} {
		g := opsGraph(int8Model)
		if err := graph.CheckShapes(g); err != nil {
			t.Fatalf("int8 %v: %v", int8Model, err)
		}
		forms := []Options{{}}
		if int8Model {
			forms = append(forms, Options{UInt8Activations: true})
		}
		for _, o := range forms {
			for i, d := range runBoth(t, ort, g, o, 2, -1, 1, 100) {
				t.Logf("int8 %v, uint8 activations %v, output %d: %v", int8Model, o.UInt8Activations, i, d)
				// Float: rounding only. Integer: ONNX Runtime computes
				// LOGISTIC, HARD_SWISH, MUL and MEAN in float and rounds
				// half to even where TFLite uses fixed-point tables and
				// multipliers: at most one step on a few values.
				if (d.float && d.maxAbs > 1e-5*d.span) || (!d.float && (d.maxInt > 1 || d.differ*50 > d.n)) {
					t.Errorf("int8 %v, uint8 activations %v, output %d: %v", int8Model, o.UInt8Activations, i, d)
				}
			}
		}
	}
}
