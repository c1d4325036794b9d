package tflite

import (
	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/qbench/qbench/graph"
)

// Options of the indexing, scan and segment ops in opSpecs.

func readCumsum(o *opt) any {
	return &graph.CumsumOptions{Exclusive: o.boolean(0, false), Reverse: o.boolean(1, false)}
}

func writeCumsum(w *writer, v any) flatbuffers.UOffsetT {
	c := v.(*graph.CumsumOptions)
	w.b.StartObject(2)
	w.b.PrependBoolSlot(0, c.Exclusive, false)
	w.b.PrependBoolSlot(1, c.Reverse, false)
	return w.b.EndObject()
}

func readOneHot(o *opt) any { return &graph.OneHotOptions{Axis: o.i32(0, 0)} }

func writeOneHot(w *writer, v any) flatbuffers.UOffsetT {
	w.b.StartObject(1)
	w.b.PrependInt32Slot(0, int32(v.(*graph.OneHotOptions).Axis), 0)
	return w.b.EndObject()
}

func readReverseSequence(o *opt) any {
	return &graph.ReverseSequenceOptions{SeqDim: o.i32(0, 0), BatchDim: o.i32(1, 0)}
}

func writeReverseSequence(w *writer, v any) flatbuffers.UOffsetT {
	r := v.(*graph.ReverseSequenceOptions)
	w.b.StartObject(2)
	w.b.PrependInt32Slot(0, int32(r.SeqDim), 0)
	w.b.PrependInt32Slot(1, int32(r.BatchDim), 0)
	return w.b.EndObject()
}

func readBucketize(o *opt) any {
	b := &graph.BucketizeOptions{}
	if !o.present || o.err != nil {
		return b
	}
	v, err := o.t.vec(0, 4, "boundaries")
	if err != nil {
		o.err = err
		return b
	}
	b.Boundaries, o.err = v.float32s()
	return b
}

func writeBucketize(w *writer, v any) flatbuffers.UOffsetT {
	b := v.(*graph.BucketizeOptions)
	var off flatbuffers.UOffsetT
	if len(b.Boundaries) > 0 {
		off = w.float32Vector(b.Boundaries)
	}
	w.b.StartObject(1)
	if off != 0 {
		w.b.PrependUOffsetTSlot(0, off, 0)
	}
	return w.b.EndObject()
}

func readLRN(o *opt) any {
	return &graph.LRNOptions{Radius: o.i32(0, 0), Bias: o.f32(1, 0), Alpha: o.f32(2, 0), Beta: o.f32(3, 0)}
}

func writeLRN(w *writer, v any) flatbuffers.UOffsetT {
	l := v.(*graph.LRNOptions)
	w.b.StartObject(4)
	w.b.PrependInt32Slot(0, int32(l.Radius), 0)
	w.b.PrependFloat32Slot(1, l.Bias, 0)
	w.b.PrependFloat32Slot(2, l.Alpha, 0)
	w.b.PrependFloat32Slot(3, l.Beta, 0)
	return w.b.EndObject()
}
