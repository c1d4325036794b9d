package kernels

import (
	"fmt"
	"math"
	"sort"

	"github.com/qbench/qbench/graph"
)

// TFLite_Detection_PostProcess, the custom op SSD detectors end with, as
// TFLite's kernel (kernels/detection_postprocess.cc) computes it: decode
// center-size box encodings against the anchors, then non-max suppression,
// either fast (each anchor ranked by its best class, one NMS) or regular
// (one NMS per class, merged by score). Inputs are float32 or uint8
// (dequantized as TFLite does: boxes and anchors in float32, scores via a
// double product rounded to float32); all four outputs are float32.
//
// Ties follow the TFLite runtime's orderings (measured against the oracle):
// the candidates of one NMS are stably sorted by decreasing score; an
// anchor's top classes come from std::partial_sort, whose tie order is that
// of libc++'s heap (partialSortDesc reproduces it); regular NMS merges each
// class into the running list with std::inplace_merge and a >= comparison,
// so on equal scores a later class comes first. (TFLite's current source
// merges with a partial sort instead; the runtime qbench matches does not.)
//
// TFLite leaves the output rows it does not fill untouched (fast NMS:
// rows past num_detections · classes; regular NMS: rows past
// max_detections); qbench writes zeros there.

type detectionKernel struct {
	o                         graph.DetectionPostProcessOptions
	numBoxes, boxLen, ncwb    int // anchors, values per box encoding, score columns
	labelOffset, numOutRows   int
	boxU8, scoreU8            bool
	boxScale, anchorScale     float32
	boxZero, anchorZero       float32
	scoreScale                float64
	scoreZero                 int32
	decoded, scores, classBuf []float32
}

func prepareDetectionPostProcess(p *prep) (Kernel, error) {
	o, ok := p.op.Options.(*graph.DetectionPostProcessOptions)
	if !ok || o == nil {
		return nil, fmt.Errorf("%s: missing options", p.op.Name())
	}
	boxes, scores, anchors := p.in(0), p.in(1), p.in(2)
	if boxes == nil || scores == nil || anchors == nil || len(p.outs) != 4 {
		return nil, fmt.Errorf("%s: needs box encodings, scores and anchors in, 4 outputs", p.op.Name())
	}
	name := p.op.Name()
	switch {
	case o.MaxDetections < 0:
		return nil, fmt.Errorf("%s: max_detections %d is negative", name, o.MaxDetections)
	case !(o.NMSIoUThreshold > 0 && o.NMSIoUThreshold <= 1):
		return nil, fmt.Errorf("%s: nms_iou_threshold %g must be in (0, 1]", name, o.NMSIoUThreshold)
	case o.NumClasses <= 0:
		return nil, fmt.Errorf("%s: num_classes %d must be positive", name, o.NumClasses)
	case o.UseRegularNMS && min(o.DetectionsPerClass, o.MaxDetections) <= 0:
		return nil, fmt.Errorf("%s: detections_per_class %d and max_detections %d must be positive for regular NMS",
			name, o.DetectionsPerClass, o.MaxDetections)
	case !o.UseRegularNMS && o.MaxClassesPerDetection <= 0:
		return nil, fmt.Errorf("%s: max_classes_per_detection %d must be positive", name, o.MaxClassesPerDetection)
	}
	if len(boxes.Shape) != 3 || boxes.Shape[0] != 1 || boxes.Shape[2] < 4 {
		return nil, fmt.Errorf("%s: box encodings %q %v must be [1, boxes, 4 or more]: %w", name, boxes.Name, boxes.Shape, graph.ErrShape)
	}
	k := &detectionKernel{o: *o, numBoxes: boxes.Shape[1], boxLen: boxes.Shape[2]}
	if len(scores.Shape) != 3 || scores.Shape[0] != 1 || scores.Shape[1] != k.numBoxes {
		return nil, fmt.Errorf("%s: scores %q %v must be [1, %d, classes]: %w", name, scores.Name, scores.Shape, k.numBoxes, graph.ErrShape)
	}
	k.ncwb = scores.Shape[2]
	k.labelOffset = k.ncwb - o.NumClasses
	if k.labelOffset != 0 && k.labelOffset != 1 {
		return nil, fmt.Errorf("%s: scores %q have %d columns for %d classes (want the classes, or one more for background)",
			name, scores.Name, k.ncwb, o.NumClasses)
	}
	if len(anchors.Shape) != 2 || anchors.Shape[0] < k.numBoxes || anchors.Shape[1] != 4 {
		return nil, fmt.Errorf("%s: anchors %q %v must be [%d, 4]: %w", name, anchors.Name, anchors.Shape, k.numBoxes, graph.ErrShape)
	}
	k.numOutRows = o.MaxDetections * o.MaxClassesPerDetection
	want := [][]int{{1, k.numOutRows, 4}, {1, k.numOutRows}, {1, k.numOutRows}, {1}}
	for i, out := range p.outs {
		if out.DType != graph.Float32 {
			return nil, p.unsupported("its outputs are float32")
		}
		if !sameShape(out.Shape, want[i]) {
			return nil, fmt.Errorf("%s: output %d %q %v, want %v: %w", name, i, out.Name, out.Shape, want[i], graph.ErrShape)
		}
	}
	var err error
	switch {
	case boxes.DType == graph.Float32 && anchors.DType == graph.Float32:
	case boxes.DType == graph.UInt8 && anchors.DType == graph.UInt8:
		// TFLite reads uint8 anchors whenever the boxes are uint8.
		k.boxU8 = true
		var zb, za int32
		if k.boxScale, zb, err = requireQuant(p.op, "box encodings", boxes); err != nil {
			return nil, err
		}
		if k.anchorScale, za, err = requireQuant(p.op, "anchors", anchors); err != nil {
			return nil, err
		}
		k.boxZero, k.anchorZero = float32(zb), float32(za)
	default:
		return nil, p.unsupported("box encodings and anchors must both be float32 or both uint8 (TFLite's kernel has no other form)")
	}
	switch scores.DType {
	case graph.Float32:
	case graph.UInt8:
		k.scoreU8 = true
		var s float32
		if s, k.scoreZero, err = requireQuant(p.op, "scores", scores); err != nil {
			return nil, err
		}
		k.scoreScale = float64(s)
	default:
		return nil, p.unsupported("scores must be float32 or uint8 (TFLite's kernel has no other form)")
	}
	k.decoded = make([]float32, 4*k.numBoxes)
	k.scores = make([]float32, k.numBoxes*k.ncwb)
	k.classBuf = make([]float32, k.numBoxes)
	return k, nil
}

func (k *detectionKernel) Run(ins, outs []*Buffer) error {
	k.decode(ins[0], ins[2])
	scores := ins[1].F32
	if k.scoreU8 {
		for i, v := range ins[1].U8[:len(k.scores)] {
			k.scores[i] = float32(k.scoreScale * float64(int32(v)-k.scoreZero))
		}
		scores = k.scores
	}
	for _, o := range outs {
		clear(o.F32)
	}
	// TFLite refuses inverted boxes (NaN passes its check).
	for i := range k.numBoxes {
		b := k.decoded[4*i : 4*i+4]
		if b[0] > b[2] || b[1] > b[3] {
			return fmt.Errorf("TFLite_Detection_PostProcess: decoded box %d %v has min > max (negative anchor size?)", i, b)
		}
	}
	if k.o.UseRegularNMS {
		k.regular(scores[:k.numBoxes*k.ncwb], outs)
	} else {
		k.fast(scores[:k.numBoxes*k.ncwb], outs)
	}
	return nil
}

// decode turns center-size encodings (y, x, h, w) into corners (ymin,
// xmin, ymax, xmax), in double as TFLite does; the explicit float64
// conversion keeps the product from fusing with the sum.
func (k *detectionKernel) decode(boxes, anchors *Buffer) {
	s := k.o
	var e, a [4]float32
	for i := range k.numBoxes {
		for c := range 4 {
			if k.boxU8 {
				e[c] = (float32(boxes.U8[i*k.boxLen+c]) - k.boxZero) * k.boxScale
				a[c] = (float32(anchors.U8[i*4+c]) - k.anchorZero) * k.anchorScale
			} else {
				e[c] = boxes.F32[i*k.boxLen+c]
				a[c] = anchors.F32[i*4+c]
			}
		}
		yc := float32(float64(float64(e[0])/float64(s.YScale)*float64(a[2])) + float64(a[0]))
		xc := float32(float64(float64(e[1])/float64(s.XScale)*float64(a[3])) + float64(a[1]))
		hh := float32(0.5 * math.Exp(float64(e[2])/float64(s.HScale)) * float64(a[2]))
		hw := float32(0.5 * math.Exp(float64(e[3])/float64(s.WScale)) * float64(a[3]))
		d := k.decoded[4*i : 4*i+4]
		d[0], d[1], d[2], d[3] = yc-hh, xc-hw, yc+hh, xc+hw
	}
}

// iou is TFLite's ComputeIntersectionOverUnion in float32 (0 when either
// box has no area).
func (k *detectionKernel) iou(i, j int) float32 {
	a, b := k.decoded[4*i:4*i+4], k.decoded[4*j:4*j+4]
	areaA := (a[2] - a[0]) * (a[3] - a[1])
	areaB := (b[2] - b[0]) * (b[3] - b[1])
	if areaA <= 0 || areaB <= 0 {
		return 0
	}
	ymin, xmin := max(a[0], b[0]), max(a[1], b[1])
	ymax, xmax := min(a[2], b[2]), min(a[3], b[3])
	inter := max(ymax-ymin, 0) * max(xmax-xmin, 0)
	return inter / (areaA + areaB - inter)
}

// nms is TFLite's NonMaxSuppressionSingleClassHelper: the boxes scoring at
// least the threshold in decreasing score order (stable), each kept unless
// it overlaps an already kept one by more than the IoU threshold, at most
// maxDet of them. It returns the kept box indices.
func (k *detectionKernel) nms(scores []float32, maxDet int) []int {
	var keep []int
	for i, v := range scores {
		if v >= k.o.NMSScoreThreshold {
			keep = append(keep, i)
		}
	}
	sort.SliceStable(keep, func(a, b int) bool { return scores[keep[a]] > scores[keep[b]] })
	outSize := min(len(keep), maxDet)
	active := make([]bool, len(keep))
	for i := range active {
		active[i] = true
	}
	nActive := len(keep)
	var sel []int
	for i := range keep {
		if nActive == 0 || len(sel) >= outSize {
			break
		}
		if !active[i] {
			continue
		}
		sel = append(sel, keep[i])
		active[i] = false
		nActive--
		for j := i + 1; j < len(keep); j++ {
			if active[j] && k.iou(keep[i], keep[j]) > k.o.NMSIoUThreshold {
				active[j] = false
				nActive--
			}
		}
	}
	return sel
}

// fast is TFLite's NonMaxSuppressionMultiClassFastHelper.
func (k *detectionKernel) fast(scores []float32, outs []*Buffer) {
	nc := k.o.NumClasses
	perAnchor := min(k.o.MaxClassesPerDetection, nc)
	classIdx := make([]int, k.numBoxes*nc)
	maxScores := k.classBuf
	for r := range k.numBoxes {
		row := scores[r*k.ncwb+k.labelOffset : r*k.ncwb+k.labelOffset+nc]
		idx := classIdx[r*nc : (r+1)*nc]
		decreasingPartialArgSort(row, perAnchor, idx)
		maxScores[r] = row[idx[0]]
	}
	sel := k.nms(maxScores, k.o.MaxDetections)
	boxes, classes, outScores := outs[0].F32, outs[1].F32, outs[2].F32
	for n, s := range sel {
		row := scores[s*k.ncwb+k.labelOffset:]
		for c := range perAnchor {
			at := k.o.MaxClassesPerDetection*n + c
			copy(boxes[4*at:4*at+4], k.decoded[4*s:4*s+4])
			ci := classIdx[s*nc+c]
			classes[at] = float32(ci)
			outScores[at] = row[ci]
		}
	}
	outs[3].F32[0] = float32(len(sel))
}

// regular is the runtime's NonMaxSuppressionMultiClassRegularHelper (its
// single-thread path): per class, NMS keeps up to min(detections_per_class,
// max_detections) boxes, which are merged into the running list sorted by
// decreasing score (std::inplace_merge with a >= comparison, so on a tie
// the later class comes first), cut to max_detections.
func (k *detectionKernel) regular(scores []float32, outs []*Buffer) {
	maxDet := k.o.MaxDetections
	perClass := min(k.o.DetectionsPerClass, maxDet)
	pool := make([]detBox, 0, maxDet+perClass)
	merged := make([]detBox, 0, maxDet+perClass)
	classScores := k.classBuf
	for col := range k.o.NumClasses {
		for r := range k.numBoxes {
			classScores[r] = scores[r*k.ncwb+col+k.labelOffset]
		}
		sel := k.nms(classScores, perClass)
		if len(sel) == 0 {
			continue
		}
		merged = merged[:0]
		i := 0
		for _, s := range sel {
			b := detBox{index: s*k.ncwb + col + k.labelOffset, score: classScores[s]}
			for i < len(pool) && !(b.score >= pool[i].score) {
				merged = append(merged, pool[i])
				i++
			}
			merged = append(merged, b)
		}
		merged = append(merged, pool[i:]...)
		pool, merged = merged[:min(len(merged), maxDet)], pool
	}
	boxes, classes, outScores := outs[0].F32, outs[1].F32, outs[2].F32
	for i, b := range pool {
		anchor := b.index / k.ncwb
		copy(boxes[4*i:4*i+4], k.decoded[4*anchor:4*anchor+4])
		classes[i] = float32(b.index - anchor*k.ncwb - k.labelOffset)
		outScores[i] = b.score
	}
	outs[3].F32[0] = float32(len(pool))
}

// detBox is one candidate of regular NMS: its index into the scores
// (anchor · columns + column) and score.
type detBox struct {
	index int
	score float32
}

// decreasingPartialArgSort is TFLite's DecreasingPartialArgSort: the first
// n indices of values by decreasing value. For n = 1 it is the first
// maximum (only idx[0] is set); otherwise idx is 0..len-1 reordered by
// std::partial_sort, whose order among ties partialSortDesc reproduces.
func decreasingPartialArgSort(values []float32, n int, idx []int) {
	if n == 1 {
		best, bi := values[0], 0
		for i := 1; i < len(values); i++ {
			if values[i] > best {
				best, bi = values[i], i
			}
		}
		idx[0] = bi
		return
	}
	for i := range idx[:len(values)] {
		idx[i] = i
	}
	partialSortDesc(idx[:len(values)], n, func(a, b int) bool { return values[a] > values[b] })
}

// partialSortDesc is libc++'s std::partial_sort(first, first+n, last,
// comp): a heap of the first n, each later element that compares before
// the heap's top replaces it, then the heap is sorted (pop_heap with
// Floyd's sift-down, as libc++ 15 and later do).
func partialSortDesc(a []int, n int, comp func(x, y int) bool) {
	if n <= 0 {
		return
	}
	for start := (n - 2) / 2; start >= 0; start-- {
		heapSiftDown(a[:n], comp, start)
	}
	for i := n; i < len(a); i++ {
		if comp(a[i], a[0]) {
			a[i], a[0] = a[0], a[i]
			heapSiftDown(a[:n], comp, 0)
		}
	}
	for m := n; m > 1; m-- {
		heapPop(a[:m], comp)
	}
}

// heapSiftDown is libc++'s __sift_down of h[start] in the max-heap h
// (comp is "less").
func heapSiftDown(h []int, comp func(x, y int) bool, start int) {
	n := len(h)
	child := start
	if n < 2 || (n-2)/2 < child {
		return
	}
	child = 2*child + 1
	if child+1 < n && comp(h[child], h[child+1]) {
		child++
	}
	if comp(h[child], h[start]) {
		return
	}
	top := h[start]
	for {
		h[start] = h[child]
		start = child
		if (n-2)/2 < child {
			break
		}
		child = 2*child + 1
		if child+1 < n && comp(h[child], h[child+1]) {
			child++
		}
		if comp(h[child], top) {
			break
		}
	}
	h[start] = top
}

// heapPop is libc++'s __pop_heap: the top moves to the end, the hole it
// leaves sinks to a leaf (Floyd) and the last element fills it, sifted up.
func heapPop(h []int, comp func(x, y int) bool) {
	n := len(h)
	if n < 2 {
		return
	}
	top := h[0]
	hole, child := 0, 0
	for {
		child = 2*child + 1
		if child+1 < n && comp(h[child], h[child+1]) {
			child++
		}
		h[hole] = h[child]
		hole = child
		if child > (n-2)/2 {
			break
		}
	}
	last := n - 1
	if hole == last {
		h[hole] = top
		return
	}
	h[hole] = h[last]
	h[last] = top
	heapSiftUp(h, comp, hole+1)
}

// heapSiftUp is libc++'s __sift_up of the element at length-1 within
// h[:length].
func heapSiftUp(h []int, comp func(x, y int) bool, length int) {
	if length < 2 {
		return
	}
	l := (length - 2) / 2
	at := length - 1
	if !comp(h[l], h[at]) {
		return
	}
	t := h[at]
	for {
		h[at] = h[l]
		at = l
		if l == 0 {
			break
		}
		l = (l - 1) / 2
		if !comp(h[l], t) {
			break
		}
	}
	h[at] = t
}
