package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// UNSORTED_SEGMENT_SUM/MAX/MIN/PROD, float32 and int32 as
// TFLite's kernels take them: every output row starts at the reduction's
// identity (numeric_limits lowest for MAX, max for MIN) and the data rows
// are folded in in order, so float32 sums round as the runtime's do.

type segmentKernel struct {
	kind     graph.OpKind
	idsShape []int
	inner    int // elements per segment row
}

func segFold[T float32 | int32](kind graph.OpKind, x, y []T, ids []int, inner int, init T) {
	for i := range y {
		y[i] = init
	}
	for i, id := range ids {
		if id < 0 {
			continue
		}
		src, dst := x[i*inner:(i+1)*inner], y[id*inner:(id+1)*inner]
		for j, v := range src {
			switch kind {
			case graph.OpUnsortedSegmentMax: // std::max(out, in)
				if dst[j] < v {
					dst[j] = v
				}
			case graph.OpUnsortedSegmentMin: // std::min(out, in)
				if v < dst[j] {
					dst[j] = v
				}
			case graph.OpUnsortedSegmentProd:
				dst[j] *= v
			default:
				dst[j] += v
			}
		}
	}
}

func (k *segmentKernel) Run(ins, outs []*Buffer) error {
	ids, err := bufInts(ins[1])
	if err != nil {
		return fmt.Errorf("%s: segment ids: %w", k.kind, err)
	}
	x, y := ins[0], outs[0]
	var want, nv []int
	if nv, err = bufInts(ins[2]); err == nil && len(nv) != 1 {
		err = fmt.Errorf("num_segments must be one value")
	}
	if err == nil {
		want, err = graph.UnsortedSegmentShape(x.Shape, ins[1].Shape, nv[0])
	}
	for _, id := range ids {
		if err == nil && id >= nv[0] {
			err = fmt.Errorf("segment id %d not below num_segments %d", id, nv[0])
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", k.kind, err)
	}
	if !equalInts(want, y.Shape) {
		return fmt.Errorf("%s: output would have shape %v, planned %v: %w", k.kind, want, y.Shape, graph.ErrShape)
	}
	switch y.DType {
	case graph.Float32:
		init := float32(0)
		switch k.kind {
		case graph.OpUnsortedSegmentMax:
			init = -math.MaxFloat32
		case graph.OpUnsortedSegmentMin:
			init = math.MaxFloat32
		case graph.OpUnsortedSegmentProd:
			init = 1
		}
		segFold(k.kind, x.F32, y.F32, ids, k.inner, init)
	case graph.Int32:
		init := int32(0)
		switch k.kind {
		case graph.OpUnsortedSegmentMax:
			init = math.MinInt32
		case graph.OpUnsortedSegmentMin:
			init = math.MaxInt32
		case graph.OpUnsortedSegmentProd:
			init = 1
		}
		segFold(k.kind, x.I32, y.I32, ids, k.inner, init)
	}
	return nil
}

func prepareSegment(p *prep) (Kernel, error) {
	x, s, y := p.in(0), p.in(1), p.out(0)
	if x.DType != y.DType || (x.DType != graph.Float32 && x.DType != graph.Int32) {
		return nil, p.unsupported("takes float32 or int32")
	}
	if s == nil || s.DType != graph.Int32 {
		return nil, p.unsupported("segment ids must be int32")
	}
	k := &segmentKernel{kind: p.op.Kind, idsShape: s.Shape}
	lead := len(s.Shape)
	if n := p.in(2); n == nil || n.DType != graph.Int32 || n.NumElements() != 1 {
		return nil, p.unsupported("num_segments must be one int32 value")
	}
	if lead > len(x.Shape) || !equalInts(s.Shape, x.Shape[:lead]) {
		return nil, fmt.Errorf("%s: segment ids %v do not lead data %v: %w", p.op.Kind, s.Shape, x.Shape, graph.ErrShape)
	}
	k.inner = graph.NumElements(x.Shape[lead:])
	if len(y.Shape) != len(x.Shape)-lead+1 || !equalInts(y.Shape[1:], x.Shape[lead:]) {
		return nil, fmt.Errorf("%s: output %q has shape %v for data %v: %w", p.op.Kind, y.Name, y.Shape, x.Shape, graph.ErrShape)
	}
	return k, nil
}
