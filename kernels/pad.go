package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// maxPadRank bounds PAD's rank so Run works on fixed-size arrays.
const maxPadRank = 8

// padKernel implements PAD and PADV2 for any dtype: the output is filled
// with the pad value and the input copied into its interior, innermost
// dimension by contiguous runs.
type padKernel struct {
	rank     int
	in, out  [maxPadRank]int
	before   [maxPadRank]int
	outStr   [maxPadRank]int
	fillF32  float32
	fillInt  int32
	fillBool bool
	ref      bool // the reference loop: fill everything, then copy rows
}

func (k *padKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	if !k.ref {
		switch y.DType {
		case graph.Float32:
			padRows(k, x.F32, y.F32, k.fillF32)
		case graph.Bool:
			padRows(k, x.Bool, y.Bool, k.fillBool)
		case graph.Int8, graph.Int4:
			padRows(k, x.I8, y.I8, int8(k.fillInt))
		case graph.UInt8:
			padRows(k, x.U8, y.U8, uint8(k.fillInt))
		case graph.Int16:
			padRows(k, x.I16, y.I16, int16(k.fillInt))
		case graph.Int32:
			padRows(k, x.I32, y.I32, k.fillInt)
		case graph.Int64:
			padRows(k, x.I64, y.I64, int64(k.fillInt))
		}
		return nil
	}
	k.fill(y)
	inner := k.in[k.rank-1]
	rows := 1
	for d := 0; d < k.rank-1; d++ {
		rows *= k.in[d]
	}
	if inner == 0 || rows == 0 {
		return nil
	}
	var idx [maxPadRank]int
	for r := range rows {
		o := k.before[k.rank-1]
		for d := 0; d < k.rank-1; d++ {
			o += (idx[d] + k.before[d]) * k.outStr[d]
		}
		k.copyRow(x, y, r*inner, o, inner)
		for d := k.rank - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < k.in[d] {
				break
			}
			idx[d] = 0
		}
	}
	return nil
}

// padRows writes every output element once: output rows (runs of the
// innermost dimension) outside the input's box are filled, rows inside get
// the pad value before and after a copy of the input row.
func padRows[T any](k *padKernel, x, y []T, v T) {
	last := k.rank - 1
	n, inner, before := k.out[last], k.in[last], k.before[last]
	rows := 1
	for d := range last {
		rows *= k.out[d]
	}
	if n == 0 || rows == 0 {
		return
	}
	var idx [maxPadRank]int
	src := 0 // input offset of the next inside row
	for r := range rows {
		row := y[r*n : (r+1)*n]
		inside := inner > 0
		for d := range last {
			if idx[d] < k.before[d] || idx[d] >= k.before[d]+k.in[d] {
				inside = false
				break
			}
		}
		if inside {
			fillSlice(row[:before], v)
			copy(row[before:before+inner], x[src:src+inner])
			fillSlice(row[before+inner:], v)
			src += inner
		} else {
			fillSlice(row, v)
		}
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < k.out[d] {
				break
			}
			idx[d] = 0
		}
	}
}

func fillSlice[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

func (k *padKernel) fill(y *Buffer) {
	switch y.DType {
	case graph.Float32:
		for i := range y.F32 {
			y.F32[i] = k.fillF32
		}
	case graph.Bool:
		for i := range y.Bool {
			y.Bool[i] = k.fillBool
		}
	case graph.Int8, graph.Int4:
		for i := range y.I8 {
			y.I8[i] = int8(k.fillInt)
		}
	case graph.UInt8:
		for i := range y.U8 {
			y.U8[i] = uint8(k.fillInt)
		}
	case graph.Int16:
		for i := range y.I16 {
			y.I16[i] = int16(k.fillInt)
		}
	case graph.Int32:
		for i := range y.I32 {
			y.I32[i] = k.fillInt
		}
	case graph.Int64:
		for i := range y.I64 {
			y.I64[i] = int64(k.fillInt)
		}
	}
}

func (k *padKernel) copyRow(x, y *Buffer, src, dst, n int) {
	switch y.DType {
	case graph.Float32:
		copy(y.F32[dst:dst+n], x.F32[src:src+n])
	case graph.Bool:
		copy(y.Bool[dst:dst+n], x.Bool[src:src+n])
	case graph.Int8, graph.Int4:
		copy(y.I8[dst:dst+n], x.I8[src:src+n])
	case graph.UInt8:
		copy(y.U8[dst:dst+n], x.U8[src:src+n])
	case graph.Int16:
		copy(y.I16[dst:dst+n], x.I16[src:src+n])
	case graph.Int32:
		copy(y.I32[dst:dst+n], x.I32[src:src+n])
	case graph.Int64:
		copy(y.I64[dst:dst+n], x.I64[src:src+n])
	}
}

// constInt64s decodes a constant int32 or int64 tensor.
func constInt64s(t *graph.Tensor) ([]int64, bool) {
	if t == nil || !t.IsConst() {
		return nil, false
	}
	switch t.DType {
	case graph.Int32:
		v := t.Int32s()
		r := make([]int64, len(v))
		for i, x := range v {
			r[i] = int64(x)
		}
		return r, true
	case graph.Int64:
		return t.Int64s(), true
	}
	return nil, false
}

func preparePad(op *graph.Op, ins, outs []*graph.Tensor, ref bool) (Kernel, error) {
	if len(ins) < 2 || ins[1] == nil {
		return nil, fmt.Errorf("%s: needs a paddings input", op.Kind)
	}
	in, out := ins[0], outs[0]
	if in.DType != out.DType || out.DType.Size() == 0 {
		return nil, unsupported(op, ins, outs, "input and output dtypes differ")
	}
	pads, ok := constInt64s(ins[1])
	if !ok {
		return nil, unsupported(op, ins, outs, fmt.Sprintf("paddings tensor %q must be a constant int32/int64 tensor", ins[1].Name))
	}
	rank := len(in.Shape)
	if rank == 0 || rank > maxPadRank {
		return nil, unsupported(op, ins, outs, fmt.Sprintf("rank %d (1..%d supported)", rank, maxPadRank))
	}
	if len(pads) != 2*rank || len(out.Shape) != rank {
		return nil, fmt.Errorf("%s: paddings %q has %d values and output %v rank %d for input rank %d: %w",
			op.Kind, ins[1].Name, len(pads), out.Shape, len(out.Shape), rank, graph.ErrShape)
	}
	k := &padKernel{rank: rank, ref: ref}
	for d := range rank {
		b, a := pads[2*d], pads[2*d+1]
		if b < 0 || a < 0 || b > math.MaxInt32 || a > math.MaxInt32 {
			return nil, fmt.Errorf("%s: paddings %q: invalid padding (%d, %d) for dimension %d", op.Kind, ins[1].Name, b, a, d)
		}
		if int64(in.Shape[d])+b+a != int64(out.Shape[d]) {
			return nil, fmt.Errorf("%s: input %v padded by %v gives a different shape from output %v: %w",
				op.Kind, in.Shape, pads, out.Shape, graph.ErrShape)
		}
		k.in[d], k.out[d], k.before[d] = in.Shape[d], out.Shape[d], int(b)
	}
	st := 1
	for d := rank - 1; d >= 0; d-- {
		k.outStr[d] = st
		st *= k.out[d]
	}
	// The pad value: PADV2's constant input, else 0 for floats and the
	// output zero point for quantized tensors (real 0).
	if len(ins) > 2 && ins[2] != nil && op.Kind == graph.OpPadV2 {
		c := ins[2]
		if !c.IsConst() || c.DType != out.DType || c.NumElements() != 1 {
			return nil, unsupported(op, ins, outs, fmt.Sprintf("constant_values %q must be a 1-element constant of the output dtype", c.Name))
		}
		switch c.DType {
		case graph.Float32:
			k.fillF32 = c.Float32s()[0]
		case graph.Int8, graph.Int4:
			k.fillInt = int32(c.Int8s()[0])
		case graph.UInt8:
			k.fillInt = int32(c.Data[0])
		case graph.Int16:
			k.fillInt = int32(c.Int16s()[0])
		case graph.Int32:
			k.fillInt = c.Int32s()[0]
		case graph.Int64:
			k.fillInt = int32(c.Int64s()[0])
		case graph.Bool:
			k.fillBool = c.Data[0] != 0
		}
	} else if _, zp, ok := QuantParams(out); ok && out.DType.IsInteger() {
		k.fillInt = zp
	}
	return k, nil
}
