package kernels

import (
	"errors"
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// ErrUnsupported is wrapped by Prepare when an op kind, or its combination
// of dtypes and options, has no kernel. Callers branch on it with errors.Is.
var ErrUnsupported = errors.New("unsupported")

// Options select arithmetic variants in PrepareWith.
type Options struct {
	// Rounding selects whose integer arithmetic to reproduce.
	// fixedpoint.DoubleRounding (the zero value) is TFLite's reference
	// kernels and TFLite Micro (SaturatingRoundingDoublingHighMul, then
	// RoundingDivideByPOT), the arithmetic of the TFLite Micro test vectors.
	// fixedpoint.SingleRounding is TFLite's builtin kernels: one rounding
	// in the convolution, fully connected, softmax and 8-bit MEAN
	// rescaling, and the reference arithmetic elsewhere (ADD, RELU,
	// LOGISTIC, float QUANTIZE, int16). fixedpoint.RuntimeRounding is what
	// the TFLite runtime computes on CPU with its default XNNPACK
	// delegate, op by op as measured against the real interpreter:
	// XNNPACK's float32 requantization in the int8 convolutions, fully
	// connected layers and spatial MEANs the delegate takes (xnnpack.go),
	// its int8 ADD, float to int8 QUANTIZE, 8-bit-multiplier LEAKY_RELU
	// and 8-bit requantizing QUANTIZE, and SingleRounding elsewhere.
	Rounding fixedpoint.Rounding

	// Intermediates are the op's intermediate tensors (graph.Op
	// Intermediates, resolved): the integer LSTM reads its gate and hidden
	// scales from them.
	Intermediates []*graph.Tensor

	// Scratch, when set, is the working memory the convolutions of one
	// program share (one per program; see Scratch). nil: each kernel
	// keeps its own.
	Scratch *Scratch

	// reference disables the light kernels' fast paths (lookup tables,
	// specialised loops), leaving the plain per-element arithmetic they
	// are differential-tested against.
	reference bool
}

// Prepare builds the kernel for op from its input and output tensors (final
// shapes, dtypes and quantization; constants carry Data; an omitted optional
// input is nil), with TFLite's reference arithmetic. An op kind or dtype
// combination qbench cannot run gives an error wrapping ErrUnsupported that
// names the op and the dtypes.
func Prepare(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return PrepareWith(op, ins, outs, Options{})
}

// PrepareWith is Prepare with a choice of arithmetic (see Options).
func PrepareWith(op *graph.Op, ins, outs []*graph.Tensor, o Options) (Kernel, error) {
	if op == nil {
		return nil, errors.New("nil op")
	}
	if len(outs) == 0 || outs[0] == nil {
		return nil, fmt.Errorf("%s: no output tensor", op.Kind)
	}
	if len(ins) == 0 || ins[0] == nil {
		return nil, fmt.Errorf("%s: missing input 0", op.Kind)
	}
	if err := refuseFloat16(op, ins, outs); err != nil {
		return nil, err
	}
	rnd := o.Rounding
	if !rnd.Valid() {
		return nil, fmt.Errorf("%s: unknown rounding mode %d", op.Kind, int(rnd))
	}
	if mo, ok := op.Options.(*MaxPoolMapOptions); ok && op.Kind == graph.OpMaxPool2D {
		return prepareMaxPoolMap(op, ins, outs, mo, o)
	}
	if co, ok := op.Options.(*ConvPoolOptions); ok && co != nil && op.Kind == graph.OpConv2D {
		return prepareConvPool(op, ins, outs, co, o)
	}
	var f func(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding) (Kernel, error)
	switch op.Kind {
	case graph.OpReshape:
		return prepareReshape(op, ins, outs)
	case graph.OpDequantize:
		return prepareDequantize(op, ins, outs, o.reference)
	case graph.OpPad, graph.OpPadV2:
		return preparePad(op, ins, outs, o.reference)
	case graph.OpConcatenation:
		return prepareConcatenation(op, ins, outs, rnd, o.reference)
	case graph.OpQuantize:
		return prepareQuantize(op, ins, outs, rnd, o.reference)
	case graph.OpAdd:
		return prepareAdd(op, ins, outs, rnd, o.reference)
	case graph.OpRelu, graph.OpRelu6:
		return prepareRelu(op, ins, outs, rnd, o.reference)
	case graph.OpLogistic:
		return prepareLogistic(op, ins, outs, o.reference)
	case graph.OpLeakyRelu:
		return prepareLeakyRelu(op, ins, outs, rnd, o.reference)
	case graph.OpMean:
		f = prepareMean
	default:
		// The compute-heavy kernels (convolutions, fully connected,
		// pooling, softmax).
		if h := heavyPrepareWith(op.Kind, rnd); h != nil {
			k, err := h(op, ins, outs)
			if err == nil {
				shareScratch(k, o.Scratch)
			}
			return k, err
		}
		if op.Kind > graph.OpUnknown && op.Kind < graph.NumOpKinds {
			if f := opTable[op.Kind]; f != nil {
				return f(&prep{op: op, ins: ins, outs: outs, inter: o.Intermediates, rnd: rnd, ref: o.reference})
			}
		}
		return nil, unsupported(op, ins, outs, whyNoKernel)
	}
	return f(op, ins, outs, rnd)
}

// unsupported builds an ErrUnsupported error naming the op and the dtypes
// of all its tensors, e.g. "ADD (int8, int16 -> int8): ...: unsupported".
func unsupported(op *graph.Op, ins, outs []*graph.Tensor, why string) error {
	return &UnsupportedError{Op: op.Name(), Types: dtypeList(ins) + " -> " + dtypeList(outs), Why: why,
		NoKernel: why == whyNoKernel || why == whyNoKernelYet}
}

const (
	whyNoKernel    = "no kernel for this op"
	whyNoKernelYet = "no kernel yet"
)

// UnsupportedError is what Prepare returns for an op, or a combination of
// dtypes and options, that qbench cannot run. It wraps ErrUnsupported.
type UnsupportedError struct {
	Op    string // the op's name, e.g. "CONV_2D"
	Types string // its dtypes, e.g. "uint8, uint8, int32 -> uint8"
	Why   string
	// NoKernel: the op kind has no kernel at all (as opposed to this
	// combination of dtypes or options).
	NoKernel bool
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s (%s): %s: %v", e.Op, e.Types, e.Why, ErrUnsupported)
}

// Unwrap lets errors.Is(err, ErrUnsupported) hold.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

func dtypeList(ts []*graph.Tensor) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		if t == nil {
			s += "none"
		} else {
			s += t.DType.String()
		}
	}
	return s
}

// QuantParams returns the per-tensor scale and zero point of t; a tensor
// without quantization gives (0, 0, false).
func QuantParams(t *graph.Tensor) (scale float32, zeroPoint int32, ok bool) {
	if t == nil || t.Quant == nil || len(t.Quant.Scale) == 0 {
		return 0, 0, false
	}
	scale = t.Quant.Scale[0]
	if len(t.Quant.ZeroPoint) > 0 {
		zeroPoint = int32(t.Quant.ZeroPoint[0])
	}
	return scale, zeroPoint, true
}

// requireQuant returns the per-tensor quantization of an integer tensor or
// an error naming the tensor.
func requireQuant(op *graph.Op, role string, t *graph.Tensor) (float32, int32, error) {
	s, zp, ok := QuantParams(t)
	if !ok || !(s > 0) || math.IsInf(float64(s), 0) {
		return 0, 0, fmt.Errorf("%s: %s tensor %q (%s) needs a positive per-tensor scale", op.Kind, role, t.Name, t.DType)
	}
	return s, zp, nil
}

// DTypeRange returns the representable range of an integer dtype.
func DTypeRange(d graph.DType) (lo, hi int32) {
	switch d {
	case graph.Int8:
		return math.MinInt8, math.MaxInt8
	case graph.UInt8:
		return 0, math.MaxUint8
	case graph.Int16:
		return math.MinInt16, math.MaxInt16
	case graph.Int4:
		return -8, 7
	}
	return math.MinInt32, math.MaxInt32
}

// ActivationRangeFloat returns the clamp bounds of a fused activation for
// float outputs (TFLite's CalculateActivationRange).
func ActivationRangeFloat(a graph.Activation) (lo, hi float32, err error) {
	switch a {
	case graph.ActNone:
		return -math.MaxFloat32, math.MaxFloat32, nil
	case graph.ActRelu:
		return 0, math.MaxFloat32, nil
	case graph.ActReluN1To1:
		return -1, 1, nil
	case graph.ActRelu6:
		return 0, 6, nil
	}
	return 0, 0, fmt.Errorf("fused activation %s: %w", a, ErrUnsupported)
}

// ActivationRangeQuantized returns the clamp bounds of a fused activation
// for an integer output with the given scale and zero point, intersected
// with the dtype's range (TFLite's CalculateActivationRangeQuantized: the
// bounds are quantized with float division and round half away from zero).
func ActivationRangeQuantized(a graph.Activation, d graph.DType, scale float32, zeroPoint int32) (lo, hi int32, err error) {
	qmin, qmax := DTypeRange(d)
	q := func(f float32) int32 { return zeroPoint + int32(roundHalfAway32(f/scale)) }
	switch a {
	case graph.ActNone:
		return qmin, qmax, nil
	case graph.ActRelu:
		return max(qmin, q(0)), qmax, nil
	case graph.ActRelu6:
		return max(qmin, q(0)), min(qmax, q(6)), nil
	case graph.ActReluN1To1:
		return max(qmin, q(-1)), min(qmax, q(1)), nil
	}
	return 0, 0, fmt.Errorf("fused activation %s: %w", a, ErrUnsupported)
}

// roundHalfAway32 rounds to the nearest integer, ties away from zero, as
// C's roundf (TfLiteRound) does.
func roundHalfAway32(x float32) float32 { return float32(math.Round(float64(x))) }

// sameShape reports whether two shapes are equal.
func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkElems errors when out does not hold as many elements as in, which
// elementwise kernels require.
func checkElems(op *graph.Op, in, out *graph.Tensor) error {
	if in.NumElements() != out.NumElements() {
		return fmt.Errorf("%s: input %q shape %v and output %q shape %v differ in size: %w",
			op.Kind, in.Name, in.Shape, out.Name, out.Shape, graph.ErrShape)
	}
	return nil
}
