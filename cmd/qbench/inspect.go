package main

import (
	"fmt"

	"github.com/qbench/qbench/interp"
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
range of scales), and totals. A model with TFLite Model Metadata shows its name,
description, version, author and license, each input's normalisation (mean/std),
colour space and value range, and each label file with its count and first names;
problems with the metadata or its packed files are listed as warnings.

With --json it prints one JSON object instead (schema "qbench.inspect/v1": schema,
model, description, metadata, inputs, outputs, ops, tensors, totals, model_metadata,
warnings; see the tflite.Summary documentation for every field, and runs_in_qbench).

inspect never refuses a readable model: ops qbench cannot run (an op it does not
implement, or a dtype combination it lacks) are marked with "!" and listed with the
reason, and the last line says "runs in qbench: yes" or "runs in qbench: no
(missing: OP ×n, ...)".`,
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
			// Whether qbench runs it is part of the answer, never a refusal.
			probs, err := interp.Check(g, interp.Options{})
			if err != nil {
				s.SetRuns(map[int]string{-1: err.Error()}, []tflite.MissingOp{{Op: "a valid graph: " + err.Error(), Count: 1}})
			} else {
				why := map[int]string{}
				for _, p := range probs {
					why[p.Index] = p.Err.Error()
				}
				var missing []tflite.MissingOp
				for _, m := range interp.Missing(probs) {
					missing = append(missing, tflite.MissingOp{Op: m.Key, Count: m.Count})
				}
				s.SetRuns(why, missing)
			}
			if asJSON {
				// The text output lists warnings itself; JSON readers
				// may not look, so say it where a person sees it.
				for _, w := range g.Warnings {
					fmt.Fprintf(a.stderr, "qbench: inspect: warning: %s: %s\n", args[0], w)
				}
				return s.WriteJSON(a.stdout)
			}
			return s.WriteText(a.stdout)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object instead of text")
	return cmd
}
