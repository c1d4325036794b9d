package main

import (
	"github.com/qbench/qbench/tflite"
	"github.com/spf13/cobra"
)

func newInspectCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect MODEL.tflite",
		Short: "Show a model's inputs, outputs, ops, tensors, parameters and MACs",
		Long: `inspect reads a TFLite model and prints its inputs and outputs, every op with its
options, version, parameter count and multiply-accumulates (MACs), every tensor with
shape, dtype and quantization (per-channel tensors show axis, channel count and the
range of scales), and totals.

With --json it prints one JSON object instead (schema "qbench.inspect/v1": schema,
model, description, metadata, inputs, outputs, ops, tensors, totals; see the
tflite.Summary documentation for every field).`,
		Example: `  qbench inspect model.tflite
  qbench inspect model.tflite --json | jq '.totals'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := tflite.ReadFile(args[0])
			if err != nil {
				return err
			}
			s := tflite.Summarize(g)
			s.Model = args[0]
			if asJSON {
				return s.WriteJSON(a.stdout)
			}
			return s.WriteText(a.stdout)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object instead of text")
	return cmd
}
