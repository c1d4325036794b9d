package kernels

import "math"

// The int8 Winograd plans' epilogue with the requantization fused into
// the x output transform: winoOutRow's Aᵀ, exact division (by 24 in the
// 1-D plan, 576 in the 2-D one) and −zp·Σw, then requant.rowsInt8's
// arithmetic on the values still in registers, int8 stored directly.
// The unfused path stores a block of int32 accumulators and reads it
// back in a second pass. The vector form is the FP32 requantization
// (XNNPACK's float32 arithmetic, the TFLite runtime's for these layers):
// ymm kernels, and zmm ones on AVX-512 CPUs. Other requantizations
// (TFLite's double and single rounding), and CPUs or builds without the
// kernels, keep the unfused path (newWinoOutQ returns nil): a ymm form of
// double rounding, bit-exact too, measured no faster than it
// (BenchmarkWinoOutQ under the AVX2-only GODEBUG: 0.99–1.09× the unfused
// time per tile row; with AVX-512 1.75×, against the zmm
// requantization).

// winoOutQ is one plan's fused x output transform and requantization.
type winoOutQ struct {
	rq     *requant
	corr   []int32 // −zp·Σw per output channel
	by576  bool    // the 2-D plan's divisor (else 24)
	prm    []int32 // see winoOutQParams
	consts [12]int32
}

// newWinoOutQ prepares the fused epilogue of a plan with n = len(corr)
// output channels, or returns nil when there is no vector form for this
// CPU, build or requantization: anything but the FP32 requantization,
// parameters gemm's vector requantization rejects (rq.fast nil), or
// fewer than 8 channels.
func newWinoOutQ(rq *requant, corr []int32, by576 bool) *winoOutQ {
	n := len(corr)
	if !winoOutQVecOK() || !rq.fp32 || rq.fast == nil || n < 8 || rq.channels != n {
		return nil
	}
	q := &winoOutQ{rq: rq, corr: corr, by576: by576, prm: winoOutQParams(rq, corr)}
	shift, inv := int32(3), int32(inv3)
	if by576 {
		shift, inv = 6, inv9
	}
	// The kernels' consts: the shift (a qword), 1/odd, zp, lo and hi
	// (unused by the kernels), the float32 clamp bounds lo − zp and
	// hi − zp, the scales' byte offset in prm (a qword), and lo − zp
	// (wino2OutQFP32AVX2's int16 clamp).
	q.consts = [12]int32{shift, 0, inv, rq.outZP, rq.lo, rq.hi,
		int32(math.Float32bits(float32(rq.lo - rq.outZP))), int32(math.Float32bits(float32(rq.hi - rq.outZP))),
		int32(4 * winoOutQPad(n)), 0, rq.lo - rq.outZP}
	return q
}

// winoOutQPad is n channels rounded up to whole zmm registers (16).
func winoOutQPad(n int) int { return (n + 15) &^ 15 }

// winoOutQParams lays out the per-channel params of the vector kernels
// (padded with zeros to winoOutQPad(n), lanes computed and dropped):
// k = corr + bias (wrapping, as the unfused path's two additions), then
// the scales' bits.
func winoOutQParams(rq *requant, corr []int32) []int32 {
	n := len(corr)
	np := winoOutQPad(n)
	p := make([]int32, 2*np)
	for c := range n {
		p[c] = corr[c] + rq.biasOr0[c]
		p[np+c] = int32(math.Float32bits(rq.scale[c]))
	}
	return p
}

// row turns one output row's products (tile tx's product ξ at
// src[ξ·plane + tx·N + c]) into the int8 outputs of its outW pixels of N
// channels at dst: winoOutRow followed by rq.rowsInt8, bit for bit.
func (q *winoOutQ) row(dst []int8, src []int32, plane, tiles, outW, N int) {
	_ = src[5*plane+tiles*N-1]
	_ = dst[outW*N-1]
	full := outW / 4
	cv := N &^ 7
	if full > 0 {
		winoOutQVec(q, dst, src, plane, full, N, cv)
		if cv < N {
			winoOutQGo(q, dst, src, plane, 0, full, 4, N, cv)
		}
	}
	if full < tiles {
		w := outW - 4*full
		winoOutQTailVec(q, dst[4*full*N:outW*N], src[full*N:], plane, w, N, cv)
		if cv < N {
			winoOutQGo(q, dst, src, plane, full, tiles, w, N, cv)
		}
	}
}

// winoOutQGo is row's plain-Go loop (and the vector kernels' reference)
// for tiles t0..t1−1 (w pixels each, w < 4 only for the last) and
// channels c0..N−1: winoOutGo's arithmetic, then requant.apply32.
func winoOutQGo(q *winoOutQ, dst []int8, src []int32, plane, t0, t1, w, N, c0 int) {
	corr := q.corr[:N]
	for tx := t0; tx < t1; tx++ {
		s := src[tx*N:]
		d := dst[4*tx*N : (4*tx+w)*N]
		for c := c0; c < N; c++ {
			m0, m1, m2, m3, m4, m5 := s[c], s[plane+c], s[2*plane+c], s[3*plane+c], s[4*plane+c], s[5*plane+c]
			a, b, cc, dd := m1+m2, m1-m2, m3+m4, m3-m4
			y := [4]int32{m0 + a + cc, b + 2*dd, a + 4*cc, m5 + b + 8*dd}
			for i := range w {
				v := div24(y[i])
				if q.by576 {
					v = div576(y[i])
				}
				d[i*N+c] = int8(q.rq.apply32(v+corr[c], c))
			}
		}
	}
}
