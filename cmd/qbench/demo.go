package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/qbench/qbench/demo"
	"github.com/spf13/cobra"
)

func newDemoCmd(a *app) *cobra.Command {
	var quick, full bool
	var out, cache string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Re-run the quantization study end to end on synthetic data",
		Long: `demo reproduces the study with nothing but this binary: it generates the synthetic
30-class road-sign/marking dataset (cached and reused when seed and settings match), trains the
float seed-cnn in the study's two configurations — full (train on 90% of all recordings, evaluate
on everything) and verification (train on the training recordings, evaluate on a held-out
recording) — quantizes each model post-training to full int8 with float input/output, calibrated on
its own training data, compares float against int8 and prints the study's tables followed by what
qbench adds. The full report (HTML, JSON, Markdown, CSV) goes to --out.

Scales: default (9,000 images, about three minutes on two cores), --quick (2,400 images, under a
minute), --full (53,280 images, the study's size). The same --seed prints identical numbers.`,
		Example: `  qbench demo
  qbench demo --quick --out /tmp/qbench-demo
  qbench demo --full --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if quick && full {
				return usagef("choose one of --quick and --full")
			}
			scale := demo.ScaleDefault
			if quick {
				scale = demo.ScaleQuick
			} else if full {
				scale = demo.ScaleFull
			}
			plan, err := demo.PlanFor(scale, a.seed)
			if err != nil {
				return usagef("%v", err)
			}
			if cache == "" {
				base, err := os.UserCacheDir()
				if err != nil {
					base = os.TempDir()
				}
				cache = filepath.Join(base, "qbench", "demo-data")
			}
			created, err := a.reportDate()
			if err != nil {
				return err
			}
			rep := a.progress()
			fmt.Fprintf(a.stderr, "qbench demo (%s scale, seed %d, %d threads): writing to %s\n", scale, a.seed, a.threads, out)
			res, err := demo.Run(cmd.Context(), demo.Config{
				Plan: plan, OutDir: out, CacheDir: cache, Seed: a.seed, Threads: a.threads,
				Progress: rep, Log: a.stderr, Created: created,
			})
			rep.Wait()
			if err != nil {
				return err
			}
			return demo.WriteSummary(a.stdout, res)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&quick, "quick", false, "small data and few epochs: the same pipeline in under a minute")
	fl.BoolVar(&full, "full", false, "the study's scale (~53k images); takes much longer")
	fl.StringVar(&out, "out", "qbench-demo", "folder for models and reports")
	fl.StringVar(&cache, "cache-dir", "", "folder for generated datasets (default: the user cache folder, qbench/demo-data)")
	return cmd
}
