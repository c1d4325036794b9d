package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"

	"github.com/qbench/qbench/graph"
)

// Resize methods accepted in Spec.Resize.
const (
	// ResizeBilinear is tf.image.resize's default: bilinear interpolation
	// with half-pixel centers and no antialiasing.
	ResizeBilinear = "bilinear"
	// ResizeArea averages the exact input box under each output pixel
	// (tf.image.resize method "area"); it antialiases large downscales.
	ResizeArea = "area"
	// ResizeNearest takes the source pixel under each output pixel's
	// center (tf.image.resize method "nearest", half-pixel centers).
	ResizeNearest = "nearest"
)

// Input tensor layouts accepted in Spec.Layout.
const (
	// LayoutNHWC is TFLite's image layout (the default).
	LayoutNHWC = "NHWC"
	// LayoutNCHW is channels first, as models converted from PyTorch or
	// ONNX often keep it.
	LayoutNCHW = "NCHW"
)

// Channel orders accepted in Spec.ChannelOrder.
const (
	OrderRGB = "RGB"
	OrderBGR = "BGR"
)

// Crop modes accepted in Spec.Crop.
const (
	// CropROI crops to the sample's annotated region of interest when it
	// has one, and uses the whole image otherwise.
	CropROI = "roi"
	// CropNone always uses the whole image.
	CropNone = "none"
	// CropCenterPrefix starts "center:F": keep the central fraction F
	// (0 < F <= 1) of each side, then resize, as ImageNet evaluation does
	// (tf.image.central_crop; F = 0.875 for most ImageNet models).
	CropCenterPrefix = "center:"
)

// SpecVersion is the version written by Marshal.
const SpecVersion = 1

// maxSide bounds a spec's input size so a corrupt spec cannot make Apply
// allocate gigabytes.
const maxSide = 8192

// ErrSpec is wrapped by every invalid-spec error.
var ErrSpec = errors.New("invalid preprocessing spec")

// Spec is the preprocessing that turns a decoded image into a model input.
// Training stores it with the model (Store) and every later command reads it
// back (SpecFromGraph), so training and evaluation cannot disagree.
//
// The JSON field names (see the struct tags) are the file format.
//
// Pixel values enter as 0..255 floats. When Mean and Std are set (one value
// per channel, in the output channel order) the output is
// (v-Mean[c])/Std[c]; otherwise it is v*Scale+Offset.
//
// Resize defaults to "bilinear" (half-pixel centers, no antialias), exactly
// tf.image.resize's default, because models trained with TensorFlow/Keras
// pipelines saw that resize, and because the typical inputs (sign crops of
// 25..180 px going to 80x80) are mostly upscaled or mildly downscaled, where
// bilinear is faithful. Use "area" when sources are more than about 2x larger
// than the input: bilinear then samples only a few source pixels per output
// pixel and aliases. Whatever is chosen must be the same for training and
// evaluation, which is why it lives in the spec.
type Spec struct {
	Version int `json:"version"`
	// Height and Width of the model input in pixels.
	Height int `json:"height"`
	Width  int `json:"width"`
	// Channels is 3 (colour) or 1 (grey, ITU-R 601 luma like
	// tf.image.rgb_to_grayscale).
	Channels int `json:"channels"`
	// ChannelOrder is "RGB" (default) or "BGR"; ignored for 1 channel.
	ChannelOrder string `json:"channel_order"`
	// Resize is "bilinear" (default), "area" or "nearest".
	Resize string `json:"resize"`
	// Crop is "roi" (default: crop to the annotation when present),
	// "none", or "center:F" (the central fraction F of the image).
	Crop string `json:"crop"`
	// Layout is the input tensor's layout: "NHWC" (default) or "NCHW";
	// Apply writes values in this order.
	Layout string `json:"layout,omitempty"`
	// Scale and Offset map a 0..255 value v to v*Scale+Offset.
	Scale  float32 `json:"scale"`
	Offset float32 `json:"offset"`
	// Mean and Std, when set, replace Scale/Offset: (v-Mean[c])/Std[c].
	Mean []float32 `json:"mean,omitempty"`
	Std  []float32 `json:"std,omitempty"`
}

// DefaultSpec returns the spec qbench trains with: h x w RGB, bilinear
// resize, ROI crop when annotated, values scaled to 0..1 (x/255).
func DefaultSpec(h, w int) Spec {
	return Spec{
		Version: SpecVersion, Height: h, Width: w, Channels: 3,
		ChannelOrder: OrderRGB, Resize: ResizeBilinear, Crop: CropROI,
		Scale: 1.0 / 255, Offset: 0,
	}
}

// Size returns the number of floats Apply writes: Height*Width*Channels.
func (s Spec) Size() int { return s.Height * s.Width * s.Channels }

// Validate reports the first problem with s.
func (s Spec) Validate() error {
	switch {
	case s.Version != 0 && s.Version != SpecVersion:
		return fmt.Errorf("%w: version %d not supported (want %d)", ErrSpec, s.Version, SpecVersion)
	case s.Height <= 0 || s.Width <= 0 || s.Height > maxSide || s.Width > maxSide:
		return fmt.Errorf("%w: size %dx%d outside 1..%d", ErrSpec, s.Height, s.Width, maxSide)
	case s.Channels != 1 && s.Channels != 3:
		return fmt.Errorf("%w: channels %d (want 1 or 3)", ErrSpec, s.Channels)
	case s.ChannelOrder != OrderRGB && s.ChannelOrder != OrderBGR:
		return fmt.Errorf("%w: channel_order %q (want RGB or BGR)", ErrSpec, s.ChannelOrder)
	case s.Resize != ResizeBilinear && s.Resize != ResizeArea && s.Resize != ResizeNearest:
		return fmt.Errorf("%w: resize %q (want bilinear, area or nearest)", ErrSpec, s.Resize)
	case s.Layout != "" && s.Layout != LayoutNHWC && s.Layout != LayoutNCHW:
		return fmt.Errorf("%w: layout %q (want NHWC or NCHW)", ErrSpec, s.Layout)
	}
	if _, err := s.centerFraction(); err != nil {
		return err
	}
	if len(s.Mean) > 0 || len(s.Std) > 0 {
		if len(s.Mean) != s.Channels || len(s.Std) != s.Channels {
			return fmt.Errorf("%w: mean/std need %d values each, got %d/%d", ErrSpec, s.Channels, len(s.Mean), len(s.Std))
		}
		for c, v := range s.Std {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: std[%d] = %v must be positive", ErrSpec, c, v)
			}
		}
	} else if s.Scale == 0 || math.IsNaN(float64(s.Scale)) || math.IsInf(float64(s.Scale), 0) {
		return fmt.Errorf("%w: scale %v must be finite and non-zero", ErrSpec, s.Scale)
	}
	return nil
}

// centerFraction returns F of a "center:F" crop, 0 for the other crops,
// and an error for an unknown crop.
func (s Spec) centerFraction() (float64, error) {
	switch s.Crop {
	case CropROI, CropNone:
		return 0, nil
	}
	v, ok := strings.CutPrefix(s.Crop, CropCenterPrefix)
	if !ok {
		return 0, fmt.Errorf("%w: crop %q (want roi, none or center:F)", ErrSpec, s.Crop)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 1) {
		return 0, fmt.Errorf("%w: crop %q: F must be a number in (0, 1]", ErrSpec, s.Crop)
	}
	return f, nil
}

// withDefaults fills empty string fields with their defaults.
func (s Spec) withDefaults() Spec {
	if s.Version == 0 {
		s.Version = SpecVersion
	}
	if s.ChannelOrder == "" {
		s.ChannelOrder = OrderRGB
	}
	if s.Resize == "" {
		s.Resize = ResizeBilinear
	}
	if s.Crop == "" {
		s.Crop = CropROI
	}
	return s
}

// Marshal validates s and returns its JSON form.
func (s Spec) Marshal() ([]byte, error) {
	s = s.withDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// ParseSpec parses and validates a JSON spec. Missing string fields take
// their defaults (RGB, bilinear, roi); unknown fields are an error so a typo
// cannot silently change preprocessing.
func ParseSpec(b []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("%w: %v", ErrSpec, err)
	}
	s = s.withDefaults()
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// SpecFromGraph reads the spec stored in g's metadata. ok is false (and err
// nil) when g carries none.
func SpecFromGraph(g *graph.Graph) (s Spec, ok bool, err error) {
	if g == nil || g.Metadata == nil {
		return Spec{}, false, nil
	}
	b, found := g.Metadata[graph.MetadataPreprocess]
	if !found {
		return Spec{}, false, nil
	}
	s, err = ParseSpec(b)
	if err != nil {
		return Spec{}, true, fmt.Errorf("model metadata %q: %w", graph.MetadataPreprocess, err)
	}
	return s, true, nil
}

// Store writes s into g's metadata under graph.MetadataPreprocess.
func (s Spec) Store(g *graph.Graph) error {
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	if g.Metadata == nil {
		g.Metadata = map[string][]byte{}
	}
	g.Metadata[graph.MetadataPreprocess] = b
	return nil
}

// CheckShape reports whether s produces a tensor of the given NHWC (or HWC)
// shape, NCHW (CHW) when s.Layout is NCHW, or [N, H, W] for one channel;
// the batch dimension, when present, is not checked.
func (s Spec) CheckShape(shape []int) error {
	if len(shape) == 4 {
		shape = shape[1:]
	} else if len(shape) == 3 && s.Channels == 1 && s.layout() == LayoutNHWC && shape[2] != 1 &&
		shape[1] == s.Height && shape[2] == s.Width {
		shape = []int{shape[1], shape[2], 1} // [N, H, W]: one channel, no channel dimension
	}
	want := []int{s.Height, s.Width, s.Channels}
	if s.Layout == LayoutNCHW {
		want = []int{s.Channels, s.Height, s.Width}
	}
	if len(shape) != 3 || shape[0] != want[0] || shape[1] != want[1] || shape[2] != want[2] {
		return fmt.Errorf("%w: produces %dx%dx%d (%s) but the model input is %v", ErrSpec, s.Height, s.Width, s.Channels, s.layout(), shape)
	}
	return nil
}

func (s Spec) layout() string {
	if s.Layout == "" {
		return LayoutNHWC
	}
	return s.Layout
}

// Apply preprocesses img into dst (HWC float32, len Size()). roi, when
// non-nil and Crop is "roi", selects the region to use (clipped to the
// image bounds; an empty intersection is an error).
func (s Spec) Apply(img image.Image, roi *image.Rectangle, dst []float32) error {
	var p Preprocessor
	return p.Apply(s, img, roi, dst)
}

// QuantizeInt8 maps float inputs to int8 with the model input's scale and
// zero point: clamp(round(x/scale)+zp, -128, 127), rounding half away from
// zero like TFLite's reference quantize (the division is float32, as there).
func QuantizeInt8(src []float32, scale float32, zeroPoint int32, dst []int8) {
	for i, x := range src {
		q := int32(math.Round(float64(x/scale))) + zeroPoint
		dst[i] = int8(min(max(q, -128), 127))
	}
}

// QuantizeUint8 is QuantizeInt8 for uint8 inputs (clamp to 0..255).
func QuantizeUint8(src []float32, scale float32, zeroPoint int32, dst []uint8) {
	for i, x := range src {
		q := int32(math.Round(float64(x/scale))) + zeroPoint
		dst[i] = uint8(min(max(q, 0), 255))
	}
}
