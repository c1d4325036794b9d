package kernels

import (
	"encoding/binary"
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

// hybridCase is a random hybrid CONV_2D or FULLY_CONNECTED: float input and
// output, int8 weights with one scale, float bias.
func hybridCase(r *rand.Rand, kind graph.OpKind, i int) u8Case {
	act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.Intn(3)]
	in := &graph.Tensor{Name: "in", DType: graph.Float32}
	out := &graph.Tensor{Name: "out", DType: graph.Float32}
	c := u8Case{name: fmt.Sprintf("%s_hybrid_%d", kind, i)}
	randW := func(shape []int) *graph.Tensor {
		v := make([]int8, graph.NumElements(shape))
		for j := range v {
			v[j] = int8(r.Intn(255) - 127)
		}
		return constI8("w", graph.Int8, shape, v, []float32{float32(0.002 + 0.02*r.Float64())})
	}
	randB := func(n int) *graph.Tensor {
		v := make([]float32, n)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		return constF32("b", []int{n}, v)
	}
	if kind == graph.OpConv2D {
		pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[r.Intn(2)]
		h, w := 4+r.Intn(8), 4+r.Intn(8)
		f, s := 1+r.Intn(3), 1+r.Intn(2)
		cin, cout := 1+r.Intn(7), 1+r.Intn(11)
		batch := 1 + r.Intn(2)
		in.Shape = []int{batch, h, w, cin}
		out.Shape = []int{batch, graph.ConvOutputSize(pad, h, f, s, 1), graph.ConvOutputSize(pad, w, f, s, 1), cout}
		c.op = &graph.Op{Kind: kind, Options: &graph.Conv2DOptions{Padding: pad, StrideW: s, StrideH: s, DilationW: 1, DilationH: 1, Activation: act}}
		c.ins = []*graph.Tensor{in, randW([]int{cout, f, f, cin}), randB(cout)}
	} else {
		rows, depth, n := 1+r.Intn(3), 1+r.Intn(50), 1+r.Intn(20)
		in.Shape, out.Shape = []int{rows, depth}, []int{rows, n}
		c.op = &graph.Op{Kind: kind, Options: &graph.FullyConnectedOptions{Activation: act, AsymmetricQuantizeInputs: i%2 == 1}}
		c.ins = []*graph.Tensor{in, randW([]int{n, depth}), randB(n)}
	}
	c.out = out
	return c
}

// hybridRef is the test's own plain computation of a hybrid case: quantize
// each image (conv) or row (fully connected), integer dot products over the
// taps inside the image, float32(dot)·(s_x·s_w) + bias, clamp.
func hybridRef(c u8Case, x []float32) []float32 {
	w, b := c.ins[1].Int8s(), c.ins[2].Float32s()
	ws := c.ins[1].Quant.Scale[0]
	y := make([]float32, c.out.NumElements())
	finish := func(acc int32, sf float32, j int, act graph.Activation) float32 {
		lo, hi, _ := ActivationRangeFloat(act)
		v := float32(float32(acc)*sf) + b[j]
		return min(max(v, lo), hi)
	}
	if c.op.Kind == graph.OpFullyConnected {
		o := c.op.Options.(*graph.FullyConnectedOptions)
		depth, n := c.ins[1].Shape[1], c.ins[1].Shape[0]
		q := make([]int8, depth)
		for i := 0; i < len(x)/depth; i++ {
			var sf float32
			var zp int32
			if o.AsymmetricQuantizeInputs {
				sf, zp = hybridAsymmetric(q, x[i*depth:(i+1)*depth])
			} else {
				sf = hybridSymmetric(q, x[i*depth:(i+1)*depth])
			}
			sf *= ws
			for j := 0; j < n; j++ {
				var acc int32
				for p, v := range q {
					acc += int32(w[j*depth+p]) * (int32(v) - zp)
				}
				y[i*n+j] = finish(acc, sf, j, o.Activation)
			}
		}
		return y
	}
	o := c.op.Options.(*graph.Conv2DOptions)
	sh, osh := c.ins[0].Shape, c.out.Shape
	H, W, C := sh[1], sh[2], sh[3]
	OH, OW, OC := osh[1], osh[2], osh[3]
	F := c.ins[1].Shape[1]
	padT := graph.ConvPadding(o.Padding, H, F, o.StrideH, 1, OH)
	padL := graph.ConvPadding(o.Padding, W, F, o.StrideW, 1, OW)
	q := make([]int8, H*W*C)
	for bi := 0; bi < sh[0]; bi++ {
		sf := hybridSymmetric(q, x[bi*H*W*C:(bi+1)*H*W*C]) * ws
		for oy := 0; oy < OH; oy++ {
			for ox := 0; ox < OW; ox++ {
				for oc := 0; oc < OC; oc++ {
					var acc int32
					for ky := 0; ky < F; ky++ {
						for kx := 0; kx < F; kx++ {
							iy, ix := oy*o.StrideH-padT+ky, ox*o.StrideW-padL+kx
							if iy < 0 || iy >= H || ix < 0 || ix >= W {
								continue
							}
							for ic := 0; ic < C; ic++ {
								acc += int32(w[((oc*F+ky)*F+kx)*C+ic]) * int32(q[(iy*W+ix)*C+ic])
							}
						}
					}
					y[((bi*OH+oy)*OW+ox)*OC+oc] = finish(acc, sf, oc, o.Activation)
				}
			}
		}
	}
	return y
}

func randHybridInput(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	scale := float32(math.Ldexp(1, r.Intn(8)-4))
	for i := range x {
		x[i] = float32(r.NormFloat64()) * scale
	}
	if r.Intn(4) == 0 {
		for i := range x {
			x[i] = max(x[i], 0) // post-ReLU: the asymmetric zero point at the edge
		}
	}
	return x
}

// TestHybridMatchesRef checks the hybrid kernels against the plain
// computation (hybridRef) on random shapes and inputs.
func TestHybridMatchesRef(t *testing.T) {
	r := rand.New(rand.NewSource(71))
	for i := 0; i < 60; i++ {
		kind := []graph.OpKind{graph.OpConv2D, graph.OpFullyConnected}[i%2]
		c := hybridCase(r, kind, i/2)
		k, err := heavyPrepareWith(kind, fixedpoint.RuntimeRounding)(c.op, c.ins, []*graph.Tensor{c.out})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		x := randHybridInput(r, c.ins[0].NumElements())
		y := refBuffer(graph.Float32, c.out.Shape, nil)
		if err := k.Run([]*Buffer{{DType: graph.Float32, Shape: c.ins[0].Shape, F32: x}}, []*Buffer{y}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for j, v := range hybridRef(c, x) {
			if math.Float32bits(v) != math.Float32bits(y.F32[j]) {
				t.Fatalf("%s: output %d = %g, reference %g", c.name, j, y.F32[j], v)
			}
		}
	}
}

// TestHybridMatchesTFLite runs random hybrid CONV_2D (per-tensor weights,
// symmetric per-image input quantization) and FULLY_CONNECTED (symmetric
// and asymmetric_quantize_inputs) models in the real TFLite interpreter and
// in qbench: outputs must agree within 1e-5 of the output range (they are
// bit-identical on the cases measured).
func TestHybridMatchesTFLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TFLite once per case; skipped with -short")
	}
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	r := rand.New(rand.NewSource(72))
	dir := t.TempDir()
	exact, total := 0, 0
	for i := 0; i < 8; i++ {
		kind := []graph.OpKind{graph.OpConv2D, graph.OpFullyConnected}[i%2]
		c := hybridCase(r, kind, i/2)
		g := oneOpGraph(kind, c.op.Options, c.ins[0], c.ins[1:], c.out)
		path := filepath.Join(dir, c.name+".tflite")
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%s: write: %v", c.name, err)
		}
		const samples = 3
		n := c.ins[0].NumElements()
		x := randHybridInput(r, samples*n)
		raw := make([]byte, 0, 4*len(x))
		for _, v := range x {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		want, err := or.Run(path, raw)
		if err != nil {
			t.Fatalf("%s: oracle: %v", c.name, err)
		}
		k, err := heavyPrepareWith(kind, fixedpoint.RuntimeRounding)(c.op, c.ins, []*graph.Tensor{c.out})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m := c.out.NumElements()
		if len(want) != 4*samples*m {
			t.Fatalf("%s: TFLite gave %d bytes, want %d", c.name, len(want), 4*samples*m)
		}
		var got []float32
		lo, hi := math.Inf(1), math.Inf(-1)
		for s := 0; s < samples; s++ {
			y := refBuffer(graph.Float32, c.out.Shape, nil)
			if err := k.Run([]*Buffer{{DType: graph.Float32, Shape: c.ins[0].Shape, F32: x[s*n : (s+1)*n]}}, []*Buffer{y}); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got = append(got, y.F32...)
		}
		for j := range got {
			w := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[4*j:])))
			lo, hi = min(lo, w), max(hi, w)
		}
		tol := 1e-5 * max(hi-lo, 1e-30)
		for j, v := range got {
			w := math.Float32frombits(binary.LittleEndian.Uint32(want[4*j:]))
			if v == w {
				exact++
			} else if math.Abs(float64(v-w)) > tol {
				t.Errorf("%s: output %d = %g, TFLite %g", c.name, j, v, w)
				break
			}
			total++
		}
	}
	t.Logf("%d of %d hybrid outputs bit-identical with TFLite, the rest within 1e-5 of the output range", exact, total)
}
