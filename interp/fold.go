package interp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// FoldedOp is one op Fold evaluated at load.
type FoldedOp struct {
	Index   int // in the graph given to Fold
	Kind    graph.OpKind
	Outputs []string
}

// FoldReport says what Fold evaluated.
type FoldReport struct {
	Ops []FoldedOp
}

// String summarises the report, e.g. "folded 24 ops (SHAPE ×1, PACK ×7, ...)".
func (r FoldReport) String() string {
	if len(r.Ops) == 0 {
		return "folded no ops"
	}
	var kinds []graph.OpKind
	n := map[graph.OpKind]int{}
	for _, o := range r.Ops {
		if n[o.Kind] == 0 {
			kinds = append(kinds, o.Kind)
		}
		n[o.Kind]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s ×%d", k, n[k])
	}
	return fmt.Sprintf("folded %d ops (%s)", len(r.Ops), strings.Join(parts, ", "))
}

// maxFoldBytes bounds one folded output: larger constants are cheaper to
// compute at run time than to keep (a FILL or TILE of a huge shape).
const maxFoldBytes = 16 << 20

// Fold evaluates, once and with the kernels, every op whose inputs are all
// constants, and SHAPE and RANK (qbench's shapes are static), and replaces
// their outputs by constant tensors; it removes those ops and re-infers the
// shapes of the ops left, now that their shape inputs are known. This turns
// the shape arithmetic converters emit (Keras Flatten, dilated convs:
// SHAPE → STRIDED_SLICE → PACK → RESHAPE) into the real compute graph.
//
// Only ops whose result does not depend on the integer rounding mode are
// folded: layout and shape ops (they move values) and ops on unquantized
// tensors. Tensor indices are unchanged; op indices shift by the folded ops.
// g is not modified; when nothing folds g itself is returned.
func Fold(g *graph.Graph) (*graph.Graph, FoldReport, error) {
	var rep FoldReport
	if g == nil {
		return nil, rep, errors.New("fold: nil graph")
	}
	if !anyFoldable(g) {
		return g, rep, nil
	}
	// Folding sets new Data on folded outputs and never writes into
	// existing constants, so the clone shares them.
	g = g.CloneSharingData()
	isInput := make([]bool, len(g.Tensors))
	for _, t := range g.Inputs {
		if t >= 0 && t < len(isInput) {
			isInput[t] = true
		}
	}
	var kept []*graph.Op
	for oi, op := range g.Ops {
		shapes, err := graph.InferOpShapes(g, op)
		if err != nil {
			return nil, rep, fmt.Errorf("fold: op %d (%s) output %q: %w: %v", oi, op.Name(), tensorName(g, op), graph.ErrShape, err)
		}
		for k, s := range shapes {
			if k < len(op.Outputs) && s != nil {
				g.Tensors[op.Outputs[k]].Shape = s
			}
		}
		if !foldable(g, op, isInput) {
			kept = append(kept, op)
			continue
		}
		done, err := evalOp(g, op)
		if err != nil {
			return nil, rep, fmt.Errorf("fold: op %d (%s) -> tensor %q: %w", oi, op.Name(), tensorName(g, op), err)
		}
		if !done {
			kept = append(kept, op)
			continue
		}
		f := FoldedOp{Index: oi, Kind: op.Kind}
		for _, t := range op.Outputs {
			f.Outputs = append(f.Outputs, g.Tensors[t].Name)
		}
		rep.Ops = append(rep.Ops, f)
	}
	g.Ops = kept
	if err := g.Validate(); err != nil {
		return nil, rep, fmt.Errorf("fold: %w", err)
	}
	return g, rep, nil
}

// anyFoldable reports whether some op is foldable on the graph as given
// (a cheap pre-check, so graphs without shape arithmetic are not cloned).
func anyFoldable(g *graph.Graph) bool {
	isInput := make([]bool, len(g.Tensors))
	for _, t := range g.Inputs {
		if t >= 0 && t < len(isInput) {
			isInput[t] = true
		}
	}
	for _, op := range g.Ops {
		if foldable(g, op, isInput) {
			return true
		}
	}
	return false
}

// layoutKinds move values without arithmetic: folding them is exact
// whatever the dtype and quantization.
var layoutKinds = map[graph.OpKind]bool{
	graph.OpReshape: true, graph.OpSqueeze: true, graph.OpExpandDims: true, graph.OpTranspose: true,
	graph.OpSplit: true, graph.OpSplitV: true, graph.OpPack: true, graph.OpUnpack: true, graph.OpSlice: true,
	graph.OpStridedSlice: true, graph.OpTile: true, graph.OpGather: true, graph.OpGatherND: true,
	graph.OpShape: true, graph.OpRank: true, graph.OpFill: true, graph.OpRange: true, graph.OpBroadcastTo: true,
	graph.OpMirrorPad: true, graph.OpReverseV2: true, graph.OpSpaceToBatchND: true,
	graph.OpBatchToSpaceND: true, graph.OpSpaceToDepth: true, graph.OpDepthToSpace: true,
	graph.OpConcatenation: true,
}

func foldable(g *graph.Graph, op *graph.Op, isInput []bool) bool {
	if op.Kind <= graph.OpUnknown || op.Kind >= graph.NumOpKinds || op.Kind == graph.OpWhile ||
		op.Kind == graph.OpIf || op.Kind == graph.OpCallOnce || len(op.Outputs) == 0 ||
		op.Kind == graph.OpWhere || op.Kind == graph.OpUnique { // sized when they run (dynamic.go)
		return false
	}
	for _, t := range op.Outputs {
		tt := g.Tensor(t)
		if tt == nil || isInput[t] || tt.IsConst() || tt.ByteSize() > maxFoldBytes {
			return false
		}
		if !layoutKinds[op.Kind] && (tt.Quant != nil && len(tt.Quant.Scale) > 0) {
			return false
		}
	}
	for k, t := range op.Inputs {
		if t < 0 {
			continue
		}
		tt := g.Tensor(t)
		if tt == nil {
			return false
		}
		if (op.Kind == graph.OpShape || op.Kind == graph.OpRank) && k == 0 {
			if op.Kind == graph.OpShape && hasDynamicSource(g) {
				return false // the shape may be known only at run time (dynamic.go)
			}
			continue // only the (static) shape is read
		}
		if !tt.IsConst() {
			return false
		}
		if !layoutKinds[op.Kind] && tt.Quant != nil && len(tt.Quant.Scale) > 0 {
			return false
		}
	}
	return true
}

// evalOp runs op on its constant inputs and stores its outputs as
// constants. It reports false (and changes nothing) when qbench has no
// kernel for the op, so that Compile names the op as unsupported.
func evalOp(g *graph.Graph, op *graph.Op) (bool, error) {
	ins := make([]*graph.Tensor, len(op.Inputs))
	inBufs := make([]*kernels.Buffer, len(op.Inputs))
	for j, t := range op.Inputs {
		if t < 0 {
			continue
		}
		ins[j] = g.Tensor(t)
		if ins[j].IsConst() {
			b, err := constBuffer(ins[j], false)
			if err != nil {
				return false, err
			}
			inBufs[j] = b
		} else {
			// SHAPE/RANK read only the shape: give them zeros of it.
			inBufs[j] = newZeroBuffer(ins[j])
		}
	}
	outs := make([]*graph.Tensor, len(op.Outputs))
	outBufs := make([]*kernels.Buffer, len(op.Outputs))
	for j, t := range op.Outputs {
		outs[j] = g.Tensor(t)
		outBufs[j] = newZeroBuffer(outs[j])
	}
	k, err := kernels.PrepareWith(op, ins, outs, kernels.Options{})
	if errors.Is(err, kernels.ErrUnsupported) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := k.Run(inBufs, outBufs); err != nil {
		return false, err
	}
	for j, t := range outs {
		t.Data = encodeBuffer(outBufs[j])
		t.ShapeSignature = nil
		t.Folded = true
	}
	return true, nil
}

// newZeroBuffer allocates a zeroed buffer for t.
func newZeroBuffer(t *graph.Tensor) *kernels.Buffer {
	n := t.NumElements()
	b := &kernels.Buffer{DType: t.DType, Shape: t.Shape}
	switch t.DType {
	case graph.Float32:
		b.F32 = make([]float32, n)
	case graph.Int8, graph.Int4:
		b.I8 = make([]int8, n)
	case graph.UInt8:
		b.U8 = make([]uint8, n)
	case graph.Int16, graph.Float16:
		b.I16 = make([]int16, n)
	case graph.Int32:
		b.I32 = make([]int32, n)
	case graph.Int64:
		b.I64 = make([]int64, n)
	case graph.Bool:
		b.Bool = make([]bool, n)
	}
	return b
}

// encodeBuffer is the inverse of constBuffer.
func encodeBuffer(b *kernels.Buffer) []byte {
	var d []byte
	switch b.DType {
	case graph.Float32:
		d = graph.EncodeFloat32s(b.F32)
	case graph.Int8, graph.Int4:
		d = graph.EncodeInt8s(b.I8)
	case graph.UInt8:
		d = append([]byte(nil), b.U8...)
	case graph.Int16, graph.Float16:
		d = graph.EncodeInt16s(b.I16)
	case graph.Int32:
		d = graph.EncodeInt32s(b.I32)
	case graph.Int64:
		d = graph.EncodeInt64s(b.I64)
	case graph.Bool:
		d = make([]byte, len(b.Bool))
		for i, v := range b.Bool {
			if v {
				d[i] = 1
			}
		}
	}
	if d == nil {
		d = []byte{}
	}
	return d
}
