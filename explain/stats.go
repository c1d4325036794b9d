package explain

import (
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// errStats accumulates the difference between a reference (float) tensor
// f and an approximation d over many samples.
type errStats struct {
	N                                int64
	SumF, SumF2, SumE2, SumFD, SumD2 float64
	SumAbs, MaxAbs                   float64
	// Min and Max of the reference values.
	Min, Max float64
}

func (s *errStats) add(f, d []float32) {
	if len(f) == 0 {
		return
	}
	d = d[:len(f)]
	// Locals instead of fields keep the sums in registers, and the loop
	// takes |e| with math.Abs (a bit mask) instead of a branch on the
	// sign of the error, which is random: a mispredicted branch per element
	// used to cost more than the arithmetic. The extremes keep plain
	// comparisons, which are predicted (they rarely change) and cheaper
	// than the NaN-aware min/max builtins. This loop runs over every
	// activation of every layer sample.
	// Two elements per step, summed in pairs before joining the
	// accumulators, halve the chains of dependent additions.
	var sf, f2, e2, fd, d2, sa float64
	mx := s.MaxAbs
	lo, hi := f[0], f[0]
	i := 0
	for ; i+1 < len(f); i += 2 {
		xa, xb := f[i], f[i+1]
		if xa < lo {
			lo = xa
		}
		if xa > hi {
			hi = xa
		}
		if xb < lo {
			lo = xb
		}
		if xb > hi {
			hi = xb
		}
		fa, da := float64(xa), float64(d[i])
		fb, db := float64(xb), float64(d[i+1])
		ea, eb := fa-da, fb-db
		sf += fa + fb
		f2 += fa*fa + fb*fb
		d2 += da*da + db*db
		fd += fa*da + fb*db
		e2 += ea*ea + eb*eb
		ea, eb = math.Abs(ea), math.Abs(eb)
		sa += ea + eb
		if ea > mx {
			mx = ea
		}
		if eb > mx {
			mx = eb
		}
	}
	for ; i < len(f); i++ {
		x := f[i]
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
		fx, dx := float64(x), float64(d[i])
		e := fx - dx
		sf += fx
		f2 += fx * fx
		d2 += dx * dx
		fd += fx * dx
		e2 += e * e
		e = math.Abs(e)
		sa += e
		if e > mx {
			mx = e
		}
	}
	s.fold(float64(lo), float64(hi), sf, f2, e2, fd, d2, sa, mx, len(f))
}

// fold adds one pass's sums to s.
func (s *errStats) fold(lo, hi, sf, f2, e2, fd, d2, sa, mx float64, n int) {
	if s.N == 0 {
		s.Min, s.Max = lo, hi
	} else {
		s.Min = math.Min(s.Min, lo)
		s.Max = math.Max(s.Max, hi)
	}
	s.SumF += sf
	s.SumF2 += f2
	s.SumE2 += e2
	s.SumFD += fd
	s.SumD2 += d2
	s.SumAbs += sa
	s.MaxAbs = mx
	s.N += int64(n)
}

// addInt8 is add for an int8 approximation, fused with the integer range
// counts (into is) and the count of float values outside [lo, hi], which it
// returns: one pass over both tensors instead of four.
func (s *errStats) addInt8(f []float32, q []int8, lut *[256]float32, lo, hi float32, is *intStats, zp int64) int64 {
	if len(f) == 0 {
		return 0
	}
	q = q[:len(f)]
	// A histogram of the codes replaces four data-dependent comparisons
	// per element (code min/max, count at -128 and at 127: after a ReLU
	// about half the codes sit at -128, so those branches were random) and
	// gives Σ dequant² exactly afterwards. Two histograms, by index parity,
	// halve the store-to-load stalls when a run of equal codes increments
	// the same counter.
	var h0, h1 [256]int64
	var sf, f2, e2, fd, sa float64
	var outside int64
	mx := s.MaxAbs
	fmin, fmax := f[0], f[0]
	n := len(f)
	i := 0
	for ; i+1 < n; i += 2 {
		a, b := q[i], q[i+1]
		h0[uint8(a)]++
		h1[uint8(b)]++
		xa, xb := f[i], f[i+1]
		if xa < fmin {
			fmin = xa
		}
		if xa > fmax {
			fmax = xa
		}
		if xb < fmin {
			fmin = xb
		}
		if xb > fmax {
			fmax = xb
		}
		if xa < lo || xa > hi {
			outside++
		}
		if xb < lo || xb > hi {
			outside++
		}
		fa, da := float64(xa), float64(lut[uint8(a)])
		fb, db := float64(xb), float64(lut[uint8(b)])
		ea, eb := fa-da, fb-db
		sf += fa + fb
		f2 += fa*fa + fb*fb
		fd += fa*da + fb*db
		e2 += ea*ea + eb*eb
		ea, eb = math.Abs(ea), math.Abs(eb)
		sa += ea + eb
		if ea > mx {
			mx = ea
		}
		if eb > mx {
			mx = eb
		}
	}
	for ; i < n; i++ {
		v, x := q[i], f[i]
		h0[uint8(v)]++
		if x < fmin {
			fmin = x
		}
		if x > fmax {
			fmax = x
		}
		if x < lo || x > hi {
			outside++
		}
		fx, dx := float64(x), float64(lut[uint8(v)])
		e := fx - dx
		sf += fx
		f2 += fx * fx
		fd += fx * dx
		e2 += e * e
		e = math.Abs(e)
		sa += e
		if e > mx {
			mx = e
		}
	}
	var d2 float64
	qmin, qmax := int64(math.MaxInt64), int64(math.MinInt64)
	for c := range 256 {
		k := h0[c] + h1[c]
		if k == 0 {
			continue
		}
		d := float64(lut[c])
		d2 += float64(k) * d * d
		v := int64(int8(uint8(c)))
		qmin, qmax = min(qmin, v), max(qmax, v)
	}
	atMin := h0[0x80] + h1[0x80]
	atMax := h0[0x7f] + h1[0x7f]
	s.fold(float64(fmin), float64(fmax), sf, f2, e2, fd, d2, sa, mx, n)
	if zp == -128 {
		atMin = 0
	}
	if zp == 127 {
		atMax = 0
	}
	is.addRange(qmin, qmax, atMin+atMax)
	is.N += int64(n)
	return outside
}

// dequantTable returns the real value of each int8 code of t (zero table
// for other dtypes).
func dequantTable(t *graph.Tensor) [256]float32 {
	var lut [256]float32
	if t.DType != graph.Int8 || t.Quant == nil || len(t.Quant.Scale) == 0 {
		return lut
	}
	s, zp := float64(t.Quant.Scale[0]), float64(t.Quant.ZeroPoint[0])
	for q := range lut {
		lut[q] = float32(s * (float64(int8(q)) - zp))
	}
	return lut
}

func (s *errStats) merge(o *errStats) {
	if o.N == 0 {
		return
	}
	if s.N == 0 {
		s.Min, s.Max = o.Min, o.Max
	}
	s.Min = math.Min(s.Min, o.Min)
	s.Max = math.Max(s.Max, o.Max)
	s.N += o.N
	s.SumF += o.SumF
	s.SumF2 += o.SumF2
	s.SumE2 += o.SumE2
	s.SumFD += o.SumFD
	s.SumD2 += o.SumD2
	s.SumAbs += o.SumAbs
	s.MaxAbs = math.Max(s.MaxAbs, o.MaxAbs)
}

// maxSQNR caps the SQNR of an error-free tensor so JSON stays finite.
const maxSQNR = 200

// sqnr is 10·log10(signal power / error power) in dB.
func (s *errStats) sqnr() float64 {
	if s.SumE2 == 0 {
		return maxSQNR
	}
	if s.SumF2 == 0 {
		return -maxSQNR
	}
	return math.Max(-maxSQNR, math.Min(maxSQNR, 10*math.Log10(s.SumF2/s.SumE2)))
}

func (s *errStats) cosine() float64 {
	if s.SumF2 == 0 || s.SumD2 == 0 {
		if s.SumF2 == s.SumD2 {
			return 1
		}
		return 0
	}
	return s.SumFD / math.Sqrt(s.SumF2*s.SumD2)
}

// mean is the mean of the reference values.
func (s *errStats) mean() float64 {
	if s.N == 0 {
		return 0
	}
	return s.SumF / float64(s.N)
}

func (s *errStats) meanAbs() float64 {
	if s.N == 0 {
		return 0
	}
	return s.SumAbs / float64(s.N)
}

func (s *errStats) rmse() float64 {
	if s.N == 0 {
		return 0
	}
	return math.Sqrt(s.SumE2 / float64(s.N))
}

// intStats accumulates how an integer tensor uses its range.
type intStats struct {
	N, Clipped int64
	Min, Max   int64
	// Outside counts float values outside the tensor's representable range.
	Outside int64
}

func newIntStats() intStats { return intStats{Min: math.MaxInt64, Max: math.MinInt64} }

func (s *intStats) merge(o *intStats) {
	s.N += o.N
	s.Clipped += o.Clipped
	s.Outside += o.Outside
	s.Min = min(s.Min, o.Min)
	s.Max = max(s.Max, o.Max)
}

// addInt records integer values: clipped means at the dtype's limits,
// except a limit equal to the zero point (ReLU outputs sit there at 0).
func (s *intStats) addInt(b *kernels.Buffer, zp int64) {
	switch b.DType {
	case graph.Int8:
		s.addRange(limitCounts(b.I8, zp, math.MinInt8, math.MaxInt8))
		s.N += int64(len(b.I8))
	case graph.Int16:
		s.addRange(limitCounts(b.I16, zp, math.MinInt16, math.MaxInt16))
		s.N += int64(len(b.I16))
	}
}

func (s *intStats) addRange(lo, hi, clipped int64) {
	s.Min = min(s.Min, lo)
	s.Max = max(s.Max, hi)
	s.Clipped += clipped
}

// limitCounts returns the smallest and largest value of v and how many
// values sit at the type's limits qmin/qmax (saturated), not counting a
// limit that is the zero point (real zero, not clipping).
func limitCounts[T int8 | int16](v []T, zp int64, qmin, qmax T) (int64, int64, int64) {
	if len(v) == 0 {
		return math.MaxInt64, math.MinInt64, 0
	}
	lo, hi := v[0], v[0]
	var atMin, atMax int64
	for _, x := range v {
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
		if x == qmin {
			atMin++
		} else if x == qmax {
			atMax++
		}
	}
	if zp == int64(qmin) {
		atMin = 0
	}
	if zp == int64(qmax) {
		atMax = 0
	}
	return int64(lo), int64(hi), atMin + atMax
}

// dequantize writes b's real values into dst (resized) using t's parameters.
func dequantize(b *kernels.Buffer, t *graph.Tensor, dst []float32) []float32 {
	s, zp := float64(t.Quant.Scale[0]), float64(t.Quant.ZeroPoint[0])
	switch b.DType {
	case graph.Int8:
		// A table of the 256 possible values avoids a multiply per element.
		var lut [256]float32
		for q := range lut {
			lut[q] = float32(s * (float64(int8(q)) - zp))
		}
		dst = grow(dst, len(b.I8))
		for i, v := range b.I8 {
			dst[i] = lut[uint8(v)]
		}
	case graph.Int16:
		dst = grow(dst, len(b.I16))
		for i, v := range b.I16 {
			dst[i] = float32(s * (float64(v) - zp))
		}
	case graph.Float32:
		dst = grow(dst, len(b.F32))
		copy(dst, b.F32)
	}
	return dst
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// representable returns the real interval an integer tensor can hold.
func representable(t *graph.Tensor) (float64, float64) {
	s, zp := float64(t.Quant.Scale[0]), float64(t.Quant.ZeroPoint[0])
	lo, hi := -128.0, 127.0
	if t.DType == graph.Int16 {
		lo, hi = -32768, 32767
	}
	return s * (lo - zp), s * (hi - zp)
}

// countOutside counts values of f outside [lo, hi] (with a half-step
// tolerance, since values that round onto the limit are not lost).
func countOutside(f []float32, lo, hi, halfStep float64) int64 {
	var n int64
	lo -= halfStep
	hi += halfStep
	for _, v := range f {
		if x := float64(v); x < lo || x > hi {
			n++
		}
	}
	return n
}

// rangeStats is countOutside fused with the sum, minimum and maximum of f
// (the data-shift pass's per-split summary of one activation). Here the
// min/max builtins measured faster than comparisons (0.14 vs 0.27 ms of
// thread CPU time per 80x80x32 tensor), unlike in the longer loops above,
// where they doubled the time; keep both choices measured, not guessed.
func rangeStats(f []float32, lo, hi, halfStep float64) (outside int64, sum float64, mn, mx float32) {
	if len(f) == 0 {
		return 0, 0, 0, 0
	}
	l, h := float32(lo-halfStep), float32(hi+halfStep)
	mn, mx = f[0], f[0]
	for _, v := range f {
		if v < l || v > h {
			outside++
		}
		sum += float64(v)
		mn, mx = min(mn, v), max(mx, v)
	}
	return outside, sum, mn, mx
}

// argmax returns the index of the largest value (first on ties).
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// addFakeQuant is add against f quantized to the grid of t (scale, zero
// point, dtype limits) and dequantized again, rounding half away from zero
// like TFLite's QUANTIZE.
func (s *errStats) addFakeQuant(f []float32, t *graph.Tensor, buf []float32) []float32 {
	scale := t.Quant.Scale[0]
	zp := float32(t.Quant.ZeroPoint[0])
	lo, hi := float32(-128), float32(127)
	if t.DType == graph.Int16 {
		lo, hi = -32768, 32767
	}
	buf = grow(buf, len(f))
	for i, x := range f {
		v := x / scale
		// ±0.5 with v's sign, by bits: the sign is random, so a branch on
		// it would be mispredicted half the time.
		half := math.Float32frombits(0x3f000000 | math.Float32bits(v)&0x80000000)
		v = float32(int32(v+half)) + zp
		if v < lo {
			v = lo
		} else if v > hi {
			v = hi
		}
		buf[i] = scale * (v - zp)
	}
	s.add(f, buf)
	return buf
}
