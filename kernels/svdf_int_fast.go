package kernels

// The integer SVDF's fast path (svdfInt is the reference it is tested
// against). Per run: the state shifts by one element as in the reference
// (one memmove; TFLite's layout stays what the state tensor holds between
// runs), the feature product of all batch rows is one packed int8 GEMM whose
// requantization is the GEMM's own int8 output stage (int8 state) or a Go
// clamp to int16, the time products are vector dot products of int16
// weights with each filter's memory, and the output goes through the GEMM
// package's requantization with the bias as its per-unit bias.

import (
	"math"

	"github.com/qbench/qbench/kernels/gemm"
)

type svdfIntFast struct {
	ref  *svdfInt
	wf   *gemm.PackedS8
	rq1  *gemm.Requant // feature product → int8 state (nil: int16 state)
	rq2  *gemm.Requant // Σ rank + bias → int8 output
	wt   []int16       // weights_time, [nFilter][nMemory]
	pool freeList      // *svdfIntScratch
}

// svdfIntScratch is one Run's working memory.
type svdfIntScratch struct {
	feat []int8  // [batch][nFilter] new state column (int8 state)
	acc  []int32 // [batch][nFilter] feature (int16 state) then time products
	sum  []int32 // [batch][nUnit] rank sums (rank > 1)
}

func newSVDFIntFast(k *svdfInt) (*svdfIntFast, error) {
	g := k.g
	f := &svdfIntFast{ref: k, wt: make([]int16, len(k.wt))}
	for i, v := range k.wt {
		f.wt[i] = int16(v) // widened from int8 or int16 weights: exact
	}
	f.wf = gemm.PackS8Rows(max(g.batch, 1), k.wf, g.nFilter, g.nInput, g.nInput)
	// The reference rescales with k.rnd (always DoubleRounding, as TFLite's
	// SVDF does); the requantization stages take the same mode.
	if !k.state16 {
		m1, s1 := fill(g.nFilter, k.m1), fill(g.nFilter, k.s1)
		rq1, err := gemm.NewRequant(k.rnd, nil, m1, s1, 0, k.stMin, k.stMax)
		if err != nil {
			return nil, err
		}
		f.rq1 = rq1
	}
	rq2, err := gemm.NewRequant(k.rnd, k.b, fill(g.nUnit, k.m2), fill(g.nUnit, k.s2), k.outZP, math.MinInt8, math.MaxInt8)
	if err != nil {
		return nil, err
	}
	f.rq2 = rq2
	return f, nil
}

func fill[T any](n int, v T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func (f *svdfIntFast) scratch() *svdfIntScratch {
	if s, ok := f.pool.Get().(*svdfIntScratch); ok {
		return s
	}
	g := f.ref.g
	return &svdfIntScratch{
		feat: make([]int8, g.batch*g.nFilter),
		acc:  make([]int32, g.batch*g.nFilter),
		sum:  make([]int32, g.batch*g.nUnit),
	}
}

func (f *svdfIntFast) Run(ins, outs []*Buffer) error {
	k := f.ref
	g := k.g
	if g.batch == 0 || g.nUnit == 0 {
		return nil
	}
	s := f.scratch()
	defer f.pool.Put(s)
	x, y := ins[0].I8[:g.batch*g.nInput], outs[0].I8
	n := g.batch * g.nFilter * g.nMemory
	nf, nm := g.nFilter, g.nMemory
	acc := s.acc[:g.batch*nf]
	if k.state16 {
		st := ins[4].I16[:n]
		copy(st, st[1:])
		f.wf.Mul(g.batch, x, g.nInput, -k.inZP, acc, nf)
		for i, a := range acc {
			a = k.rnd.MultiplyByQuantizedMultiplier(a, k.m1, k.s1)
			st[i*nm+nm-1] = int16(min(max(a, k.stMin), k.stMax))
		}
		for b := range g.batch {
			timeDotsS16(st[b*nf*nm:(b+1)*nf*nm], f.wt, acc[b*nf:(b+1)*nf], nm)
		}
	} else {
		st := ins[4].I8[:n]
		copy(st, st[1:])
		feat := s.feat[:g.batch*nf]
		f.wf.MulRequant(g.batch, x, g.nInput, -k.inZP, f.rq1, feat, nf)
		for i, v := range feat {
			st[i*nm+nm-1] = v
		}
		for b := range g.batch {
			timeDotsS8(st[b*nf*nm:(b+1)*nf*nm], f.wt, acc[b*nf:(b+1)*nf], nm)
		}
	}
	sum := acc
	if g.rank > 1 {
		sum = s.sum[:g.batch*g.nUnit]
		for i := range sum {
			var t int32
			for _, v := range acc[i*g.rank : (i+1)*g.rank] {
				t += v
			}
			sum[i] = t
		}
	}
	f.rq2.Rows(g.batch, y, g.nUnit, sum, g.nUnit)
	return nil
}

// timeDotsS8 sets out[f] = Σ_m w[f·mem+m]·st[f·mem+m] for each of the
// len(out) filters (wrapping int32, as the reference's timeDot): the vector
// loop takes whole groups of 8 filters when it can, Go the rest.
func timeDotsS8(st []int8, w []int16, out []int32, mem int) {
	nf := len(out)
	st, w = st[:nf*mem], w[:nf*mem]
	done := svdfDotsS8Vec(st, w, out, mem)
	for f := done; f < nf; f++ {
		out[f] = timeDot16(w[f*mem:(f+1)*mem], st[f*mem:(f+1)*mem])
	}
}

// timeDotsS16 is timeDotsS8 for an int16 state.
func timeDotsS16(st []int16, w []int16, out []int32, mem int) {
	nf := len(out)
	st, w = st[:nf*mem], w[:nf*mem]
	done := svdfDotsS16Vec(st, w, out, mem)
	for f := done; f < nf; f++ {
		out[f] = timeDot16(w[f*mem:(f+1)*mem], st[f*mem:(f+1)*mem])
	}
}

// timeDot16 is timeDot with int16 weights.
func timeDot16[T int8 | int16](w []int16, st []T) int32 {
	st = st[:len(w)]
	var dot int32
	for i, v := range st {
		dot += int32(w[i]) * int32(v)
	}
	return dot
}
