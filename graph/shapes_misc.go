package graph

import "fmt"

// Shape rules of the image, matrix, sequence and detection ops. Until a rule
// is implemented it returns nil: the declared output shape is kept.

func shapeSequenceLSTM(g *Graph, op *Op) ([]int, error)           { return nil, nil }
func shapeDetectionPostProcess(g *Graph, op *Op) ([][]int, error) { return nil, nil }

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
