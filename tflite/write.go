package tflite

import (
	"fmt"
	"sort"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/fileio"
)

// maxInlineData bounds the constant bytes Write stores inside the
// FlatBuffer, leaving room below 2 GB for tables and alignment.
const maxInlineData = 1<<31 - 1<<26

// DefaultDescription is the model description Write records when the graph
// has none.
const DefaultDescription = "qbench"

// WriteFile writes g as a .tflite file. It writes a temporary file in the
// same directory and renames it, so an interrupted write never leaves a
// truncated model behind; the file gets mode 0666 minus the umask, like
// any file a program creates. Errors name path once.
func WriteFile(path string, g *graph.Graph) error {
	data, err := Write(g)
	if err != nil {
		return &fileio.Error{Path: path, Err: err}
	}
	return fileio.WriteBytes(path, data)
}

// Write serializes g as a TFLite FlatBuffer (schema TFL3): g is subgraph
// 0 and g.Subgraphs[i] subgraph i+1 (the bodies WHILE, IF and CALL_ONCE
// name; they must not have Subgraphs of their own). Operator codes fill both the deprecated int8 and the int32
// builtin code; op versions are Op.Version when set, else the version TFLite
// assigns for the op's dtypes and options (see OpVersion). Buffer 0 is the
// empty sentinel TFLite expects; each constant gets its own buffer, int4
// data is packed two per byte; graph metadata becomes Model.metadata
// entries. The description is g.Description, or "qbench" when empty.
// Model Metadata (g.Meta) is kept: the raw TFLITE_METADATA entry of
// g.Metadata is written back unchanged when present (so fields qbench does
// not model survive), else g.Meta is encoded (EncodeMetadata); to rewrite
// the metadata of a graph that was read from a file, delete that entry.
// Its associated files (g.Meta.Files, plus label files generated from
// names that have no contents) are appended as a zip archive, as TFLite's
// metadata tools do.
// For compatibility with deployed TFLite runtimes an omitted conv/depthwise
// bias is written as an explicit zero bias tensor, and a RESHAPE without a
// shape input records the output shape as new_shape (g itself is not
// modified; reading the file back shows these additions).
func Write(g *graph.Graph) ([]byte, error) {
	for si, sg := range append([]*graph.Graph{g}, g.Subgraphs...) {
		where := ""
		if si > 0 {
			where = fmt.Sprintf("subgraph %d: ", si)
			if len(sg.Subgraphs) > 0 {
				return nil, fmt.Errorf("%w: %ssubgraphs are listed once, in the main graph's Subgraphs", graph.ErrInvalid, where)
			}
		}
		if err := sg.Validate(); err != nil {
			return nil, fmt.Errorf("%s%w", where, err)
		}
		for i, op := range sg.Ops {
			if err := CheckArity(op); err != nil {
				return nil, fmt.Errorf("%sop %d: %w", where, i, err)
			}
			if err := checkOptions(op); err != nil {
				return nil, fmt.Errorf("%sop %d (%s): %w", where, i, op.Name(), err)
			}
		}
	}
	if err := checkSubgraphRefs(g, len(g.Subgraphs)+1); err != nil {
		return nil, err
	}
	files, err := filesToPack(g.Meta)
	if err != nil {
		return nil, err
	}
	if _, ok := g.Metadata[MetadataKey]; g.Meta != nil && !ok {
		buf, err := EncodeMetadata(g.Meta)
		if err != nil {
			return nil, fmt.Errorf("model metadata: %w", err)
		}
		withMeta := *g
		withMeta.Metadata = make(map[string][]byte, len(g.Metadata)+1)
		for k, v := range g.Metadata {
			withMeta.Metadata[k] = v
		}
		withMeta.Metadata[MetadataKey] = buf
		g = &withMeta
	}
	g = compat(g)
	if len(g.Subgraphs) > 0 {
		withSubs := *g
		withSubs.Subgraphs = make([]*graph.Graph, len(g.Subgraphs))
		for i, sg := range g.Subgraphs {
			withSubs.Subgraphs[i] = compat(sg)
		}
		g = &withSubs
	}
	// A FlatBuffer cannot exceed 2 GB (the builder panics beyond it); TFLite
	// stores larger models' buffers after the FlatBuffer, which the reader
	// supports but the writer does not.
	if n := totalDataSize(g); n > maxInlineData {
		return nil, fmt.Errorf("%w: %d bytes of constants exceed the 2 GB FlatBuffer limit (external buffers are not written)", ErrUnsupported, n)
	}
	w := &writer{b: flatbuffers.NewBuilder(1024 + totalDataSize(g)), g: g}
	model, err := w.model()
	if err != nil || len(files) == 0 {
		return model, err
	}
	zip, err := packAssociatedFiles(files, len(model))
	if err != nil {
		return nil, fmt.Errorf("model metadata: %w", err)
	}
	return append(model, zip...), nil
}

func totalDataSize(g *graph.Graph) int {
	n := 0
	for _, t := range g.Tensors {
		n += len(t.Data)
	}
	for _, m := range g.Metadata {
		n += len(m)
	}
	return n
}

type writer struct {
	b *flatbuffers.Builder
	g *graph.Graph
}

type codeKey struct {
	code    int32
	custom  string // custom code when code is codeCustom
	version int
}

func (w *writer) model() ([]byte, error) {
	b, g := w.b, w.g
	graphs := append([]*graph.Graph{g}, g.Subgraphs...)
	// Buffers: 0 is the empty sentinel, then one per constant tensor of
	// each subgraph in turn, then one per metadata entry (sorted by name so
	// output is deterministic).
	var bufData [][]byte
	bufData = append(bufData, nil)
	tensorBuf := make([][]int, len(graphs))
	for gi, sg := range graphs {
		tensorBuf[gi] = make([]int, len(sg.Tensors))
		for i, t := range sg.Tensors {
			if !t.IsConst() || len(t.Data) == 0 {
				continue
			}
			data := t.Data
			if t.DType == graph.Int4 {
				for j, v := range data {
					if int8(v) < -8 || int8(v) > 7 {
						return nil, fmt.Errorf("tensor %d %q: int4 value %d at %d is outside -8..7", i, t.Name, int8(v), j)
					}
				}
				data = packInt4(data)
			}
			tensorBuf[gi][i] = len(bufData)
			bufData = append(bufData, data)
		}
	}
	metaNames := make([]string, 0, len(g.Metadata))
	for k := range g.Metadata {
		metaNames = append(metaNames, k)
	}
	sort.Strings(metaNames)
	metaBuf := make([]int, len(metaNames))
	for i, k := range metaNames {
		metaBuf[i] = len(bufData)
		bufData = append(bufData, g.Metadata[k])
	}

	bufOffs := make([]flatbuffers.UOffsetT, len(bufData))
	for i, d := range bufData {
		var dv flatbuffers.UOffsetT
		if len(d) > 0 {
			// force_align: 16 in the schema, so kernels can map data in place.
			b.Prep(16, len(d))
			dv = b.CreateByteVector(d)
		}
		b.StartObject(bufferNumFields)
		if dv != 0 {
			b.PrependUOffsetTSlot(bufferData, dv, 0)
		}
		bufOffs[i] = b.EndObject()
	}
	buffers := w.tableVector(bufOffs)

	// Operator codes: one per (builtin code, version), in order of first
	// use over all subgraphs.
	var codes []codeKey
	codeIndex := map[codeKey]int{}
	opCode := make([][]int, len(graphs))
	for gi, sg := range graphs {
		opCode[gi] = make([]int, len(sg.Ops))
		for i, op := range sg.Ops {
			var k codeKey
			if m, ok := mappingForKind(op.Kind); ok {
				k.code = m.code
			} else if s, ok := specForKind(op.Kind); ok { // checked by checkOptions
				k.code, k.custom = s.code, s.custom
			}
			k.version = op.Version
			if k.version <= 0 {
				k.version = OpVersion(sg, op)
			}
			idx, ok := codeIndex[k]
			if !ok {
				idx = len(codes)
				codeIndex[k] = idx
				codes = append(codes, k)
			}
			opCode[gi][i] = idx
		}
	}
	codeOffs := make([]flatbuffers.UOffsetT, len(codes))
	for i, k := range codes {
		dep := k.code
		if dep > codePlaceholder {
			dep = codePlaceholder
		}
		var custom flatbuffers.UOffsetT
		if k.custom != "" {
			custom = b.CreateString(k.custom)
		}
		b.StartObject(opcodeNumFields)
		if custom != 0 {
			b.PrependUOffsetTSlot(opcodeCustomCode, custom, 0)
		}
		b.PrependInt32Slot(opcodeBuiltinCode, k.code, 0)
		b.PrependInt32Slot(opcodeVersion, int32(k.version), 1)
		b.PrependInt8Slot(opcodeDeprecatedBuiltin, int8(dep), 0)
		codeOffs[i] = b.EndObject()
	}
	opcodes := w.tableVector(codeOffs)

	sgOffs := make([]flatbuffers.UOffsetT, len(graphs))
	for gi, sg := range graphs {
		tensorOffs := make([]flatbuffers.UOffsetT, len(sg.Tensors))
		for i, t := range sg.Tensors {
			off, err := w.tensor(i, t, tensorBuf[gi][i])
			if err != nil {
				if gi > 0 {
					return nil, fmt.Errorf("subgraph %d: %w", gi, err)
				}
				return nil, err
			}
			tensorOffs[i] = off
		}
		tensors := w.tableVector(tensorOffs)

		opOffs := make([]flatbuffers.UOffsetT, len(sg.Ops))
		for i, op := range sg.Ops {
			opOffs[i] = w.operator(op, opCode[gi][i])
		}
		operators := w.tableVector(opOffs)

		inputs := w.int32Vector(sg.Inputs)
		outputs := w.int32Vector(sg.Outputs)
		name := sg.Name
		if gi == 0 || name == "" {
			name = "main"
			if gi > 0 {
				name = fmt.Sprintf("subgraph%d", gi)
			}
		}
		sgName := b.CreateString(name)
		b.StartObject(subgraphNumFields)
		b.PrependUOffsetTSlot(subgraphTensors, tensors, 0)
		b.PrependUOffsetTSlot(subgraphInputs, inputs, 0)
		b.PrependUOffsetTSlot(subgraphOutputs, outputs, 0)
		b.PrependUOffsetTSlot(subgraphOperators, operators, 0)
		b.PrependUOffsetTSlot(subgraphName, sgName, 0)
		sgOffs[gi] = b.EndObject()
	}
	subgraphs := w.tableVector(sgOffs)

	metaOffs := make([]flatbuffers.UOffsetT, len(metaNames))
	for i, k := range metaNames {
		name := b.CreateString(k)
		b.StartObject(metadataNumFields)
		b.PrependUOffsetTSlot(metadataName, name, 0)
		b.PrependUint32Slot(metadataBuffer, uint32(metaBuf[i]), 0)
		metaOffs[i] = b.EndObject()
	}
	var metadata flatbuffers.UOffsetT
	if len(metaOffs) > 0 {
		metadata = w.tableVector(metaOffs)
	}

	desc := g.Description
	if desc == "" {
		desc = DefaultDescription
	}
	descOff := b.CreateString(desc)
	b.StartObject(modelNumFields)
	b.PrependUint32Slot(modelVersion, schemaVersion, 0)
	b.PrependUOffsetTSlot(modelOperatorCodes, opcodes, 0)
	b.PrependUOffsetTSlot(modelSubgraphs, subgraphs, 0)
	b.PrependUOffsetTSlot(modelDescription, descOff, 0)
	b.PrependUOffsetTSlot(modelBuffers, buffers, 0)
	if metadata != 0 {
		b.PrependUOffsetTSlot(modelMetadata, metadata, 0)
	}
	root := b.EndObject()
	b.FinishWithFileIdentifier(root, []byte(fileIdentifier))
	return b.FinishedBytes(), nil
}

func (w *writer) tableVector(offs []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	return w.b.CreateVectorOfTables(offs)
}

func (w *writer) int32Vector(v []int) flatbuffers.UOffsetT {
	w.b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		w.b.PrependInt32(int32(v[i]))
	}
	return w.b.EndVector(len(v))
}

func (w *writer) float32Vector(v []float32) flatbuffers.UOffsetT {
	w.b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		w.b.PrependFloat32(v[i])
	}
	return w.b.EndVector(len(v))
}

func (w *writer) int64Vector(v []int64) flatbuffers.UOffsetT {
	w.b.StartVector(8, len(v), 8)
	for i := len(v) - 1; i >= 0; i-- {
		w.b.PrependInt64(v[i])
	}
	return w.b.EndVector(len(v))
}

func (w *writer) tensor(i int, t *graph.Tensor, buf int) (flatbuffers.UOffsetT, error) {
	b := w.b
	typ, ok := dtypeToTFLite(t.DType)
	if !ok {
		return 0, fmt.Errorf("tensor %d %q: dtype %s has no TFLite type", i, t.Name, t.DType)
	}
	var quant flatbuffers.UOffsetT
	if q := t.Quant; q != nil {
		var minV, maxV, scale, zp flatbuffers.UOffsetT
		if len(q.Min) > 0 {
			minV = w.float32Vector(q.Min)
		}
		if len(q.Max) > 0 {
			maxV = w.float32Vector(q.Max)
		}
		if len(q.Scale) > 0 {
			scale = w.float32Vector(q.Scale)
		}
		if len(q.ZeroPoint) > 0 {
			zp = w.int64Vector(q.ZeroPoint)
		}
		b.StartObject(quantNumFields)
		if minV != 0 {
			b.PrependUOffsetTSlot(quantMin, minV, 0)
		}
		if maxV != 0 {
			b.PrependUOffsetTSlot(quantMax, maxV, 0)
		}
		if scale != 0 {
			b.PrependUOffsetTSlot(quantScale, scale, 0)
		}
		if zp != 0 {
			b.PrependUOffsetTSlot(quantZeroPoint, zp, 0)
		}
		b.PrependInt32Slot(quantDimension, int32(q.Axis), 0)
		quant = b.EndObject()
	}
	shape := w.int32Vector(t.Shape)
	var sig flatbuffers.UOffsetT
	if t.ShapeSignature != nil {
		sig = w.int32Vector(t.ShapeSignature)
	}
	name := b.CreateString(t.Name)
	b.StartObject(tensorNumFields)
	b.PrependUOffsetTSlot(tensorShape, shape, 0)
	b.PrependInt8Slot(tensorType, typ, 0)
	b.PrependUint32Slot(tensorBuffer, uint32(buf), 0)
	b.PrependUOffsetTSlot(tensorName, name, 0)
	b.PrependBoolSlot(tensorIsVariable, t.Variable, false)
	if quant != 0 {
		b.PrependUOffsetTSlot(tensorQuantization, quant, 0)
	}
	if sig != 0 {
		b.PrependUOffsetTSlot(tensorShapeSignature, sig, 0)
	}
	return b.EndObject(), nil
}

func (w *writer) operator(op *graph.Op, code int) flatbuffers.UOffsetT {
	b := w.b
	optType, opts := w.options(op)
	inputs := w.int32Vector(op.Inputs)
	outputs := w.int32Vector(op.Outputs)
	var custom, inter flatbuffers.UOffsetT
	if raw := customOptionsBytes(op); len(raw) > 0 {
		custom = b.CreateByteVector(raw)
	}
	if len(op.Intermediates) > 0 {
		inter = w.int32Vector(op.Intermediates)
	}
	b.StartObject(operatorNumFields)
	if inter != 0 {
		b.PrependUOffsetTSlot(operatorIntermediates, inter, 0)
	}
	if custom != 0 {
		b.PrependUOffsetTSlot(operatorCustomOptions, custom, 0)
	}
	b.PrependUint32Slot(operatorOpcodeIndex, uint32(code), 0)
	b.PrependUOffsetTSlot(operatorInputs, inputs, 0)
	b.PrependUOffsetTSlot(operatorOutputs, outputs, 0)
	if opts != 0 {
		b.PrependByteSlot(operatorBuiltinOptionsType, optType, 0)
		b.PrependUOffsetTSlot(operatorBuiltinOptions, opts, 0)
	}
	return b.EndObject()
}
