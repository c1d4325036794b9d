package gemm

import (
	"fmt"
	"math"
	"sync"

	"github.com/qbench/qbench/kernels/fixedpoint"
)

// Requant is the output stage of TFLite's int8 conv and fully connected
// kernels, per output channel j:
//
//	out = clamp(MultiplyByQuantizedMultiplier(acc + bias[j], mult[j], shift[j]) + outZP, lo, hi)
//
// in either of TFLite's arithmetics (fixedpoint.Rounding): DoubleRounding,
// SaturatingRoundingDoublingHighMul(x·2^max(shift,0), mult) followed by
// RoundingDivideByPOT(·, max(−shift,0)) as in TFLite's reference kernels
// and TFLite Micro; or SingleRounding, (x·mult + 2^(30−shift)) >> (31−shift)
// in 64 bits as in the TFLite runtime. It is read-only after NewRequant
// and safe for concurrent use.
type Requant struct {
	n             int
	single        bool
	bias, mult    []int32
	left, right   []int32
	outZP, lo, hi int32
	// params is the vector layout: per group of 16 channels, 16 each of
	// bias, mult, left, right, mask (2^right−1) and mask>>1; the last
	// group is padded with harmless values.
	params []int32
	// zlh is outZP, lo, hi and, for fp32, the float32 bits of lo − outZP
	// and hi − outZP (the float clamp before rounding).
	zlh [5]int32
	// fp32: XNNPACK's float32 requantization (NewRequantFP32) with scale
	// per channel instead of mult and shifts.
	fp32  bool
	scale []float32
	asm   requantRowsFunc // the vector loop, nil without one
	// asm8: asm takes only whole groups of 8 channels (the AVX2 loops);
	// rows does each row's last n mod 8 channels in Go.
	asm8 bool
	// fast: params has the fast layout (fastParams), which the fused
	// segmented kernels of the same rounding read.
	fast bool
	// wideP is the parameter block of the fused AVX2 kernels (see
	// wideParams), nil when the parameters are outside their range.
	wideP []int32
	// consts8 holds outZP, lo, hi (int32) and, for fp32, lo − outZP and
	// hi − outZP (float32), each repeated in 8 lanes, for the AVX2
	// kernels, which have no broadcast operands.
	consts8 [40]int32
}

// NewRequant validates and prepares per-channel parameters for n = len(mult)
// channels in the given arithmetic. bias may be nil (no bias).
// Multipliers must be ≥ 0 (TFLite's are in [2^30, 2^31) or 0) and shifts
// in [−31, 30]; lo ≤ hi.
func NewRequant(mode fixedpoint.Rounding, bias, mult []int32, shift []int, outZP, lo, hi int32) (*Requant, error) {
	n := len(mult)
	if len(shift) != n || (bias != nil && len(bias) != n) {
		return nil, fmt.Errorf("gemm: requant: %d multipliers, %d shifts, %d biases", n, len(shift), len(bias))
	}
	if lo > hi {
		return nil, fmt.Errorf("gemm: requant: clamp range [%d, %d] is empty", lo, hi)
	}
	r := &Requant{n: n, single: mode == fixedpoint.SingleRounding, mult: append([]int32(nil), mult...), outZP: outZP, lo: lo, hi: hi,
		bias: make([]int32, n), left: make([]int32, n), right: make([]int32, n)}
	copy(r.bias, bias)
	for j := 0; j < n; j++ {
		if mult[j] < 0 {
			return nil, fmt.Errorf("gemm: requant: channel %d: negative multiplier %d", j, mult[j])
		}
		if shift[j] < -31 || shift[j] > 30 {
			return nil, fmt.Errorf("gemm: requant: channel %d: shift %d outside [-31, 30]", j, shift[j])
		}
		if shift[j] > 0 {
			r.left[j] = int32(shift[j])
		} else {
			r.right[j] = int32(-shift[j])
		}
	}
	r.params = r.stdParams()
	r.zlh = [5]int32{outZP, lo, hi}
	r.asm = requantRowsAsm(r.single)
	if r.asm == nil && !r.single && lo >= -128 && hi <= 127 { // its packs saturate to int8
		r.asm = requantDoubleAVX2Asm()
		r.asm8 = r.asm != nil
	}
	r.setConsts8()
	if fp := r.fastParams(); fp != nil {
		r.wideP = wideParams(fp)
		if asm := requantFastAsm(r.single, lo > -128 || hi < 127); asm != nil {
			r.params, r.asm, r.fast, r.asm8 = fp, asm, true, false
		}
	}
	return r, nil
}

// stdParams returns the general parameter layout of requantRowsAsm's
// loops (and the AVX2 double-rounding loop), per group of 16 channels.
func (r *Requant) stdParams() []int32 {
	n := r.n
	groups := (n + 15) / 16
	params := make([]int32, groups*96)
	for j := 0; j < groups*16; j++ {
		g, l := j/16, j%16
		p := params[g*96:]
		if j >= n {
			continue // zeros: any value works, the lanes are discarded
		}
		if r.single {
			// int64 lanes: shift counts at 32 (even channels) and 48
			// (odd), rounding terms at 64 and 80, each 8 qwords.
			total := int64(31 - (r.left[j] - r.right[j]))
			q := 32 + (l%2)*16 + (l/2)*2
			p[l], p[16+l] = r.bias[j], r.mult[j]
			p[q], p[q+1] = int32(total), 0
			round := int64(1) << (total - 1)
			p[q+32], p[q+33] = int32(uint32(round)), int32(uint32(round>>32))
			continue
		}
		mask := int32(uint32(1)<<uint(r.right[j]) - 1)
		p[l], p[16+l], p[32+l], p[48+l], p[64+l], p[80+l] = r.bias[j], r.mult[j], r.left[j], r.right[j], mask, mask>>1
	}
	return params
}

// NewRequantFP32 prepares XNNPACK's float32 requantization
// (fixedpoint.FP32Requantize) of n = len(scale) channels, the TFLite
// runtime's arithmetic for the int8 layers its default delegate takes:
//
//	out = clamp(roundHalfEven(float32(acc + bias[j]) · scale[j]), lo − outZP, hi − outZP) + outZP
//
// with acc + bias wrapping in int32. bias may be nil. Scales must be
// finite and non-negative, [lo, hi] inside int8 and around outZP's reach
// (|outZP| ≤ 255), so the float clamp bounds are exact.
func NewRequantFP32(bias []int32, scale []float32, outZP, lo, hi int32) (*Requant, error) {
	n := len(scale)
	if bias != nil && len(bias) != n {
		return nil, fmt.Errorf("gemm: requant: %d scales, %d biases", n, len(bias))
	}
	if lo > hi || lo < -128 || hi > 127 {
		return nil, fmt.Errorf("gemm: requant: clamp range [%d, %d] is empty or outside int8", lo, hi)
	}
	if outZP < -255 || outZP > 255 {
		return nil, fmt.Errorf("gemm: requant: output zero point %d out of range", outZP)
	}
	r := &Requant{n: n, fp32: true, scale: append([]float32(nil), scale...), outZP: outZP, lo: lo, hi: hi,
		bias: make([]int32, n)}
	copy(r.bias, bias)
	for j, sc := range scale {
		if !(sc >= 0 && sc <= math.MaxFloat32) {
			return nil, fmt.Errorf("gemm: requant: channel %d: scale %g", j, sc)
		}
	}
	// The fast layout's group stride (112 int32), so the fused kernels
	// address fp32 and fixed-point params alike: bias, then the scales.
	groups := (n + 15) / 16
	r.params = make([]int32, groups*112)
	for j := range n {
		g, l := j/16, j%16
		r.params[g*112+l] = r.bias[j]
		r.params[g*112+16+l] = int32(math.Float32bits(scale[j]))
	}
	r.zlh = [5]int32{outZP, lo, hi, int32(math.Float32bits(float32(lo - outZP))), int32(math.Float32bits(float32(hi - outZP)))}
	r.wideP = padWideGroups(r.params)
	r.setConsts8()
	if asm := requantFP32Asm(lo > -128 || hi < 127); asm != nil {
		r.asm, r.fast = asm, true
	} else if asm := requantFP32AVX2Asm(); asm != nil {
		r.asm, r.asm8 = asm, true
	}
	return r, nil
}

// FP32 reports whether r is XNNPACK's float32 requantization.
func (r *Requant) FP32() bool { return r.fp32 }

// fastParams returns the parameter layout of the fast requantization
// loops and fused kernels, or nil when the requantization is outside
// their range: every channel's total shift t = 31 − shift in [32, 54]
// (multipliers below 0.5 and not tiny, as conv and dense layers have)
// and |outZP| ≤ 128, so that x·mult + 2^(t−1) + outZP·2^t stays inside
// int64 (|x·mult| < 2^62), and [lo, hi] inside int8. Adding outZP·2^t
// before the shift adds exactly outZP after it, wrapping in int32 as the
// reference's addition does. Per group of 16 channels, 112 int32: bias,
// mult, the odd channels' mults in the even dwords, then 8 int64 each of
// the even and odd channels' rounding terms, the even channels' t and
// the odd ones' t − 32 (which puts their result in the high dword).
//
// Double rounding uses the same layout with 2^30 more in the rounding
// term: its high multiply's rounding and RoundingDivideByPOT's merge
// into one shift by t, the kernels subtracting 2^31 where the product is
// negative (see internal/asmgen/s8_double.go for the derivation). In
// that range the left shift is 0 and the right shift e = t − 31 ≥ 1.
func (r *Requant) fastParams() []int32 {
	if r.fp32 {
		return nil // NewRequantFP32 has its own layout
	}
	if r.outZP < -128 || r.outZP > 128 || r.lo < -128 || r.hi > 127 {
		return nil
	}
	for j := range r.n {
		if t := 31 - (r.left[j] - r.right[j]); t < 32 || t > 54 {
			return nil
		}
	}
	groups := (r.n + 15) / 16
	p := make([]int32, groups*112)
	for j := range r.n {
		g, l := j/16, j%16
		q := p[g*112 : (g+1)*112]
		put64 := func(i int, v int64) { q[i], q[i+1] = int32(uint32(v)), int32(uint32(v>>32)) }
		t := int64(31 - (r.left[j] - r.right[j]))
		q[l], q[16+l] = r.bias[j], r.mult[j]
		round := int64(1)<<(t-1) + int64(r.outZP)<<t
		if !r.single {
			round += 1 << 30
		}
		if l%2 == 0 {
			put64(48+l, round)
			put64(80+l, t)
			continue
		}
		q[32+l-1] = r.mult[j]
		put64(64+l-1, round)
		put64(96+l-1, t-32)
	}
	return p
}

// N returns the number of channels.
func (r *Requant) N() int { return r.n }

// one requantizes channel j's accumulator in plain Go.
func (r *Requant) one(acc int32, j int) int8 {
	if r.fp32 {
		return int8(fixedpoint.FP32Requantize(acc+r.bias[j], r.scale[j], r.outZP, r.lo, r.hi))
	}
	if r.single {
		total := uint(31 - (r.left[j] - r.right[j]))
		x := int32((int64(acc+r.bias[j])*int64(r.mult[j]) + int64(1)<<(total-1)) >> total)
		x += r.outZP
		return int8(min(max(x, r.lo), r.hi))
	}
	x := (acc + r.bias[j]) << uint(r.left[j])
	// SaturatingRoundingDoublingHighMul: with a non-negative multiplier
	// the only overflow case (both −2^31) cannot occur, and adding 2^30
	// then flooring equals TFLite's sign-dependent nudge with truncation.
	x = int32((int64(x)*int64(r.mult[j]) + 1<<30) >> 31)
	if e := uint(r.right[j]); e > 0 {
		mask := int32(uint32(1)<<e - 1)
		rem, thr := x&mask, mask>>1
		if x < 0 {
			thr++
		}
		x >>= e
		if rem > thr {
			x++
		}
	}
	x += r.outZP
	return int8(min(max(x, r.lo), r.hi))
}

// Row requantizes one row of n accumulators into dst (len ≥ n).
func (r *Requant) Row(dst []int8, acc []int32) {
	n := r.n
	if len(acc) < n || len(dst) < n {
		panic(fmt.Sprintf("gemm: Requant.Row: %d accumulators, %d outputs, need %d", len(acc), len(dst), n))
	}
	r.rows(1, dst, n, acc, n)
}

// Rows requantizes rows rows of n accumulators (row stride lda) into dst
// (row stride ldo), in one call of the vector loop when there is one.
func (r *Requant) Rows(rows int, dst []int8, ldo int, acc []int32, lda int) {
	n := r.n
	if rows <= 0 || n == 0 {
		return
	}
	if lda < n || ldo < n || len(acc) < (rows-1)*lda+n || len(dst) < (rows-1)*ldo+n {
		panic(fmt.Sprintf("gemm: Requant.Rows: %d rows of %d: %d accumulators (stride %d), %d outputs (stride %d)", rows, n, len(acc), lda, len(dst), ldo))
	}
	r.rows(rows, dst, ldo, acc, lda)
}

// rows requantizes rows rows of n accumulators (row stride lda) into dst
// (row stride ldo); the caller has checked the lengths. The vector loop
// takes the whole block in one call: per-row calls would cost more in
// set-up than the 16 to 32 channels of a small layer's row do in work.
func (r *Requant) rows(rows int, dst []int8, ldo int, acc []int32, lda int) {
	n := r.n
	if rows <= 0 || n == 0 {
		return
	}
	j0 := 0
	if asm := r.asm; asm != nil {
		m := n
		if r.asm8 {
			m = n &^ 7
		}
		if m > 0 {
			_, _ = acc[(rows-1)*lda+m-1], dst[(rows-1)*ldo+m-1]
			asm(rows, m, &acc[0], lda, &r.params[0], &dst[0], ldo, &r.zlh[0])
		}
		if m == n {
			return
		}
		j0 = m
	}
	for i := range rows {
		d, a := dst[i*ldo:i*ldo+n], acc[i*lda:i*lda+n]
		for j := j0; j < n; j++ {
			d[j] = r.one(a[j], j)
		}
	}
}

// rowsPerChunk bounds the int32 scratch of MulRequant (≈ 32 KiB, L1).
const requantChunkBytes = 32 << 10

var i32Pool = sync.Pool{New: func() any { return new([]int32) }}

// MulRequant computes the int8 output of a TFLite int8 conv or fully
// connected layer: out[i][j] = rq(Σ_p (A[i][p] + aOffset)·B[j][p]) for A
// m×K (row stride lda) and out m×N (row stride ldo). Accumulators go
// through a small cache-resident scratch, so C never round-trips to
// memory. The result is bit-exact with GemmS8Ref followed by rq per
// element.
func (p *PackedS8) MulRequant(m int, a []int8, lda int, aOffset int32, rq *Requant, out []int8, ldo int) {
	p.MulRequantThreads(1, m, a, lda, aOffset, rq, out, ldo)
}

// MulRequantThreads is MulRequant split over up to threads goroutines.
func (p *PackedS8) MulRequantThreads(threads, m int, a []int8, lda int, aOffset int32, rq *Requant, out []int8, ldo int) {
	if m < 0 {
		panic(fmt.Sprintf("gemm: MulRequant: negative m=%d", m))
	}
	if p.segQ > 0 {
		panic("gemm: MulRequant: weights packed by PackS8Segmented need MulRequantSegmented")
	}
	checkLen("A", len(a), m, p.k, lda)
	if threads <= 1 {
		p.requantRange(0, m, rq, out, ldo, func(i0, rows int, acc []int32) {
			p.mulThreads(1, rows, a[i0*lda:], lda, aOffset, acc, p.n)
		})
		return
	}
	p.requantChunks(threads, m, rq, out, ldo, func(i0, rows int, acc []int32) {
		p.mulThreads(1, rows, a[i0*lda:], lda, aOffset, acc, p.n)
	})
}

// requantRange is requantChunks for one goroutine and rows [r0, r1); it
// lets acc stay on the caller's stack.
func (p *PackedS8) requantRange(r0, r1 int, rq *Requant, out []int8, ldo int, acc func(i0, rows int, scratch []int32)) {
	if rq == nil || rq.n != p.n {
		panic(fmt.Sprintf("gemm: MulRequant: requant for %d channels, weights have %d", rqN(rq), p.n))
	}
	checkLen("out", len(out), r1, p.n, ldo)
	if r1 <= r0 || p.n == 0 {
		return
	}
	n := p.n
	chunk := p.requantChunk()
	bufp := i32Pool.Get().(*[]int32)
	defer i32Pool.Put(bufp)
	if cap(*bufp) < chunk*n {
		*bufp = make([]int32, chunk*n)
	}
	scratch := (*bufp)[:chunk*n]
	for i0 := r0; i0 < r1; i0 += chunk {
		rows := min(chunk, r1-i0)
		acc(i0, rows, scratch)
		rq.rows(rows, out[i0*ldo:], ldo, scratch, n)
	}
}

// requantChunk is the row count of one scratch chunk (a multiple of mr).
func (p *PackedS8) requantChunk() int {
	mr := p.kern.mr
	return max(mr, requantChunkBytes/(4*max(p.n, 1))/mr*mr)
}

// requantChunks computes the int32 accumulators of rows [i0, i0+rows)
// with acc (into a cache-sized scratch of row stride n) and requantizes
// them into out, chunk by chunk and split over threads.
func (p *PackedS8) requantChunks(threads, m int, rq *Requant, out []int8, ldo int, acc func(i0, rows int, scratch []int32)) {
	if rq == nil || rq.n != p.n {
		panic(fmt.Sprintf("gemm: MulRequant: requant for %d channels, weights have %d", rqN(rq), p.n))
	}
	checkLen("out", len(out), m, p.n, ldo)
	if m == 0 || p.n == 0 {
		return
	}
	parallelRows(threads, m, p.requantChunk(), func(r0, r1 int) {
		p.requantRange(r0, r1, rq, out, ldo, acc)
	})
}

func rqN(rq *Requant) int {
	if rq == nil {
		return -1
	}
	return rq.n
}
