package graph

import (
	"fmt"
	"math"
)

// Shape rules of the image, matrix, sequence and detection ops. Until a rule
// is implemented it returns nil: the declared output shape is kept.

// shapeSVDF: [batch, units] with units = weights_feature's filters / rank.
func shapeSVDF(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	wf, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	o, _ := op.Options.(*SVDFOptions)
	if o == nil || o.Rank <= 0 {
		return nil, fmt.Errorf("SVDF needs a positive rank")
	}
	if len(x.Shape) != 2 || len(wf.Shape) != 2 || wf.Shape[1] != x.Shape[1] {
		return nil, fmt.Errorf("input %v and weights_feature %v must be [batch, n] and [filters, n]", x.Shape, wf.Shape)
	}
	if wf.Shape[0]%o.Rank != 0 {
		return nil, fmt.Errorf("rank %d does not divide the %d filters", o.Rank, wf.Shape[0])
	}
	return []int{x.Shape[0], wf.Shape[0] / o.Rank}, nil
}

// shapeSequenceLSTM: the input's two leading dimensions (time and batch, in
// either order) and n_output, the columns of recurrent_to_output_weights
// (input 8), checked against input_to_output_weights (input 4, [n_cell,
// n_input]) as TFLite's Prepare does.
func shapeSequenceLSTM(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	wo, err := in(g, op, 4)
	if err != nil {
		return nil, err
	}
	ro, err := in(g, op, 8)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 3 {
		return nil, fmt.Errorf("input %v must be 3-D (time, batch, features in either time order)", x.Shape)
	}
	if len(wo.Shape) != 2 || wo.Shape[1] != x.Shape[2] {
		return nil, fmt.Errorf("input_to_output_weights %v must be [n_cell, %d]", wo.Shape, x.Shape[2])
	}
	if len(ro.Shape) != 2 || ro.Shape[0] != wo.Shape[0] {
		return nil, fmt.Errorf("recurrent_to_output_weights %v must be [%d, n_output]", ro.Shape, wo.Shape[0])
	}
	return []int{x.Shape[0], x.Shape[1], ro.Shape[1]}, nil
}

// shapeDetectionPostProcess: boxes [1, D, 4], classes and scores [1, D] and
// num_detections [1] with D = max_detections · max_classes_per_detection,
// as TFLite's Prepare sets them (regular NMS fills only max_detections
// rows of them); boxes and scores must be rank 3, anchors rank 2.
func shapeDetectionPostProcess(g *Graph, op *Op) ([][]int, error) {
	for k, rank := range []int{3, 3, 2} {
		t, err := in(g, op, k)
		if err != nil {
			return nil, err
		}
		if len(t.Shape) != rank {
			return nil, fmt.Errorf("input %d %q %v must have rank %d", k, t.Name, t.Shape, rank)
		}
	}
	o, _ := op.Options.(*DetectionPostProcessOptions)
	if o == nil {
		return nil, fmt.Errorf("needs its options (max_detections, ...)")
	}
	d := int64(o.MaxDetections) * int64(o.MaxClassesPerDetection)
	if o.MaxDetections < 0 || o.MaxClassesPerDetection < 0 || d > math.MaxInt32/4 {
		return nil, fmt.Errorf("max_detections %d × max_classes_per_detection %d is not a valid detection count",
			o.MaxDetections, o.MaxClassesPerDetection)
	}
	n := int(d)
	return [][]int{{1, n, 4}, {1, n}, {1, n}, {1}}, nil
}
