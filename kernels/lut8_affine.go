package kernels

import (
	"math"

	"github.com/qbench/qbench/graph"
)

// The 8-bit rescaling ops (RELU, RELU6, RELU_N1_TO_1, QUANTIZE between
// 8-bit types, …) are tabulated at prepare (lut8For) and run as a byte
// lookup. AVX-512 looks a byte up in one permute, but AVX2 has only the
// 16-entry VPSHUFB, and its 256-entry lookup takes 16 shuffles, 15
// subtractions and 15 XORs per 32 bytes (lookup8AVX2). A table that is a
// rounded affine function of its input clipped to a range — what every
// rescale with a clamp is — can instead be computed with a handful of
// 16-bit vector operations; affine8 holds such a form, found and verified
// against the table over every one of the 256 inputs at prepare
// (fitAffine8), so the result is the table's exactly, whatever arithmetic
// filled it (double or single rounding, XNNPACK's). Tables that no form
// reproduces keep the lookup. It runs on every CPU without VBMI
// (useAffine8: AVX2-only, and AVX-512BW ones, whose word-permute lookup
// costs as much).

// affine8 is a byte map computed as, per input byte x,
//
//	s = x (int8 input) or x − 128 (uint8 input: x XOR 0x80 read as int8)
//	u = 256·s + c                  (int16: x in the high byte, c the low)
//	t = (u·m + 2^14) >> 15         (VPMULHRSW)
//	v = sat16(t + b) >> sh         (VPADDSW, VPSRAW)
//	y = clamp(sat8(v), lo, hi)     (VPACKSSWB or VPACKUSWB, then min/max)
//
// with sat8 the output dtype's saturation. Without saturation, y before
// the clamp is ⌊((256·s + c)·m + 2^14 + 2^15·b) / 2^(15+sh)⌋: the slope
// m/2^(7+sh) has 15 bits, and c and b place the offset finely.
type affine8 struct {
	c, xor uint8 // xor: 0x80 for uint8 input, else 0
	m, b   int16
	sh     uint64
	lo, hi uint8 // the clamp bounds, the output's bit patterns
	signed bool  // int8 output (else uint8)
	ok     bool
	uIn    bool // uint8 input
}

// eval is the form's result for input byte x (the output's bit pattern),
// the Go statement of what the vector loop computes.
func (a *affine8) eval(x uint8) uint8 {
	s := int32(int8(x ^ a.xor))
	u := s*256 + int32(a.c)
	t := (u*int32(a.m) + 1<<14) >> 15
	v := min(max(t+int32(a.b), math.MinInt16), math.MaxInt16) >> a.sh
	if a.signed {
		v = min(max(v, math.MinInt8), math.MaxInt8)
		return uint8(int8(min(max(v, int32(int8(a.lo))), int32(int8(a.hi)))))
	}
	v = min(max(v, 0), math.MaxUint8)
	return uint8(min(max(v, int32(a.lo)), int32(a.hi)))
}

// affine8Budget bounds the multipliers fitAffine8 tries per shift, so that
// a table no form fits (LOGISTIC's curve) costs little at prepare.
const affine8Budget = 48

// fitAffine8 looks for an affine8 form computing t, the table of an op
// from the 8-bit dtype in to the 8-bit dtype out (entry uint8(x): the
// output bit pattern for input bit pattern x), and verifies it on all 256
// inputs; ok is false when none is found (the table is not
// non-decreasing, or not an affine function clipped to a range within the
// form's precision).
func fitAffine8(t *[256]uint8, in, out graph.DType) affine8 {
	if !is8Bit(in) || !is8Bit(out) {
		return affine8{}
	}
	a := affine8{signed: out == graph.Int8, uIn: in == graph.UInt8}
	if a.uIn {
		a.xor = 0x80
	}
	// f[i] is the output value (as a number) for s = i − 128.
	var f [256]int64
	for i := range f {
		x := uint8(int8(i - 128))
		if a.uIn {
			x = uint8(i)
		}
		if a.signed {
			f[i] = int64(int8(t[x]))
		} else {
			f[i] = int64(t[x])
		}
		if i > 0 && f[i] < f[i-1] {
			return affine8{}
		}
	}
	lo, hi := f[0], f[255]
	a.lo, a.hi = uint8(lo), uint8(hi)
	if lo == hi {
		// A constant: m = 0, then t = 0 and y = sat(b).
		a.b, a.ok = int16(lo), true
		return a
	}
	// The slope's bracket: p is the last input clamped low (y < lo+1
	// there), q the first clamped high (y ≥ hi); the inputs between are
	// unclamped, each pinning y to [f, f+1).
	p, q := 0, 255
	for p+1 < 256 && f[p+1] == lo {
		p++
	}
	for q-1 >= 0 && f[q-1] == hi {
		q--
	}
	slopeMin, slopeMax := float64(hi-lo-1)/float64(q-p), math.Inf(1)
	if a1, a2 := p+1, q-1; a2 > a1 {
		d := float64(a2 - a1)
		slopeMin = max(slopeMin, float64(f[a2]-f[a1]-1)/d)
		slopeMax = float64(f[a2]-f[a1]+1) / d
	}
	slopeMin = max(slopeMin, 0)
	for sh := uint64(0); sh <= 15; sh++ {
		scale := math.Ldexp(1, int(7+sh)) // m = slope·2^(7+sh)
		mLo, mHi := math.Ceil(slopeMin*scale), math.Floor(min(slopeMax*scale, math.MaxInt16))
		if mLo > mHi {
			continue
		}
		// From the middle of the bracket outwards, at most
		// affine8Budget multipliers.
		mid := math.Round((mLo + mHi) / 2)
		tried := 0
		for k := 0; tried < affine8Budget && k <= 2*int(mHi-mLo)+2; k++ {
			m := mid + float64((k+1)/2)*float64(1-2*(k&1))
			if m < mLo || m > mHi {
				continue
			}
			tried++
			a.m, a.sh = int16(m), sh
			if a.fitOffset(&f, lo, hi) {
				return a
			}
		}
	}
	return affine8{}
}

// fitOffset finds c and b for the slope in a (m, sh) such that the form
// reproduces f (the outputs for s = −128 … 127, clamped to [lo, hi]) and
// verifies the result on all 256 inputs.
func (a *affine8) fitOffset(f *[256]int64, lo, hi int64) bool {
	den := int64(1) << (15 + a.sh)
	m := int64(a.m)
	// K = c·m + 2^14 + 2^15·b must satisfy, for every s, with
	// g = 256·s·m: f·den ≤ g + K < (f+1)·den where f is unclamped, only
	// the upper bound where f = lo and only the lower where f = hi.
	kMin, kMax := int64(math.MinInt64), int64(math.MaxInt64) // kMin ≤ K ≤ kMax
	for i, y := range f {
		g := 256 * int64(i-128) * m
		if y != lo {
			kMin = max(kMin, y*den-g)
		}
		if y != hi {
			kMax = min(kMax, (y+1)*den-g-1)
		}
	}
	if kMin > kMax {
		return false
	}
	for c := int64(0); c < 256; c++ {
		base := c*m + 1<<14
		// b = ⌈(kMin − base) / 2^15⌉
		num := kMin - base
		b := num >> 15
		if b<<15 < num {
			b++
		}
		if base+b<<15 > kMax || b < math.MinInt16 || b > math.MaxInt16 {
			continue
		}
		a.c, a.b = uint8(c), int16(b)
		if a.verify(f) {
			a.ok = true
			return true
		}
	}
	return false
}

// verify evaluates the form on every input (saturation included).
func (a *affine8) verify(f *[256]int64) bool {
	for i, want := range f {
		x := uint8(int8(i - 128))
		if a.uIn {
			x = uint8(i)
		}
		got := int64(a.eval(x))
		if a.signed {
			got = int64(int8(a.eval(x)))
		}
		if got != want {
			return false
		}
	}
	return true
}
