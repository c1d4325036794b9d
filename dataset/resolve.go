package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/qbench/qbench/graph"
)

// Value ranges accepted in SpecFlags.Range: what 0..255 pixels become.
const (
	Range01      = "0..1"
	RangeSigned  = "-1..1"
	RangePixels  = "0..255"
	rangeChoices = "0..1, -1..1 or 0..255"
)

// SpecFlags are preprocessing choices a user made on the command line;
// a zero field was not given. They override whatever the model says.
type SpecFlags struct {
	// Mean and Std, in pixel units (0..255): (v-Mean[c])/Std[c]; one value
	// applies to every channel. A missing Std is 1, a missing Mean 0.
	Mean, Std []float32
	// Range maps 0..255 pixels linearly onto Range01, RangeSigned or
	// RangePixels (raw pixels).
	Range string
	// Channels is "rgb", "bgr" or "gray".
	Channels string
	// Resize is "bilinear", "area" or "nearest".
	Resize string
	// Crop is "roi", "none" or "center:F".
	Crop string
	// Layout is "NHWC" or "NCHW" (default: from the input's shape).
	Layout string
}

// ParseFloats parses "v" or "v1,v2,v3" (a --mean or --std value).
func ParseFloats(s string) ([]float32, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float32
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, float32(v))
	}
	return out, nil
}

// ResolveSpec returns the preprocessing for g's first input. Each choice
// comes from the first source that makes it: the flags, the spec qbench
// stored in the model (SpecFromGraph), the model's TFLite metadata
// (normalisation, colour space, value range), the input's quantization
// (an integer input whose scale and zero point map exactly 0..255, 0..1
// or -1..1 is fed that range: raw pixels for MLPerf Tiny's ResNet-8 with
// scale 1 and zero point -128), and last an assumption (x/255). Size and
// layout come from the input's shape (NCHW when its second dimension is 1
// or 3 and its last is not). notes say what came from the metadata or the
// quantization, or was assumed, for the caller to print once.
func ResolveSpec(g *graph.Graph, f SpecFlags) (spec Spec, notes []string, err error) {
	if g == nil || len(g.Inputs) != 1 || g.Tensor(g.Inputs[0]) == nil {
		n := 0
		if g != nil {
			n = len(g.Inputs)
		}
		return Spec{}, nil, fmt.Errorf("model has %d inputs; image preprocessing needs exactly one", n)
	}
	in := g.Tensor(g.Inputs[0])
	stored, ok, err := SpecFromGraph(g)
	if err != nil {
		return Spec{}, nil, err
	}
	if ok {
		spec = stored
	} else {
		if spec, err = specFromShape(in.Shape, f.Layout); err != nil {
			return Spec{}, nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		notes = valueMapping(&spec, in, g.Meta.Input(0), f)
		if m := g.Meta.Input(0); m != nil && m.ColorSpace == "GRAYSCALE" && spec.Channels != 1 {
			notes = append(notes, fmt.Sprintf("metadata says the input is grayscale but its shape %v has %d channels", in.Shape, spec.Channels))
		}
	}
	if err := applyFlags(&spec, f); err != nil {
		return Spec{}, nil, err
	}
	if err := spec.Validate(); err != nil {
		return Spec{}, nil, err
	}
	if err := spec.CheckShape(in.Shape); err != nil {
		return Spec{}, nil, fmt.Errorf("preprocessing does not fit input %q: %w", in.Name, err)
	}
	return spec, notes, nil
}

// specFromShape is the default spec for an image input of this shape.
func specFromShape(shape []int, layout string) (Spec, error) {
	if len(shape) == 3 && layout != LayoutNCHW {
		// [N, H, W]: a batch of single-channel images without a channel
		// dimension (MNIST-style models, e.g. a sequence model reading
		// rows as time steps); laid out as NHWC with C = 1.
		s := DefaultSpec(shape[1], shape[2])
		s.Channels = 1
		return s, nil
	}
	if len(shape) != 4 {
		return Spec{}, fmt.Errorf("shape %v is not an image batch (NHWC, NCHW, or NHW for one channel)", shape)
	}
	if layout == "" {
		layout = LayoutNHWC
		if (shape[1] == 1 || shape[1] == 3) && shape[3] != 1 && shape[3] != 3 {
			layout = LayoutNCHW
		}
	}
	s := DefaultSpec(shape[1], shape[2])
	s.Channels = shape[3]
	if layout == LayoutNCHW {
		s = DefaultSpec(shape[2], shape[3])
		s.Channels = shape[1]
		s.Layout = LayoutNCHW
	}
	if s.Channels != 1 && s.Channels != 3 {
		return Spec{}, fmt.Errorf("%d channels in shape %v (images have 1 or 3)", s.Channels, shape)
	}
	return s, nil
}

// valueMapping sets s's value mapping for a model without a qbench spec,
// unless the flags set it, and says where it came from.
func valueMapping(s *Spec, in *graph.Tensor, meta *graph.TensorMeta, f SpecFlags) []string {
	if f.Range != "" || len(f.Mean) > 0 || len(f.Std) > 0 {
		return nil
	}
	if meta != nil && (len(meta.Mean) > 0 || len(meta.Std) > 0) {
		mean, std := perChannel(meta.Mean, s.Channels, 0), perChannel(meta.Std, s.Channels, 1)
		if mean != nil && std != nil {
			s.Mean, s.Std = mean, std
			return []string{fmt.Sprintf("preprocessing from the model's TFLite metadata: (pixel - %s) / %s", floats(mean), floats(std))}
		}
	}
	if r := quantRange(in); r != "" {
		setRange(s, r)
		fed := "pixels mapped to " + r
		if r == RangePixels {
			fed = "raw pixels (0..255)"
		}
		return []string{fmt.Sprintf("input %q is %s with scale %g and zero point %d, which holds exactly %s: feeding it %s",
			in.Name, in.DType, in.Quant.Scale[0], in.Quant.ZeroPoint[0], r, fed)}
	}
	if meta != nil && meta.ValueRange != nil {
		switch *meta.ValueRange {
		case [2]int{0, 255}:
			setRange(s, RangePixels)
			return []string{"the model's TFLite metadata gives its input range as 0..255: raw pixels"}
		case [2]int{-1, 1}:
			setRange(s, RangeSigned)
			return []string{"the model's TFLite metadata gives its input range as -1..1"}
		case [2]int{0, 1}:
			setRange(s, Range01)
			return []string{"the model's TFLite metadata gives its input range as 0..1"}
		}
	}
	colour := "RGB"
	if s.Channels == 1 {
		colour = "grayscale"
	}
	return []string{fmt.Sprintf("the model states no preprocessing: assuming %s, bilinear resize to %dx%d, values x/255 in 0..1 (set --range, --mean/--std, --channels if it expects otherwise)", colour, s.Height, s.Width)}
}

// quantRange names the range an integer input's quantization covers when
// it is exactly 0..255, 0..1 or -1..1 (up to one step at the top, as
// 127/128 is): such a model was quantized for that input range.
func quantRange(t *graph.Tensor) string {
	q := t.Quant
	if q == nil || len(q.Scale) != 1 || len(q.ZeroPoint) != 1 || !(q.Scale[0] > 0) {
		return ""
	}
	var lo, hi float64
	switch t.DType {
	case graph.Int8:
		lo, hi = -128, 127
	case graph.UInt8:
		lo, hi = 0, 255
	default:
		return ""
	}
	sc, zp := float64(q.Scale[0]), float64(q.ZeroPoint[0])
	lo, hi = (lo-zp)*sc, (hi-zp)*sc
	near := func(a, b float64) bool { return math.Abs(a-b) <= sc*1e-3 }
	for _, r := range []struct {
		name   string
		lo, hi float64
	}{{RangePixels, 0, 255}, {Range01, 0, 1}, {RangeSigned, -1, 1}} {
		if near(lo, r.lo) && (near(hi, r.hi) || near(hi+sc, r.hi)) {
			return r.name
		}
	}
	return ""
}

// perChannel expands one value to n channels; nil when the count fits
// neither 1 nor n.
func perChannel(v []float32, n int, def float32) []float32 {
	switch len(v) {
	case 0:
		v = []float32{def}
		fallthrough
	case 1:
		out := make([]float32, n)
		for i := range out {
			out[i] = v[0]
		}
		return out
	case n:
		return append([]float32(nil), v...)
	}
	return nil
}

func floats(v []float32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	if len(parts) > 1 {
		same := true
		for _, p := range parts {
			same = same && p == parts[0]
		}
		if same {
			return parts[0]
		}
	}
	return strings.Join(parts, ",")
}

func setRange(s *Spec, r string) {
	s.Mean, s.Std = nil, nil
	switch r {
	case Range01:
		s.Scale, s.Offset = 1.0/255, 0
	case RangeSigned:
		s.Scale, s.Offset = 2.0/255, -1
	case RangePixels:
		s.Scale, s.Offset = 1, 0
	}
}

// applyFlags overrides s with every choice the flags make.
func applyFlags(s *Spec, f SpecFlags) error {
	if f.Range != "" && (len(f.Mean) > 0 || len(f.Std) > 0) {
		return fmt.Errorf("%w: give a range or a mean/std, not both", ErrSpec)
	}
	switch f.Range {
	case "":
	case Range01, RangeSigned, RangePixels:
		setRange(s, f.Range)
	default:
		return fmt.Errorf("%w: range %q (want %s)", ErrSpec, f.Range, rangeChoices)
	}
	if len(f.Mean) > 0 || len(f.Std) > 0 {
		mean, std := perChannel(f.Mean, s.Channels, 0), perChannel(f.Std, s.Channels, 1)
		if mean == nil || std == nil {
			return fmt.Errorf("%w: mean/std need 1 or %d values, got %d/%d", ErrSpec, s.Channels, len(f.Mean), len(f.Std))
		}
		s.Mean, s.Std = mean, std
	}
	switch strings.ToLower(f.Channels) {
	case "":
	case "rgb":
		s.ChannelOrder = OrderRGB
	case "bgr":
		s.ChannelOrder = OrderBGR
	case "gray", "grey":
		if s.Channels != 1 {
			return fmt.Errorf("%w: channels gray, but the input has %d channels", ErrSpec, s.Channels)
		}
	default:
		return fmt.Errorf("%w: channels %q (want rgb, bgr or gray)", ErrSpec, f.Channels)
	}
	if f.Resize != "" {
		s.Resize = f.Resize
	}
	if f.Crop != "" {
		s.Crop = f.Crop
	}
	if f.Layout != "" && s.Layout != f.Layout && !(f.Layout == LayoutNHWC && s.Layout == "") {
		return fmt.Errorf("%w: layout %s given, but the model's stored preprocessing is %s", ErrSpec, f.Layout, s.layout())
	}
	return nil
}
