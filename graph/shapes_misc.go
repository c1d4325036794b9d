package graph

// Shape rules of the image, matrix, sequence and detection ops. Until a rule
// is implemented it returns nil: the declared output shape is kept.

func shapeResize(g *Graph, op *Op) ([]int, error)                 { return nil, nil }
func shapeTransposeConv(g *Graph, op *Op) ([]int, error)          { return nil, nil }
func shapeBatchMatMul(g *Graph, op *Op) ([]int, error)            { return nil, nil }
func shapeSequenceLSTM(g *Graph, op *Op) ([]int, error)           { return nil, nil }
func shapeSVDF(g *Graph, op *Op) ([]int, error)                   { return nil, nil }
func shapeDetectionPostProcess(g *Graph, op *Op) ([][]int, error) { return nil, nil }
