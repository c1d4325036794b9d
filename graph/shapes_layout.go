package graph

// Shape rules of the layout, indexing and shape ops. Until a rule is
// implemented it returns nil: the declared output shape is kept.

func shapeSqueeze(g *Graph, op *Op) ([]int, error)        { return nil, nil }
func shapeExpandDims(g *Graph, op *Op) ([]int, error)     { return nil, nil }
func shapeTranspose(g *Graph, op *Op) ([]int, error)      { return nil, nil }
func shapeSplit(g *Graph, op *Op) ([][]int, error)        { return nil, nil }
func shapeSplitV(g *Graph, op *Op) ([][]int, error)       { return nil, nil }
func shapePack(g *Graph, op *Op) ([]int, error)           { return nil, nil }
func shapeUnpack(g *Graph, op *Op) ([][]int, error)       { return nil, nil }
func shapeSlice(g *Graph, op *Op) ([]int, error)          { return nil, nil }
func shapeStridedSlice(g *Graph, op *Op) ([]int, error)   { return nil, nil }
func shapeTile(g *Graph, op *Op) ([]int, error)           { return nil, nil }
func shapeGather(g *Graph, op *Op) ([]int, error)         { return nil, nil }
func shapeGatherND(g *Graph, op *Op) ([]int, error)       { return nil, nil }
func shapeShape(g *Graph, op *Op) ([]int, error)          { return nil, nil }
func shapeRank(g *Graph, op *Op) ([]int, error)           { return nil, nil }
func shapeFill(g *Graph, op *Op) ([]int, error)           { return nil, nil }
func shapeRange(g *Graph, op *Op) ([]int, error)          { return nil, nil }
func shapeBroadcastTo(g *Graph, op *Op) ([]int, error)    { return nil, nil }
func shapeMirrorPad(g *Graph, op *Op) ([]int, error)      { return nil, nil }
func shapeSpaceToBatchND(g *Graph, op *Op) ([]int, error) { return nil, nil }
func shapeBatchToSpaceND(g *Graph, op *Op) ([]int, error) { return nil, nil }
func shapeSpaceToDepth(g *Graph, op *Op) ([]int, error)   { return nil, nil }
func shapeDepthToSpace(g *Graph, op *Op) ([]int, error)   { return nil, nil }
