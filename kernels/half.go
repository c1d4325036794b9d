package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// Float16ToFloat32 widens one IEEE 754 binary16 value, given as its bit
// pattern, to float32. Every binary16 value is exactly representable in
// float32, so the conversion is exact: subnormals are renormalised, signed
// zeros and infinities keep their sign, and a NaN keeps its sign and its
// payload (shifted into the top of float32's mantissa, as hardware
// conversions such as F16C's VCVTPH2PS do).
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// Subnormal: value mant·2^-24. Shift the leading one up to the
		// implicit-bit position, lowering the exponent as we go.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// dequantizeHalfKernel is DEQUANTIZE from float16: an exact widening.
type dequantizeHalfKernel struct{ n int }

func (k *dequantizeHalfKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0].I16, outs[0].F32
	if len(x) < k.n || len(y) < k.n {
		return fmt.Errorf("DEQUANTIZE: float16 buffers hold %d and %d values, want %d", len(x), len(y), k.n)
	}
	for i := range k.n {
		y[i] = Float16ToFloat32(uint16(x[i]))
	}
	return nil
}

// refuseFloat16 names op when a tensor other than a DEQUANTIZE input is
// float16: qbench computes nothing in half precision (TFLite's float16
// models dequantize their float16 weights and compute in float32). It
// refuses the other dtypes qbench only carries (uint16/32/64, float64) too.
func refuseFloat16(op *graph.Op, ins, outs []*graph.Tensor) error {
	if op.Kind == graph.OpUnknown {
		return nil // refused as an op without a kernel, whatever its dtypes
	}
	if op.Kind == graph.OpDequantize {
		for _, t := range outs {
			if t != nil && t.DType == graph.Float16 {
				return unsupported(op, ins, outs, "float16 output (qbench only widens float16 to float32)")
			}
		}
		return nil
	}
	for _, ts := range [][]*graph.Tensor{ins, outs} {
		for _, t := range ts {
			if t != nil && t.DType != graph.Float16 && !t.DType.Computed() {
				return unsupported(op, ins, outs, fmt.Sprintf("%s tensor %q: qbench reads and lists %s tensors but computes nothing in them", t.DType, t.Name, t.DType))
			}
			if t != nil && t.DType == graph.Float16 {
				return unsupported(op, ins, outs, fmt.Sprintf("float16 tensor %q: qbench only reads float16 through DEQUANTIZE", t.Name))
			}
		}
	}
	return nil
}
