package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// concatKernel implements CONCATENATION: for each outer index (the product
// of dimensions before the axis) it copies each input's contiguous block in
// turn. As in the TFLite runtime (measured with the oracle), int16 inputs
// are copied whatever their scales, int8 inputs must have the output's
// scale and zero point (TFLite refuses the model otherwise, and so does
// Prepare), and uint8 inputs with other parameters than the output's are
// rescaled in float32 by the builtin kernel (ConcatenationWithScaling; SSD
// MobileNets concatenate six class predictors so) but copied unchanged
// by the runtime's delegate, which takes 2 to 4 inputs.
type concatKernel struct {
	outer  int
	blocks []int // elements per outer index, per input
	// float activation bounds
	flo, fhi float32
	clampF   bool
	ref      bool // the reference loop: a dtype switch per block
	// u8 is set when some uint8 input needs rescaling: per input, nil to
	// copy, else its float32 scale and bias onto the output.
	u8   []*u8Rescale
	u8ZP int32
}

// u8Rescale maps an input's uint8 value q to round(q·scale + bias) + the
// output zero point, in float32 with TFLite's operation order.
type u8Rescale struct{ scale, bias float32 }

func (k *concatKernel) Run(ins, outs []*Buffer) error {
	y := outs[0]
	if k.u8 != nil {
		k.runU8Rescale(ins, y.U8)
		return nil
	}
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

// runU8Rescale is Run for uint8 outputs with some input to rescale: each
// such block goes through round-half-away(float32(q)·scale + bias), the
// product rounded to float32 before the addition as in C (no fused
// multiply-add), then the output zero point and the uint8 clamp.
func (k *concatKernel) runU8Rescale(ins []*Buffer, y []uint8) {
	o := 0
	for r := range k.outer {
		for i, x := range ins {
			n := k.blocks[i]
			src := x.U8[r*n : (r+1)*n]
			dst := y[o : o+n]
			if rs := k.u8[i]; rs == nil {
				copy(dst, src)
			} else {
				for j, q := range src {
					v := float32(float32(q)*rs.scale) + rs.bias
					dst[j] = uint8(min(max(int32(math.Round(float64(v)))+k.u8ZP, 0), 255))
				}
			}
			o += n
		}
	}
}

// smallBlock is the largest block concatBlocks moves element by element:
// below it a copy call costs more than the loop (coral_split_concat
// interleaves 1- to 3-byte channel blocks per pixel).
const smallBlock = 8

// concatBlocks copies each input's block per outer index, with the dtype
// resolved once (elems picks the typed slice of a buffer).
func concatBlocks[T any](k *concatKernel, ins []*Buffer, y []T, elems func(*Buffer) []T) {
	var srcs [8][]T
	small := len(ins) <= len(srcs)
	for i := range ins {
		small = small && k.blocks[i] <= smallBlock
		if i < len(srcs) {
			srcs[i] = elems(ins[i])
		}
	}
	if small && k.outer > 1 {
		concatSmall(k.outer, k.blocks, srcs[:len(ins)], y)
		return
	}
	o := 0
	for r := range k.outer {
		for i, x := range ins {
			n := k.blocks[i]
			copy(y[o:o+n], elems(x)[r*n:(r+1)*n])
			o += n
		}
	}
}

func prepareConcatenation(op *graph.Op, ins, outs []*graph.Tensor, rnd fixedpoint.Rounding, ref bool) (Kernel, error) {
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
		// The runtime's delegate takes a concatenation of 2 to 4 inputs
		// and copies uint8 bytes whatever their scales (measured: 2, 3 and
		// 4 inputs copy, 5 and 6 rescale).
		xnnCopies := rnd == fixedpoint.RuntimeRounding && len(ins) >= 2 && len(ins) <= 4
		if out.DType == graph.UInt8 && outQ && !xnnCopies {
			if si, zi, ok := QuantParams(t); ok && (si != so || zi != zo) {
				if k.u8 == nil {
					k.u8 = make([]*u8Rescale, len(ins))
				}
				// 1/so first, as TFLite forms inverse_output_scale.
				sc := float32(si * float32(1/so))
				k.u8[i] = &u8Rescale{scale: sc, bias: float32(-float32(zi) * sc)}
				k.u8ZP = zo
			}
		}
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

// concatSmall is concatBlocks for blocks of at most smallBlock elements:
// the same copies as element loops, one input at a time (its block lands
// at the same offset of every output row), blocks of 1 to 3 elements as
// single stores.
func concatSmall[T any](outer int, blocks []int, srcs [][]T, y []T) {
	row := 0
	for _, n := range blocks {
		row += n
	}
	if outer == 0 || row == 0 {
		return
	}
	off := 0
	for i, x := range srcs {
		n := blocks[i]
		if n == 0 {
			continue
		}
		x = x[:outer*n]
		d := y[off : (outer-1)*row+off+n]
		switch n {
		case 1:
			for r, v := range x {
				d[r*row] = v
			}
		case 2:
			for r := range outer {
				s, o := x[2*r:2*r+2], d[r*row:r*row+2]
				o[0], o[1] = s[0], s[1]
			}
		case 3:
			for r := range outer {
				s, o := x[3*r:3*r+3], d[r*row:r*row+3]
				o[0], o[1], o[2] = s[0], s[1], s[2]
			}
		default:
			for r := range outer {
				s, o := x[r*n:r*n+n], d[r*row:r*row+n]
				for j, v := range s {
					o[j] = v
				}
			}
		}
		off += n
	}
}
