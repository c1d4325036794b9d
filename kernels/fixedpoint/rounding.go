package fixedpoint

import (
	"math"
	"strings"
)

// Rounding selects which of TFLite's two integer-rescaling arithmetics to
// reproduce. TFLite compiles one of them in (the TFLITE_SINGLE_ROUNDING
// macro), and the choice changes results by one step whenever a product
// lands near a rounding tie:
//
//   - DoubleRounding (TFLITE_SINGLE_ROUNDING=0): SaturatingRoundingDoublingHighMul
//     then RoundingDivideByPOT — TFLite's reference kernels and TFLite Micro,
//     hence every golden in the TFLite Micro test vectors.
//   - SingleRounding (TFLITE_SINGLE_ROUNDING=1): one 64-bit product rounded
//     half up once — what the TFLite runtime's builtin kernels compute (the
//     tfjs-tflite WASM build, qbench's oracle, is such a build), and what
//     ruy's int8 GEMM does.
//   - RuntimeRounding: the TFLite runtime as shipped, with its default
//     XNNPACK delegate on CPU. The ops the delegate takes rescale in
//     float32 as XNNPACK does (FP32Requantize); every other op runs on the
//     builtin kernels, hence in SingleRounding. Which ops and parameter
//     combinations the delegate takes is the kernels' business (package
//     kernels); here the mode only behaves as SingleRounding for them.
//
// The package-level functions are the DoubleRounding versions; the methods
// here dispatch on the mode.
type Rounding int

// The three arithmetics (see Rounding).
const (
	DoubleRounding Rounding = iota
	SingleRounding
	RuntimeRounding
)

// String returns "double", "single" or "runtime".
func (r Rounding) String() string {
	switch r {
	case SingleRounding:
		return "single"
	case RuntimeRounding:
		return "runtime"
	}
	return "double"
}

// Valid reports whether r is one of the three arithmetics.
func (r Rounding) Valid() bool {
	return r == DoubleRounding || r == SingleRounding || r == RuntimeRounding
}

// Builtin is the arithmetic of TFLite's builtin kernels in mode r: the
// ops the XNNPACK delegate declines run on them, so RuntimeRounding's is
// SingleRounding; the other modes are their own.
func (r Rounding) Builtin() Rounding {
	if r == RuntimeRounding {
		return SingleRounding
	}
	return r
}

// ParseRounding maps "double" / "single" / "runtime" (case-insensitive) to
// a Rounding.
func ParseRounding(s string) (Rounding, bool) {
	switch strings.ToLower(s) {
	case "double":
		return DoubleRounding, true
	case "single":
		return SingleRounding, true
	case "runtime":
		return RuntimeRounding, true
	}
	return DoubleRounding, false
}

// QuantizeMultiplier is the package-level QuantizeMultiplier; with
// SingleRounding a shift above 30 saturates to (2^31−1, 30), because the
// single-rounding product cannot shift left by more.
func (r Rounding) QuantizeMultiplier(real float64) (multiplier int32, shift int) {
	m, s := QuantizeMultiplier(real)
	if r.Builtin() == SingleRounding && s > 30 {
		return math.MaxInt32, 30
	}
	return m, s
}

// MultiplyByQuantizedMultiplier computes round(x · multiplier · 2^(shift−31))
// in the selected arithmetic.
func (r Rounding) MultiplyByQuantizedMultiplier(x, multiplier int32, shift int) int32 {
	if r.Builtin() == SingleRounding {
		return MultiplyByQuantizedMultiplierSingleRounding(x, multiplier, shift)
	}
	return MultiplyByQuantizedMultiplier(x, multiplier, shift)
}

// MultiplyByQuantizedMultiplierSmallerThanOneExp is the right-shift form
// (leftShift ≤ 0) in the selected arithmetic.
func (r Rounding) MultiplyByQuantizedMultiplierSmallerThanOneExp(x, multiplier int32, leftShift int) int32 {
	if r.Builtin() == SingleRounding {
		return MultiplyByQuantizedMultiplierSingleRounding(x, multiplier, leftShift)
	}
	return MultiplyByQuantizedMultiplierSmallerThanOneExp(x, multiplier, leftShift)
}

// MultiplyByQuantizedMultiplierGreaterThanOne is the left-shift form
// (leftShift ≥ 0) in the selected arithmetic.
func (r Rounding) MultiplyByQuantizedMultiplierGreaterThanOne(x, multiplier int32, leftShift int) int32 {
	if r.Builtin() == SingleRounding {
		return MultiplyByQuantizedMultiplierSingleRounding(x, multiplier, leftShift)
	}
	return MultiplyByQuantizedMultiplierGreaterThanOne(x, multiplier, leftShift)
}

// PreprocessSoftmaxScaling is the package-level function with the
// selected arithmetic's cap on the real multiplier (2^31−1, or 2^30−1 for
// SingleRounding) and its QuantizeMultiplier.
func (r Rounding) PreprocessSoftmaxScaling(beta, inputScale float64, inputIntegerBits int) (multiplier int32, leftShift int) {
	limit := float64(int64(1)<<31) - 1
	if r.Builtin() == SingleRounding {
		limit = float64(int64(1)<<30) - 1
	}
	real := math.Min(beta*inputScale*float64(int64(1)<<uint(31-inputIntegerBits)), limit)
	return r.QuantizeMultiplier(real)
}

// MultiplyByQuantizedMultiplierSingleRounding is TFLite's single-rounding
// MultiplyByQuantizedMultiplier: (x·m + 2^(30−shift)) >> (31−shift) in 64
// bits, i.e. the exact product rounded half up once. TFLite requires shift
// in [−31, 30]; shifts outside are clamped to keep the shift defined.
func MultiplyByQuantizedMultiplierSingleRounding(x, multiplier int32, shift int) int32 {
	total := uint(31 - min(max(shift, -31), 30))
	return int32((int64(x)*int64(multiplier) + int64(1)<<(total-1)) >> total)
}
