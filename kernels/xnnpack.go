package kernels

import (
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// This file decides which int8 ops fixedpoint.RuntimeRounding computes as
// the TFLite runtime's default XNNPACK delegate does, rather than as
// TFLite's builtin kernels do. The arithmetic was read from XNNPACK (the
// version in the oracle's build, mid 2022: its operator names match
// XNNPACK between 2022-08-23 and 2022-10-10; convolution-nhwc.c,
// fully-connected-nc.c, the qs8/qc8 fp32 wasmsimd micro-kernels and their
// params in microparams-init.c); which nodes the delegate takes was
// measured against the oracle (interp's TestRuntimeRoundingMatchesTFLite,
// with scales that make rounding ties common):
//
//   - CONV_2D: taken, per-channel or per-tensor weights, with or without
//     bias;
//   - DEPTHWISE_CONV_2D: taken with per-channel weights; with per-tensor
//     weights (more than one channel) it runs on the builtin kernel, which
//     rescales with double rounding;
//   - FULLY_CONNECTED: taken with per-tensor weights; per-channel weights
//     run on the builtin kernel (single rounding);
//   - MEAN over height and width of a 4-D int8 tensor: taken (XNNPACK's
//     global average pooling, float32 requantization; xnnMeanScale);
//   - 8-bit ADD (int8 and uint8), also with a constant or broadcast
//     input: taken (XNNPACK's own 21-bit fixed point; xnnAdd in
//     elementwise.go); 8-bit MUL (float32 rescale) and SUB likewise;
//   - float to int8 QUANTIZE: taken (fixedpoint.FP32Quantize);
//   - the clamp of a fused activation is TFLite's (round half away from
//     zero), not xnn_qs8_quantize's round half to even: with an output
//     scale that puts RELU_N1_TO_1's bounds on a tie, the oracle keeps
//     TFLite's bounds.
//
// The uint8 twins of these are taken under the same conditions (measured
// on tie-prone scales: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MEAN
// over height and width, ADD, SUB, and MUL of operands of equal rank),
// while uint8 pools match the builtin kernels; 16x8 stays on the builtin
// kernels; and
// XNNPACK refuses an operator whose requantization scale is 256 or more;
// qbench then keeps the builtin arithmetic.

// xnnScales returns XNNPACK's per-channel float32 requantization scales
// when the TFLite runtime (rnd == RuntimeRounding) delegates this int8 or
// uint8 conv-like op to XNNPACK, else nil.
func xnnScales(rnd fixedpoint.Rounding, op *graph.Op, sIn float32, wScales []float32, out *graph.Tensor, act graph.Activation, bias []int64, n int) []float32 {
	if rnd != fixedpoint.RuntimeRounding || (out.DType != graph.Int8 && out.DType != graph.UInt8) {
		return nil
	}
	switch op.Kind {
	case graph.OpConv2D, graph.OpDepthwiseConv2D:
		if len(wScales) != n && bias == nil {
			return nil // see builtinRounding
		}
	case graph.OpFullyConnected:
		if len(wScales) != 1 {
			return nil // per-channel weights: the builtin kernel
		}
	default:
		return nil
	}
	switch act {
	case graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1:
	default:
		return nil
	}
	sOut := out.Quant.Scale[0]
	scale := make([]float32, n)
	for c := range scale {
		sw := wScales[0]
		if len(wScales) == n {
			sw = wScales[c]
		}
		scale[c] = fixedpoint.FP32Scale(sIn, sw, sOut)
		if !(scale[c] < 256) || math.IsNaN(float64(scale[c])) {
			return nil
		}
	}
	return scale
}

// depthwiseRuntimeRounding is the arithmetic of an int8 DEPTHWISE_CONV_2D
// in mode rnd with nScales weight scales for n channels, with or without
// bias: the TFLite runtime's delegate declines per-tensor weights (n > 1)
// without bias, and its builtin depthwise kernel (TFLite's own code, not
// ruy's GEMM as CONV_2D and FULLY_CONNECTED use) rescales with double
// rounding, as measured against the oracle
// (TestRuntimeRoundingMatchesTFLite).
func depthwiseRuntimeRounding(rnd fixedpoint.Rounding, nScales, n int, bias bool) fixedpoint.Rounding {
	if rnd == fixedpoint.RuntimeRounding && nScales != n && !bias {
		return fixedpoint.DoubleRounding
	}
	return rnd
}

// xnnMeanScale returns XNNPACK's float32 requantization scale of an int8
// or uint8 MEAN that the TFLite runtime's delegate takes (rnd == RuntimeRounding):
// a 4-D input reduced over height and width (XNNPACK's global average
// pooling) with an input-to-output scale ratio in [2^−8, 2^8), which
// XNNPACK requires. The scale is sIn / (sOut·count) in float32, as
// global-average-pooling-nwc.c forms it.
func xnnMeanScale(rnd fixedpoint.Rounding, in, out *graph.Tensor, red []bool, sIn, sOut float32, count int) (float32, bool) {
	if rnd != fixedpoint.RuntimeRounding || in.DType != out.DType || (in.DType != graph.Int8 && in.DType != graph.UInt8) ||
		len(red) != 4 || red[0] || !red[1] || !red[2] || red[3] || count <= 0 {
		return 0, false
	}
	if r := sIn / sOut; !(r >= 1.0/256 && r < 256) {
		return 0, false
	}
	den := float32(sOut * float32(count))
	return sIn / den, true
}
