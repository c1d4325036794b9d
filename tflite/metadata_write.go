package tflite

import (
	"fmt"
	"math"
	"strings"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/qbench/qbench/graph"
)

// minParserVersion is the metadata parser version that understands every
// field EncodeMetadata writes (all of them exist since schema 1.0.0).
const minParserVersion = "1.0.0"

// EncodeMetadata encodes m as a TFLITE_METADATA buffer (a ModelMetadata
// FlatBuffer with one subgraph) in the layout TFLite's metadata tools
// write, so that the Task Library and Android Studio read it: an input or
// output with a colour space is an image (ImageProperties), others are
// features; Mean/Std become a NormalizationOptions process unit, Min/Max
// (or ValueRange when they are empty) a Stats table, Labels the tensor's
// associated files. The files' contents are not part of the buffer; Write
// packs them into the archive it appends.
func EncodeMetadata(m *graph.ModelMeta) ([]byte, error) {
	b := flatbuffers.NewBuilder(1024)
	str := func(s string) flatbuffers.UOffsetT {
		if s == "" {
			return 0
		}
		return b.CreateString(s)
	}
	tensors := func(ts []graph.TensorMeta, kind string) (flatbuffers.UOffsetT, error) {
		if len(ts) == 0 {
			return 0, nil
		}
		offs := make([]flatbuffers.UOffsetT, len(ts))
		for i := range ts {
			o, err := encodeTensorMeta(b, &ts[i], str)
			if err != nil {
				return 0, fmt.Errorf("%s %d metadata: %w", kind, i, err)
			}
			offs[i] = o
		}
		return b.CreateVectorOfTables(offs), nil
	}
	ins, err := tensors(m.Inputs, "input")
	if err != nil {
		return nil, err
	}
	outs, err := tensors(m.Outputs, "output")
	if err != nil {
		return nil, err
	}
	b.StartObject(sgmNumFields)
	if ins != 0 {
		b.PrependUOffsetTSlot(sgmInputTensors, ins, 0)
	}
	if outs != 0 {
		b.PrependUOffsetTSlot(sgmOutputTensors, outs, 0)
	}
	subs := b.CreateVectorOfTables([]flatbuffers.UOffsetT{b.EndObject()})

	fields := []struct {
		id  int
		off flatbuffers.UOffsetT
	}{
		{mmName, str(m.Name)}, {mmDescription, str(m.Description)}, {mmVersion, str(m.Version)},
		{mmSubgraphMetadata, subs}, {mmAuthor, str(m.Author)}, {mmLicense, str(m.License)},
		{mmMinParserVersion, str(minParserVersion)},
	}
	b.StartObject(mmNumFields)
	for _, f := range fields {
		if f.off != 0 {
			b.PrependUOffsetTSlot(f.id, f.off, 0)
		}
	}
	b.FinishWithFileIdentifier(b.EndObject(), []byte(metaIdentifier))
	return b.FinishedBytes(), nil
}

func encodeTensorMeta(b *flatbuffers.Builder, t *graph.TensorMeta, str func(string) flatbuffers.UOffsetT) (flatbuffers.UOffsetT, error) {
	floats := func(v []float32) flatbuffers.UOffsetT {
		if len(v) == 0 {
			return 0
		}
		b.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			b.PrependFloat32(v[i])
		}
		return b.EndVector(len(v))
	}

	// Content: image properties when a colour space is known, else feature.
	cs := -1
	for i, n := range colorSpaceNames {
		if n == t.ColorSpace {
			cs = i
		}
	}
	if cs < 0 {
		return 0, fmt.Errorf("color space %q is not RGB, GRAYSCALE or empty", t.ColorSpace)
	}
	propsType := byte(contentFeature)
	if cs > 0 {
		propsType = contentImage
		b.StartObject(imagePropsNumFields)
		b.PrependInt8Slot(imagePropsColorSpace, int8(cs), 0)
	} else {
		b.StartObject(0)
	}
	props := b.EndObject()
	var rng flatbuffers.UOffsetT
	if r := t.DimRange; r != nil {
		if r[0] < math.MinInt32 || r[0] > math.MaxInt32 || r[1] < math.MinInt32 || r[1] > math.MaxInt32 {
			return 0, fmt.Errorf("dimension range %v does not fit int32", *r)
		}
		b.StartObject(rangeNumFields)
		b.PrependInt32Slot(rangeMin, int32(r[0]), 0)
		b.PrependInt32Slot(rangeMax, int32(r[1]), 0)
		rng = b.EndObject()
	}
	b.StartObject(contentNumFields)
	b.PrependByteSlot(contentPropsType, propsType, 0)
	b.PrependUOffsetTSlot(contentProps, props, 0)
	if rng != 0 {
		b.PrependUOffsetTSlot(contentRange, rng, 0)
	}
	content := b.EndObject()

	var units flatbuffers.UOffsetT
	if len(t.Mean) > 0 || len(t.Std) > 0 {
		mean, std := floats(t.Mean), floats(t.Std)
		b.StartObject(normNumFields)
		if mean != 0 {
			b.PrependUOffsetTSlot(normMean, mean, 0)
		}
		if std != 0 {
			b.PrependUOffsetTSlot(normStd, std, 0)
		}
		norm := b.EndObject()
		b.StartObject(puNumFields)
		b.PrependByteSlot(puOptionsType, processNormalization, 0)
		b.PrependUOffsetTSlot(puOptions, norm, 0)
		units = b.CreateVectorOfTables([]flatbuffers.UOffsetT{b.EndObject()})
	}

	var stats flatbuffers.UOffsetT
	lo, hi := t.Min, t.Max
	if len(lo) == 0 && len(hi) == 0 && t.ValueRange != nil {
		lo, hi = []float32{float32(t.ValueRange[0])}, []float32{float32(t.ValueRange[1])}
	}
	if len(lo) > 0 || len(hi) > 0 {
		maxV, minV := floats(hi), floats(lo)
		b.StartObject(statsNumFields)
		if maxV != 0 {
			b.PrependUOffsetTSlot(statsMax, maxV, 0)
		}
		if minV != 0 {
			b.PrependUOffsetTSlot(statsMin, minV, 0)
		}
		stats = b.EndObject()
	}

	var files flatbuffers.UOffsetT
	if len(t.Labels) > 0 {
		offs := make([]flatbuffers.UOffsetT, len(t.Labels))
		for i, l := range t.Labels {
			typ, ok := fileTypeCode(l.Type)
			if !ok && l.Type != "" {
				return 0, fmt.Errorf("associated file %q: unknown type %q", l.FileName, l.Type)
			}
			name, desc, loc := str(l.FileName), str(l.Description), str(l.Locale)
			b.StartObject(afNumFields)
			if name != 0 {
				b.PrependUOffsetTSlot(afName, name, 0)
			}
			if desc != 0 {
				b.PrependUOffsetTSlot(afDescription, desc, 0)
			}
			b.PrependInt8Slot(afType, typ, 0)
			if loc != 0 {
				b.PrependUOffsetTSlot(afLocale, loc, 0)
			}
			offs[i] = b.EndObject()
		}
		files = b.CreateVectorOfTables(offs)
	}

	name, desc := str(t.Name), str(t.Description)
	b.StartObject(tmNumFields)
	if name != 0 {
		b.PrependUOffsetTSlot(tmName, name, 0)
	}
	if desc != 0 {
		b.PrependUOffsetTSlot(tmDescription, desc, 0)
	}
	b.PrependUOffsetTSlot(tmContent, content, 0)
	if units != 0 {
		b.PrependUOffsetTSlot(tmProcessUnits, units, 0)
	}
	if stats != 0 {
		b.PrependUOffsetTSlot(tmStats, stats, 0)
	}
	if files != 0 {
		b.PrependUOffsetTSlot(tmAssociatedFiles, files, 0)
	}
	return b.EndObject(), nil
}

// filesToPack lists the associated files Write appends for m: every file
// in m.Files, then a generated one per label file that has names but no
// packed contents (a model qbench builds names its classes without
// writing a file), one name per line.
func filesToPack(m *graph.ModelMeta) ([]graph.AssociatedFile, error) {
	if m == nil {
		return nil, nil
	}
	files := append([]graph.AssociatedFile(nil), m.Files...)
	have := map[string]bool{}
	for _, f := range files {
		have[f.Name] = true
	}
	for _, ts := range [][]graph.TensorMeta{m.Inputs, m.Outputs} {
		for _, t := range ts {
			for _, l := range t.Labels {
				if have[l.FileName] || l.Names == nil {
					continue
				}
				for _, n := range l.Names {
					if strings.ContainsAny(n, "\r\n") {
						return nil, fmt.Errorf("label file %q: name %q contains a line break", l.FileName, n)
					}
				}
				have[l.FileName] = true
				files = append(files, graph.AssociatedFile{Name: l.FileName, Data: []byte(strings.Join(l.Names, "\n") + "\n")})
			}
		}
	}
	return files, nil
}
