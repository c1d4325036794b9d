// Package conformance runs reference test cases — the "tflm-ref-case/v1"
// JSON format of ../shared/reference/tflite-micro — through qbench's
// interpreter and checks the outputs: float outputs within the case's
// tolerance of the golden, integer outputs equal to TFLite's reference bit
// for bit.
package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/qbench/qbench/graph"

	"github.com/qbench/qbench/internal/fileio"
)

// Format is the value of the "format" field this package reads.
const Format = "tflm-ref-case/v1"

// Case is one case file: a kernel case (one op) or a model case (a .tflite
// file with invocations).
type Case struct {
	Format string `json:"format"`
	Kind   string `json:"kind"` // "kernel" or "model"
	Name   string `json:"name"`
	// kernel cases
	Op      string                     `json:"op"`
	Options map[string]json.RawMessage `json:"options"`
	Inputs  []TensorSpec               `json:"inputs"`
	Outputs []TensorSpec               `json:"outputs"`
	// model cases
	Model       string       `json:"model"`
	Invocations []Invocation `json:"invocations"`
	Note        string       `json:"note"`
}

// Invocation is one run of a model case.
type Invocation struct {
	Inputs []struct {
		Index int    `json:"index"`
		Data  Values `json:"data"`
	} `json:"inputs"`
	Outputs []TensorSpec `json:"outputs"`
}

// TensorSpec is a tensor in a case, with the output-check fields when it is
// an output.
type TensorSpec struct {
	Name         string     `json:"name"`
	Index        int        `json:"index"`
	DType        string     `json:"dtype"`
	Shape        []int      `json:"shape"`
	Quantization *QuantSpec `json:"quantization"`
	Data         Values     `json:"data"`
	Omitted      bool       `json:"omitted"`

	Compare        string   `json:"compare"`
	Expected       Values   `json:"expected"`
	ExpectedArgmax *int     `json:"expected_argmax"`
	Tolerance      *float64 `json:"tolerance"`
	Reference      Values   `json:"reference"`
}

// QuantSpec is a tensor's quantization in a case file.
type QuantSpec struct {
	Scale     []float64 `json:"scale"`
	ZeroPoint []int64   `json:"zero_point"`
	Axis      int       `json:"quantized_dimension"`
}

// Values is a flat array of numbers as written in a case file: each kept as
// its literal text so int64 values stay exact; "nan", "inf" and "-inf"
// strings stand for non-finite floats.
type Values []string

// UnmarshalJSON keeps every element's literal text.
func (v *Values) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*v = nil
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Values, len(raw))
	for i, r := range raw {
		if len(r) > 0 && r[0] == '"' {
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				return err
			}
			switch s {
			case "nan", "inf", "-inf":
			default:
				return fmt.Errorf("element %d: unexpected string %q", i, s)
			}
			out[i] = s
			continue
		}
		out[i] = string(r)
	}
	*v = out
	return nil
}

// Floats parses the values as float64 ("nan"/"inf" included).
func (v Values) Floats() ([]float64, error) {
	out := make([]float64, len(v))
	for i, s := range v {
		switch s {
		case "nan":
			out[i] = math.NaN()
		case "inf":
			out[i] = math.Inf(1)
		case "-inf":
			out[i] = math.Inf(-1)
		default:
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = f
		}
	}
	return out, nil
}

// Ints parses the values as integers (true/false accepted for bools).
func (v Values) Ints() ([]int64, error) {
	out := make([]int64, len(v))
	for i, s := range v {
		switch s {
		case "true":
			out[i] = 1
			continue
		case "false":
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) {
				return nil, fmt.Errorf("element %d: %q is not an integer", i, s)
			}
			n = int64(f)
		}
		out[i] = n
	}
	return out, nil
}

// ErrNotCase marks a JSON file that is not in the case format.
var ErrNotCase = errors.New("not a reference case")

// maxCaseBytes bounds a reference case file (its tensors are inline JSON).
const maxCaseBytes = 256 << 20

// LoadCase reads and decodes one case file.
func LoadCase(path string) (*Case, error) {
	b, err := fileio.ReadFile(path, maxCaseBytes)
	if err != nil {
		return nil, err
	}
	return ParseCase(b, path)
}

// ParseCase decodes case-file bytes; name (the file's path) prefixes
// errors. It checks the format only: shapes and values are checked when
// the case is built (KernelGraph) or run.
func ParseCase(b []byte, name string) (*Case, error) {
	var c Case
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if c.Format != Format {
		return nil, fmt.Errorf("%s: format %q, want %q: %w", name, c.Format, Format, ErrNotCase)
	}
	return &c, nil
}

// Limits on a case tensor's shape: cases write every element out in JSON,
// so a larger tensor is a corrupt file, and building it would allocate
// what the shape claims (an output's data comes from its shape alone).
const (
	maxRank     = 16
	maxElements = 1 << 24
)

// checkShape rejects negative dimensions and shapes beyond the limits,
// before anything multiplies them (the product could overflow).
func checkShape(shape []int) error {
	if len(shape) > maxRank {
		return fmt.Errorf("shape %v: rank %d above %d", shape, len(shape), maxRank)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("shape %v: negative dimension", shape)
		}
		if d > 0 && n > maxElements/d {
			return fmt.Errorf("shape %v: more than %d elements", shape, maxElements)
		}
		n *= d
	}
	return nil
}

// encode converts values into a tensor's constant bytes for its dtype,
// checking the count against the shape and each value against the range.
func encode(dt graph.DType, shape []int, v Values) ([]byte, error) {
	n := graph.NumElements(shape)
	if len(v) != n {
		return nil, fmt.Errorf("%d values for shape %v (%d elements)", len(v), shape, n)
	}
	if dt == graph.Float32 {
		f, err := v.Floats()
		if err != nil {
			return nil, err
		}
		f32 := make([]float32, n)
		for i, x := range f {
			f32[i] = float32(x)
		}
		return graph.EncodeFloat32s(f32), nil
	}
	ints, err := v.Ints()
	if err != nil {
		return nil, err
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch dt {
	case graph.Int8:
		lo, hi = math.MinInt8, math.MaxInt8
	case graph.Int4:
		lo, hi = -8, 7
	case graph.UInt8:
		lo, hi = 0, math.MaxUint8
	case graph.Int16:
		lo, hi = math.MinInt16, math.MaxInt16
	case graph.Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	case graph.Bool:
		lo, hi = 0, 1
	}
	for i, x := range ints {
		if x < lo || x > hi {
			return nil, fmt.Errorf("element %d: %d out of range for %s", i, x, dt)
		}
	}
	switch dt {
	case graph.Int8, graph.Int4, graph.UInt8, graph.Bool:
		b := make([]byte, n)
		for i, x := range ints {
			b[i] = byte(x)
		}
		return b, nil
	case graph.Int16:
		s := make([]int16, n)
		for i, x := range ints {
			s[i] = int16(x)
		}
		return graph.EncodeInt16s(s), nil
	case graph.Int32:
		s := make([]int32, n)
		for i, x := range ints {
			s[i] = int32(x)
		}
		return graph.EncodeInt32s(s), nil
	case graph.Int64:
		return graph.EncodeInt64s(ints), nil
	}
	return nil, fmt.Errorf("unsupported dtype %s", dt)
}

// tensor builds a graph tensor from a spec (without data).
func (s *TensorSpec) tensor() (*graph.Tensor, error) {
	dt, err := graph.ParseDType(s.DType)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", s.Name, err)
	}
	if err := checkShape(s.Shape); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", s.Name, err)
	}
	t := &graph.Tensor{Name: s.Name, DType: dt, Shape: append([]int{}, s.Shape...)}
	if q := s.Quantization; q != nil && len(q.Scale) > 0 {
		t.Quant = &graph.Quantization{Axis: q.Axis, ZeroPoint: append([]int64(nil), q.ZeroPoint...)}
		for _, sc := range q.Scale {
			t.Quant.Scale = append(t.Quant.Scale, float32(sc))
		}
	}
	return t, nil
}
