package kernels

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

// This file holds the quantization bookkeeping shared by the heavy kernels
// (conv, depthwise, fully connected): per-channel output multipliers, bias
// decoding and the requantization epilogue. The fused-activation clamp
// ranges (ActivationRangeFloat, ActivationRangeQuantized) live in
// prepare.go.

// EffectiveScale is the real multiplier that maps an int32 accumulator of
// input×weight products to output steps: double(sIn)·double(sW)/double(sOut),
// computed in double from the float32 scales exactly as TFLite does (the
// order matters for the last bit of the Q31 multiplier).
func EffectiveScale(sIn, sW, sOut float32) float64 {
	return float64(sIn) * float64(sW) / float64(sOut)
}

// ChannelMultipliers returns the Q31 multiplier and shift for each of n
// output channels (TFLite's PopulateConvolutionQuantizationParams): the
// weights carry either one scale (broadcast to every channel) or n scales.
// r selects TFLite's QuantizeMultiplier variant (see fixedpoint.Rounding).
func ChannelMultipliers(r fixedpoint.Rounding, sIn float32, wScales []float32, sOut float32, n int) (mult []int32, shift []int, err error) {
	if len(wScales) != 1 && len(wScales) != n {
		return nil, nil, fmt.Errorf("weights have %d scales for %d output channels", len(wScales), n)
	}
	if !validScale(sIn) || !validScale(sOut) {
		return nil, nil, fmt.Errorf("input scale %g and output scale %g must be positive and finite", sIn, sOut)
	}
	mult = make([]int32, n)
	shift = make([]int, n)
	for c := 0; c < n; c++ {
		sw := wScales[0]
		if len(wScales) == n {
			sw = wScales[c]
		}
		// A zero weight scale is legal (an all-zero channel): multiplier 0.
		if sw < 0 || math.IsNaN(float64(sw)) || math.IsInf(float64(sw), 0) {
			return nil, nil, fmt.Errorf("weight scale %d is %g", c, sw)
		}
		mult[c], shift[c] = r.QuantizeMultiplier(EffectiveScale(sIn, sw, sOut))
	}
	return mult, shift, nil
}

func validScale(s float32) bool {
	return s > 0 && !math.IsInf(float64(s), 0)
}

// tensorQuant returns the scale and zero point of a per-tensor quantized
// tensor, naming the tensor and its role in the error.
func tensorQuant(op *graph.Op, role string, t *graph.Tensor) (float32, int32, error) {
	s, zp, ok := QuantParams(t)
	if !ok || !validScale(s) {
		return 0, 0, fmt.Errorf("%s: %s tensor %q (%s) needs a positive per-tensor scale", op.Kind, role, t.Name, t.DType)
	}
	if zp < math.MinInt16 || zp > math.MaxUint16 {
		return 0, 0, fmt.Errorf("%s: %s tensor %q zero point %d out of range", op.Kind, role, t.Name, zp)
	}
	return s, zp, nil
}

// weightScales returns the scales of a weights tensor and checks its zero
// points: per-channel weights must be symmetric (TFLite's quantization
// spec); per-tensor weights may carry an offset, which only
// FULLY_CONNECTED honours (wantOffset).
func weightScales(op *graph.Op, w *graph.Tensor, n int, wantOffset bool) (scales []float32, offset int32, err error) {
	if w.Quant == nil || len(w.Quant.Scale) == 0 {
		return nil, 0, fmt.Errorf("%s: weights tensor %q (%s) has no quantization", op.Kind, w.Name, w.DType)
	}
	q := w.Quant
	if len(q.Scale) != 1 && len(q.Scale) != n {
		return nil, 0, fmt.Errorf("%s: weights tensor %q has %d scales for %d output channels", op.Kind, w.Name, len(q.Scale), n)
	}
	for i, zp := range q.ZeroPoint {
		if zp == 0 {
			continue
		}
		if len(q.Scale) == 1 && i == 0 && wantOffset {
			if zp < math.MinInt8 || zp > math.MaxInt8 {
				return nil, 0, fmt.Errorf("%s: weights tensor %q zero point %d out of range", op.Kind, w.Name, zp)
			}
			offset = -int32(zp)
			continue
		}
		return nil, 0, fmt.Errorf("%s: weights tensor %q has zero point %d at index %d; weights must be symmetric: %w",
			op.Kind, w.Name, zp, i, ErrUnsupported)
	}
	return q.Scale, offset, nil
}

// constInt8Weights decodes constant int8 or (unpacked) int4 weights and
// checks that there are want of them.
func constInt8Weights(op *graph.Op, w *graph.Tensor, want int) ([]int8, error) {
	if w.DType != graph.Int8 && w.DType != graph.Int4 {
		return nil, unsupportedf(op, "weights tensor %q is %s; integer kernels take int8 or int4 weights", w.Name, w.DType)
	}
	if !w.IsConst() {
		return nil, unsupportedf(op, "weights tensor %q is not constant", w.Name)
	}
	if len(w.Data) != want {
		return nil, fmt.Errorf("%s: weights tensor %q has %d values, want %d", op.Kind, w.Name, len(w.Data), want)
	}
	v := w.Int8s()
	if w.DType == graph.Int4 {
		for i, x := range v {
			if x < -8 || x > 7 {
				return nil, fmt.Errorf("%s: int4 weights tensor %q value %d at %d outside [-8, 7]", op.Kind, w.Name, x, i)
			}
		}
	}
	return v, nil
}

// constFloatWeights decodes constant float32 weights.
func constFloatWeights(op *graph.Op, w *graph.Tensor, want int) ([]float32, error) {
	if w.DType != graph.Float32 {
		return nil, unsupportedf(op, "weights tensor %q is %s; float kernels take float32 weights", w.Name, w.DType)
	}
	if !w.IsConst() {
		return nil, unsupportedf(op, "weights tensor %q is not constant", w.Name)
	}
	if len(w.Data) != 4*want {
		return nil, fmt.Errorf("%s: weights tensor %q has %d bytes, want %d float32 values", op.Kind, w.Name, len(w.Data), want)
	}
	return float32View(w), nil
}

// float32View returns a constant float32 tensor's values, viewing its
// bytes in place on a little-endian machine when they are aligned (a copy
// otherwise): the slice is read-only. Kernels pack most weights into
// their own layout, so a decoded copy was garbage the size of the model's
// weights, collected only after it had raised the peak memory.
func float32View(t *graph.Tensor) []float32 {
	n := len(t.Data) / 4
	if n == 0 || len(t.Data) != 4*n {
		return t.Float32s()
	}
	p := unsafe.Pointer(&t.Data[0])
	x := uint16(1)
	if littleEndian := *(*byte)(unsafe.Pointer(&x)) == 1; !littleEndian || uintptr(p)%4 != 0 {
		return t.Float32s()
	}
	return unsafe.Slice((*float32)(p), n)
}

// floatBias decodes an optional constant float32 bias of n values (nil
// when omitted).
func floatBias(op *graph.Op, b *graph.Tensor, n int) ([]float32, error) {
	if b == nil {
		return nil, nil
	}
	if b.DType != graph.Float32 || !b.IsConst() || b.NumElements() != n || len(b.Data) != 4*n {
		return nil, fmt.Errorf("%s: bias tensor %q must be a constant float32 tensor of %d values (got %s %v)",
			op.Kind, b.Name, n, b.DType, b.Shape)
	}
	return b.Float32s(), nil
}

// intBias decodes an optional constant int32 or int64 bias of n values into
// int64 (nil when omitted) and reports whether it was int64, which selects
// the 64-bit accumulator of TFLite's 16x8 kernels.
func intBias(op *graph.Op, b *graph.Tensor, n int) (bias []int64, is64 bool, err error) {
	if b == nil {
		return nil, false, nil
	}
	if !b.IsConst() || b.NumElements() != n {
		return nil, false, fmt.Errorf("%s: bias tensor %q must be constant with %d values (got shape %v)", op.Kind, b.Name, n, b.Shape)
	}
	switch b.DType {
	case graph.Int32:
		if len(b.Data) != 4*n {
			return nil, false, fmt.Errorf("%s: bias tensor %q has %d bytes, want %d", op.Kind, b.Name, len(b.Data), 4*n)
		}
		v := b.Int32s()
		bias = make([]int64, n)
		for i, x := range v {
			bias[i] = int64(x)
		}
		return bias, false, nil
	case graph.Int64:
		if len(b.Data) != 8*n {
			return nil, false, fmt.Errorf("%s: bias tensor %q has %d bytes, want %d", op.Kind, b.Name, len(b.Data), 8*n)
		}
		return b.Int64s(), true, nil
	}
	return nil, false, unsupportedf(op, "bias tensor %q is %s; integer kernels take int32 or int64 bias", b.Name, b.DType)
}

// unsupportedf builds an ErrUnsupported error for op with a formatted reason.
func unsupportedf(op *graph.Op, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", op.Kind, fmt.Sprintf(format, args...), ErrUnsupported)
}

// requant holds the per-output-channel epilogue of an integer kernel:
// accumulator (+ bias) → Q31 multiply → + output zero point → clamp.
type requant struct {
	mult     []int32
	shift    []int
	bias32   []int32 // nil when there is no bias (int32 accumulators)
	bias64   []int64 // the same bias widened, for int64 accumulators
	outZP    int32
	lo, hi   int32
	acc64    bool // TFLite's 16x8 kernels with int64 bias accumulate in int64
	channels int
	// The row epilogue's precomputed form of shift (TFLite's split into a
	// left shift before and a rounding right shift after the multiply) and
	// the bias with zeros when absent, so the hot loop has no branches on
	// per-channel constants.
	left, right []uint
	biasOr0     []int32
	round       fixedpoint.Rounding
	// fp32, when set, is XNNPACK's float32 requantization
	// (fixedpoint.FP32Requantize) with scale per channel, which the TFLite
	// runtime applies to the int8 convolutions and fully connected layers
	// its default delegate takes (RuntimeRounding, see xnnTakes); mult and
	// shift are then unused.
	fp32  bool
	scale []float32
	// fast is the same epilogue in package gemm's vector form (AVX-512
	// when available), used by rowInt8 and fused into the GEMM output
	// pass by conv and fully connected (gemm.PackedS8.MulRequant). It is
	// nil when gemm cannot represent the parameters (a shift above 30,
	// from an effective scale ≥ 2^30, possible only in DoubleRounding);
	// the plain loops then run.
	fast *gemm.Requant
}

// newRequant computes the epilogue for an integer conv-like op in the
// arithmetic rnd.
func newRequant(rnd fixedpoint.Rounding, op *graph.Op, sIn float32, wScales []float32, out *graph.Tensor, act graph.Activation, bias []int64, n int) (*requant, error) {
	sOut, zpOut, err := tensorQuant(op, "output", out)
	if err != nil {
		return nil, err
	}
	mult, shift, err := ChannelMultipliers(rnd, sIn, wScales, sOut, n)
	if err != nil {
		return nil, fmt.Errorf("%s: output %q: %w", op.Kind, out.Name, err)
	}
	lo, hi, err := ActivationRangeQuantized(act, out.DType, sOut, zpOut)
	if err != nil {
		return nil, fmt.Errorf("%s: output %q: %w", op.Kind, out.Name, err)
	}
	r := &requant{round: rnd, mult: mult, shift: shift, outZP: zpOut, lo: lo, hi: hi, channels: n, bias64: bias,
		left: make([]uint, n), right: make([]uint, n), biasOr0: make([]int32, n)}
	if bias != nil {
		r.bias32 = make([]int32, n)
		for i, b := range bias {
			r.bias32[i] = int32(b) // TFLite adds an int32 bias in int32
		}
		copy(r.biasOr0, r.bias32)
	}
	if r.scale = xnnScales(rnd, op, sIn, wScales, out, act, bias, n); r.scale != nil {
		r.fp32 = true
		r.fast, _ = gemm.NewRequantFP32(r.bias32, r.scale, zpOut, r.lo, r.hi)
		return r, nil
	}
	// A nil error is the only outcome that matters: gemm rejects exactly
	// the parameters its vector form cannot reproduce.
	r.fast, _ = gemm.NewRequant(rnd.Builtin(), r.bias32, mult, shift, zpOut, lo, hi)
	for c, s := range shift {
		if rnd.Builtin() == fixedpoint.SingleRounding {
			r.right[c] = uint(31 - s) // the whole shift, applied once
			continue
		}
		if s > 0 {
			r.left[c] = uint(s)
		} else {
			r.right[c] = uint(min(-s, 31))
		}
	}
	return r, nil
}

// rowInt8 requantizes one row of int32 accumulators (one per channel) into
// int8 outputs. It is apply32 specialised for the GEMM epilogue, which
// handles every output pixel: MultiplyByQuantizedMultiplier is expanded
// with the per-channel shifts precomputed. Multipliers are never negative
// (scales are validated positive), so SaturatingRoundingDoublingHighMul's
// one overflow case (both operands −2^31) cannot occur. TestRowInt8 checks
// it against apply32.
func (r *requant) rowInt8(dst []int8, acc []int32) {
	if r.fast != nil && len(acc) == r.channels {
		r.fast.Row(dst, acc)
		return
	}
	r.rowInt8Go(dst, acc)
}

// rowsInt8 requantizes rows rows of accumulators (one per channel each,
// back to back) into dst in one call of the vector loop when there is one.
func (r *requant) rowsInt8(dst []int8, acc []int32, rows int) {
	n := r.channels
	if r.fast != nil && r.fast.N() == n && len(acc) == rows*n {
		r.fast.Rows(rows, dst, n, acc, n)
		return
	}
	for i := 0; i < rows; i++ {
		r.rowInt8Go(dst[i*n:(i+1)*n], acc[i*n:(i+1)*n])
	}
}

// rowInt8Go is rowInt8's plain-Go form (the fallback, and the reference
// the vector form is tested against).
func (r *requant) rowInt8Go(dst []int8, acc []int32) {
	if r.fp32 {
		n := len(acc)
		scale, bias := r.scale[:n], r.biasOr0[:n]
		for j, a := range acc[:n] {
			dst[j] = int8(fixedpoint.FP32Requantize(a+bias[j], scale[j], r.outZP, r.lo, r.hi))
		}
		return
	}
	if r.round.Builtin() == fixedpoint.SingleRounding {
		r.rowInt8Single(dst, acc)
		return
	}
	n := len(acc)
	mult, left, right, bias := r.mult[:n], r.left[:n], r.right[:n], r.biasOr0[:n]
	dst = dst[:n]
	for j, a := range acc {
		x := (a + bias[j]) << left[j] // wraps like C's x·2^left
		// SaturatingRoundingDoublingHighMul is floor((x·m + 2^30) / 2^31):
		// its nudge rounds half up for either sign (TestSaturatingRounding-
		// DoublingHighMul checks this form), so no branch is needed.
		hi := (int64(x)*int64(mult[j]) + 1<<30) >> 31
		// RoundingDivideByPOT rounds half away from zero: add half, minus
		// one for negative values, then floor-shift (exact for rs = 0).
		rs := right[j]
		half := int64(1) << rs >> 1
		neg := int64(0)
		if rs > 0 {
			neg = (hi >> 63) & 1 // 1 when hi < 0
		}
		v := int32((hi+half-neg)>>rs) + r.outZP
		dst[j] = int8(min(max(v, r.lo), r.hi))
	}
}

// rowInt8Single is rowInt8 for SingleRounding: one 64-bit product
// rounded half up, right[j] holding the whole shift 31−shift.
func (r *requant) rowInt8Single(dst []int8, acc []int32) {
	n := len(acc)
	mult, right, bias := r.mult[:n], r.right[:n], r.biasOr0[:n]
	dst = dst[:n]
	for j, a := range acc {
		total := right[j]
		v := int32((int64(a+bias[j])*int64(mult[j]) + int64(1)<<(total-1)) >> total)
		v += r.outZP
		dst[j] = int8(min(max(v, r.lo), r.hi))
	}
}

// apply32 requantizes one int32 accumulator of channel c (bias added here).
func (r *requant) apply32(acc int32, c int) int32 {
	if r.bias32 != nil {
		acc += r.bias32[c]
	}
	if r.fp32 {
		return fixedpoint.FP32Requantize(acc, r.scale[c], r.outZP, r.lo, r.hi)
	}
	v := r.round.MultiplyByQuantizedMultiplier(acc, r.mult[c], r.shift[c]) + r.outZP
	return min(max(v, r.lo), r.hi)
}

// apply64 requantizes one int64 accumulator of channel c with TFLite's
// int64 MultiplyByQuantizedMultiplier (16x8 kernels with int64 bias).
func (r *requant) apply64(acc int64, c int) int32 {
	if r.bias64 != nil {
		acc += r.bias64[c]
	}
	v := fixedpoint.MultiplyByQuantizedMultiplier64(acc, r.mult[c], r.shift[c]) + r.outZP
	return min(max(v, r.lo), r.hi)
}

// checkLen returns an error unless a run-time buffer holds want elements.
func checkLen(op *graph.Op, role string, got, want int) error {
	if got != want {
		return fmt.Errorf("%s: %s buffer has %d elements, want %d", op.Kind, role, got, want)
	}
	return nil
}

// heavyPrepareWith returns the PrepareFunc of one of this file family's
// ops (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D,
// AVERAGE_POOL_2D, SOFTMAX) computing in the arithmetic rnd, or nil for
// any other kind. The plain prepareXxx functions are the DoubleRounding
// ones (TFLite reference kernels, TFLite Micro); SingleRounding reproduces
// TFLite runtimes built with TFLITE_SINGLE_ROUNDING, such as the oracle.
func heavyPrepareWith(k graph.OpKind, rnd fixedpoint.Rounding) PrepareFunc {
	var f func(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding) (Kernel, error)
	switch k {
	case graph.OpConv2D:
		f = prepareConv2DRounding
	case graph.OpDepthwiseConv2D:
		f = prepareDepthwiseConv2DRounding
	case graph.OpFullyConnected:
		f = prepareFullyConnectedRounding
	case graph.OpSoftmax:
		f = prepareSoftmaxRounding
	case graph.OpMaxPool2D:
		return prepareMaxPool2D // pooling has no rescaling
	case graph.OpAveragePool2D:
		return prepareAveragePool2D
	default:
		return nil
	}
	return func(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) { return f(op, ins, outs, rnd) }
}
