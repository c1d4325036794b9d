package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// u8Case is a random one-op uint8 model: the op, its input tensors (the
// activation first) and its output.
type u8Case struct {
	name string
	op   *graph.Op
	ins  []*graph.Tensor
	out  *graph.Tensor
}

// randU8ZP draws a zero point, often at the extremes 0 and 255.
func randU8ZP(r *rand.Rand) int64 {
	switch r.Intn(4) {
	case 0:
		return 0
	case 1:
		return 255
	}
	return int64(r.Intn(256))
}

// randU8Scales draws input, weight and output scales for sums of k
// products, so that outputs spread over tens of steps rather than
// saturate; half the time the effective scale is a power of two (times 1
// or 3), which puts many rescaled accumulators exactly on .5 ties.
func randU8Scales(r *rand.Rand, k int) (sIn, sW, sOut float32) {
	sIn, sW = float32(0.005+0.05*r.Float64()), float32(0.001+0.02*r.Float64())
	eff := (20 + 60*r.Float64()) / (math.Sqrt(float64(k)) * 5500)
	if r.Intn(2) == 0 {
		sIn = float32(math.Ldexp(1, -5-r.Intn(4)))
		sW = float32(math.Ldexp(1, -6-r.Intn(4)))
		eff = math.Ldexp(1, int(math.Round(math.Log2(eff)))) / float64(1+2*r.Intn(2))
	}
	return sIn, sW, float32(float64(sIn) * float64(sW) / eff)
}

func u8Const(name string, shape []int, scale float32, zp int64, r *rand.Rand) *graph.Tensor {
	t := qt(name, graph.UInt8, shape, []float32{scale}, []int64{zp})
	t.Data = make([]byte, t.NumElements())
	for i := range t.Data {
		t.Data[i] = byte(r.Intn(256))
	}
	return t
}

func u8Bias(n int, scale float32, r *rand.Rand) *graph.Tensor {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(r.Intn(20001) - 10000)
	}
	return constI32("b", v, []float32{scale})
}

var u8Acts = []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}

// randU8Conv draws a uint8 CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED
// with odd shapes and random quantization.
func randU8Conv(r *rand.Rand, kind graph.OpKind, i int) u8Case {
	pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[r.Intn(2)]
	h, w := 3+r.Intn(9), 3+r.Intn(9)
	f, s, d := 1+r.Intn(3), 1+r.Intn(2), 1+r.Intn(2)*r.Intn(2)
	if pad == graph.PaddingValid {
		f = min(f, h, w)
		d = 1
	}
	cin, cout, m := 1+r.Intn(9), 1+r.Intn(13), 1+r.Intn(2)
	depth, n, rows := 1+r.Intn(40), 1+r.Intn(20), 1+r.Intn(3)
	k := map[graph.OpKind]int{graph.OpConv2D: f * f * cin, graph.OpDepthwiseConv2D: f * f}[kind]
	if kind == graph.OpFullyConnected {
		k = depth
	}
	sIn, sW, sOut := randU8Scales(r, k)
	in := qt("in", graph.UInt8, nil, []float32{sIn}, []int64{randU8ZP(r)})
	out := qt("out", graph.UInt8, nil, []float32{sOut}, []int64{randU8ZP(r)})
	act := u8Acts[r.Intn(len(u8Acts))]
	oh, ow := graph.ConvOutputSize(pad, h, f, s, d), graph.ConvOutputSize(pad, w, f, s, d)
	c := &u8Case{name: fmt.Sprintf("%s_u8_%d", kind, i)}
	switch kind {
	case graph.OpConv2D:
		in.Shape, out.Shape = []int{1, h, w, cin}, []int{1, oh, ow, cout}
		wt := u8Const("w", []int{cout, f, f, cin}, sW, randU8ZP(r), r)
		c.op = &graph.Op{Kind: kind, Options: &graph.Conv2DOptions{Padding: pad, StrideW: s, StrideH: s, DilationW: d, DilationH: d, Activation: act}}
		c.ins = []*graph.Tensor{in, wt, u8Bias(cout, sIn*sW, r)}
	case graph.OpDepthwiseConv2D:
		in.Shape, out.Shape = []int{1, h, w, cin}, []int{1, oh, ow, cin * m}
		wt := u8Const("w", []int{1, f, f, cin * m}, sW, randU8ZP(r), r)
		c.op = &graph.Op{Kind: kind, Options: &graph.DepthwiseConv2DOptions{Padding: pad, StrideW: s, StrideH: s, DilationW: d, DilationH: d, DepthMultiplier: m, Activation: act}}
		c.ins = []*graph.Tensor{in, wt, u8Bias(cin*m, sIn*sW, r)}
	default:
		in.Shape, out.Shape = []int{rows, depth}, []int{rows, n}
		wt := u8Const("w", []int{n, depth}, sW, randU8ZP(r), r)
		c.op = &graph.Op{Kind: kind, Options: &graph.FullyConnectedOptions{Activation: act}}
		c.ins = []*graph.Tensor{in, wt, u8Bias(n, sIn*sW, r)}
	}
	c.out = out
	return *c
}

// prepareU8Kernel builds the fast (ref false) or reference kernel of a
// uint8 conv-like case.
func prepareU8Kernel(c u8Case, rnd fixedpoint.Rounding, ref bool) (Kernel, error) {
	outs := []*graph.Tensor{c.out}
	switch c.op.Kind {
	case graph.OpConv2D:
		path := pathAuto
		if ref {
			path = pathReference
		}
		return prepareConv2DWith(c.op, c.ins, outs, rnd, path)
	case graph.OpDepthwiseConv2D:
		return prepareDepthwiseConv2DWith(c.op, c.ins, outs, rnd, ref)
	case graph.OpFullyConnected:
		return prepareFullyConnectedWith(c.op, c.ins, outs, rnd, ref)
	}
	return heavyPrepareWith(c.op.Kind, rnd)(c.op, c.ins, outs)
}

func randU8Buffer(r *rand.Rand, t *graph.Tensor, batch int) *Buffer {
	shape := append([]int{t.Shape[0] * batch}, t.Shape[1:]...)
	b := refBuffer(graph.UInt8, shape, nil)
	for i := range b.U8 {
		b.U8[i] = byte(r.Intn(256))
	}
	return b
}

// TestU8FastMatchesRef checks the fast uint8 conv, depthwise and fully
// connected kernels against their plain reference loops on random odd
// shapes and quantization, in both roundings.
func TestU8FastMatchesRef(t *testing.T) {
	r := rand.New(rand.NewSource(81))
	for i := 0; i < 150; i++ {
		kind := []graph.OpKind{graph.OpConv2D, graph.OpDepthwiseConv2D, graph.OpFullyConnected}[i%3]
		c := randU8Conv(r, kind, i)
		rnd := []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding}[r.Intn(3)]
		fast, err := prepareU8Kernel(c, rnd, false)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ref, err := prepareU8Kernel(c, rnd, true)
		if err != nil {
			t.Fatalf("%s: reference: %v", c.name, err)
		}
		batch := 1 + r.Intn(3)
		x := randU8Buffer(r, c.ins[0], batch)
		oshape := append([]int{c.out.Shape[0] * batch}, c.out.Shape[1:]...)
		got, want := refBuffer(graph.UInt8, oshape, nil), refBuffer(graph.UInt8, oshape, nil)
		if err := fast.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := ref.Run([]*Buffer{x}, []*Buffer{want}); err != nil {
			t.Fatalf("%s: reference: %v", c.name, err)
		}
		for j := range want.U8 {
			if got.U8[j] != want.U8[j] {
				t.Fatalf("%s (%s, in %v w %v): output %d = %d, reference %d", c.name, rnd, c.ins[0].Shape, c.ins[1].Shape, j, got.U8[j], want.U8[j])
			}
		}
	}
}

// u8OracleCases is the uint8 heavy ops checked against TFLite.
func u8OracleCases(r *rand.Rand) []u8Case {
	var cs []u8Case
	for i := 0; i < 4; i++ {
		for _, kind := range []graph.OpKind{graph.OpConv2D, graph.OpDepthwiseConv2D, graph.OpFullyConnected} {
			cs = append(cs, randU8Conv(r, kind, i))
		}
	}
	for i, kind := range []graph.OpKind{graph.OpAveragePool2D, graph.OpMaxPool2D, graph.OpAveragePool2D, graph.OpMaxPool2D} {
		zp := randU8ZP(r)
		s := float32(0.01 + 0.1*r.Float64())
		in := qt("in", graph.UInt8, []int{1, 9, 7, 5}, []float32{s}, []int64{zp})
		pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[i/2]
		oh, ow := graph.ConvOutputSize(pad, 9, 3, 2, 1), graph.ConvOutputSize(pad, 7, 3, 2, 1)
		out := qt("out", graph.UInt8, []int{1, oh, ow, 5}, []float32{s}, []int64{zp})
		op := &graph.Op{Kind: kind, Options: &graph.Pool2DOptions{Padding: pad, StrideW: 2, StrideH: 2, FilterW: 3, FilterH: 3, Activation: u8Acts[r.Intn(3)]}}
		cs = append(cs, u8Case{fmt.Sprintf("%s_u8_%d", kind, i), op, []*graph.Tensor{in}, out})
	}
	for i, s := range []float32{0.1, 0.0390625, 0.7} {
		in := qt("in", graph.UInt8, []int{2, 37}, []float32{s}, []int64{randU8ZP(r)})
		out := qt("out", graph.UInt8, []int{2, 37}, []float32{1.0 / 256}, []int64{0})
		op := &graph.Op{Kind: graph.OpSoftmax, Options: &graph.SoftmaxOptions{Beta: []float32{1, 1, 0.5}[i]}}
		cs = append(cs, u8Case{fmt.Sprintf("softmax_u8_%d", i), op, []*graph.Tensor{in}, out})
	}
	return cs
}

// TestU8KernelsMatchTFLite runs random one-op uint8 models (conv,
// depthwise, fully connected with weight zero points, pools, softmax) in
// the real TFLite interpreter and through the fast and reference kernels
// in RuntimeRounding (the runtime as shipped): outputs must be identical.
func TestU8KernelsMatchTFLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TFLite once per case; skipped with -short")
	}
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	r := rand.New(rand.NewSource(82))
	dir := t.TempDir()
	const samples = 6
	total, inside := 0, 0
	for _, c := range u8OracleCases(r) {
		g := oneOpGraph(c.op.Kind, c.op.Options, c.ins[0], c.ins[1:], c.out)
		path := filepath.Join(dir, c.name+".tflite")
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%s: write: %v", c.name, err)
		}
		x := randU8Buffer(r, c.ins[0], samples)
		want, err := or.Run(path, x.U8)
		if err != nil {
			t.Fatalf("%s: oracle: %v", c.name, err)
		}
		for _, ref := range []bool{false, true} {
			k, err := prepareU8Kernel(c, fixedpoint.RuntimeRounding, ref)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			oshape := append([]int{c.out.Shape[0] * samples}, c.out.Shape[1:]...)
			y := refBuffer(graph.UInt8, oshape, nil)
			if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if len(want) != len(y.U8) {
				t.Fatalf("%s: TFLite gave %d bytes, want %d", c.name, len(want), len(y.U8))
			}
			bad := 0
			for i, v := range y.U8 {
				if v != 0 && v != 255 {
					inside++
				}
				if v != want[i] {
					if bad == 0 {
						t.Errorf("%s (reference %v): output %d = %d, TFLite %d", c.name, ref, i, v, want[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s (reference %v): %d of %d outputs differ from TFLite", c.name, ref, bad, len(y.U8))
			}
			total += len(y.U8)
		}
	}
	t.Logf("%d uint8 outputs compared with TFLite, %d of them not 0 or 255", total, inside)
}
