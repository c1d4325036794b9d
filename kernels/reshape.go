package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// copyKernel copies its first input to its output unchanged: RESHAPE only
// changes the shape, which the output tensor already carries.
type copyKernel struct{}

func (copyKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	switch y.DType {
	case graph.Float32:
		copy(y.F32, x.F32)
	case graph.Int8, graph.Int4:
		copy(y.I8, x.I8)
	case graph.UInt8:
		copy(y.U8, x.U8)
	case graph.Int16:
		copy(y.I16, x.I16)
	case graph.Int32:
		copy(y.I32, x.I32)
	case graph.Int64:
		copy(y.I64, x.I64)
	case graph.Bool:
		copy(y.Bool, x.Bool)
	}
	return nil
}

func prepareReshape(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	in, out := ins[0], outs[0]
	if in.DType != out.DType {
		return nil, unsupported(op, ins, outs, "input and output dtypes differ")
	}
	if out.DType.Size() == 0 {
		return nil, unsupported(op, ins, outs, "dtype")
	}
	if err := checkElems(op, in, out); err != nil {
		return nil, err
	}
	if in.Quant != nil && out.Quant != nil && len(in.Quant.Scale) == 1 && len(out.Quant.Scale) == 1 {
		si, zi, _ := QuantParams(in)
		so, zo, _ := QuantParams(out)
		if si != so || zi != zo {
			return nil, fmt.Errorf("%s: input %q and output %q quantization differ (%g, %d vs %g, %d)",
				op.Kind, in.Name, out.Name, si, zi, so, zo)
		}
	}
	return copyKernel{}, nil
}
