package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// concatKernel implements CONCATENATION: for each outer index (the product
// of dimensions before the axis) it copies each input's contiguous block in
// turn. Quantized values are never rescaled, as in the TFLite runtime
// (measured with the oracle): uint8 and int16 inputs are copied whatever
// their scales, and int8 inputs must have the output's scale and zero point
// (TFLite refuses the model otherwise, and so does Prepare).
type concatKernel struct {
	outer  int
	blocks []int // elements per outer index, per input
	// float activation bounds
	flo, fhi float32
	clampF   bool
	ref      bool // the reference loop: a dtype switch per block
}

func (k *concatKernel) Run(ins, outs []*Buffer) error {
	y := outs[0]
	if !k.ref {
		switch y.DType {
		case graph.Float32:
			concatBlocks(k, ins, y.F32, func(b *Buffer) []float32 { return b.F32 })
			if k.clampF {
				ys := y.F32
				for i, v := range ys {
					ys[i] = min(max(v, k.flo), k.fhi)
				}
			}
		case graph.Int8, graph.Int4:
			concatBlocks(k, ins, y.I8, func(b *Buffer) []int8 { return b.I8 })
		case graph.UInt8:
			concatBlocks(k, ins, y.U8, func(b *Buffer) []uint8 { return b.U8 })
		case graph.Int16:
			concatBlocks(k, ins, y.I16, func(b *Buffer) []int16 { return b.I16 })
		case graph.Int32:
			concatBlocks(k, ins, y.I32, func(b *Buffer) []int32 { return b.I32 })
		case graph.Int64:
			concatBlocks(k, ins, y.I64, func(b *Buffer) []int64 { return b.I64 })
		case graph.Bool:
			concatBlocks(k, ins, y.Bool, func(b *Buffer) []bool { return b.Bool })
		}
		return nil
	}
	o := 0
	for r := range k.outer {
		for i, x := range ins {
			n := k.blocks[i]
			src := r * n
			switch y.DType {
			case graph.Float32:
				copy(y.F32[o:o+n], x.F32[src:src+n])
			case graph.Int8, graph.Int4:
				copy(y.I8[o:o+n], x.I8[src:src+n])
			case graph.UInt8:
				copy(y.U8[o:o+n], x.U8[src:src+n])
			case graph.Int16:
				copy(y.I16[o:o+n], x.I16[src:src+n])
			case graph.Int32:
				copy(y.I32[o:o+n], x.I32[src:src+n])
			case graph.Int64:
				copy(y.I64[o:o+n], x.I64[src:src+n])
			case graph.Bool:
				copy(y.Bool[o:o+n], x.Bool[src:src+n])
			}
			o += n
		}
	}
	if k.clampF {
		for i, v := range y.F32 {
			y.F32[i] = min(max(v, k.flo), k.fhi)
		}
	}
	return nil
}

// concatBlocks copies each input's block per outer index, with the dtype
// resolved once (elems picks the typed slice of a buffer).
func concatBlocks[T any](k *concatKernel, ins []*Buffer, y []T, elems func(*Buffer) []T) {
	o := 0
	for r := range k.outer {
		for i, x := range ins {
			n := k.blocks[i]
			copy(y[o:o+n], elems(x)[r*n:(r+1)*n])
			o += n
		}
	}
}

func prepareConcatenation(op *graph.Op, ins, outs []*graph.Tensor, ref bool) (Kernel, error) {
	o, ok := op.Options.(*graph.ConcatenationOptions)
	if !ok {
		return nil, fmt.Errorf("%s: options are %T, want *graph.ConcatenationOptions", op.Kind, op.Options)
	}
	out := outs[0]
	rank := len(out.Shape)
	axis := o.Axis
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return nil, fmt.Errorf("%s: axis %d out of range for output %q of rank %d", op.Kind, o.Axis, out.Name, rank)
	}
	if out.DType.Size() == 0 {
		return nil, unsupported(op, ins, outs, "dtype")
	}
	k := &concatKernel{outer: 1, ref: ref}
	for d := range axis {
		k.outer *= out.Shape[d]
	}
	inner := 1
	for d := axis + 1; d < rank; d++ {
		inner *= out.Shape[d]
	}
	sum := 0
	so, zo, outQ := QuantParams(out)
	for i, t := range ins {
		if t == nil {
			return nil, fmt.Errorf("%s: input %d is missing", op.Kind, i)
		}
		if t.DType != out.DType {
			return nil, unsupported(op, ins, outs, fmt.Sprintf("input %d %q dtype differs from the output's", i, t.Name))
		}
		if len(t.Shape) != rank {
			return nil, fmt.Errorf("%s: input %d %q shape %v and output %v differ in rank: %w", op.Kind, i, t.Name, t.Shape, out.Shape, graph.ErrShape)
		}
		for d := range rank {
			if d != axis && t.Shape[d] != out.Shape[d] {
				return nil, fmt.Errorf("%s: input %d %q shape %v and output %v differ outside axis %d: %w", op.Kind, i, t.Name, t.Shape, out.Shape, axis, graph.ErrShape)
			}
		}
		sum += t.Shape[axis]
		k.blocks = append(k.blocks, t.Shape[axis]*inner)
		// The TFLite runtime copies uint8 and int16 inputs whatever their
		// scales (converters give them the output's) and refuses int8 ones
		// whose quantization differs from the output's.
		if out.DType == graph.Int8 {
			si, zi, ok := QuantParams(t)
			if ok != outQ || si != so || zi != zo {
				return nil, unsupported(op, ins, outs, fmt.Sprintf("int8 input %d %q has scale %g and zero point %d, the output %q %g and %d: TFLite's int8 CONCATENATION does not rescale and refuses differing quantization",
					i, t.Name, si, zi, out.Name, so, zo))
			}
		}
	}
	if sum != out.Shape[axis] {
		return nil, fmt.Errorf("%s: inputs sum to %d along axis %d but output %q has %d: %w", op.Kind, sum, axis, out.Name, out.Shape[axis], graph.ErrShape)
	}
	if o.Activation != graph.ActNone {
		if out.DType != graph.Float32 {
			return nil, unsupported(op, ins, outs, "fused activation on a non-float concatenation")
		}
		lo, hi, err := ActivationRangeFloat(o.Activation)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		k.flo, k.fhi, k.clampF = lo, hi, true
	}
	return k, nil
}
