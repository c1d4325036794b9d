package graph

import "fmt"

// shapeSame: unary elementwise ops keep their input's shape.
func shapeSame(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	return append([]int{}, x.Shape...), nil
}

// shapeBroadcast: binary elementwise ops take the NumPy broadcast of their
// two inputs.
func shapeBroadcast(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	y, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	return BroadcastShapes(x.Shape, y.Shape)
}

// shapeSelect: SELECT_V2 broadcasts condition, x and y; SELECT (v1) also
// accepts a rank-1 condition selecting whole rows of x and y, which then
// give the shape.
func shapeSelect(g *Graph, op *Op) ([]int, error) {
	c, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	x, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	y, err := in(g, op, 2)
	if err != nil {
		return nil, err
	}
	if op.Kind == OpSelect {
		if !equalShape(x.Shape, y.Shape) {
			return nil, fmt.Errorf("x %v and y %v differ", x.Shape, y.Shape)
		}
		if equalShape(c.Shape, x.Shape) || (len(c.Shape) == 1 && len(x.Shape) > 0 && c.Shape[0] == x.Shape[0]) {
			return append([]int{}, x.Shape...), nil
		}
		return nil, fmt.Errorf("condition %v fits neither x %v nor its first dimension", c.Shape, x.Shape)
	}
	s, err := BroadcastShapes(c.Shape, x.Shape)
	if err != nil {
		return nil, err
	}
	return BroadcastShapes(s, y.Shape)
}

// shapeAddN: all inputs have one shape.
func shapeAddN(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	for k := 1; k < len(op.Inputs); k++ {
		y, err := in(g, op, k)
		if err != nil {
			return nil, err
		}
		if !equalShape(x.Shape, y.Shape) {
			return nil, fmt.Errorf("input %d shape %v differs from %v", k, y.Shape, x.Shape)
		}
	}
	return append([]int{}, x.Shape...), nil
}

// shapeReduce: SUM, REDUCE_* (and MEAN) drop or keep (as 1) the reduced
// axes given by the constant second input.
func shapeReduce(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	a, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	axes := constInts(a)
	if axes == nil {
		return nil, nil
	}
	keep := false
	if o, ok := op.Options.(*ReducerOptions); ok && o != nil {
		keep = o.KeepDims
	}
	red, err := ReduceAxes(axes, len(x.Shape))
	if err != nil {
		return nil, err
	}
	s := []int{}
	for d, n := range x.Shape {
		switch {
		case !red[d]:
			s = append(s, n)
		case keep:
			s = append(s, 1)
		}
	}
	return s, nil
}

// shapeArg: ARG_MAX and ARG_MIN drop the one axis given by the constant
// second input (a scalar or one-element vector).
func shapeArg(g *Graph, op *Op) ([]int, error) {
	x, err := in(g, op, 0)
	if err != nil {
		return nil, err
	}
	a, err := in(g, op, 1)
	if err != nil {
		return nil, err
	}
	axes := constInts(a)
	if axes == nil {
		return nil, nil
	}
	if len(axes) != 1 {
		return nil, fmt.Errorf("axis input holds %d values, want 1", len(axes))
	}
	ax := axes[0]
	if ax < 0 {
		ax += len(x.Shape)
	}
	if ax < 0 || ax >= len(x.Shape) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", axes[0], len(x.Shape))
	}
	s := []int{}
	for d, n := range x.Shape {
		if d != ax {
			s = append(s, n)
		}
	}
	return s, nil
}
