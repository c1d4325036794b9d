package kernels

import (
	"container/heap"
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// NON_MAX_SUPPRESSION_V4/V5, WHERE and UNIQUE as TFLite's builtin kernels
// compute them.
//
// NMS outputs always hold max_output_size entries (zeros past
// valid_outputs, TFLite's ResetUnusedElementsToZeroes), so their shapes
// are static. WHERE's and UNIQUE's first outputs are data-dependent: the
// kernel is prepared with the output at its bound (graph.WhereBound,
// graph.UniqueBound), fills what the input gives and sets the output
// buffer's Shape and slice length to it (Buffer capacity is the bound).
// interp (interp/dynamic.go) hands such a kernel a buffer owned per run.

// nmsKernel is TFLite's NonMaxSuppression: candidates above the score
// threshold in a max-heap by score; each popped one is compared with the
// selected boxes from the latest back, hard-suppressed at IoU >=
// iou_threshold, its score decayed by exp(-0.5·iou²/sigma) per
// comparison in soft-NMS (V5, sigma > 0) and pushed back while above the
// threshold; it is selected when its score is still its original one.
// Equal scores pop lowest index first (TFLite's std::priority_queue leaves
// their order to the library's heap; the tests avoid ties).
type nmsKernel struct {
	v5  bool
	max int // max_output_size the outputs were planned for
}

type nmsCand struct {
	index       int
	score       float32
	suppressBeg int
}

type nmsHeap []nmsCand

func (h nmsHeap) Len() int { return len(h) }
func (h nmsHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score > h[j].score
	}
	return h[i].index < h[j].index
}
func (h nmsHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *nmsHeap) Push(x any)   { *h = append(*h, x.(nmsCand)) }
func (h *nmsHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// nmsIoU is TFLite's ComputeIntersectionOverUnion on [y1, x1, y2, x2]
// corners in either order, 0 when either box is empty.
func nmsIoU(boxes []float32, i, j int) float32 {
	bi, bj := boxes[4*i:4*i+4], boxes[4*j:4*j+4]
	iy0, iy1 := min(bi[0], bi[2]), max(bi[0], bi[2])
	ix0, ix1 := min(bi[1], bi[3]), max(bi[1], bi[3])
	jy0, jy1 := min(bj[0], bj[2]), max(bj[0], bj[2])
	jx0, jx1 := min(bj[1], bj[3]), max(bj[1], bj[3])
	ai := (iy1 - iy0) * (ix1 - ix0)
	aj := (jy1 - jy0) * (jx1 - jx0)
	if ai <= 0 || aj <= 0 {
		return 0
	}
	inter := max(min(iy1, jy1)-max(iy0, jy0), 0) * max(min(ix1, jx1)-max(ix0, jx0), 0)
	return inter / (ai + aj - inter)
}

// NMS runs non-max suppression over boxes ([n, 4] corners) and scores
// into selected (and, when not nil, selScores), returning how many were
// selected. sigma 0 is plain (V4) suppression.
func NMS(boxes, scores []float32, maxOut int, iouThr, scoreThr, sigma float32, selected []int32, selScores []float32) int {
	h := nmsHeap{}
	for i, s := range scores {
		if s > scoreThr {
			h = append(h, nmsCand{index: i, score: s})
		}
	}
	heap.Init(&h)
	num := 0
	outs := min(len(h), maxOut)
	var scale float32
	if sigma > 0 {
		scale = -0.5 / sigma
	}
	for num < outs && h.Len() > 0 {
		c := heap.Pop(&h).(nmsCand)
		orig := c.score
		hard := false
		for j := num - 1; j >= c.suppressBeg; j-- {
			iou := nmsIoU(boxes, c.index, int(selected[j]))
			if iou >= iouThr {
				hard = true
				break
			}
			if sigma > 0 {
				c.score *= float32(math.Exp(float64(scale * iou * iou)))
			}
			if c.score <= scoreThr {
				break
			}
		}
		c.suppressBeg = num
		if hard {
			continue
		}
		if c.score == orig {
			selected[num] = int32(c.index)
			if selScores != nil {
				selScores[num] = c.score
			}
			num++
		}
		if c.score > scoreThr {
			heap.Push(&h, c)
		}
	}
	return num
}

func scalarF32(b *Buffer) (float32, error) {
	if b == nil || b.DType != graph.Float32 || len(b.F32) != 1 {
		return 0, fmt.Errorf("want one float32 value")
	}
	return b.F32[0], nil
}

func (k *nmsKernel) Run(ins, outs []*Buffer) error {
	name := "NON_MAX_SUPPRESSION_V4"
	if k.v5 {
		name = "NON_MAX_SUPPRESSION_V5"
	}
	m, err := bufInts(ins[2])
	if err != nil || len(m) != 1 || m[0] < 0 || m[0] > k.max {
		return fmt.Errorf("%s: max_output_size %v is not the %d the outputs were planned for", name, m, k.max)
	}
	iou, err := scalarF32(ins[3])
	if err != nil {
		return fmt.Errorf("%s: iou_threshold: %w", name, err)
	}
	if iou < 0 || iou > 1 {
		return fmt.Errorf("%s: iou_threshold %g outside [0, 1]", name, iou)
	}
	st, err := scalarF32(ins[4])
	if err != nil {
		return fmt.Errorf("%s: score_threshold: %w", name, err)
	}
	var sigma float32
	var scores []float32
	sel, valid := outs[0].I32, outs[len(outs)-1]
	if k.v5 {
		if sigma, err = scalarF32(ins[5]); err != nil {
			return fmt.Errorf("%s: soft_nms_sigma: %w", name, err)
		}
		if sigma < 0 {
			return fmt.Errorf("%s: soft_nms_sigma %g is negative", name, sigma)
		}
		scores = outs[1].F32
	}
	n := NMS(ins[0].F32, ins[1].F32, m[0], iou, st, sigma, sel, scores)
	clear(sel[n:])
	clear(scores[min(n, len(scores)):])
	valid.I32[0] = int32(n)
	return nil
}

func prepareNMS(p *prep) (Kernel, error) {
	v5 := p.op.Kind == graph.OpNonMaxSuppressionV5
	nin, nout := 5, 2
	if v5 {
		nin, nout = 6, 3
	}
	if len(p.ins) != nin || len(p.outs) != nout {
		return nil, fmt.Errorf("%s: takes %d inputs and %d outputs, got %d and %d", p.op.Kind, nin, nout, len(p.ins), len(p.outs))
	}
	for i, t := range p.ins {
		want := graph.Float32
		if i == 2 {
			want = graph.Int32
		}
		if t == nil || t.DType != want {
			return nil, p.unsupported("boxes, scores and thresholds are float32, max_output_size int32")
		}
		if i >= 2 && t.NumElements() != 1 {
			return nil, fmt.Errorf("%s: input %d %q must hold one value, has shape %v: %w", p.op.Kind, i, t.Name, t.Shape, graph.ErrShape)
		}
	}
	if p.outs[0].DType != graph.Int32 || p.outs[nout-1].DType != graph.Int32 || (v5 && p.outs[1].DType != graph.Float32) {
		return nil, p.unsupported("selected_indices and valid_outputs are int32, selected_scores float32")
	}
	m := tensorInts(p.in(2))
	if m == nil {
		return nil, p.unsupported("max_output_size must be constant (interp re-prepares the op when it is computed)")
	}
	shapes, err := inferShapes(p)
	if err != nil {
		return nil, err
	}
	for o, s := range shapes {
		if err := p.checkOut(o, s); err != nil {
			return nil, err
		}
	}
	return &nmsKernel{v5: v5, max: m[0]}, nil
}

// setShape gives a data-dependent output its run's shape: a new Shape
// slice (the planned one may be the graph tensor's) and the data resliced
// within the bound's capacity.
func setShape(b *Buffer, shape ...int) {
	n := graph.NumElements(shape)
	b.Shape = shape
	switch b.DType {
	case graph.Float32:
		b.F32 = b.F32[:n]
	case graph.Int8:
		b.I8 = b.I8[:n]
	case graph.UInt8:
		b.U8 = b.U8[:n]
	case graph.Int16:
		b.I16 = b.I16[:n]
	case graph.Int32:
		b.I32 = b.I32[:n]
	case graph.Int64:
		b.I64 = b.I64[:n]
	case graph.Bool:
		b.Bool = b.Bool[:n]
	}
}

// capacity returns how many elements b's data can hold.
func capacity(b *Buffer) int {
	return cap(b.F32) + cap(b.I8) + cap(b.U8) + cap(b.I16) + cap(b.I32) + cap(b.I64) + cap(b.Bool)
}

// whereKernel lists the coordinates of the condition's true (non-zero)
// elements in row-major order, one int64 row of rank values each.
type whereKernel struct{}

func eachNonZero[T int8 | uint8 | int32 | int64 | float32](x []T, f func(i int)) {
	for i, v := range x {
		if v != 0 {
			f(i)
		}
	}
}

func (whereKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	rank := len(x.Shape)
	n := graph.NumElements(x.Shape)
	if capacity(y) < n*rank {
		return fmt.Errorf("WHERE: output holds %d values, the input can need %d", capacity(y), n*rank)
	}
	setShape(y, n, rank) // the bound; trimmed below
	count := 0
	emit := func(i int) {
		for d := rank - 1; d >= 0; d-- {
			y.I64[count*rank+d] = int64(i % x.Shape[d])
			i /= x.Shape[d]
		}
		count++
	}
	switch x.DType {
	case graph.Bool:
		for i, v := range x.Bool {
			if v {
				emit(i)
			}
		}
	case graph.Float32:
		eachNonZero(x.F32, emit)
	case graph.Int8:
		eachNonZero(x.I8, emit)
	case graph.UInt8:
		eachNonZero(x.U8, emit)
	case graph.Int32:
		eachNonZero(x.I32, emit)
	case graph.Int64:
		eachNonZero(x.I64, emit)
	}
	setShape(y, count, rank)
	return nil
}

func prepareWhere(p *prep) (Kernel, error) {
	x, y := p.in(0), p.out(0)
	switch x.DType {
	case graph.Bool, graph.Float32, graph.Int8, graph.UInt8, graph.Int32, graph.Int64:
	default:
		return nil, p.unsupported("dtype")
	}
	if len(p.ins) != 1 || y == nil || y.DType != graph.Int64 {
		return nil, p.unsupported("one condition input, int64 coordinates out")
	}
	if err := p.checkOut(0, graph.WhereBound(x.Shape)); err != nil {
		return nil, fmt.Errorf("%w (WHERE's output is planned at its bound)", err)
	}
	return whereKernel{}, nil
}

// uniqueKernel lists the input's distinct values in order of first
// appearance (y) and, per element, its value's position there (idx), as
// TFLite's UNIQUE does. Float keys compare as C++ does: -0 equals 0 (the
// first one seen is kept); NaN never equals itself.
type uniqueKernel struct{}

func unique[T comparable](x, y []T, idx func(i, v int)) int {
	seen := make(map[T]int, len(x))
	n := 0
	for i, v := range x {
		j, ok := seen[v]
		if !ok {
			j = n
			seen[v] = j
			y[n] = v
			n++
		}
		idx(i, j)
	}
	return n
}

func (uniqueKernel) Run(ins, outs []*Buffer) error {
	x, y, ix := ins[0], outs[0], outs[1]
	n := graph.NumElements(x.Shape)
	if capacity(y) < n {
		return fmt.Errorf("UNIQUE: output holds %d values, the input can need %d", capacity(y), n)
	}
	setShape(y, n)
	idx := func(i, v int) { ix.I32[i] = int32(v) }
	if ix.DType == graph.Int64 {
		idx = func(i, v int) { ix.I64[i] = int64(v) }
	}
	var m int
	switch x.DType {
	case graph.Float32:
		m = unique(x.F32, y.F32, idx)
	case graph.Int8:
		m = unique(x.I8, y.I8, idx)
	case graph.UInt8:
		m = unique(x.U8, y.U8, idx)
	case graph.Int16:
		m = unique(x.I16, y.I16, idx)
	case graph.Int32:
		m = unique(x.I32, y.I32, idx)
	case graph.Int64:
		m = unique(x.I64, y.I64, idx)
	}
	setShape(y, m)
	return nil
}

func prepareUnique(p *prep) (Kernel, error) {
	x, y, ix := p.in(0), p.out(0), p.out(1)
	switch x.DType {
	case graph.Float32, graph.Int8, graph.UInt8, graph.Int16, graph.Int32, graph.Int64:
	default:
		return nil, p.unsupported("dtype")
	}
	if y == nil || ix == nil || y.DType != x.DType || (ix.DType != graph.Int32 && ix.DType != graph.Int64) {
		return nil, p.unsupported("y keeps the input's dtype, idx is int32 or int64")
	}
	if o, ok := p.op.Options.(*graph.UniqueOptions); ok && o != nil && o.IdxType != graph.Unknown && o.IdxType != ix.DType {
		return nil, fmt.Errorf("%s: idx_out_type %s, but output %q is %s", p.op.Kind, o.IdxType, ix.Name, ix.DType)
	}
	if len(x.Shape) != 1 {
		return nil, fmt.Errorf("%s: input %q must be a vector, has shape %v: %w", p.op.Kind, x.Name, x.Shape, graph.ErrShape)
	}
	yb, ib := graph.UniqueBound(x.Shape)
	if err := p.checkOut(0, yb); err != nil {
		return nil, fmt.Errorf("%w (UNIQUE's first output is planned at its bound)", err)
	}
	if err := p.checkOut(1, ib); err != nil {
		return nil, err
	}
	return uniqueKernel{}, nil
}
