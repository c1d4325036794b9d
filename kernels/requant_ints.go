package kernels

import "github.com/qbench/qbench/graph"

// The QUANTIZE kernel between integer types that the 8-bit table does not
// take (int16 in or out, int32 out): requantizeKernel.quant's arithmetic,
// fixedpoint's MultiplyByQuantizedMultiplier, inlined and branch-free in a
// loop typed for the input and output, instead of a call, a dtype switch
// on each side and branchy rounding per element. int16 → 8-bit (the first
// op of tflm_kws_scrambled_i8) reads a 64 KiB table of every input's
// result, filled by that loop when the kernel is prepared: about 1 ns an
// element against 10 for the loop and 20 for the reference (one loaded
// core).

// requantLoop is one typed requantization loop of n elements.
type requantLoop func(k *requantizeKernel, x, y *Buffer, n int)

// requantLoopFor returns the typed loop for in → out, or nil when the
// kernel's arithmetic is not the plain multiplier (XNNPACK's 8-bit form)
// or its shifts are outside what the loop handles (the reference runs).
func requantLoopFor(k *requantizeKernel, in, out graph.DType) requantLoop {
	if k.xnn || k.xorFast || k.mult < 0 || k.shift > 30 || k.shift < -31 {
		return nil
	}
	switch in {
	case graph.Int8:
		return requantLoopOut(in, out, func(b *Buffer) []int8 { return b.I8 })
	case graph.UInt8:
		return requantLoopOut(in, out, func(b *Buffer) []uint8 { return b.U8 })
	case graph.Int16:
		return requantLoopOut(in, out, func(b *Buffer) []int16 { return b.I16 })
	case graph.Int32:
		return requantLoopOut(in, out, func(b *Buffer) []int32 { return b.I32 })
	}
	return nil
}

// requantTable16 returns the table of k's result for every int16 input,
// indexed by the input's bits, and the loop that reads it into out (int8
// or uint8), or nil when requantLoopFor has no loop for k.
func requantTable16(k *requantizeKernel, out graph.DType) requantLoop {
	if requantLoopFor(k, graph.Int16, out) == nil || (out != graph.Int8 && out != graph.UInt8) {
		return nil
	}
	all := make([]int16, 1<<16)
	for i := range all {
		all[i] = int16(uint16(i))
	}
	t := new([1 << 16]uint8)
	requantInts(k, all, t[:])
	if out == graph.Int8 {
		return func(_ *requantizeKernel, x, y *Buffer, n int) { lookup16(t, x.I16[:n], y.I8[:n]) }
	}
	return func(_ *requantizeKernel, x, y *Buffer, n int) { lookup16(t, x.I16[:n], y.U8[:n]) }
}

// lookup16 sets y[i] to the table's byte for x[i].
func lookup16[O int8 | uint8](t *[1 << 16]uint8, x []int16, y []O) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = O(t[uint16(v)])
	}
}

func requantLoopOut[I requantInt](in, out graph.DType, xs func(*Buffer) []I) requantLoop {
	switch out {
	case graph.Int8:
		return func(k *requantizeKernel, x, y *Buffer, n int) { requantInts(k, xs(x)[:n], y.I8[:n]) }
	case graph.UInt8:
		return func(k *requantizeKernel, x, y *Buffer, n int) { requantInts(k, xs(x)[:n], y.U8[:n]) }
	case graph.Int16:
		return func(k *requantizeKernel, x, y *Buffer, n int) { requantInts(k, xs(x)[:n], y.I16[:n]) }
	case graph.Int32:
		return func(k *requantizeKernel, x, y *Buffer, n int) { requantInts(k, xs(x)[:n], y.I32[:n]) }
	}
	return nil
}

type requantInt interface{ int8 | uint8 | int16 | int32 }

// requantInts sets y[i] = k.quant(x[i]) (not for k.xnn). The multiplier is
// non-negative, so SaturatingRoundingDoublingHighMul cannot saturate and
// its sign-dependent nudge with truncation equals adding 2^30 and
// flooring; RoundingDivideByPOT's threshold is mask/2, plus one for
// negative values.
func requantInts[I, O requantInt](k *requantizeKernel, x []I, y []O) {
	left, right := uint(0), uint(0)
	if k.shift > 0 {
		left = uint(k.shift)
	} else {
		right = uint(-k.shift)
	}
	mask := int32(uint32(1)<<right - 1)
	half := mask >> 1
	m, zi, zo, lo, hi := int64(k.mult), k.zpIn, k.zpOut, k.lo, k.hi
	y = y[:len(x)]
	for i, v := range x {
		a := (int32(v) - zi) << left
		p := int32((int64(a)*m + 1<<30) >> 31)
		rem, thr := p&mask, half+int32(uint32(p)>>31)
		// thr − rem is negative exactly when rem > thr (both in
		// [0, 2^31)): round up without a branch, which random data
		// mispredicts.
		p = p>>right - (thr-rem)>>31 + zo
		y[i] = O(min(max(p, lo), hi))
	}
}
