// Package quant turns a float32 graph into a full-integer one the way
// TFLite's post-training converter does: it runs the float graph on
// calibration samples, records a streaming histogram of every activation,
// chooses each tensor's range (min/max, percentile, MSE-optimal or
// KL-divergence), and rewrites the graph with symmetric per-channel int8
// weights, int32 biases and asymmetric per-tensor int8 activations, with
// QUANTIZE/DEQUANTIZE at the float boundaries.
//
// Quantize does both steps; Calibrate and Apply split them so a caller (the
// explain fix search) can requantize with other options without running
// calibration again.
package quant

import (
	"errors"
	"fmt"
	"strings"

	"github.com/qbench/qbench/graph"
)

// Mode selects the integer types of activations and biases.
type Mode int

// Quantization modes.
const (
	// ModeInt8 uses int8 activations (asymmetric), int8 weights and int32 biases.
	ModeInt8 Mode = iota
	// Mode16x8 uses int16 activations (symmetric, zero point 0), int8
	// weights and int64 biases.
	Mode16x8
)

// String returns the flag spelling, "int8" or "16x8".
func (m Mode) String() string {
	if m == Mode16x8 {
		return "16x8"
	}
	return "int8"
}

// ParseMode maps "int8" or "16x8" to a Mode.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "int8", "":
		return ModeInt8, nil
	case "16x8", "int16x8":
		return Mode16x8, nil
	}
	return ModeInt8, fmt.Errorf("unknown quantization mode %q (want int8 or 16x8)", s)
}

// ParseIO maps "float", "int8", "uint8" or "int16" to the dtype of the
// quantized model's inputs and outputs.
func ParseIO(s string) (graph.DType, error) {
	switch strings.ToLower(s) {
	case "float", "float32", "":
		return graph.Float32, nil
	case "int8":
		return graph.Int8, nil
	case "uint8":
		return graph.UInt8, nil
	case "int16":
		return graph.Int16, nil
	}
	return graph.Unknown, fmt.Errorf("unknown io type %q (want float, int8 or uint8)", s)
}

// Options configure quantization. The zero value is the TFLite converter's
// default: min/max calibration, int8, float input and output, per-channel
// weights, no bias correction.
type Options struct {
	Method Method
	// Percentile for Method Percentile (default 99.99).
	Percentile float64
	Mode       Mode
	// IO is the dtype of the model's inputs and outputs: Float32 (default,
	// QUANTIZE/DEQUANTIZE inside the model), Int8 or UInt8 (int8 mode), or
	// Int16 (16x8 mode).
	IO graph.DType
	// PerTensor quantizes weights with one scale per tensor instead of one
	// per output channel (for experiments; TFLite's default is per channel).
	PerTensor bool
	// BiasCorrection subtracts from each bias the mean error the weight
	// quantization causes on calibration data: Σ (dequant(Wq) − W)·E[x].
	BiasCorrection bool
	// KeepFloat lists op indices (in the float graph) that stay float32,
	// with DEQUANTIZE before and QUANTIZE after them as needed.
	KeepFloat []int
	// Fixed gives activation parameters by tensor name that replace
	// calibration for those tensors: explain passes an existing quantized
	// model's parameters so a mixed model shares them exactly.
	Fixed map[string]*graph.Quantization
	// Bins is the number of histogram bins on each side of zero used while
	// calibrating (default DefaultBins).
	Bins int
	// Threads runs calibration on this many executors (default 1).
	Threads int
	// Progress, when set, is called after each calibration sample.
	Progress func(done int)
}

// ErrUnsupported is wrapped by errors for graphs quantization cannot handle,
// such as an op without an integer kernel.
var ErrUnsupported = errors.New("not supported for quantization")

// Validate checks the options without quantizing anything, so a command
// can refuse bad flags before it loads a model or calibration images.
func (o Options) Validate() error { return o.normalize() }

func (o *Options) normalize() error {
	if o.IO == graph.Unknown {
		o.IO = graph.Float32
	}
	if o.Percentile == 0 {
		o.Percentile = DefaultPercentile
	}
	if o.Percentile < 50 || o.Percentile > 100 {
		return fmt.Errorf("percentile %g out of range [50, 100]", o.Percentile)
	}
	switch o.Mode {
	case ModeInt8:
		if o.IO != graph.Float32 && o.IO != graph.Int8 && o.IO != graph.UInt8 {
			return fmt.Errorf("int8 mode: io type %s %w (want float, int8 or uint8)", o.IO, ErrUnsupported)
		}
	case Mode16x8:
		if o.IO != graph.Float32 && o.IO != graph.Int16 {
			return fmt.Errorf("16x8 mode: io type %s %w (want float or int16)", o.IO, ErrUnsupported)
		}
	default:
		return fmt.Errorf("unknown mode %d", int(o.Mode))
	}
	if o.Method < MinMax || o.Method > KL {
		return fmt.Errorf("unknown calibration method %d", int(o.Method))
	}
	return nil
}

// actType returns the activation dtype and its integer limits.
func (o *Options) actType() (graph.DType, int, int) {
	if o.Mode == Mode16x8 {
		return graph.Int16, -32768, 32767
	}
	return graph.Int8, -128, 127
}
