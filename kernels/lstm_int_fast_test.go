package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestLSTMActTables: the logistic and tanh tables equal fixedpoint's
// functions on every int16 for every integer-bit count.
func TestLSTMActTables(t *testing.T) {
	for b := range 7 {
		l, th := logistic16Table(b), tanh16Table(b)
		for i := range 1 << 16 {
			v := int16(uint16(i))
			if got, want := l[uint16(v)], fixedpoint.Logistic16(v, b); got != want {
				t.Fatalf("logistic table bits %d at %d: %d, want %d", b, v, got, want)
			}
			if got, want := th[uint16(v)], fixedpoint.Tanh16(v, b); got != want {
				t.Fatalf("tanh table bits %d at %d: %d, want %d", b, v, got, want)
			}
		}
	}
}

// intLSTMTensors builds the tensors of a random integer 8x8->16 LSTM of
// case c: inputs by index, the output and the five intermediates.
func intLSTMTensors(rng *rand.Rand, c lstmTestCase, projBias bool) (ins []*graph.Tensor, out *graph.Tensor, inter []*graph.Tensor) {
	q := func(s float64, zp int) *graph.Quantization {
		return &graph.Quantization{Scale: []float32{float32(s)}, ZeroPoint: []int64{int64(zp)}}
	}
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	i8 := func(shape []int, s float64) *graph.Tensor {
		v := make([]int8, shape[0]*shape[1])
		for i := range v {
			v[i] = int8(rng.IntN(255) - 127)
		}
		return &graph.Tensor{DType: graph.Int8, Shape: shape, Data: graph.EncodeInt8s(v), Quant: q(s, 0)}
	}
	i16 := func(n int, s float64, lo, hi int) *graph.Tensor {
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(lo + rng.IntN(hi-lo+1))
		}
		return &graph.Tensor{DType: graph.Int16, Shape: []int{n}, Data: graph.EncodeInt16s(v), Quant: q(s, 0)}
	}
	i32 := func(n int, s float64, lim int) *graph.Tensor {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(rng.IntN(2*lim+1) - lim)
		}
		return &graph.Tensor{DType: graph.Int32, Shape: []int{n}, Data: graph.EncodeInt32s(v), Quant: q(s, 0)}
	}
	xs := []int{c.batch, c.time, c.nIn}
	if c.timeMajor {
		xs = []int{c.time, c.batch, c.nIn}
	}
	sIn, sOut := u(0.005, 0.02), u(0.004, 0.012)
	zIn, zOut := rng.IntN(60)-30, rng.IntN(60)-30
	cellBits := 9 + rng.IntN(7)
	ins = make([]*graph.Tensor, 24)
	ins[0] = &graph.Tensor{DType: graph.Int8, Shape: xs, Quant: q(sIn, zIn)}
	for gi, idx := range lstmGates {
		if gi == 0 && c.cifg {
			continue
		}
		sw, sr := u(0.003, 0.02), u(0.003, 0.02)
		ins[idx.in], ins[idx.rec] = i8([]int{c.nCell, c.nIn}, sw), i8([]int{c.nCell, c.nOut}, sr)
		ins[idx.bias] = i32(c.nCell, sw*sIn, 3000)
		if c.peephole && idx.peep >= 0 {
			ins[idx.peep] = i16(c.nCell, u(1e-5, 1e-4), -20000, 20000)
		}
		if c.layerNorm {
			ins[idx.ln] = i16(c.nCell, u(5e-5, 2e-4), 2000, 20000)
		}
	}
	if c.projection {
		ins[lstmProjWeights] = i8([]int{c.nOut, c.nCell}, u(0.005, 0.03))
		if projBias {
			ins[lstmProjBias] = i32(c.nOut, 1e-5, 2000)
		}
	}
	ins[lstmOutputState] = &graph.Tensor{DType: graph.Int8, Shape: []int{c.batch, c.nOut}, Variable: true, Quant: q(sOut, zOut)}
	ins[lstmCellState] = &graph.Tensor{DType: graph.Int16, Shape: []int{c.batch, c.nCell}, Variable: true,
		Quant: q(math.Ldexp(1, -cellBits), 0)}
	for range 4 {
		it := &graph.Tensor{DType: graph.Float32, Shape: []int{0}}
		if c.layerNorm {
			it = &graph.Tensor{DType: graph.Int16, Shape: []int{0}, Quant: q(u(0.5, 2)/4096, 0)}
		}
		inter = append(inter, it)
	}
	hs, hz := sOut, zOut
	if c.projection {
		hs, hz = u(0.004, 0.01), rng.IntN(40)-20
	}
	inter = append(inter, &graph.Tensor{DType: graph.Int8, Shape: []int{0}, Quant: q(hs, hz)})
	out = &graph.Tensor{DType: graph.Int8, Shape: []int{xs[0], xs[1], c.nOut}, Quant: q(sOut, zOut)}
	return ins, out, inter
}

// TestLSTMIntFastMatchesReference runs the fused integer LSTM and the
// reference on random models of every variant (CIFG, peephole, projection
// with and without bias, layer norm, time-major, clipping; odd sizes) over
// three invocations with carried state: output and both states identical.
func TestLSTMIntFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 5))
	for trial := range 64 {
		c := lstmTestCase{cifg: trial%2 == 1, peephole: trial/2%2 == 1, projection: trial/4%2 == 1,
			layerNorm: trial/8%2 == 1, timeMajor: trial/16%2 == 1,
			batch: 1 + rng.IntN(4), time: 1 + rng.IntN(30), nIn: 1 + rng.IntN(40), nCell: 1 + rng.IntN(33)}
		c.nOut = c.nCell
		if c.projection {
			c.nOut = 1 + rng.IntN(c.nCell) // peephole needs n_output ≤ n_cell
			if rng.IntN(2) == 0 {
				c.projClip = 0.3
			}
		}
		if rng.IntN(2) == 0 {
			c.cellClip = 0.8 + float32(rng.IntN(3))
		}
		name := fmt.Sprintf("%d %+v", trial, c)
		ins, out, inter := intLSTMTensors(rng, c, trial/32%2 == 1)
		op := &graph.Op{Kind: graph.OpUnidirectionalSequenceLSTM, Options: &graph.SequenceLSTMOptions{
			Activation: graph.ActTanh, CellClip: c.cellClip, ProjClip: c.projClip, TimeMajor: c.timeMajor}}
		var ks [2]Kernel
		for i, ref := range []bool{false, true} {
			k, err := prepareSequenceLSTM(&prep{op: op, ins: ins, outs: []*graph.Tensor{out}, inter: inter, ref: ref})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ks[i] = k
		}
		if _, ok := ks[0].(*lstmIntFast); !ok {
			t.Fatalf("%s: fast kernel is %T", name, ks[0])
		}
		var hs, cs, ys [2]*Buffer
		for i := range ks {
			hs[i] = &Buffer{DType: graph.Int8, I8: make([]int8, c.batch*c.nOut)}
			cs[i] = &Buffer{DType: graph.Int16, I16: make([]int16, c.batch*c.nCell)}
			ys[i] = &Buffer{DType: graph.Int8, I8: make([]int8, out.NumElements())}
		}
		for step := range 3 {
			x := make([]int8, ins[0].NumElements())
			for i := range x {
				x[i] = int8(rng.IntN(256) - 128)
			}
			for i, k := range ks {
				bufs := make([]*Buffer, 24)
				bufs[0] = &Buffer{DType: graph.Int8, I8: x}
				bufs[lstmOutputState], bufs[lstmCellState] = hs[i], cs[i]
				if err := k.Run(bufs, []*Buffer{ys[i]}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			if !slices.Equal(ys[0].I8, ys[1].I8) || !slices.Equal(hs[0].I8, hs[1].I8) || !slices.Equal(cs[0].I16, cs[1].I16) {
				t.Fatalf("%s step %d: fast and reference differ", name, step)
			}
		}
	}
}

// BenchmarkLSTMInt is coral_lstm_mnist_ptq's LSTM shape (28 steps of 28
// inputs, 20 cells, batch 1 and 64) in the fused kernel and in the reference.
func BenchmarkLSTMInt(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) { benchLSTMInt(b, batch) })
	}
}

func benchLSTMInt(b *testing.B, batch int) {
	rng := rand.New(rand.NewPCG(16, 6))
	c := lstmTestCase{batch: batch, time: 28, nIn: 28, nCell: 20, nOut: 20, cellClip: 10}
	ins, out, inter := intLSTMTensors(rng, c, false)
	op := &graph.Op{Kind: graph.OpUnidirectionalSequenceLSTM, Options: &graph.SequenceLSTMOptions{
		Activation: graph.ActTanh, CellClip: 10}}
	for _, ref := range []bool{false, true} {
		k, err := prepareSequenceLSTM(&prep{op: op, ins: ins, outs: []*graph.Tensor{out}, inter: inter, ref: ref})
		if err != nil {
			b.Fatal(err)
		}
		x := make([]int8, ins[0].NumElements())
		for i := range x {
			x[i] = int8(rng.IntN(256) - 128)
		}
		bufs := make([]*Buffer, 24)
		bufs[0] = &Buffer{DType: graph.Int8, I8: x}
		bufs[lstmOutputState] = &Buffer{DType: graph.Int8, I8: make([]int8, c.batch*c.nOut)}
		bufs[lstmCellState] = &Buffer{DType: graph.Int16, I16: make([]int16, c.batch*c.nCell)}
		y := []*Buffer{{DType: graph.Int8, I8: make([]int8, out.NumElements())}}
		name := "fast"
		if ref {
			name = "ref"
		}
		b.Run(name, func(b *testing.B) {
			runCPU(b, func() {
				clear(bufs[lstmOutputState].I8)
				clear(bufs[lstmCellState].I16)
				if err := k.Run(bufs, y); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
