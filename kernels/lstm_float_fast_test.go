package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestExpF32 checks expF32 and the sigmoid and tanh built on it against
// float64 over [-100, 100] and at the clamps: exp within 3e-7 relative,
// sigmoid and tanh within 3e-7 absolute; NaN stays NaN.
func TestExpF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	xs := []float32{0, -0, 1e-30, -1e-30, 0.5, -0.5, 87.3, -87.3, 88.3, 88.4, -87.4, 100, -100,
		float32(math.Inf(1)), float32(math.Inf(-1))}
	for range 20000 {
		xs = append(xs, float32(rng.Float64()*40-20), float32(rng.Float64()*200-100))
	}
	for _, x := range xs {
		if x >= -87.3 && x <= 88.3 {
			want := math.Exp(float64(x))
			if got := float64(expF32(x)); math.Abs(got-want) > 3e-7*want {
				t.Fatalf("expF32(%g) = %g, want %g", x, got, want)
			}
		}
		v := []float32{x, x}
		sigmoidFastF32(v[:1])
		tanhFastF32(v[1:])
		if want := 1 / (1 + math.Exp(-float64(x))); math.Abs(float64(v[0])-want) > 3e-7 {
			t.Fatalf("sigmoid(%g) = %g, want %g", x, v[0], want)
		}
		if want := math.Tanh(float64(x)); math.Abs(float64(v[1])-want) > 3e-7 {
			t.Fatalf("tanh(%g) = %g, want %g", x, v[1], want)
		}
	}
	nan := float32(math.NaN())
	v := []float32{nan, nan}
	sigmoidFastF32(v[:1])
	tanhFastF32(v[1:])
	if e := expF32(nan); e == e || v[0] == v[0] || v[1] == v[1] {
		t.Errorf("NaN in: exp %g sigmoid %g tanh %g, want NaN", e, v[0], v[1])
	}
}

// TestLSTMFloatFastMatchesReference runs the fused float LSTM and the
// reference kernel on the same random models (every variant but layer
// norm, which keeps the reference; odd sizes; several activations) over
// three invocations with carried state: outputs and both states within
// 1e-5 of the reference's largest magnitude (at least 1), the oracle
// tests' criterion (an unsquashed NONE or RELU cell grows over the steps,
// and so does the float32 rounding of its differently ordered sums).
func TestLSTMFloatFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2))
	acts := []graph.Activation{graph.ActTanh, graph.ActTanh, graph.ActRelu, graph.ActNone, graph.ActSigmoid, graph.ActRelu6}
	for trial := range 48 {
		c := lstmTestCase{cifg: trial%2 == 1, peephole: trial/2%2 == 1, projection: trial/4%2 == 1,
			timeMajor: trial/8%2 == 1,
			batch:     1 + rng.IntN(4), time: 1 + rng.IntN(30), nIn: 1 + rng.IntN(40), nCell: 1 + rng.IntN(33)}
		c.nOut = c.nCell
		if c.projection {
			c.nOut = 1 + rng.IntN(21)
			if rng.IntN(2) == 0 {
				c.projClip = 0.3
			}
		}
		if rng.IntN(2) == 0 {
			c.cellClip = 0.8 + float32(rng.IntN(3))
		}
		act := acts[trial%len(acts)]
		name := fmt.Sprintf("%d %+v %s", trial, c, act)
		ins, out, _ := lstmTestTensors(rng, c)
		// Weights of a trained LSTM's scale (pre-activations of order 1),
		// not lstmTestTensors' 0.4 per weight: with up to 60 inputs per
		// gate and no squashing (NONE, RELU) over 30 steps, those make the
		// recurrence chaotic, where any change of rounding grows without
		// bound.
		for _, tn := range ins[1:] {
			if tn != nil && tn.IsConst() {
				v := tn.Float32s()
				for i := range v {
					v[i] *= float32(1.5 / math.Sqrt(float64(c.nIn+c.nOut)))
				}
				tn.Data = graph.EncodeFloat32s(v)
			}
		}
		op := &graph.Op{Kind: graph.OpUnidirectionalSequenceLSTM, Options: &graph.SequenceLSTMOptions{
			Activation: act, CellClip: c.cellClip, ProjClip: c.projClip, TimeMajor: c.timeMajor}}
		var ks [2]Kernel
		for i, ref := range []bool{false, true} {
			p := &prep{op: op, ins: ins, outs: []*graph.Tensor{out}, ref: ref}
			k, err := prepareSequenceLSTM(p)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ks[i] = k
		}
		if _, ok := ks[0].(*lstmFloatFast); !ok {
			t.Fatalf("%s: fast kernel is %T", name, ks[0])
		}
		var hs, cs, ys [2]*Buffer
		for i := range ks {
			hs[i] = &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*c.nOut)}
			cs[i] = &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*c.nCell)}
			ys[i] = &Buffer{DType: graph.Float32, F32: make([]float32, out.NumElements())}
		}
		for step := range 3 {
			x := make([]float32, ins[0].NumElements())
			for i := range x {
				x[i] = float32(rng.Float64()*4 - 2)
			}
			for i, k := range ks {
				bufs := make([]*Buffer, 24)
				bufs[0] = &Buffer{DType: graph.Float32, F32: x}
				bufs[lstmOutputState], bufs[lstmCellState] = hs[i], cs[i]
				if err := k.Run(bufs, []*Buffer{ys[i]}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			for _, pair := range []struct {
				what string
				a, b []float32
			}{{"output", ys[0].F32, ys[1].F32}, {"output state", hs[0].F32, hs[1].F32}, {"cell state", cs[0].F32, cs[1].F32}} {
				top := 1.0
				for _, v := range pair.b {
					top = max(top, math.Abs(float64(v)))
				}
				for i, v := range pair.b {
					if d := math.Abs(float64(pair.a[i] - v)); !(d <= 1e-5*top) {
						t.Fatalf("%s step %d: %s[%d] = %g, reference %g", name, step, pair.what, i, pair.a[i], v)
					}
				}
			}
		}
	}
}

// BenchmarkLSTMFloat is tflm_mnist_lstm's LSTM (28 steps of 28 inputs, 20
// cells, batch 1 and 64) in the fused kernel and in the reference.
func BenchmarkLSTMFloat(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) { benchLSTMFloat(b, batch) })
	}
}

func benchLSTMFloat(b *testing.B, batch int) {
	rng := rand.New(rand.NewPCG(16, 3))
	c := lstmTestCase{batch: batch, time: 28, nIn: 28, nCell: 20, nOut: 20, cellClip: 10}
	ins, out, _ := lstmTestTensors(rng, c)
	op := &graph.Op{Kind: graph.OpUnidirectionalSequenceLSTM, Options: &graph.SequenceLSTMOptions{
		Activation: graph.ActTanh, CellClip: 10}}
	for _, ref := range []bool{false, true} {
		k, err := prepareSequenceLSTM(&prep{op: op, ins: ins, outs: []*graph.Tensor{out}, ref: ref})
		if err != nil {
			b.Fatal(err)
		}
		x := make([]float32, ins[0].NumElements())
		for i := range x {
			x[i] = float32(rng.Float64())
		}
		bufs := make([]*Buffer, 24)
		bufs[0] = &Buffer{DType: graph.Float32, F32: x}
		bufs[lstmOutputState] = &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*c.nOut)}
		bufs[lstmCellState] = &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*c.nCell)}
		y := []*Buffer{{DType: graph.Float32, F32: make([]float32, out.NumElements())}}
		name := "fast"
		if ref {
			name = "ref"
		}
		b.Run(name, func(b *testing.B) {
			runCPU(b, func() {
				clear(bufs[lstmOutputState].F32)
				clear(bufs[lstmCellState].F32)
				if err := k.Run(bufs, y); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// TestLSTMActVecMatchesGo: the AVX2 sigmoid and tanh equal the Go loops
// (the same operations in the same order) on random values, the clamps,
// infinities and NaN, for every length from 1 to 40 (the masked tail).
func TestLSTMActVecMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), 87.3, -87.3, 88.3, -88.3, 44, -44, 1e-20,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32}
	for n := 1; n <= 40; n++ {
		for trial := range 20 {
			v := make([]float32, n)
			for i := range v {
				if trial%4 == 3 {
					v[i] = special[rng.IntN(len(special))]
				} else {
					v[i] = float32(rng.NormFloat64() * float64(1+trial*3))
				}
			}
			for _, f := range []struct {
				name string
				vec  func([]float32) bool
				ref  func([]float32)
			}{{"sigmoid", sigmoidVec, sigmoidFastF32}, {"tanh", tanhVec, tanhFastF32}} {
				a, b := append([]float32(nil), v...), append([]float32(nil), v...)
				if !f.vec(a) {
					t.Skip("no vector form on this CPU or build")
				}
				f.ref(b)
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
						t.Fatalf("%s n=%d: lane %d of %g: vector %g, Go %g", f.name, n, i, v[i], a[i], b[i])
					}
				}
			}
		}
	}
}
