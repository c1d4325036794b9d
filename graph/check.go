package graph

import "fmt"

// CheckShapes re-infers every op's output shapes from its inputs and
// options, in op order, as TFLite's Prepare does, and returns an error
// naming the op index, kind and tensor for the first declared output shape
// that contradicts the inferred one, or for an op whose inputs no shape
// fits. The one change it makes to g: an op output the file declares with
// no dimensions at all (shape [] and no shape signature, as the converter
// leaves TFLite_Detection_PostProcess's outputs for Prepare to size) takes
// the inferred shape when that is not a scalar, as TFLite's Prepare
// resizes it. Ops whose shapes cannot be inferred before
// running (no rule yet, or a shape input computed at run time) keep their
// declared shapes, and so do the ops that read their outputs.
//
// Checking each op against its inputs' declared shapes is enough: every
// checked input was itself checked (or is a graph input or constant), so
// declared and inferred shapes agree all the way down. A file whose declarations
// were trusted would run conv0 declared [1 16 16 4] on an input
// [1 65535 16 3] into a buffer of the wrong size; TFLite's Prepare resizes
// conv0 to [1 65535 16 4] and then refuses the RESHAPE after it. Errors
// wrap ErrShape.
func CheckShapes(g *Graph) error {
	// known marks tensors whose shape is certain: graph inputs, constants,
	// and outputs of checked ops. The output of an op without a rule (or
	// with a shape computed at run time) is whatever TFLite computes then,
	// which the file's declaration may not match, so ops reading it are not
	// checked either.
	known := make([]bool, len(g.Tensors))
	for i, t := range g.Tensors {
		known[i] = t != nil && t.IsConst()
	}
	for _, i := range g.Inputs {
		if i >= 0 && i < len(known) {
			known[i] = true
		}
	}
	for oi, op := range g.Ops {
		for _, o := range op.Outputs {
			if g.Tensor(o) == nil {
				return fmt.Errorf("%w: op %d (%s): output tensor index %d out of range", ErrShape, oi, op.Name(), o)
			}
		}
		if len(op.Outputs) == 0 {
			continue
		}
		inputsKnown := true
		for _, in := range op.Inputs {
			if in >= 0 && (in >= len(known) || !known[in]) {
				inputsKnown = false
			}
		}
		if !inputsKnown {
			continue
		}
		shapes, err := InferOpShapes(g, op)
		if err != nil {
			return fmt.Errorf("%w: op %d (%s) -> tensor %q: %v", ErrShape, oi, op.Name(), g.Tensor(op.Outputs[0]).Name, err)
		}
		for k, s := range shapes {
			if k >= len(op.Outputs) || s == nil {
				continue
			}
			t := g.Tensor(op.Outputs[k])
			if len(t.Shape) == 0 && len(t.ShapeSignature) == 0 && len(s) > 0 && !t.IsConst() {
				t.Shape = append([]int(nil), s...)
			}
			if !equalShape(s, t.Shape) {
				return fmt.Errorf("%w: op %d (%s) -> tensor %q: declared %v, but its inputs (%s) and options give %v",
					ErrShape, oi, op.Name(), t.Name, t.Shape, inputShapes(g, op), s)
			}
			known[op.Outputs[k]] = true
		}
	}
	return nil
}

// inputShapes describes op's inputs for messages: "[1 8 8 3], [4 3 3 3], -".
func inputShapes(g *Graph, op *Op) string {
	s := ""
	for i, in := range op.Inputs {
		if i > 0 {
			s += ", "
		}
		if t := g.Tensor(in); t != nil {
			s += fmt.Sprint(t.Shape)
		} else {
			s += "-"
		}
	}
	return s
}
