package kernels

import (
	"math"
)

// The hybrid kernels' per-image passes — the input's range, its
// quantization to int8, and the float rescale of every output — take the
// vector loops of hybrid_amd64.s when they compute exactly what the Go
// references (hybridSymmetricRef, hybridAsymmetricRef,
// hybridEpilogueRef) compute, and the references otherwise: inputs with a
// NaN or an infinity, a reciprocal scale that overflows, no AVX-512, or
// -tags noasm.

// hybridSymmetric is hybridSymmetricRef, with the vector loops when x is
// finite and 127/max|x| is too.
func hybridSymmetric(dst []int8, x []float32) float32 {
	if lo, hi, ok := hybridRangeVec(x); ok {
		r := max(float32(math.Abs(float64(lo))), float32(math.Abs(float64(hi))))
		if r == 0 {
			clear(dst[:len(x)])
			return 1
		}
		// |x·inv| ≤ 127·(1+2⁻²³) when inv is finite, well inside the
		// vector rounding's exact range.
		if inv := 127 / r; inv <= math.MaxFloat32 && hybridQuantVec(dst, x, inv, 0, -127, 127) {
			return r / 127
		}
	}
	return hybridSymmetricRef(dst, x)
}

// hybridAsymmetric is hybridAsymmetricRef, with the vector loops when x is
// finite and 1/scale is too.
func hybridAsymmetric(dst []int8, x []float32) (float32, int32) {
	if lo, hi, ok := hybridRangeVec(x); ok {
		sf, zp, ok := hybridAsymParams(lo, hi)
		if !ok {
			clear(dst[:len(x)])
			return 1, 0
		}
		// A finite 1/sf means sf ≥ 2⁻¹²⁸, which keeps 21 significant
		// bits, so |x·inv| ≤ 255·(1+2⁻²⁰) and |zp + x·inv| < 384.
		if inv := 1 / sf; inv <= math.MaxFloat32 && hybridQuantVec(dst, x, inv, float32(zp), -128, 127) {
			return sf, zp
		}
	}
	return hybridAsymmetricRef(dst, x)
}

// hybridEpilogue writes rows rows of n = len(sc) outputs:
// dst[i·n+j] = clamp(float32(acc[i·n+j] − off[j])·sc[j] + bias[j], lo, hi),
// the int32 difference wrapping, the product and the sum rounded
// separately (no fused multiply-add), as TFLite computes them. vec allows
// the vector loop; it must be false when a bias, lo or hi is −0, the one
// case where the vector min and max differ from Go's (they return their
// second operand for equal zeros).
func hybridEpilogue(dst []float32, acc []int32, rows int, off []int32, sc, bias []float32, lo, hi float32, vec bool) {
	if vec && hybridOutVec(dst, acc, rows, off, sc, bias, lo, hi) {
		return
	}
	hybridEpilogueRef(dst, acc, rows, off, sc, bias, lo, hi)
}

// hybridEpilogueRef is hybridEpilogue's Go loop.
func hybridEpilogueRef(dst []float32, acc []int32, rows int, off []int32, sc, bias []float32, lo, hi float32) {
	n := len(sc)
	off, bias = off[:n], bias[:n]
	for i := 0; i < rows; i++ {
		d, a := dst[i*n:(i+1)*n], acc[i*n:(i+1)*n]
		for j, s := range sc {
			v := float32(float32(a[j]-off[j])*s) + bias[j]
			d[j] = min(max(v, lo), hi)
		}
	}
}

// epilogueVecSafe reports whether hybridEpilogue may take the vector loop
// for this bias and clamp range: none of them is −0.
func epilogueVecSafe(bias []float32, lo, hi float32) bool {
	negZero := func(v float32) bool { return math.Float32bits(v) == 0x80000000 }
	if negZero(lo) || negZero(hi) {
		return false
	}
	for _, b := range bias {
		if negZero(b) {
			return false
		}
	}
	return true
}

// hybridEpi is one Run's per-image epilogue vectors: the output scales
// and the zero point's share of each dot product.
type hybridEpi struct {
	sc  []float32
	off []int32
}

// hybridEpiPool hands out hybridEpi values of n outputs.
type hybridEpiPool struct{ p freeList }

func newHybridEpiPool(n int) *hybridEpiPool {
	ep := &hybridEpiPool{}
	ep.p.New = func() any { return &hybridEpi{sc: make([]float32, n), off: make([]int32, n)} }
	return ep
}

func (ep *hybridEpiPool) get() *hybridEpi  { return ep.p.Get().(*hybridEpi) }
func (ep *hybridEpiPool) put(e *hybridEpi) { ep.p.Put(e) }
