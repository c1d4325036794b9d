package graph

// ModelMeta is the standard description a model file may carry beside its
// graph: what the model is, how its inputs must be prepared and what its
// outputs mean. TFLite stores it as Model Metadata (the TFLITE_METADATA
// buffer plus a zip of associated files appended to the file); the tflite
// package fills it when reading and writes it back when writing.
//
// Everything in it is advice from whoever made the file, not checked
// against the graph: a consumer that relies on a field (e.g. uses Labels to
// name outputs) should check it fits (e.g. one name per output value).
type ModelMeta struct {
	Name        string
	Description string
	Version     string
	Author      string
	License     string
	// Inputs and Outputs describe the graph's inputs and outputs by
	// position (Inputs[i] is Graph.Inputs[i]). Either may be shorter than
	// the graph's list, or empty, when the file describes fewer tensors.
	Inputs  []TensorMeta
	Outputs []TensorMeta
	// Files holds every associated file packed with the model, raw, in the
	// order they were stored, so that a writer can pack them again. The
	// label files referenced from Inputs/Outputs are parsed copies of some
	// of these.
	Files []AssociatedFile
}

// TensorMeta describes one input or output tensor.
type TensorMeta struct {
	Name        string
	Description string
	// Mean and Std are the normalisation the model expects,
	// (x - Mean[c]) / Std[c] per channel c, applied to values in the range
	// the tensor's content comes in (e.g. 0..255 pixels). A single value
	// applies to every channel. Both are empty when the file gives none.
	Mean []float32
	Std  []float32
	// ColorSpace is "RGB", "GRAYSCALE", or "" when unknown or the tensor
	// is not an image.
	ColorSpace string
	// Min and Max are the per-channel statistics of the tensor's values
	// recorded in the file (TFLite's Stats table; a single value applies to
	// every channel). Empty when absent.
	Min []float32
	Max []float32
	// ValueRange is Min/Max over all channels, widened to integers
	// (floor of the smallest min, ceil of the largest max): for an image
	// input the pixel range the model expects, e.g. {0, 255}. Nil when the
	// file records no statistics.
	ValueRange *[2]int
	// DimRange is TFLite's Content.range: the first and last dimension
	// the content spans (e.g. {2, 2} for a list of boxes), nil when the
	// content uses every dimension but the batch axis. It is not a range
	// of values (the metadata schema calls its table ValueRange).
	DimRange *[2]int
	// Labels are the tensor's associated files in file order: label files
	// (TENSOR_AXIS_LABELS, TENSOR_VALUE_LABELS) with their lines in Names,
	// and other kinds (VOCABULARY, TENSOR_AXIS_SCORE_CALIBRATION, ...)
	// listed by name with Names filled only for text label files.
	Labels []LabelFile
}

// Associated file types of TFLite Model Metadata (LabelFile.Type).
const (
	LabelsAxis  = "TENSOR_AXIS_LABELS"  // one name per position along the tensor's last axis: class names
	LabelsValue = "TENSOR_VALUE_LABELS" // names for the values the tensor holds, e.g. detected class ids
)

// LabelFile is one associated file of a tensor.
type LabelFile struct {
	FileName    string
	Description string
	// Locale is the file's language, e.g. "en" or "de-CH"; "" for the
	// default one.
	Locale string
	// Type is the metadata's file type name: LabelsAxis, LabelsValue,
	// "VOCABULARY", "DESCRIPTIONS", "TENSOR_AXIS_SCORE_CALIBRATION" or
	// "UNKNOWN".
	Type string
	// Names are the file's lines (one label each, trailing "\r" and a
	// final empty line dropped) for label and vocabulary files; nil when
	// the file is of another type or missing from the archive.
	Names []string
}

// AssociatedFile is one file packed with the model.
type AssociatedFile struct {
	Name string
	Data []byte
}

// Input returns the metadata of graph input i, or nil when there is none
// (m may be nil).
func (m *ModelMeta) Input(i int) *TensorMeta {
	if m == nil || i < 0 || i >= len(m.Inputs) {
		return nil
	}
	return &m.Inputs[i]
}

// Output returns the metadata of graph output i, or nil when there is none
// (m may be nil).
func (m *ModelMeta) Output(i int) *TensorMeta {
	if m == nil || i < 0 || i >= len(m.Outputs) {
		return nil
	}
	return &m.Outputs[i]
}

// AxisLabels returns the class names of graph output i from its first
// TENSOR_AXIS_LABELS file — the default locale by TFLite's convention (the
// first file of a type is the default; others differ by locale). It
// returns nil when output i has no such file with names (m may be nil).
// The caller checks the count against the output's size.
func (m *ModelMeta) AxisLabels(i int) []string {
	t := m.Output(i)
	if t == nil {
		return nil
	}
	for _, f := range t.Labels {
		if f.Type == LabelsAxis && len(f.Names) > 0 {
			return f.Names
		}
	}
	return nil
}

// Clone returns a deep copy of m (nil for nil).
func (m *ModelMeta) Clone() *ModelMeta {
	if m == nil {
		return nil
	}
	c := *m
	c.Inputs = cloneTensorMetas(m.Inputs)
	c.Outputs = cloneTensorMetas(m.Outputs)
	c.Files = nil
	for _, f := range m.Files {
		c.Files = append(c.Files, AssociatedFile{Name: f.Name, Data: append([]byte(nil), f.Data...)})
	}
	return &c
}

func cloneTensorMetas(ts []TensorMeta) []TensorMeta {
	if ts == nil {
		return nil
	}
	out := make([]TensorMeta, len(ts))
	for i, t := range ts {
		c := t
		c.Mean = append([]float32(nil), t.Mean...)
		c.Std = append([]float32(nil), t.Std...)
		c.Min = append([]float32(nil), t.Min...)
		c.Max = append([]float32(nil), t.Max...)
		if t.ValueRange != nil {
			r := *t.ValueRange
			c.ValueRange = &r
		}
		if t.DimRange != nil {
			r := *t.DimRange
			c.DimRange = &r
		}
		c.Labels = nil
		for _, l := range t.Labels {
			l.Names = append([]string(nil), l.Names...)
			c.Labels = append(c.Labels, l)
		}
		out[i] = c
	}
	return out
}
