package graph

import "fmt"

// OpKind names an operator. The names and semantics follow TFLite's builtin
// operators so that the tflite package maps them one to one.
type OpKind int

// Operators qbench knows. Adding one touches graph (kind + options), tflite
// (mapping), kernels (float + int), shape inference and conformance.
const (
	OpUnknown OpKind = iota
	OpConv2D
	OpDepthwiseConv2D
	OpFullyConnected
	OpMaxPool2D
	OpAveragePool2D
	OpSoftmax
	OpReshape
	OpQuantize
	OpDequantize
	OpAdd
	OpRelu
	OpRelu6
	OpLeakyRelu
	OpLogistic
	OpPad
	OpPadV2
	OpConcatenation
	OpMean
)

var opNames = [...]string{
	"UNKNOWN", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D",
	"AVERAGE_POOL_2D", "SOFTMAX", "RESHAPE", "QUANTIZE", "DEQUANTIZE", "ADD", "RELU",
	"RELU6", "LEAKY_RELU", "LOGISTIC", "PAD", "PADV2", "CONCATENATION", "MEAN",
}

// String returns the TFLite builtin name, e.g. "CONV_2D".
func (k OpKind) String() string {
	if k < 0 || int(k) >= len(opNames) {
		return fmt.Sprintf("OP(%d)", int(k))
	}
	return opNames[k]
}

// ParseOpKind maps a TFLite builtin name to its OpKind.
func ParseOpKind(s string) (OpKind, error) {
	for i, n := range opNames {
		if n == s && i != 0 {
			return OpKind(i), nil
		}
	}
	return OpUnknown, fmt.Errorf("unsupported op %s", s)
}

// Padding is TFLite's padding scheme.
type Padding int

// Padding schemes.
const (
	PaddingSame Padding = iota
	PaddingValid
)

func (p Padding) String() string {
	if p == PaddingValid {
		return "VALID"
	}
	return "SAME"
}

// Activation is a fused activation function applied to an op's output.
type Activation int

// Fused activations, in TFLite's enum order.
const (
	ActNone Activation = iota
	ActRelu
	ActReluN1To1
	ActRelu6
	ActTanh
	ActSignBit
	ActSigmoid
)

var actNames = [...]string{"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT", "SIGMOID"}

func (a Activation) String() string {
	if a < 0 || int(a) >= len(actNames) {
		return fmt.Sprintf("ACT(%d)", int(a))
	}
	return actNames[a]
}

// ParseActivation maps a TFLite name such as "RELU6" to an Activation.
func ParseActivation(s string) (Activation, error) {
	for i, n := range actNames {
		if n == s {
			return Activation(i), nil
		}
	}
	return ActNone, fmt.Errorf("unknown fused activation %q", s)
}

// Conv2DOptions configure CONV_2D.
type Conv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int
	DilationW, DilationH int
	Activation           Activation
}

// DepthwiseConv2DOptions configure DEPTHWISE_CONV_2D.
type DepthwiseConv2DOptions struct {
	Padding              Padding
	StrideW, StrideH     int
	DilationW, DilationH int
	DepthMultiplier      int
	Activation           Activation
}

// FullyConnectedOptions configure FULLY_CONNECTED.
type FullyConnectedOptions struct {
	Activation  Activation
	KeepNumDims bool
}

// Pool2DOptions configure MAX_POOL_2D and AVERAGE_POOL_2D.
type Pool2DOptions struct {
	Padding          Padding
	StrideW, StrideH int
	FilterW, FilterH int
	Activation       Activation
}

// SoftmaxOptions configure SOFTMAX.
type SoftmaxOptions struct{ Beta float32 }

// ReshapeOptions configure RESHAPE when the shape is not a second input.
type ReshapeOptions struct{ NewShape []int }

// AddOptions configure ADD.
type AddOptions struct {
	Activation Activation
	// PotScaleInt16 selects TFLite's power-of-two int16 path; qbench only
	// supports the general path (false), which TFLite uses for converted models.
	PotScaleInt16 bool
}

// LeakyReluOptions configure LEAKY_RELU.
type LeakyReluOptions struct{ Alpha float32 }

// ConcatenationOptions configure CONCATENATION.
type ConcatenationOptions struct {
	Axis       int
	Activation Activation
}

// ReducerOptions configure MEAN.
type ReducerOptions struct{ KeepDims bool }

// Op is one operator application. Inputs and Outputs index Graph.Tensors;
// an omitted optional input (e.g. no bias) is -1. Options holds the typed
// options struct for the kind (pointer), or nil for ops without options.
type Op struct {
	Kind    OpKind
	Inputs  []int
	Outputs []int
	Options any
	// Version is the operator version a file format should record; 0 lets
	// the writer choose.
	Version int
}
