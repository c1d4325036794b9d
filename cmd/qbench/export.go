package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/qbench/qbench/internal/fileio"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/onnx"
	"github.com/qbench/qbench/tflite"
	"github.com/spf13/cobra"
)

func newExportCmd(a *app) *cobra.Command {
	var (
		format, out string
		u8          bool
	)
	cmd := &cobra.Command{
		Use:   "export --format onnx MODEL.tflite [--out MODEL.onnx]",
		Short: "Convert a model to another format (ONNX)",
		Long: `export writes MODEL.tflite in another format. With --format onnx (opset 13) a float model
becomes plain ONNX and an int8 or uint8 model a QDQ model (QuantizeLinear/DequantizeLinear
around float ops, int8 weights with per-channel scales, int32 biases), the form ONNX Runtime runs
with its integer kernels; integer inputs and outputs stay integer. Inputs and outputs keep their TFLite (NHWC) shapes with a symbolic batch
dimension; convolutions run in NCHW inside the model. Constant shape arithmetic is folded first,
and a SPACE_TO_BATCH_ND → CONV_2D → BATCH_TO_SPACE_ND chain becomes one dilated Conv.

Supported ops: CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, FULLY_CONNECTED,
RESHAPE, SQUEEZE, EXPAND_DIMS, SOFTMAX, QUANTIZE, DEQUANTIZE, ADD, MUL, SUB, MAXIMUM, MINIMUM
(broadcasting), MEAN, CONCATENATION, SPLIT, SPLIT_V, GATHER, PAD, PADV2, RELU, RELU6,
RELU_N1_TO_1, RELU_0_TO_1, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH, ABS, EXP and float
UNIDIRECTIONAL_SEQUENCE_LSTM (unrolled over its time steps). Other ops (integer LSTM, SVDF,
...) and int16 activations are refused with an error naming the op. --out defaults to MODEL with the .onnx extension.

--uint8-activations stores int8 activations inside the model as uint8 (zero point +128; the
same values, inputs and outputs keep their types): ONNX Runtime on x86 fuses QDQ convolutions
into its integer kernels only for uint8 activations, which makes the model several times faster.`,
		Example: `  qbench export --format onnx float.tflite --out float.onnx
  qbench export --format onnx int8.tflite --uint8-activations`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.ToLower(format) != "onnx" {
				return usagef("--format %q: only onnx is supported", format)
			}
			in := args[0]
			if out == "" {
				out = strings.TrimSuffix(in, filepath.Ext(in)) + ".onnx"
			}
			if filepath.Clean(out) == filepath.Clean(in) {
				return usagef("--out %s would overwrite the input", out)
			}
			g, err := tflite.ReadFile(in)
			if err != nil {
				return fmt.Errorf("read %s: %w", in, err)
			}
			// Constant shape arithmetic (SHAPE → STRIDED_SLICE → PACK …)
			// becomes constants, as when qbench runs the model.
			if g, _, err = interp.Fold(g); err != nil {
				return fmt.Errorf("export %s: %w", in, err)
			}
			data, err := onnx.ExportWith(g, onnx.Options{UInt8Activations: u8})
			if err != nil {
				return fmt.Errorf("export %s: %w", in, err)
			}
			// Written beside the target and renamed, so a failure never
			// leaves a truncated model behind.
			if err := fileio.WriteBytes(out, data); err != nil {
				return fmt.Errorf("write %w", err)
			}
			fmt.Fprintf(a.stdout, "wrote %s (ONNX opset %d, %d bytes, %d ops)\n", out, onnx.Opset, len(data), len(g.Ops))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "onnx", "output format (onnx)")
	cmd.Flags().StringVar(&out, "out", "", "output path (default: MODEL.onnx)")
	cmd.Flags().BoolVar(&u8, "uint8-activations", false, "store int8 activations as uint8 (faster in ONNX Runtime on x86)")
	return cmd
}
