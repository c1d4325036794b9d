package interp_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// opCase is a one-op model with one activation input; other inputs are
// constants.
type opCase struct {
	name  string
	build func(dt graph.DType) *graph.Graph
	dts   []graph.DType
}

func qt(dt graph.DType, shape []int, scale float32, zp int64) *graph.Tensor {
	t := &graph.Tensor{Name: "t", DType: dt, Shape: shape}
	if dt == graph.UInt8 {
		zp += 128 // the cases draw zero points for int8
	}
	if dt != graph.Float32 {
		t.Quant = &graph.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
	return t
}

// oneOp builds x → op(x, consts...) → y.
func oneOp(kind graph.OpKind, opts any, x, y *graph.Tensor, consts ...*graph.Tensor) *graph.Graph {
	g := &graph.Graph{}
	x.Name, y.Name = "x", "y"
	xi := g.AddTensor(x)
	ins := []int{xi}
	for _, c := range consts {
		ins = append(ins, g.AddTensor(c))
	}
	yi := g.AddTensor(y)
	g.Inputs, g.Outputs = []int{xi}, []int{yi}
	g.AddOp(kind, ins, []int{yi}, opts)
	return g
}

func constOf(dt graph.DType, shape []int, scale float32, zp int64, rng *rand.Rand) *graph.Tensor {
	t := qt(dt, shape, scale, zp)
	t.Name = "c"
	n := t.NumElements()
	switch dt {
	case graph.Float32:
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		t.Data = graph.EncodeFloat32s(v)
	case graph.Int8:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(rng.IntN(256) - 128)
		}
		t.Data = graph.EncodeInt8s(v)
	case graph.UInt8:
		t.Data = make([]byte, n)
		for i := range t.Data {
			t.Data[i] = byte(rng.IntN(256))
		}
	case graph.Int16:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(rng.IntN(65536) - 32768)
		}
		t.Data = graph.EncodeInt16s(v)
	}
	return t
}

func i32(name string, v ...int32) *graph.Tensor {
	return &graph.Tensor{Name: name, DType: graph.Int32, Shape: []int{len(v)}, Data: graph.EncodeInt32s(v)}
}

// TestLightOpsMatchTFLite writes one-op models of the light kernels (random
// quantization parameters) with tflite.Write, runs them in the real TFLite
// interpreter and in qbench (Rounding: RuntimeRounding, the TFLite runtime's
// arithmetic) on the same random inputs, and compares: integers must be
// identical, floats within 1e-5.
func TestLightOpsMatchTFLite(t *testing.T) {
	sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per op; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(3, 5))
	sc := func() float32 { return float32(0.005 + 0.1*rng.Float64()) }
	zp := func() int64 { return int64(rng.IntN(200) - 100) }
	s := []int{1, 6, 5, 4}
	cases := []opCase{
		{"add-broadcast", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpAdd, &graph.AddOptions{Activation: graph.ActRelu}, qt(dt, s, sc(), zp()), qt(dt, s, sc(), zp()), constOf(dt, []int{4}, sc(), zp(), rng))
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
		{"relu", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpRelu, nil, qt(dt, s, sc(), zp()), qt(dt, s, sc(), zp()))
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
		{"relu6", func(dt graph.DType) *graph.Graph {
			x := qt(dt, s, sc(), zp())
			y := qt(dt, s, 0, 0)
			if dt != graph.Float32 {
				y.Quant = x.Quant.Clone()
			}
			return oneOp(graph.OpRelu6, nil, x, y)
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
		{"leaky_relu", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: 0.2}, qt(dt, s, sc(), zp()), qt(dt, s, sc(), zp()))
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
		{"logistic", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpLogistic, nil, qt(dt, s, sc(), zp()), qt(dt, s, 1.0/256, -128))
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
		{"pad", func(dt graph.DType) *graph.Graph {
			x := qt(dt, s, sc(), zp())
			y := qt(dt, []int{1, 8, 6, 4}, 0, 0)
			y.Quant = x.Quant.Clone()
			pads := i32("paddings", 0, 0, 1, 1, 0, 1, 0, 0)
			pads.Shape = []int{4, 2}
			return oneOp(graph.OpPad, nil, x, y, pads)
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
		{"mean", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpMean, &graph.ReducerOptions{KeepDims: true}, qt(dt, s, sc(), zp()), qt(dt, []int{1, 1, 1, 4}, sc(), zp()), i32("axis", 1, 2))
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
		{"mean-c", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpMean, &graph.ReducerOptions{}, qt(dt, []int{2, 5, 9, 30}, sc(), zp()), qt(dt, []int{2, 5, 9}, sc(), zp()), i32("axis", -1))
		}, []graph.DType{graph.Int8, graph.UInt8}},
		{"mean-hw-big", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpMean, &graph.ReducerOptions{KeepDims: true}, qt(dt, []int{1, 12, 11, 40}, sc(), zp()), qt(dt, []int{1, 1, 1, 40}, sc(), zp()), i32("axis", 1, 2))
		}, []graph.DType{graph.Int8}},
		{"mean-same-scale", func(dt graph.DType) *graph.Graph {
			x := qt(dt, []int{1, 7, 7, 16}, sc(), zp())
			y := qt(dt, []int{1, 16}, 0, 0)
			y.Quant = x.Quant.Clone()
			return oneOp(graph.OpMean, &graph.ReducerOptions{}, x, y, i32("axis", 1, 2))
		}, []graph.DType{graph.Int8, graph.UInt8}},
		{"leaky_relu-wide", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: 0.01}, qt(dt, s, 0.5, 7), qt(dt, s, 0.001, -3))
		}, []graph.DType{graph.Int8}},
		{"quantize-requant", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpQuantize, nil, qt(dt, s, sc(), zp()), qt(dt, s, sc(), zp()))
		}, []graph.DType{graph.Int8, graph.UInt8}},
		{"quantize-int8-uint8", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpQuantize, nil, qt(graph.Int8, s, sc(), zp()), qt(graph.UInt8, s, sc(), zp()))
		}, []graph.DType{graph.Int8}},
		{"quantize-uint8-int8", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpQuantize, nil, qt(graph.UInt8, s, sc(), zp()), qt(graph.Int8, s, sc(), zp()))
		}, []graph.DType{graph.UInt8}},
		{"quantize-uint8-int8-same-scale", func(dt graph.DType) *graph.Graph {
			x := qt(graph.UInt8, s, sc(), zp())
			return oneOp(graph.OpQuantize, nil, x, qt(graph.Int8, s, x.Quant.Scale[0], x.Quant.ZeroPoint[0]-128))
		}, []graph.DType{graph.UInt8}},
		{"dequantize", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpDequantize, nil, qt(dt, s, sc(), zp()), qt(graph.Float32, s, 0, 0))
		}, []graph.DType{graph.Int8, graph.UInt8}},
		{"quantize-float", func(dt graph.DType) *graph.Graph {
			return oneOp(graph.OpQuantize, nil, qt(graph.Float32, s, 0, 0), qt(dt, s, sc(), zp()))
		}, []graph.DType{graph.Int8, graph.UInt8}},
		// TFLite refuses int8 inputs whose scales differ from the output's
		// and copies uint8 ones unchanged.
		{"concat-rescale", func(dt graph.DType) *graph.Graph {
			x := qt(dt, s, sc(), zp())
			c := constOf(dt, s, sc(), zp(), rng)
			y := qt(dt, []int{1, 6, 5, 8}, sc(), zp())
			return oneOp(graph.OpConcatenation, &graph.ConcatenationOptions{Axis: 3}, x, y, c)
		}, []graph.DType{graph.UInt8}},
		{"padv2", func(dt graph.DType) *graph.Graph {
			x := qt(dt, s, sc(), zp())
			y := qt(dt, []int{1, 8, 6, 5}, 0, 0)
			y.Quant = x.Quant.Clone()
			pads := i32("paddings", 0, 0, 1, 1, 0, 1, 0, 1)
			pads.Shape = []int{4, 2}
			v := constOf(dt, []int{1}, 0, 0, rng)
			v.Quant = x.Quant.Clone()
			return oneOp(graph.OpPadV2, nil, x, y, pads, v)
		}, []graph.DType{graph.Int8, graph.UInt8}},
		{"concat", func(dt graph.DType) *graph.Graph {
			x := qt(dt, s, sc(), zp())
			c := constOf(dt, s, 0, 0, rng)
			y := qt(dt, []int{1, 6, 5, 8}, 0, 0)
			if dt != graph.Float32 {
				c.Quant = x.Quant.Clone()
				y.Quant = x.Quant.Clone()
			}
			return oneOp(graph.OpConcatenation, &graph.ConcatenationOptions{Axis: 3}, x, y, c)
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
		{"reshape", func(dt graph.DType) *graph.Graph {
			x := qt(dt, s, sc(), zp())
			y := qt(dt, []int{1, 120}, 0, 0)
			y.Quant = x.Quant.Clone()
			return oneOp(graph.OpReshape, &graph.ReshapeOptions{NewShape: []int{1, 120}}, x, y, i32("shape", 1, 120))
		}, []graph.DType{graph.Float32, graph.Int8, graph.UInt8}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		for _, dt := range c.dts {
			name := fmt.Sprintf("%s-%s", c.name, dt)
			g := c.build(dt)
			path := filepath.Join(dir, name+".tflite")
			if err := tflite.WriteFile(path, g); err != nil {
				t.Errorf("%s: write: %v", name, err)
				continue
			}
			p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding})
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			in := randomInput(rng, p.InputTensor(0), 8, -6, 6)
			got, err := p.NewExecutor().RunRaw(in)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			want, err := or.Run(path, in)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			out := p.OutputTensor(0)
			if out.DType == graph.Float32 {
				if n, worst := compareFloats(got, want); n > 0 {
					t.Errorf("%s: %d floats differ from TFLite, worst by %g", name, n, worst)
				}
				continue
			}
			if bad, worst := compareInts(out.DType, got, want); bad > 0 {
				t.Errorf("%s: %d of %d values differ from TFLite, by up to %d", name, bad, len(got)/out.DType.Size(), worst)
			}
		}
	}
}
