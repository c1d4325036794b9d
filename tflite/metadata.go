package tflite

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/qbench/qbench/graph"
)

// MetadataKey is the Model.metadata name under which TFLite Model Metadata
// (metadata_schema.fbs, file identifier "M001") is stored. Read keeps the
// raw buffer in graph.Graph.Metadata under this key and its parsed form in
// graph.Graph.Meta; Write writes the raw buffer back unchanged when present,
// else encodes Graph.Meta.
const MetadataKey = graph.MetadataModelMeta

// metaIdentifier is the file identifier of the metadata FlatBuffer.
const metaIdentifier = "M001"

// Field ids of metadata_schema.fbs (tflite-support, schema 1.x). A union
// field takes two ids: its type byte, then its table.
const (
	mmName             = 0
	mmDescription      = 1
	mmVersion          = 2
	mmSubgraphMetadata = 3
	mmAuthor           = 4
	mmLicense          = 5
	mmAssociatedFiles  = 6
	mmMinParserVersion = 7
	mmNumFields        = 8

	sgmName            = 0
	sgmDescription     = 1
	sgmInputTensors    = 2
	sgmOutputTensors   = 3
	sgmAssociatedFiles = 4
	sgmNumFields       = 5

	tmName            = 0
	tmDescription     = 1
	tmDimensionNames  = 2
	tmContent         = 3
	tmProcessUnits    = 4
	tmStats           = 5
	tmAssociatedFiles = 6
	tmNumFields       = 7

	contentPropsType = 0
	contentProps     = 1
	contentRange     = 2
	contentNumFields = 3

	imagePropsColorSpace = 0
	imagePropsNumFields  = 2 // color_space, default_size

	rangeMin       = 0
	rangeMax       = 1
	rangeNumFields = 2

	puOptionsType = 0
	puOptions     = 1
	puNumFields   = 2

	normMean      = 0
	normStd       = 1
	normNumFields = 2

	statsMax       = 0
	statsMin       = 1
	statsNumFields = 2

	afName        = 0
	afDescription = 1
	afType        = 2
	afLocale      = 3
	afNumFields   = 4
)

// Union and enum values of metadata_schema.fbs.
const (
	contentFeature = 1 // ContentProperties.FeatureProperties
	contentImage   = 2 // ContentProperties.ImageProperties

	processNormalization = 1 // ProcessUnitOptions.NormalizationOptions
)

var colorSpaceNames = [...]string{"", "RGB", "GRAYSCALE"}

var fileTypeNames = [...]string{"UNKNOWN", "DESCRIPTIONS", graph.LabelsAxis, graph.LabelsValue, "TENSOR_AXIS_SCORE_CALIBRATION", "VOCABULARY"}

func fileTypeName(t int8) string {
	if t >= 0 && int(t) < len(fileTypeNames) {
		return fileTypeNames[t]
	}
	return fmt.Sprintf("TYPE_%d", t)
}

// fileTypeCode is fileTypeName's inverse; ok is false for a name it never
// returns.
func fileTypeCode(name string) (code int8, ok bool) {
	for i, n := range fileTypeNames {
		if n == name {
			return int8(i), true
		}
	}
	var v int8
	if _, err := fmt.Sscanf(name, "TYPE_%d", &v); err == nil && fileTypeName(v) == name {
		return v, true
	}
	return 0, false
}

// textFileTypes are the associated file types whose lines are names.
func isTextFileType(t string) bool {
	return t == graph.LabelsAxis || t == graph.LabelsValue || t == "VOCABULARY"
}

// maxMetaTensors bounds the tensors one subgraph's metadata may describe;
// real models have a handful, and each costs a TensorMeta to decode.
const maxMetaTensors = 1 << 16

// ParseMetadata decodes a TFLITE_METADATA buffer (the ModelMetadata
// FlatBuffer) into a ModelMeta for subgraph 0, with the same checks as the
// model reader: every offset and length is checked before use and decoded
// data is charged against a budget proportional to the buffer's size. Label
// names are not filled (they live in the associated-files archive, see
// ReadModelMeta). The error names what is wrong; nothing in buf can make it
// panic.
func ParseMetadata(buf []byte) (*graph.ModelMeta, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("%w: metadata truncated: %d bytes", ErrCorrupt, len(buf))
	}
	if id := string(buf[4:8]); id != metaIdentifier {
		return nil, fmt.Errorf("%w: metadata identifier %q, want %q", ErrCorrupt, id, metaIdentifier)
	}
	f := newFbuf(buf)
	root, err := f.tableAt(int64(f.u32(0)), "model metadata")
	if err != nil {
		return nil, err
	}
	m := &graph.ModelMeta{}
	for _, s := range []struct {
		id  int
		dst *string
	}{{mmName, &m.Name}, {mmDescription, &m.Description}, {mmVersion, &m.Version}, {mmAuthor, &m.Author}, {mmLicense, &m.License}} {
		if *s.dst, err = root.str(s.id, fmt.Sprintf("model metadata field %d", s.id)); err != nil {
			return nil, err
		}
	}
	subs, err := root.vec(mmSubgraphMetadata, 4, "subgraph metadata")
	if err != nil {
		return nil, err
	}
	if subs.len() == 0 {
		return m, nil
	}
	sg, err := subs.table(0, "subgraph metadata 0")
	if err != nil {
		return nil, err
	}
	if m.Inputs, err = tensorMetas(sg, sgmInputTensors, "input"); err != nil {
		return nil, err
	}
	if m.Outputs, err = tensorMetas(sg, sgmOutputTensors, "output"); err != nil {
		return nil, err
	}
	return m, nil
}

func tensorMetas(sg table, id int, kind string) ([]graph.TensorMeta, error) {
	v, err := sg.vec(id, 4, kind+" tensor metadata")
	if err != nil {
		return nil, err
	}
	if v.len() == 0 {
		return nil, nil
	}
	if v.len() > maxMetaTensors {
		return nil, fmt.Errorf("%w: %d %s tensor metadata entries (at most %d)", ErrCorrupt, v.len(), kind, maxMetaTensors)
	}
	if err := sg.f.charge(256 * int64(v.len())); err != nil {
		return nil, fmt.Errorf("%s tensor metadata: %w", kind, err)
	}
	out := make([]graph.TensorMeta, v.len())
	for i := range out {
		what := fmt.Sprintf("%s %d metadata", kind, i)
		t, err := v.table(i, what)
		if err != nil {
			return nil, err
		}
		if err := tensorMeta(t, what, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func tensorMeta(t table, what string, tm *graph.TensorMeta) error {
	var err error
	if tm.Name, err = t.str(tmName, what+" name"); err != nil {
		return err
	}
	if tm.Description, err = t.str(tmDescription, what+" description"); err != nil {
		return err
	}
	if err := contentMeta(t, what, tm); err != nil {
		return err
	}
	pus, err := t.vec(tmProcessUnits, 4, what+" process units")
	if err != nil {
		return err
	}
	for i := 0; i < pus.len(); i++ {
		pw := fmt.Sprintf("%s process unit %d", what, i)
		pu, err := pus.table(i, pw)
		if err != nil {
			return err
		}
		typ, err := pu.u8(puOptionsType, 0)
		if err != nil {
			return err
		}
		if typ != processNormalization {
			continue // score calibration, tokenizers: not used by qbench
		}
		opts, ok, err := pu.subTable(puOptions, pw+" normalization")
		if err != nil {
			return err
		}
		if !ok || tm.Mean != nil || tm.Std != nil {
			continue // the first normalization is the one that applies
		}
		if tm.Mean, err = floatVec(opts, normMean, pw+" mean"); err != nil {
			return err
		}
		if tm.Std, err = floatVec(opts, normStd, pw+" std"); err != nil {
			return err
		}
	}
	if st, ok, err := t.subTable(tmStats, what+" stats"); err != nil {
		return err
	} else if ok {
		if tm.Max, err = floatVec(st, statsMax, what+" stats max"); err != nil {
			return err
		}
		if tm.Min, err = floatVec(st, statsMin, what+" stats min"); err != nil {
			return err
		}
		tm.ValueRange = valueRange(tm.Min, tm.Max)
	}
	afs, err := t.vec(tmAssociatedFiles, 4, what+" associated files")
	if err != nil {
		return err
	}
	if err := t.f.charge(128 * int64(afs.len())); err != nil {
		return fmt.Errorf("%s associated files: %w", what, err)
	}
	for i := 0; i < afs.len(); i++ {
		aw := fmt.Sprintf("%s associated file %d", what, i)
		at, err := afs.table(i, aw)
		if err != nil {
			return err
		}
		lf, err := associatedFile(at, aw)
		if err != nil {
			return err
		}
		tm.Labels = append(tm.Labels, lf)
	}
	return nil
}

func contentMeta(t table, what string, tm *graph.TensorMeta) error {
	ct, ok, err := t.subTable(tmContent, what+" content")
	if err != nil || !ok {
		return err
	}
	typ, err := ct.u8(contentPropsType, 0)
	if err != nil {
		return err
	}
	if typ == contentImage {
		ip, ok, err := ct.subTable(contentProps, what+" image properties")
		if err != nil {
			return err
		}
		if ok {
			cs, err := ip.i8(imagePropsColorSpace, 0)
			if err != nil {
				return err
			}
			if cs < 0 || int(cs) >= len(colorSpaceNames) {
				return fmt.Errorf("%w: %s: unknown color space %d", ErrCorrupt, what, cs)
			}
			tm.ColorSpace = colorSpaceNames[cs]
		}
	}
	rt, ok, err := ct.subTable(contentRange, what+" content range")
	if err != nil || !ok {
		return err
	}
	lo, err := rt.i32(rangeMin, 0)
	if err != nil {
		return err
	}
	hi, err := rt.i32(rangeMax, 0)
	if err != nil {
		return err
	}
	tm.DimRange = &[2]int{int(lo), int(hi)}
	return nil
}

func associatedFile(at table, what string) (graph.LabelFile, error) {
	var lf graph.LabelFile
	var err error
	if lf.FileName, err = at.str(afName, what+" name"); err != nil {
		return lf, err
	}
	if lf.Description, err = at.str(afDescription, what+" description"); err != nil {
		return lf, err
	}
	typ, err := at.i8(afType, 0)
	if err != nil {
		return lf, err
	}
	lf.Type = fileTypeName(typ)
	if lf.Locale, err = at.str(afLocale, what+" locale"); err != nil {
		return lf, err
	}
	return lf, nil
}

// floatVec reads a [float] field, nil when absent or empty.
func floatVec(t table, id int, what string) ([]float32, error) {
	v, err := t.vec(id, 4, what)
	if err != nil {
		return nil, err
	}
	return v.float32s()
}

// valueRange widens per-channel statistics to one integer range, nil when
// either side is missing or not a finite value int can hold.
func valueRange(lo, hi []float32) *[2]int {
	if len(lo) == 0 || len(hi) == 0 {
		return nil
	}
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, v := range lo {
		mn = math.Min(mn, float64(v))
	}
	for _, v := range hi {
		mx = math.Max(mx, float64(v))
	}
	mn, mx = math.Floor(mn), math.Ceil(mx)
	if math.IsNaN(mn) || math.IsNaN(mx) || mn < math.MinInt32 || mx > math.MaxInt32 || mn > mx {
		return nil
	}
	return &[2]int{int(mn), int(mx)}
}

// declaredFiles lists the associated file names m's tensors reference.
func declaredFiles(m *graph.ModelMeta) []string {
	var names []string
	for _, ts := range [][]graph.TensorMeta{m.Inputs, m.Outputs} {
		for _, t := range ts {
			for _, l := range t.Labels {
				names = append(names, l.FileName)
			}
		}
	}
	return names
}

// splitLines splits a label file into its lines: "\n" separated, a
// trailing "\r" dropped from each, no final empty line.
func splitLines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// ReadModelMeta returns the Model Metadata of a TFLite file — the parsed
// TFLITE_METADATA buffer with label names from the appended archive —
// without decoding the graph, so it works on models whose ops qbench cannot
// read. meta is nil when the file has no metadata or it is unusable;
// warnings say what was wrong with the metadata or archive. err reports a
// model file too damaged to find its metadata.
func ReadModelMeta(file []byte) (meta *graph.ModelMeta, warnings []string, err error) {
	if len(file) < 8 {
		return nil, nil, fmt.Errorf("%w: truncated: %d bytes, a TFLite file has at least 8", ErrCorrupt, len(file))
	}
	if id := string(file[4:8]); id != fileIdentifier {
		return nil, nil, fmt.Errorf("%w: wrong file identifier %q, want %q (not a TFLite model?)", ErrCorrupt, id, fileIdentifier)
	}
	r := &reader{f: newFbuf(file)}
	m, err := r.f.tableAt(int64(r.f.u32(0)), "model")
	if err != nil {
		return nil, nil, err
	}
	if err := r.readBuffers(m); err != nil {
		return nil, nil, err
	}
	g := &graph.Graph{}
	if err := r.readMetadata(m, g); err != nil {
		return nil, nil, err
	}
	raw, ok := g.Metadata[MetadataKey]
	if !ok {
		return nil, nil, nil
	}
	meta, warnings = decodeMeta(file, raw)
	return meta, warnings, nil
}

// decodeMeta parses a metadata buffer and fills label names from the
// file's archive. Problems become warnings: metadata only advises, so a
// model with broken metadata stays usable.
func decodeMeta(file, raw []byte) (*graph.ModelMeta, []string) {
	m, err := ParseMetadata(raw)
	if err != nil {
		return nil, []string{fmt.Sprintf("model metadata (%s buffer, %d bytes) ignored: %v", MetadataKey, len(raw), err)}
	}
	declared := declaredFiles(m)
	files, err := ReadAssociatedFiles(file)
	if err != nil {
		if len(declared) == 0 {
			return m, nil // nothing expected, nothing lost
		}
		if errors.Is(err, ErrNoArchive) {
			return m, []string{fmt.Sprintf("model metadata names associated files %s but the model has no zip archive appended", strings.Join(declared, ", "))}
		}
		return m, []string{fmt.Sprintf("associated files %s unavailable: %v", strings.Join(declared, ", "), err)}
	}
	m.Files = files
	var warnings []string
	for _, ts := range []struct {
		kind string
		ts   []graph.TensorMeta
	}{{"input", m.Inputs}, {"output", m.Outputs}} {
		for i := range ts.ts {
			for j := range ts.ts[i].Labels {
				l := &ts.ts[i].Labels[j]
				data, ok := findFile(files, l.FileName)
				if !ok {
					warnings = append(warnings, fmt.Sprintf("%s %d metadata names associated file %q, which is not in the model's zip archive", ts.kind, i, l.FileName))
					continue
				}
				if isTextFileType(l.Type) {
					l.Names = splitLines(data)
				}
			}
		}
	}
	return m, warnings
}

func findFile(files []graph.AssociatedFile, name string) ([]byte, bool) {
	for _, f := range files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// attachMeta fills g.Meta from the file's metadata, if any, and records
// warnings where the metadata does not fit the graph it describes.
func attachMeta(file []byte, g *graph.Graph) {
	raw, ok := g.Metadata[MetadataKey]
	if !ok {
		return
	}
	m, warnings := decodeMeta(file, raw)
	g.Warnings = append(g.Warnings, warnings...)
	if m == nil {
		return
	}
	g.Meta = m
	if n := len(m.Inputs); n != 0 && n != len(g.Inputs) {
		g.Warnings = append(g.Warnings, fmt.Sprintf("model metadata describes %d inputs but the model has %d", n, len(g.Inputs)))
	}
	if n := len(m.Outputs); n != 0 && n != len(g.Outputs) {
		g.Warnings = append(g.Warnings, fmt.Sprintf("model metadata describes %d outputs but the model has %d", n, len(g.Outputs)))
	}
	for i, o := range g.Outputs {
		names := m.AxisLabels(i)
		if names == nil {
			continue
		}
		shape := g.Tensors[o].Shape
		if len(shape) > 0 && shape[len(shape)-1] != len(names) {
			g.Warnings = append(g.Warnings, fmt.Sprintf("output %d %q has %d values per sample but its label file has %d names",
				i, g.Tensors[o].Name, shape[len(shape)-1], len(names)))
		}
	}
}
