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
