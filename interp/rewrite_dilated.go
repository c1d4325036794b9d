package interp

import (
	"slices"

	"github.com/qbench/qbench/graph"
)

// fuseDilated returns the ops of g with every SPACE_TO_BATCH_ND →
// CONV_2D (or DEPTHWISE_CONV_2D) → BATCH_TO_SPACE_ND chain replaced by one
// convolution with dilation, orig[i] the index in g.Ops of ops[i] (for a
// merged chain, the convolution's) and how many chains were merged. g is
// not modified: a merged convolution is a new Op, every other op is g's.
//
// This is how TensorFlow lowers a dilated convolution: cut the padded
// input into block_h·block_w phase images (SPACE_TO_BATCH_ND), run an
// undilated VALID convolution on each, interleave the results back and
// crop (BATCH_TO_SPACE_ND). Output row y (before the crop, y+ct) of phase
// (y+ct) mod b reads padded rows (y+ct)+k·b, k < fH, i.e. input rows
// y + k·b − (pt−ct): a convolution with dilation b whose top padding is
// pt−ct, where pt is SPACE_TO_BATCH_ND's top padding and ct the crop;
// likewise for columns. The merged convolution can express that when
// pt−ct (and pl−cl) is the padding TFLite's SAME or VALID rule gives for
// the output size BATCH_TO_SPACE_ND yields; every other chain stays.
// Rows outside the input read zero in both forms (SPACE_TO_BATCH_ND pads
// with the zero point, which a quantized convolution's implicit padding
// also means), and the phase images are independent batch entries, so:
//
//   - int8, uint8 and int16 convolutions give bit-identical outputs (the
//     same products summed in int32/int64 arithmetic, the same
//     requantization of the same accumulator);
//   - float32 ones give the same sum up to rounding order: the merged
//     kernel skips the padding products (0·w) the chain computes and may
//     add the rest in another order (tested within 1e-5 relative); a
//     weight of ±Inf or NaN that only ever meets padding gives NaN in the
//     chain and nothing in the merged form.
//
// Hybrid convolutions (float input, integer weights) are left alone: they
// quantize each batch entry with its own scale, so a phase image's scale
// is not the whole image's.
//
// A chain qualifies when its tensors are 4-D; the intermediate tensors
// are read by the next op alone and are not graph outputs; block shape,
// paddings and crops are constants with the same block on both ends; the
// convolution has stride 1, dilation 1, VALID padding, constant weights
// and bias; and the inner tensors carry the outer ones' dtype and
// quantization.
func fuseDilated(g *graph.Graph) (ops []*graph.Op, orig []int, merged int) {
	e := newOpEdits(g)
	drop, repl := e.drop, e.repl
	for i, stb := range g.Ops {
		if stb.Kind != graph.OpSpaceToBatchND || len(stb.Inputs) != 3 || len(stb.Outputs) != 1 {
			continue
		}
		ci, ok := e.soleReader(stb.Outputs[0])
		if !ok || drop[ci] || repl[ci] != nil {
			continue
		}
		conv := g.Ops[ci]
		if len(conv.Outputs) != 1 || len(conv.Inputs) < 2 || conv.Inputs[0] != stb.Outputs[0] {
			continue
		}
		bi, ok := e.soleReader(conv.Outputs[0])
		if !ok || drop[bi] {
			continue
		}
		bts := g.Ops[bi]
		if bts.Kind != graph.OpBatchToSpaceND || len(bts.Inputs) != 3 || len(bts.Outputs) != 1 || bts.Inputs[0] != conv.Outputs[0] {
			continue
		}
		nop := dilatedConv(g, stb, conv, bts)
		if nop == nil {
			continue
		}
		repl[ci] = nop
		drop[i], drop[bi] = true, true
		merged++
	}
	ops, orig = e.apply(g)
	return ops, orig, merged
}

// dilatedConv returns the convolution with dilation equivalent to the
// chain stb → conv → bts (see fuseDilated), or nil when there is none.
func dilatedConv(g *graph.Graph, stb, conv, bts *graph.Op) *graph.Op {
	in, mid, cout, out := g.Tensor(stb.Inputs[0]), g.Tensor(stb.Outputs[0]), g.Tensor(conv.Outputs[0]), g.Tensor(bts.Outputs[0])
	if in == nil || mid == nil || cout == nil || out == nil ||
		len(in.Shape) != 4 || len(mid.Shape) != 4 || len(cout.Shape) != 4 || len(out.Shape) != 4 {
		return nil
	}
	if !sameTypeQuant(in, mid) || !sameTypeQuant(cout, out) {
		return nil
	}
	w := g.Tensor(conv.Inputs[1])
	if w == nil || !w.IsConst() || len(w.Shape) != 4 {
		return nil
	}
	if len(conv.Inputs) > 2 && conv.Inputs[2] >= 0 && !g.Tensors[conv.Inputs[2]].IsConst() {
		return nil
	}
	switch in.DType {
	case graph.Float32:
		if w.DType != graph.Float32 {
			return nil // hybrid
		}
	case graph.Int8, graph.UInt8, graph.Int16:
	default:
		return nil
	}
	block := constParam(g, stb.Inputs[1], 2)
	pads := constParam(g, stb.Inputs[2], 4)
	block2 := constParam(g, bts.Inputs[1], 2)
	crops := constParam(g, bts.Inputs[2], 4)
	if block == nil || pads == nil || crops == nil || !slices.Equal(block, block2) || block[0] < 1 || block[1] < 1 {
		return nil
	}
	for _, v := range append(slices.Clone(pads), crops...) {
		if v < 0 {
			return nil
		}
	}
	// Filter height and width: OHWI for CONV_2D, 1HWO for depthwise.
	fH, fW := w.Shape[1], w.Shape[2]
	nop := *conv
	switch o := conv.Options.(type) {
	case *graph.Conv2DOptions:
		if conv.Kind != graph.OpConv2D || o == nil || !undilatedValid(o.Padding, o.StrideH, o.StrideW, o.DilationH, o.DilationW) {
			return nil
		}
		opts := *o
		pad, ok := mergedPadding(in.Shape, out.Shape, fH, fW, block, pads, crops)
		if !ok {
			return nil
		}
		opts.Padding, opts.DilationH, opts.DilationW = pad, block[0], block[1]
		nop.Options = &opts
	case *graph.DepthwiseConv2DOptions:
		if conv.Kind != graph.OpDepthwiseConv2D || o == nil || !undilatedValid(o.Padding, o.StrideH, o.StrideW, o.DilationH, o.DilationW) {
			return nil
		}
		opts := *o
		pad, ok := mergedPadding(in.Shape, out.Shape, fH, fW, block, pads, crops)
		if !ok {
			return nil
		}
		opts.Padding, opts.DilationH, opts.DilationW = pad, block[0], block[1]
		nop.Options = &opts
	default:
		return nil
	}
	if in.Shape[0] != out.Shape[0] || in.Shape[3] != mid.Shape[3] || out.Shape[3] != cout.Shape[3] {
		return nil
	}
	nop.Inputs = slices.Clone(conv.Inputs)
	nop.Inputs[0] = stb.Inputs[0]
	nop.Outputs = []int{bts.Outputs[0]}
	return &nop
}

// undilatedValid reports whether a convolution's options are the inner
// convolution of TensorFlow's dilated-convolution lowering.
func undilatedValid(pad graph.Padding, strideH, strideW, dilH, dilW int) bool {
	one := func(d int) bool { return d == 0 || d == 1 }
	return pad == graph.PaddingValid && strideH == 1 && strideW == 1 && one(dilH) && one(dilW)
}

// mergedPadding returns SAME or VALID when a stride-1 convolution of the
// fH×fW filter with dilation block over an input of shape in pads the top
// and left by pads−crops and yields out's height and width.
func mergedPadding(in, out []int, fH, fW int, block, pads, crops []int) (graph.Padding, bool) {
	for _, pad := range []graph.Padding{graph.PaddingSame, graph.PaddingValid} {
		ok := true
		for d, f := range []int{fH, fW} {
			n, o, b := in[1+d], out[1+d], block[d]
			size := graph.ConvOutputSize(pad, n, f, 1, b)
			if size < 1 || size != o || graph.ConvPadding(pad, n, f, 1, b, size) != pads[2*d]-crops[2*d] {
				ok = false
			}
		}
		if ok {
			return pad, true
		}
	}
	return 0, false
}

// constParam decodes the constant int tensor t when it has n elements.
func constParam(g *graph.Graph, t, n int) []int {
	x := g.Tensor(t)
	if x == nil || !x.IsConst() {
		return nil
	}
	v := constIntsOf(x)
	if len(v) != n {
		return nil
	}
	return v
}

// sameTypeQuant reports whether a and b have the same dtype and the same
// quantization (scales, zero points and axis; both absent counts).
func sameTypeQuant(a, b *graph.Tensor) bool {
	if a.DType != b.DType {
		return false
	}
	qa, qb := a.Quant, b.Quant
	if qa == nil || qb == nil {
		return (qa == nil || len(qa.Scale) == 0) && (qb == nil || len(qb.Scale) == 0)
	}
	return slices.Equal(qa.Scale, qb.Scale) && slices.Equal(qa.ZeroPoint, qb.ZeroPoint) && (len(qa.Scale) <= 1 || qa.Axis == qb.Axis)
}
