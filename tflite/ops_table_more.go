package tflite

import (
	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/qbench/qbench/graph"
)

// readUnique reads UniqueOptions.idx_out_type (schema default INT32).
func readUnique(o *opt) any {
	d := o.dtype(0)
	if d == graph.Unknown {
		d = graph.Int32
	}
	return &graph.UniqueOptions{IdxType: d}
}

func writeUnique(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.dtypeSlot(0, v.(*graph.UniqueOptions).IdxType)
	return w.b.EndObject()
}

// readConv3D reads Conv3DOptions (strides default 0 in the schema and
// must be set; dilations default 1).
func readConv3D(o *opt) any {
	c := &graph.Conv3DOptions{Padding: o.padding(0), StrideD: o.i32(1, 0), StrideW: o.i32(2, 0), StrideH: o.i32(3, 0),
		Activation: o.activation(4), DilationD: o.i32(5, 1), DilationW: o.i32(6, 1), DilationH: o.i32(7, 1)}
	if o.present {
		for _, f := range []struct {
			name string
			v    int
		}{{"stride_d", c.StrideD}, {"stride_w", c.StrideW}, {"stride_h", c.StrideH},
			{"dilation_d_factor", c.DilationD}, {"dilation_w_factor", c.DilationW}, {"dilation_h_factor", c.DilationH}} {
			o.positive(f.name, f.v)
		}
	}
	return c
}

func writeConv3D(w *writer, v any) flatbuffers.UOffsetT {
	c := v.(*graph.Conv3DOptions)
	w.b.StartObject(8)
	w.b.PrependInt8Slot(0, int8(c.Padding), 0)
	w.b.PrependInt32Slot(1, int32(c.StrideD), 0)
	w.b.PrependInt32Slot(2, int32(c.StrideW), 0)
	w.b.PrependInt32Slot(3, int32(c.StrideH), 0)
	w.b.PrependInt8Slot(4, int8(c.Activation), 0)
	w.b.PrependInt32Slot(5, int32(c.DilationD), 1)
	w.b.PrependInt32Slot(6, int32(c.DilationW), 1)
	w.b.PrependInt32Slot(7, int32(c.DilationH), 1)
	return w.b.EndObject()
}

func readSparseToDense(o *opt) any {
	return &graph.SparseToDenseOptions{ValidateIndices: o.boolean(0, false)}
}

func writeSparseToDense(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.b.PrependBoolSlot(0, v.(*graph.SparseToDenseOptions).ValidateIndices, false)
	return w.b.EndObject()
}
