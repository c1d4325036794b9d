package tflite

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"

	"github.com/qbench/qbench/internal/fileio"
)

// maxElements bounds a tensor's element count. TFLite stores dimensions as
// int32 and no model qbench runs comes near 2^31 elements; the bound keeps a
// hostile shape from overflowing size arithmetic or sizing huge arenas.
const maxElements = 1<<31 - 1

// MaxFileBytes is the largest .tflite file ReadFile reads: a FlatBuffer
// holds at most 2 GiB, plus constant data stored after it.
const MaxFileBytes = 4 << 30

// ReadFile reads and parses a .tflite file. Errors are prefixed with path.
// A path that is not a regular file (a named pipe, a device) or is larger
// than MaxFileBytes is refused without being read.
func ReadFile(path string) (*graph.Graph, error) {
	data, err := fileio.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	// The file's bytes are ReadFile's own: constants keep pointing into
	// them instead of being copied (a second copy of the weights at load).
	g, err := read(data, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Read parses a TFLite model into a graph: subgraph 0, with the others
// (control-flow bodies) in Graph.Subgraphs. The result has
// passed graph.Validate. Constant data is copied, so data may be reused.
func Read(data []byte) (*graph.Graph, error) { return read(data, false) }

// read is Read; with owned, constant tensors' Data are sub-slices of data
// (capacity-limited, so an append never writes into it) instead of copies.
func read(data []byte, owned bool) (*graph.Graph, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: truncated: %d bytes, a TFLite file has at least 8", ErrCorrupt, len(data))
	}
	if id := string(data[4:8]); id != fileIdentifier {
		return nil, fmt.Errorf("%w: wrong file identifier %q, want %q (not a TFLite model?)", ErrCorrupt, id, fileIdentifier)
	}
	r := &reader{f: newFbuf(data), owned: owned}
	return r.model()
}

// reader holds the state of one Read call.
type reader struct {
	f       *fbuf
	buffers [][]byte // per buffer index: its bytes (sub-slices of the file), nil if empty
	codes   []opcode
	owned   bool // constants may alias the file's bytes (see read)
}

// opcode is a decoded OperatorCode.
type opcode struct {
	code    int32
	custom  string
	version int
}

func (r *reader) model() (*graph.Graph, error) {
	root := int64(r.f.u32(0))
	m, err := r.f.tableAt(root, "model")
	if err != nil {
		return nil, err
	}
	if err := r.readBuffers(m); err != nil {
		return nil, err
	}
	if err := r.readOpcodes(m); err != nil {
		return nil, err
	}
	subs, err := m.vec(modelSubgraphs, 4, "subgraphs")
	if err != nil {
		return nil, err
	}
	if subs.len() == 0 {
		return nil, fmt.Errorf("%w: model has no subgraphs", ErrCorrupt)
	}
	sg, err := subs.table(0, "subgraph 0")
	if err != nil {
		return nil, err
	}
	g := &graph.Graph{}
	if g.Description, err = m.str(modelDescription, "model description"); err != nil {
		return nil, err
	}
	if err := r.readTensors(sg, g); err != nil {
		return nil, err
	}
	if err := r.readOperators(sg, g); err != nil {
		return nil, err
	}
	if g.Inputs, err = r.ioList(sg, subgraphInputs, "input", len(g.Tensors)); err != nil {
		return nil, err
	}
	if g.Outputs, err = r.ioList(sg, subgraphOutputs, "output", len(g.Tensors)); err != nil {
		return nil, err
	}
	if g.Name, err = sg.str(subgraphName, "subgraph 0 name"); err != nil {
		return nil, err
	}
	for i := 1; i < subs.len(); i++ {
		sub, err := r.subgraph(subs, i)
		if err != nil {
			return nil, err
		}
		g.Subgraphs = append(g.Subgraphs, sub)
	}
	if err := checkSubgraphRefs(g, subs.len()); err != nil {
		return nil, err
	}
	if err := r.readMetadata(m, g); err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	// Declared shapes are not trusted. TFLite re-infers them in Prepare,
	// so a file whose declarations contradict its ops runs there with
	// other shapes or fails to prepare (a RESHAPE that no longer fits);
	// qbench refuses it rather than size buffers from the declaration.
	if err := graph.CheckShapes(g); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	attachMeta(r.f.b, g)
	return g, nil
}

// subgraph reads subgraph i (> 0), a body of a control-flow op.
func (r *reader) subgraph(subs vector, i int) (*graph.Graph, error) {
	what := fmt.Sprintf("subgraph %d", i)
	sg, err := subs.table(i, what)
	if err != nil {
		return nil, err
	}
	g := &graph.Graph{}
	if g.Name, err = sg.str(subgraphName, what+" name"); err != nil {
		return nil, err
	}
	if err := r.readTensors(sg, g); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := r.readOperators(sg, g); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if g.Inputs, err = r.ioList(sg, subgraphInputs, "input", len(g.Tensors)); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if g.Outputs, err = r.ioList(sg, subgraphOutputs, "output", len(g.Tensors)); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err)
	}
	return g, nil
}

func (r *reader) readBuffers(m table) error {
	bv, err := m.vec(modelBuffers, 4, "buffers")
	if err != nil {
		return err
	}
	if err := r.f.charge(24 * int64(bv.len())); err != nil {
		return fmt.Errorf("buffers: %w", err)
	}
	r.buffers = make([][]byte, bv.len())
	for i := range r.buffers {
		what := fmt.Sprintf("buffer %d", i)
		bt, err := bv.table(i, what)
		if err != nil {
			return err
		}
		d, err := bt.vec(bufferData, 1, what+" data")
		if err != nil {
			return err
		}
		if d.len() > 0 {
			r.buffers[i] = d.bytes()
			continue
		}
		// Models over 2 GB keep buffers outside the FlatBuffer, addressed
		// by offset and size from the start of the file; offset 0 and 1
		// mean "not used".
		off, err := bt.u64(bufferOffset, 0)
		if err != nil {
			return err
		}
		size, err := bt.u64(bufferSize, 0)
		if err != nil {
			return err
		}
		if off > 1 {
			if off > uint64(len(r.f.b)) || size > uint64(len(r.f.b))-off {
				return fmt.Errorf("%w: %s: offset %d + size %d is outside the %d-byte file", ErrCorrupt, what, off, size, len(r.f.b))
			}
			if size > 0 {
				r.buffers[i] = r.f.b[off : off+size]
			}
		}
	}
	return nil
}

func (r *reader) readOpcodes(m table) error {
	cv, err := m.vec(modelOperatorCodes, 4, "operator codes")
	if err != nil {
		return err
	}
	if err := r.f.charge(40 * int64(cv.len())); err != nil {
		return fmt.Errorf("operator codes: %w", err)
	}
	r.codes = make([]opcode, cv.len())
	for i := range r.codes {
		what := fmt.Sprintf("operator code %d", i)
		ct, err := cv.table(i, what)
		if err != nil {
			return err
		}
		dep, err := ct.i8(opcodeDeprecatedBuiltin, 0)
		if err != nil {
			return err
		}
		code, err := ct.i32(opcodeBuiltinCode, 0)
		if err != nil {
			return err
		}
		// Files written before builtin_code existed only carry the
		// deprecated byte; newer ones put 127 (placeholder) there for codes
		// above 127. The larger of the two is the real code.
		if int32(dep) > code {
			code = int32(dep)
		}
		ver, err := ct.i32(opcodeVersion, 1)
		if err != nil {
			return err
		}
		custom, err := ct.str(opcodeCustomCode, what+" custom code")
		if err != nil {
			return err
		}
		r.codes[i] = opcode{code: code, custom: custom, version: int(ver)}
	}
	return nil
}

func (r *reader) readTensors(sg table, g *graph.Graph) error {
	tv, err := sg.vec(subgraphTensors, 4, "tensors")
	if err != nil {
		return err
	}
	if err := r.f.charge(160 * int64(tv.len())); err != nil {
		return fmt.Errorf("tensors: %w", err)
	}
	g.Tensors = make([]*graph.Tensor, tv.len())
	for i := range g.Tensors {
		tt, err := tv.table(i, fmt.Sprintf("tensor %d", i))
		if err != nil {
			return err
		}
		t, err := r.tensor(i, tt)
		if err != nil {
			return err
		}
		g.Tensors[i] = t
	}
	return nil
}

func (r *reader) tensor(i int, tt table) (*graph.Tensor, error) {
	t := &graph.Tensor{}
	var err error
	if t.Name, err = tt.str(tensorName, fmt.Sprintf("tensor %d name", i)); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("tensor %d %q", i, t.Name)
	sv, err := tt.vec(tensorShape, 4, what+" shape")
	if err != nil {
		return nil, err
	}
	if t.Shape, err = sv.ints(); err != nil {
		return nil, err
	}
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return nil, fmt.Errorf("%w: %s: negative dimension in shape %v", ErrCorrupt, what, t.Shape)
		}
		n *= int64(d)
		if n > maxElements {
			return nil, fmt.Errorf("%w: %s: shape %v has more than %d elements", ErrCorrupt, what, t.Shape, maxElements)
		}
	}
	sigv, err := tt.vec(tensorShapeSignature, 4, what+" shape signature")
	if err != nil {
		return nil, err
	}
	if t.ShapeSignature, err = sigv.ints(); err != nil {
		return nil, err
	}
	if t.ShapeSignature != nil && len(t.ShapeSignature) != len(t.Shape) {
		return nil, fmt.Errorf("%w: %s: shape signature %v has rank %d but shape %v has rank %d",
			ErrCorrupt, what, t.ShapeSignature, len(t.ShapeSignature), t.Shape, len(t.Shape))
	}
	typ, err := tt.i8(tensorType, ttFloat32)
	if err != nil {
		return nil, err
	}
	dt, ok := dtypeFromTFLite(typ)
	if !ok {
		return nil, fmt.Errorf("%s: %w tensor type %s", what, ErrUnsupported, tensorTypeName(typ))
	}
	t.DType = dt
	if _, present, err := tt.subTable(tensorSparsity, what+" sparsity"); err != nil {
		return nil, err
	} else if present {
		return nil, fmt.Errorf("%s: %w sparse tensor", what, ErrUnsupported)
	}
	if t.Variable, err = tt.boolean(tensorIsVariable, false); err != nil {
		return nil, err
	}
	bi, err := tt.u32(tensorBuffer, 0)
	if err != nil {
		return nil, err
	}
	if int64(bi) >= int64(len(r.buffers)) {
		return nil, fmt.Errorf("%w: %s: buffer index %d out of range [0,%d)", ErrCorrupt, what, bi, len(r.buffers))
	}
	if b := r.buffers[bi]; len(b) > 0 {
		if t.Data, err = r.constData(what, bi, b, dt, n); err != nil {
			return nil, err
		}
	}
	if t.Quant, err = r.quantization(tt, what); err != nil {
		return nil, err
	}
	// TFLite Micro's own person-detection model stores its per-channel
	// biases (rank 1) with quantized_dimension 3, the filter's axis. A
	// rank-1 tensor with one scale per element has a single possible
	// axis, and TFLite Micro reads it so; the TFLite interpreter refuses
	// the file instead.
	if q := t.Quant; q != nil && len(q.Scale) > 1 && len(t.Shape) == 1 && q.Axis != 0 && t.Shape[0] == len(q.Scale) {
		q.Axis = 0
	}
	return t, nil
}

// constData checks a constant buffer against its tensor and copies it into
// the graph's layout (int4 unpacked to one value per byte).
func (r *reader) constData(what string, bi uint32, b []byte, dt graph.DType, n int64) ([]byte, error) {
	want := n * int64(dt.Size())
	if dt == graph.Int4 {
		want = (n + 1) / 2
	}
	if int64(len(b)) != want {
		return nil, fmt.Errorf("%w: %s: buffer %d has %d bytes, but %d elements of %s need %d",
			ErrCorrupt, what, bi, len(b), n, dt, want)
	}
	if err := r.f.charge(n * int64(dt.Size())); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if dt != graph.Int4 {
		if r.owned {
			return b[:len(b):len(b)], nil
		}
		return append([]byte(nil), b...), nil
	}
	return unpackInt4(b, int(n)), nil
}

// unpackInt4 expands n signed 4-bit values packed two per byte, low nibble
// first (TFLite's layout), to one sign-extended value per byte.
func unpackInt4(b []byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		v := b[i/2]
		if i%2 == 0 {
			out[i] = byte(int8(v<<4) >> 4)
		} else {
			out[i] = byte(int8(v) >> 4)
		}
	}
	return out
}

// packInt4 is unpackInt4's inverse; values outside -8..7 are truncated to
// their low four bits (callers validate the range).
func packInt4(v []byte) []byte {
	out := make([]byte, (len(v)+1)/2)
	for i, x := range v {
		if i%2 == 0 {
			out[i/2] |= x & 0x0f
		} else {
			out[i/2] |= (x & 0x0f) << 4
		}
	}
	return out
}

func (r *reader) quantization(tt table, what string) (*graph.Quantization, error) {
	qt, present, err := tt.subTable(tensorQuantization, what+" quantization")
	if err != nil || !present {
		return nil, err
	}
	what += " quantization"
	if dt, err := qt.u8(quantDetailsType, 0); err != nil {
		return nil, err
	} else if dt != 0 {
		return nil, fmt.Errorf("%s: %w custom quantization details", what, ErrUnsupported)
	}
	q := &graph.Quantization{}
	vecs := []struct {
		id   int
		elem int64
		name string
	}{{quantScale, 4, "scale"}, {quantZeroPoint, 8, "zero_point"}, {quantMin, 4, "min"}, {quantMax, 4, "max"}}
	for _, vd := range vecs {
		v, err := qt.vec(vd.id, vd.elem, what+" "+vd.name)
		if err != nil {
			return nil, err
		}
		switch vd.id {
		case quantScale:
			q.Scale, err = v.float32s()
		case quantZeroPoint:
			q.ZeroPoint, err = v.int64s()
		case quantMin:
			q.Min, err = v.float32s()
		case quantMax:
			q.Max, err = v.float32s()
		}
		if err != nil {
			return nil, err
		}
	}
	axis, err := qt.i32(quantDimension, 0)
	if err != nil {
		return nil, err
	}
	q.Axis = int(axis)
	// The converter writes an empty QuantizationParameters table for float
	// tensors; without scales there is nothing to dequantize with, so the
	// graph sees no quantization (min/max alone are dropped).
	if len(q.Scale) == 0 {
		if len(q.ZeroPoint) != 0 {
			return nil, fmt.Errorf("%w: %s: %d zero points but no scales", ErrCorrupt, what, len(q.ZeroPoint))
		}
		return nil, nil
	}
	for i, s := range q.Scale {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) || s < 0 {
			return nil, fmt.Errorf("%w: %s: scale[%d] = %g", ErrCorrupt, what, i, s)
		}
	}
	if len(q.ZeroPoint) != 0 && len(q.ZeroPoint) != len(q.Scale) {
		return nil, fmt.Errorf("%w: %s: %d scales but %d zero points", ErrCorrupt, what, len(q.Scale), len(q.ZeroPoint))
	}
	if (q.Min != nil || q.Max != nil) && len(q.Min) != len(q.Max) {
		return nil, fmt.Errorf("%w: %s: %d min values but %d max values", ErrCorrupt, what, len(q.Min), len(q.Max))
	}
	return q, nil
}

// ioList reads a subgraph's input or output tensor indices.
func (r *reader) ioList(sg table, id int, name string, n int) ([]int, error) {
	v, err := sg.vec(id, 4, "subgraph "+name+"s")
	if err != nil {
		return nil, err
	}
	idx, err := v.ints()
	if err != nil {
		return nil, err
	}
	for _, i := range idx {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("%w: subgraph %s tensor index %d out of range [0,%d)", ErrCorrupt, name, i, n)
		}
	}
	return idx, nil
}

func (r *reader) readMetadata(m table, g *graph.Graph) error {
	mv, err := m.vec(modelMetadata, 4, "metadata")
	if err != nil {
		return err
	}
	for i := 0; i < mv.len(); i++ {
		what := fmt.Sprintf("metadata %d", i)
		mt, err := mv.table(i, what)
		if err != nil {
			return err
		}
		name, err := mt.str(metadataName, what+" name")
		if err != nil {
			return err
		}
		bi, err := mt.u32(metadataBuffer, 0)
		if err != nil {
			return err
		}
		if int64(bi) >= int64(len(r.buffers)) {
			return fmt.Errorf("%w: %s %q: buffer index %d out of range [0,%d)", ErrCorrupt, what, name, bi, len(r.buffers))
		}
		b := r.buffers[bi]
		if err := r.f.charge(int64(len(b)) + 64); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if g.Metadata == nil {
			g.Metadata = map[string][]byte{}
		}
		g.Metadata[name] = append([]byte{}, b...)
	}
	return nil
}

// checkSubgraphRefs checks that every control-flow op names existing
// subgraphs other than subgraph 0.
func checkSubgraphRefs(g *graph.Graph, n int) error {
	for si, sg := range append([]*graph.Graph{g}, g.Subgraphs...) {
		for oi, op := range sg.Ops {
			o, ok := op.Options.(*graph.SubgraphOptions)
			if !ok || o == nil {
				continue
			}
			for _, ref := range []struct {
				name string
				v    int
			}{{"cond", o.Cond}, {"body", o.Body}, {"then", o.Then}, {"else", o.Else}, {"init", o.Init}} {
				if ref.v == -1 {
					continue
				}
				if ref.v <= 0 || ref.v >= n {
					return fmt.Errorf("%w: subgraph %d operator %d (%s): %s subgraph index %d out of range [1,%d)",
						ErrCorrupt, si, oi, op.Name(), ref.name, ref.v, n)
				}
			}
		}
	}
	return nil
}
