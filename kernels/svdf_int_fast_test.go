package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// svdfIntCase is one random integer SVDF: its tensors and a starting state.
type svdfIntCase struct {
	batch, nIn, rank, nUnit, nMem int
	state16                       bool
	ins                           []*graph.Tensor
	out                           *graph.Tensor
	st0                           []int64 // initial state values
}

func (c svdfIntCase) String() string {
	return fmt.Sprintf("batch %d input %d rank %d units %d memory %d int16 state %v",
		c.batch, c.nIn, c.rank, c.nUnit, c.nMem, c.state16)
}

func randomSVDFInt(rng *rand.Rand, batch, nIn, rank, nUnit, nMem int, state16, bias bool) svdfIntCase {
	c := svdfIntCase{batch: batch, nIn: nIn, rank: rank, nUnit: nUnit, nMem: nMem, state16: state16}
	nf := rank * nUnit
	q := func(s float64, zp int) *graph.Quantization {
		return &graph.Quantization{Scale: []float32{float32(s)}, ZeroPoint: []int64{int64(zp)}}
	}
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	wf := make([]int8, nf*nIn)
	for i := range wf {
		wf[i] = int8(rng.IntN(256) - 128)
	}
	stDT := graph.Int8
	var wtData []byte
	if state16 {
		stDT = graph.Int16
		wt := make([]int16, nf*nMem)
		for i := range wt {
			wt[i] = int16(rng.IntN(1<<16) - 1<<15)
		}
		wtData = graph.EncodeInt16s(wt)
	} else {
		wt := make([]int8, nf*nMem)
		for i := range wt {
			wt[i] = int8(rng.IntN(256) - 128)
		}
		wtData = graph.EncodeInt8s(wt)
	}
	sIn, sWF, sWT, sSt, sOut := u(0.01, 0.1), u(0.002, 0.02), u(1e-5, 1e-2), u(1e-3, 1), u(0.05, 5)
	c.ins = []*graph.Tensor{
		{DType: graph.Int8, Shape: []int{batch, nIn}, Quant: q(sIn, rng.IntN(256)-128)},
		{DType: graph.Int8, Shape: []int{nf, nIn}, Data: graph.EncodeInt8s(wf), Quant: q(sWF, 0)},
		{DType: stDT, Shape: []int{nf, nMem}, Data: wtData, Quant: q(sWT, 0)},
		nil,
		{DType: stDT, Shape: []int{batch, nf * nMem}, Variable: true, Quant: q(sSt, 0)},
	}
	if bias {
		b := make([]int32, nUnit)
		for i := range b {
			b[i] = int32(rng.IntN(1<<20) - 1<<19)
		}
		c.ins[3] = &graph.Tensor{DType: graph.Int32, Shape: []int{nUnit}, Data: graph.EncodeInt32s(b), Quant: q(sSt*sWT, 0)}
	}
	c.out = &graph.Tensor{DType: graph.Int8, Shape: []int{batch, nUnit}, Quant: q(sOut, rng.IntN(256)-128)}
	lo, hi := -128, 127
	if state16 {
		lo, hi = -32768, 32767
	}
	c.st0 = make([]int64, batch*nf*nMem)
	for i := range c.st0 {
		c.st0[i] = int64(lo + rng.IntN(hi-lo+1))
	}
	return c
}

// run prepares the case (reference or fast) and runs it for the given
// inputs, returning every step's output and the state after each step.
func (c svdfIntCase) run(t *testing.T, ref bool, rnd fixedpoint.Rounding, xs [][]int8) (ys [][]int8, states [][]int64) {
	t.Helper()
	op := &graph.Op{Kind: graph.OpSVDF, Options: &graph.SVDFOptions{Rank: c.rank, Activation: graph.ActRelu}}
	k, err := prepareSVDF(&prep{op: op, ins: c.ins, outs: []*graph.Tensor{c.out}, rnd: rnd, ref: ref})
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	if _, fast := k.(*svdfIntFast); fast == ref {
		t.Fatalf("%v: ref=%v prepared a %T", c, ref, k)
	}
	st := &Buffer{DType: c.ins[4].DType, Shape: c.ins[4].Shape}
	if c.state16 {
		st.I16 = make([]int16, len(c.st0))
		for i, v := range c.st0 {
			st.I16[i] = int16(v)
		}
	} else {
		st.I8 = make([]int8, len(c.st0))
		for i, v := range c.st0 {
			st.I8[i] = int8(v)
		}
	}
	for _, x := range xs {
		y := &Buffer{DType: graph.Int8, Shape: c.out.Shape, I8: make([]int8, c.batch*c.nUnit)}
		in := &Buffer{DType: graph.Int8, Shape: c.ins[0].Shape, I8: x}
		if err := k.Run([]*Buffer{in, nil, nil, nil, st}, []*Buffer{y}); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		ys = append(ys, y.I8)
		s := make([]int64, len(c.st0))
		for i := range s {
			if c.state16 {
				s[i] = int64(st.I16[i])
			} else {
				s[i] = int64(st.I8[i])
			}
		}
		states = append(states, s)
	}
	return ys, states
}

// TestSVDFIntFastMatchesReference: the integer SVDF's fast path (GEMM
// feature product, vector time products, GEMM requantization) gives the
// reference's outputs and states, byte for byte, over several steps of
// carried state, on random shapes (odd input and unit counts, filter
// counts off multiples of 8, memories that the vector loop takes and ones
// it leaves to Go), ranks 1 and 2, batch 1, 3 and 64, int8 and int16
// states, with and without bias, full-range weights and starting states,
// and every Rounding mode (the SVDF computes all of them the same way).
func TestSVDFIntFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 5))
	mems := []int{1, 2, 3, 5, 7, 8, 9, 10, 16, 24, 32, 40, 64}
	modes := []fixedpoint.Rounding{fixedpoint.RuntimeRounding, fixedpoint.SingleRounding, fixedpoint.DoubleRounding}
	trials := 60
	if testing.Short() {
		trials = 20
	}
	for trial := range trials {
		batch := []int{1, 3, 64}[trial%3]
		nIn := 1 + rng.IntN(100)
		rank := 1 + rng.IntN(2)
		nUnit := 1 + rng.IntN(40)
		nMem := mems[rng.IntN(len(mems))]
		c := randomSVDFInt(rng, batch, nIn, rank, nUnit, nMem, trial%2 == 1, trial%5 != 0)
		xs := make([][]int8, 4)
		for i := range xs {
			xs[i] = make([]int8, batch*nIn)
			for j := range xs[i] {
				xs[i][j] = int8(rng.IntN(256) - 128)
			}
		}
		rnd := modes[trial%len(modes)]
		wantY, wantS := c.run(t, true, rnd, xs)
		gotY, gotS := c.run(t, false, rnd, xs)
		for step := range xs {
			if !slices.Equal(gotY[step], wantY[step]) {
				t.Fatalf("%v, %v, step %d: output\n got %v\nwant %v", c, rnd, step, gotY[step], wantY[step])
			}
			if !slices.Equal(gotS[step], wantS[step]) {
				t.Fatalf("%v, %v, step %d: state differs", c, rnd, step)
			}
		}
	}
}

// TestSVDFTimeDotsVec: the vector time products equal timeDot16 on random
// and extreme values (every product −128·−32768 or −32768·−32768, whose
// pair sums wrap int32 in VPMADDWD exactly as the Go loop's sum), for
// filter counts around multiples of 8 and memories that are multiples of
// 8 (the vector loop's) or not (Go's).
func TestSVDFTimeDotsVec(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 6))
	for _, mem := range []int{1, 4, 8, 16, 24, 32, 48, 72} {
		for _, nf := range []int{1, 7, 8, 9, 16, 23, 64} {
			for fill := range 3 {
				w := make([]int16, nf*mem)
				s8 := make([]int8, nf*mem)
				s16 := make([]int16, nf*mem)
				for i := range w {
					switch fill {
					case 0:
						w[i], s8[i], s16[i] = int16(rng.IntN(1<<16)-1<<15), int8(rng.IntN(256)-128), int16(rng.IntN(1<<16)-1<<15)
					case 1:
						w[i], s8[i], s16[i] = -32768, -128, -32768
					case 2:
						w[i], s8[i], s16[i] = 32767, 127, 32767
					}
				}
				got8, got16 := make([]int32, nf), make([]int32, nf)
				timeDotsS8(s8, w, got8, mem)
				timeDotsS16(s16, w, got16, mem)
				for f := range nf {
					if want := timeDot16(w[f*mem:(f+1)*mem], s8[f*mem:(f+1)*mem]); got8[f] != want {
						t.Fatalf("int8 state, memory %d, %d filters, fill %d: filter %d: %d, want %d", mem, nf, fill, f, got8[f], want)
					}
					if want := timeDot16(w[f*mem:(f+1)*mem], s16[f*mem:(f+1)*mem]); got16[f] != want {
						t.Fatalf("int16 state, memory %d, %d filters, fill %d: filter %d: %d, want %d", mem, nf, fill, f, got16[f], want)
					}
				}
			}
		}
	}
}
