package tflite

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/qbench/qbench/graph"
)

// InspectSchema identifies the JSON layout of Summary; it changes when a
// field changes meaning or disappears (adding fields keeps it).
const InspectSchema = "qbench.inspect/v1"

// Summary describes a model for `qbench inspect`: its inputs and outputs,
// every op with options, parameter and MAC counts, and every tensor with
// shape, dtype and quantization. Its JSON form (WriteJSON) is:
//
//	{
//	  "schema": "qbench.inspect/v1",
//	  "model": "path given to inspect",
//	  "description": "free text stored in the file",
//	  "metadata": [{"name": "min_runtime_version", "bytes": 16}],
//	  "inputs":  [tensor indices], "outputs": [tensor indices],
//	  "ops": [{"index": 0, "op": "CONV_2D", "version": 3,
//	           "options": {"padding": "SAME", "stride_w": 1, ...},   // TFLite schema names
//	           "inputs": [0, 1, 2], "outputs": [3],                    // -1 = omitted
//	           "params": 448, "macs": 2764800}],
//	  "tensors": [{"index": 0, "name": "x", "dtype": "int8", "shape": [1, 80, 80, 3],
//	               "shape_signature": [-1, 80, 80, 3],                 // only when the file has one
//	               "constant": false, "bytes": 19200,                  // bytes in the graph (int4 unpacked)
//	               "quantization": {                                   // absent for float tensors
//	                 "per_channel": false, "axis": 0, "channels": 1,
//	                 "scale": [...], "zero_point": [...],
//	                 "scale_min": 0.1, "scale_max": 0.1, "zero_point_min": -3, "zero_point_max": -3}}],
//	  "totals": {"ops": 1, "tensors": 4, "params": 448, "macs": 2764800, "constant_bytes": 1792},
//	  "form": "float16-weight", "float16_weights": 4,                  // only for float16-quantized models
//	  "model_metadata": {                                              // only when the file has TFLite Model Metadata
//	    "name": "...", "description": "...", "version": "...", "author": "...", "license": "...",
//	    "inputs": [{"position": 0, "name": "image", "description": "...", "color_space": "RGB",
//	                "mean": [127.5], "std": [127.5], "min": [0], "max": [255], "value_range": [0, 255]}],
//	    "outputs": [{"position": 0, "name": "probability", "description": "...",
//	                 "label_files": [{"file": "labels.txt", "type": "TENSOR_AXIS_LABELS", "locale": "en",
//	                                  "count": 1001, "first": ["background", "tench, Tinca tinca", ...]}]}],
//	    "files": [{"name": "labels.txt", "bytes": 21686}]},            // every file packed in the model
//	  "warnings": ["model metadata (TFLITE_METADATA buffer, 696 bytes) ignored: ..."]
//	}
type Summary struct {
	Schema      string         `json:"schema"`
	Model       string         `json:"model,omitempty"`
	Description string         `json:"description"`
	Metadata    []MetadataInfo `json:"metadata"`
	Inputs      []int          `json:"inputs"`
	Outputs     []int          `json:"outputs"`
	Ops         []OpInfo       `json:"ops"`
	Tensors     []TensorInfo   `json:"tensors"`
	Totals      Totals         `json:"totals"`
	// Form is "float16-weight" for a float16-quantized model (FLOAT16
	// weights each read by a DEQUANTIZE to float32), else empty.
	Form string `json:"form,omitempty"`
	// Float16Weights counts those weights.
	Float16Weights int `json:"float16_weights,omitempty"`
	// Subgraphs summarises the file's other subgraphs (control-flow
	// bodies); empty for most models.
	Subgraphs []SubgraphInfo `json:"subgraphs,omitempty"`
	// Runs says whether qbench can run the model; the caller fills it
	// (see SetRuns), as this package does not know the kernels.
	Runs *RunsInfo `json:"runs_in_qbench,omitempty"`
	// ModelMeta is the file's TFLite Model Metadata, nil when it has none.
	ModelMeta *MetaSummary `json:"model_metadata,omitempty"`
	// Warnings name problems in optional parts of the file (e.g. corrupt
	// metadata) that left the model usable.
	Warnings    []string         `json:"warnings"`
	optionOrder map[int][]string // per op: option names in schema order, for text
}

// SubgraphInfo summarises one subgraph other than the main one.
type SubgraphInfo struct {
	Index   int            `json:"index"`
	Name    string         `json:"name"`
	Inputs  int            `json:"inputs"`
	Outputs int            `json:"outputs"`
	Tensors int            `json:"tensors"`
	Ops     map[string]int `json:"ops"` // op name → count
}

// RunsInfo says whether qbench runs a model and, if not, what is missing.
type RunsInfo struct {
	Yes bool `json:"yes"`
	// Missing lists what qbench lacks, most frequent first: an op name, or
	// an op with the dtypes it lacks, and how many ops need it.
	Missing []MissingOp `json:"missing,omitempty"`
}

// MissingOp is one thing qbench lacks to run a model.
type MissingOp struct {
	Op    string `json:"op"`
	Count int    `json:"count"`
}

// SetRuns records which ops qbench cannot run (op index → reason) and the
// grouped missing list; an empty list means the model runs.
func (s *Summary) SetRuns(unsupported map[int]string, missing []MissingOp) {
	s.Runs = &RunsInfo{Yes: len(missing) == 0 && len(unsupported) == 0, Missing: missing}
	for i := range s.Ops {
		if why, ok := unsupported[s.Ops[i].Index]; ok {
			s.Ops[i].Unsupported = why
		}
	}
}

// MetadataInfo names one metadata entry and its size.
type MetadataInfo struct {
	Name  string `json:"name"`
	Bytes int    `json:"bytes"`
}

// OpInfo describes one op.
type OpInfo struct {
	Index   int            `json:"index"`
	Op      string         `json:"op"`
	Version int            `json:"version"`
	Options map[string]any `json:"options"`
	Inputs  []int          `json:"inputs"`
	Outputs []int          `json:"outputs"`
	Params  int64          `json:"params"`
	MACs    int64          `json:"macs"`
	// Unsupported is why qbench cannot run this op ("" when it can, or
	// when not checked).
	Unsupported string `json:"unsupported,omitempty"`
}

// TensorInfo describes one tensor.
type TensorInfo struct {
	Index          int        `json:"index"`
	Name           string     `json:"name"`
	DType          string     `json:"dtype"`
	Shape          []int      `json:"shape"`
	ShapeSignature []int      `json:"shape_signature,omitempty"`
	Constant       bool       `json:"constant"`
	Bytes          int        `json:"bytes"`
	Quant          *QuantInfo `json:"quantization,omitempty"`
}

// QuantInfo describes a tensor's quantization, with ranges so per-channel
// parameters can be read at a glance.
type QuantInfo struct {
	PerChannel   bool      `json:"per_channel"`
	Axis         int       `json:"axis"`
	Channels     int       `json:"channels"`
	Scale        []float32 `json:"scale"`
	ZeroPoint    []int64   `json:"zero_point"`
	ScaleMin     float32   `json:"scale_min"`
	ScaleMax     float32   `json:"scale_max"`
	ZeroPointMin int64     `json:"zero_point_min"`
	ZeroPointMax int64     `json:"zero_point_max"`
}

// Totals are whole-model counts.
type Totals struct {
	Ops           int   `json:"ops"`
	Tensors       int   `json:"tensors"`
	Params        int64 `json:"params"`
	MACs          int64 `json:"macs"`
	ConstantBytes int64 `json:"constant_bytes"`
}

// Summarize describes g. It does not fail: whatever the graph holds is
// reported (Read has validated graphs that come from files).
func Summarize(g *graph.Graph) *Summary {
	s := &Summary{
		Schema:      InspectSchema,
		Description: g.Description,
		Metadata:    []MetadataInfo{},
		Inputs:      append([]int{}, g.Inputs...),
		Outputs:     append([]int{}, g.Outputs...),
		Ops:         []OpInfo{},
		Tensors:     []TensorInfo{},
		optionOrder: map[int][]string{},
		ModelMeta:   summarizeMeta(g.Meta),
		Warnings:    append([]string{}, g.Warnings...),
	}
	for name, b := range g.Metadata {
		s.Metadata = append(s.Metadata, MetadataInfo{Name: name, Bytes: len(b)})
	}
	sort.Slice(s.Metadata, func(i, j int) bool { return s.Metadata[i].Name < s.Metadata[j].Name })
	for i, op := range g.Ops {
		params, macs := graph.OpStats(g, op)
		names, values := optionFields(op)
		opts := map[string]any{}
		for k, n := range names {
			opts[n] = values[k]
		}
		s.optionOrder[i] = names
		s.Ops = append(s.Ops, OpInfo{
			Index: i, Op: op.Name(), Version: op.Version, Options: opts,
			Inputs: append([]int{}, op.Inputs...), Outputs: append([]int{}, op.Outputs...),
			Params: params, MACs: macs,
		})
	}
	for i, t := range g.Tensors {
		ti := TensorInfo{
			Index: i, Name: t.Name, DType: t.DType.String(), Shape: append([]int{}, t.Shape...),
			ShapeSignature: t.ShapeSignature, Constant: t.IsConst(), Bytes: t.ByteSize(),
			Quant: quantInfo(t.Quant),
		}
		if t.IsConst() {
			s.Totals.ConstantBytes += int64(len(t.Data))
		}
		s.Tensors = append(s.Tensors, ti)
	}
	for i, sg := range g.Subgraphs {
		si := SubgraphInfo{Index: i + 1, Name: sg.Name, Inputs: len(sg.Inputs), Outputs: len(sg.Outputs),
			Ops: map[string]int{}, Tensors: len(sg.Tensors)}
		for _, op := range sg.Ops {
			si.Ops[op.Name()]++
		}
		s.Subgraphs = append(s.Subgraphs, si)
	}
	if n := g.Float16Weights(); n > 0 {
		s.Form, s.Float16Weights = "float16-weight", n
	}
	s.Totals.Ops, s.Totals.Tensors = len(g.Ops), len(g.Tensors)
	s.Totals.Params, s.Totals.MACs = graph.TotalStats(g)
	return s
}

func quantInfo(q *graph.Quantization) *QuantInfo {
	if q == nil || len(q.Scale) == 0 {
		return nil
	}
	qi := &QuantInfo{
		PerChannel: q.PerChannel(), Axis: q.Axis, Channels: len(q.Scale),
		Scale: append([]float32{}, q.Scale...), ZeroPoint: append([]int64{}, q.ZeroPoint...),
		ScaleMin: float32(math.Inf(1)), ScaleMax: float32(math.Inf(-1)),
	}
	for _, s := range q.Scale {
		qi.ScaleMin = min(qi.ScaleMin, s)
		qi.ScaleMax = max(qi.ScaleMax, s)
	}
	for i, z := range q.ZeroPoint {
		if i == 0 || z < qi.ZeroPointMin {
			qi.ZeroPointMin = z
		}
		if i == 0 || z > qi.ZeroPointMax {
			qi.ZeroPointMax = z
		}
	}
	return qi
}

// optionFields lists an op's options under their TFLite schema names, in
// schema order, with enums as their names.
func optionFields(op *graph.Op) ([]string, []any) {
	var names []string
	var values []any
	add := func(n string, v any) { names = append(names, n); values = append(values, v) }
	switch o := op.Options.(type) {
	case *graph.Conv2DOptions:
		add("padding", o.Padding.String())
		add("stride_w", o.StrideW)
		add("stride_h", o.StrideH)
		add("dilation_w_factor", o.DilationW)
		add("dilation_h_factor", o.DilationH)
		add("fused_activation_function", o.Activation.String())
	case *graph.DepthwiseConv2DOptions:
		add("padding", o.Padding.String())
		add("stride_w", o.StrideW)
		add("stride_h", o.StrideH)
		add("depth_multiplier", o.DepthMultiplier)
		add("dilation_w_factor", o.DilationW)
		add("dilation_h_factor", o.DilationH)
		add("fused_activation_function", o.Activation.String())
	case *graph.FullyConnectedOptions:
		add("fused_activation_function", o.Activation.String())
		add("keep_num_dims", o.KeepNumDims)
		if o.AsymmetricQuantizeInputs {
			add("asymmetric_quantize_inputs", true)
		}
	case *graph.Pool2DOptions:
		add("padding", o.Padding.String())
		add("stride_w", o.StrideW)
		add("stride_h", o.StrideH)
		add("filter_width", o.FilterW)
		add("filter_height", o.FilterH)
		add("fused_activation_function", o.Activation.String())
	case *graph.SoftmaxOptions:
		add("beta", o.Beta)
	case *graph.ReshapeOptions:
		if o.NewShape != nil {
			add("new_shape", o.NewShape)
		}
	case *graph.AddOptions:
		add("fused_activation_function", o.Activation.String())
		add("pot_scale_int16", o.PotScaleInt16)
	case *graph.LeakyReluOptions:
		add("alpha", o.Alpha)
	case *graph.ConcatenationOptions:
		add("axis", o.Axis)
		add("fused_activation_function", o.Activation.String())
	case *graph.ReducerOptions:
		add("keep_dims", o.KeepDims)
	default:
		// The other options types are flat structs: list their fields in
		// declaration order, named as TFLite's schema names them.
		if v := reflect.ValueOf(o); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
			e := v.Elem()
			for i := range e.NumField() {
				f := e.Field(i)
				if !f.CanInterface() {
					continue
				}
				val := f.Interface()
				if st, ok := val.(fmt.Stringer); ok {
					val = st.String()
				}
				add(snakeCase(e.Type().Field(i).Name), val)
			}
		}
	}
	if len(op.CustomOptions) > 0 {
		add("custom_options_bytes", len(op.CustomOptions))
	}
	return names, values
}

// snakeCase turns a Go field name such as "ShrinkAxisMask" into
// "shrink_axis_mask".
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsUpper(rune(s[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteJSON writes the summary as indented JSON (layout in Summary's doc).
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteText writes a human-readable report: header, inputs and outputs,
// one line per op and per tensor, and totals.
func (s *Summary) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	if s.Model != "" {
		ew.printf("Model:       %s\n", s.Model)
	}
	ew.printf("Description: %s\n", orDash(s.Description))
	if s.Form == "float16-weight" {
		ew.printf("Form:        float16-weight (%d float16 weight tensors, each DEQUANTIZEd to float32; computes in float32)\n", s.Float16Weights)
	}
	if len(s.Metadata) > 0 {
		var parts []string
		for _, m := range s.Metadata {
			parts = append(parts, fmt.Sprintf("%s (%d bytes)", m.Name, m.Bytes))
		}
		ew.printf("Metadata:    %s\n", strings.Join(parts, ", "))
	}
	if s.ModelMeta != nil {
		writeMetaText(ew, s.ModelMeta)
	}
	if len(s.Warnings) > 0 {
		ew.printf("\nWarnings:\n")
		for _, w := range s.Warnings {
			ew.printf("  WARNING: %s\n", w)
		}
	}
	for _, io := range []struct {
		title string
		idx   []int
	}{{"Inputs", s.Inputs}, {"Outputs", s.Outputs}} {
		ew.printf("\n%s:\n", io.title)
		for _, i := range io.idx {
			if i >= 0 && i < len(s.Tensors) {
				t := s.Tensors[i]
				ew.printf("  #%d %s  %s %s  %s\n", i, shorten(t.Name, 64), t.DType, fmtShape(t.Shape), quantText(t.Quant))
			}
		}
	}
	ew.printf("\nOps (%d):\n", len(s.Ops))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\top\tver\tinputs -> outputs\tparams\tMACs\toptions")
	for i, op := range s.Ops {
		var opts []string
		for _, n := range s.optionOrder[i] {
			opts = append(opts, fmt.Sprintf("%s=%v", n, op.Options[n]))
		}
		name := op.Op
		if op.Unsupported != "" {
			name = "!" + name // marked: qbench cannot run it (reason below)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%d\t%v -> %v\t%d\t%d\t%s\n", op.Index, name, op.Version,
			op.Inputs, op.Outputs, op.Params, op.MACs, strings.Join(opts, " "))
	}
	tw.Flush()
	ew.printf("\nTensors (%d):\n", len(s.Tensors))
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tname\tdtype\tshape\tkind\tquantization")
	for _, t := range s.Tensors {
		kind := "activation"
		if t.Constant {
			kind = fmt.Sprintf("const %dB", t.Bytes)
		}
		shape := fmtShape(t.Shape)
		if t.ShapeSignature != nil {
			shape += " sig " + fmtShape(t.ShapeSignature)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", t.Index, shorten(t.Name, 48), t.DType, shape, kind, quantText(t.Quant))
	}
	tw.Flush()
	ew.printf("\nTotals: %d ops, %d tensors, %s parameters, %s MACs, %s of constants\n",
		s.Totals.Ops, s.Totals.Tensors, human(s.Totals.Params), human(s.Totals.MACs), humanBytes(s.Totals.ConstantBytes))
	if len(s.Subgraphs) > 0 {
		ew.printf("\nSubgraphs (control-flow bodies, run by their WHILE, IF or CALL_ONCE op):\n")
		for _, sg := range s.Subgraphs {
			var ops []string
			for name, n := range sg.Ops {
				ops = append(ops, fmt.Sprintf("%s ×%d", name, n))
			}
			sort.Strings(ops)
			ew.printf("  %d %s: %d inputs, %d outputs, %d tensors; ops: %s\n", sg.Index, orDash(sg.Name),
				sg.Inputs, sg.Outputs, sg.Tensors, strings.Join(ops, ", "))
		}
	}
	if r := s.Runs; r != nil {
		if !r.Yes {
			ew.printf("\nOps qbench cannot run (marked ! above):\n")
			for _, op := range s.Ops {
				if op.Unsupported != "" {
					ew.printf("  %d %s: %s\n", op.Index, op.Op, op.Unsupported)
				}
			}
		}
		ew.printf("\n%s\n", r.Line())
	}
	return ew.err
}

func quantText(q *QuantInfo) string {
	if q == nil {
		return "-"
	}
	zp := fmt.Sprint(q.ZeroPointMin)
	if q.ZeroPointMin != q.ZeroPointMax {
		zp = fmt.Sprintf("[%d, %d]", q.ZeroPointMin, q.ZeroPointMax)
	}
	if len(q.ZeroPoint) == 0 {
		zp = "0"
	}
	if !q.PerChannel {
		return fmt.Sprintf("scale=%.6g zp=%s", q.ScaleMin, zp)
	}
	return fmt.Sprintf("per-channel axis=%d x%d scale=[%.4g, %.4g] zp=%s", q.Axis, q.Channels, q.ScaleMin, q.ScaleMax, zp)
}

func fmtShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// shorten keeps long converter-generated tensor names to n runes by
// eliding the middle, which keeps both the scope prefix and the op suffix;
// the JSON output always has the full name.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	half := (n - 1) / 2
	return string(r[:half]) + "…" + string(r[len(r)-(n-1-half):])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// human formats a count with its exact value and a readable magnitude.
func human(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%d (%.2fG)", n, float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%d (%.2fM)", n, float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%d (%.1fk)", n, float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// errWriter remembers the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// Line is the summary line: "runs in qbench: yes" or "runs in qbench: no
// (missing: OP ×n, OP ×m)".
func (r *RunsInfo) Line() string {
	if r.Yes {
		return "runs in qbench: yes"
	}
	var parts []string
	for _, m := range r.Missing {
		parts = append(parts, fmt.Sprintf("%s ×%d", m.Op, m.Count))
	}
	return "runs in qbench: no (missing: " + strings.Join(parts, ", ") + ")"
}
