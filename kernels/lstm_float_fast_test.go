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
		v := []float32{sigmoidFast(x), tanhFast(x)}
		if want := 1 / (1 + math.Exp(-float64(x))); math.Abs(float64(v[0])-want) > 3e-7 {
			t.Fatalf("sigmoid(%g) = %g, want %g", x, v[0], want)
		}
		if want := math.Tanh(float64(x)); math.Abs(float64(v[1])-want) > 3e-7 {
			t.Fatalf("tanh(%g) = %g, want %g", x, v[1], want)
		}
	}
	nan := float32(math.NaN())
	v := []float32{sigmoidFast(nan), tanhFast(nan)}
	if e := expF32(nan); e == e || v[0] == v[0] || v[1] == v[1] {
		t.Errorf("NaN in: exp %g sigmoid %g tanh %g, want NaN", e, v[0], v[1])
	}
}

// TestLSTMFloatFastMatchesReference runs the fused float LSTM and the
// reference kernel on the same random models (every variant but layer
// norm, which keeps the reference; odd sizes; several activations) over
// three invocations with carried state, batches 1 to 64: outputs and both states within
// 1e-5 of the reference's largest magnitude (at least 1), the oracle
// tests' criterion (an unsquashed NONE or RELU cell grows over the steps,
// and so does the float32 rounding of its differently ordered sums).
func TestLSTMFloatFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2))
	worst := 0.0
	acts := []graph.Activation{graph.ActTanh, graph.ActTanh, graph.ActRelu, graph.ActNone, graph.ActSigmoid, graph.ActRelu6}
	for trial := range 48 {
		c := lstmTestCase{cifg: trial%2 == 1, peephole: trial/2%2 == 1, projection: trial/4%2 == 1,
			timeMajor: trial/8%2 == 1,
			batch:     []int{1, 2, 3, 4, 64}[rng.IntN(5)], time: 1 + rng.IntN(30), nIn: 1 + rng.IntN(40), nCell: 1 + rng.IntN(33)}
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
					d := math.Abs(float64(pair.a[i] - v))
					worst = max(worst, d/top)
					if !(d <= 1e-5*top) {
						t.Fatalf("%s step %d: %s[%d] = %g, reference %g", name, step, pair.what, i, pair.a[i], v)
					}
				}
			}
		}
	}
	t.Logf("worst difference %.3g of the largest magnitude (tolerance 1e-5)", worst)
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

// TestLSTMRowsVecMatchesGo: the vector form of an LSTM step (TANH)
// agrees with the Go loop (the same operations in the same order, but for
// the vector exp's fused multiply-adds) within 1e-6 of max(1, |value|), on
// random gate values, special values (clamps, infinities, NaN), every
// cell count from 1 to 41 (the masked last group), CIFG or not, peephole
// or not, cell clip or none, and padded row strides.
func TestLSTMRowsVecMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 4))
	worst := 0.0
	special := []float32{0, float32(math.Copysign(0, -1)), 87.3, -87.3, 88.3, -88.3, 44, -44, 1e-20,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32}
	for nc := 1; nc <= 41; nc++ {
		for trial := range 16 {
			cifg, peep := trial%2 == 1, trial/2%2 == 1
			n := 1 + rng.IntN(5)
			ncp := (nc + 7) &^ 7
			a := lstmRows{n: n, nc: nc, ncp: ncp, clip: float32(math.Inf(1)), act: graph.ActTanh}
			if trial/4%2 == 1 {
				a.clip = 0.5 + float32(rng.IntN(4))
			}
			ng := 4
			if cifg {
				a.off[0] = -1
				ng = 3
			}
			for gi, k := 0, 0; gi < 4; gi++ {
				if gi > 0 || !cifg {
					a.off[gi] = k * nc
					k++
				}
			}
			a.w = ng * nc
			a.xstride = a.w * (1 + rng.IntN(3))
			a.cstride = ncp * (1 + rng.IntN(2))
			a.ostride = nc + rng.IntN(3)
			val := func() float32 {
				if trial%5 == 4 && rng.IntN(4) == 0 {
					return special[rng.IntN(len(special))]
				}
				return float32(rng.NormFloat64() * float64(1+trial))
			}
			fill := func(n int) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = val()
				}
				return v
			}
			a.xp = fill((n-1)*a.xstride + a.w + 16)
			a.pre = fill((n-1)*a.w + a.w + 16)
			a.bias = fill(a.w + 16)
			if peep {
				a.peep = fill(3 * ncp)
			} else if trial >= 8 {
				// The two-pass form, through a scratch of gates that
				// starts with garbage.
				a.cols, a.colStride = lstmActCols(a.off, nc, a.w)
				a.gstride = a.colStride + 8*rng.IntN(2)
				a.gates = fill((n-1)*a.gstride + a.colStride + 16)
			}
			c0 := fill((n-1)*a.cstride + ncp)
			out0 := fill((n-1)*a.ostride + nc)
			g := a
			g.c, g.out = append([]float32(nil), c0...), append([]float32(nil), out0...)
			g.runGo()
			for _, wide := range []bool{false, true} {
				v := a
				v.c, v.out = append([]float32(nil), c0...), append([]float32(nil), out0...)
				if wide && (a.cols == nil || !hasAVX512) {
					continue
				}
				if !lstmRowsVecWith(&v, wide) {
					t.Skip("no vector form on this CPU or build")
				}
				same := func(x, y float32) bool {
					if x == y || x != x && y != y {
						return true
					}
					d := math.Abs(float64(x) - float64(y))
					worst = max(worst, d/max(1, math.Abs(float64(y))))
					return d <= 1e-6*max(1, math.Abs(float64(y)))
				}
				for b := 0; b < n; b++ {
					for j := 0; j < nc; j++ {
						if i := b*a.cstride + j; !same(v.c[i], g.c[i]) {
							t.Fatalf("nc=%d trial %d row %d cell %d: c vector %g, Go %g", nc, trial, b, j, v.c[i], g.c[i])
						}
					}
				}
				for i := range out0 {
					if !same(v.out[i], g.out[i]) {
						t.Fatalf("nc=%d trial %d: out[%d] vector %g, Go %g (was %g)", nc, trial, i, v.out[i], g.out[i], out0[i])
					}
				}
			}
		}
	}
	t.Logf("worst difference %.3g of max(1, |value|) (tolerance 1e-6)", worst)
}
