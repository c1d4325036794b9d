package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/tflite"
	"github.com/spf13/cobra"
)

func newQuantizeCmd(a *app) *cobra.Command {
	var (
		model, calibDir, labels, split, out, method, io, mode, reportPath string
		samples                                                           int
		percentile                                                        float64
		perTensor, biasCorr, asJSON                                       bool
		prep                                                              prepFlags
		lists                                                             listFlags
	)
	cmd := &cobra.Command{
		Use:   "quantize --model float.tflite --calib DIR --out int8.tflite",
		Short: "Post-training quantize a float model to full-integer int8 (or 16x8)",
		Long: `quantize calibrates a float32 model on images and writes a full-integer model the way
TFLite's converter does: int8 weights symmetric per output channel, int32 biases with scale
s_in*s_w, int8 activations asymmetric per tensor from calibrated ranges, softmax output 1/256
with zero point -128, and max-pool/reshape sharing their input's parameters. The model keeps a
float input and output with QUANTIZE/DEQUANTIZE inside unless --io says otherwise.

Calibration uses the "train" split of --calib (the whole folder when it defines no splits),
--calib-samples images of it chosen by --seed, preprocessed with the spec stored in the model.
Ranges come from min/max (TFLite's default), a percentile, the MSE-optimal clipping threshold,
or KL-divergence (entropy) calibration. The calibration table lists every activation's
observed range, chosen range, scale, zero point and clipped fraction.`,
		Example: `  qbench quantize --model float.tflite --calib data/ --out int8.tflite
  qbench quantize --model float.tflite --calib data/ --method kl --calib-samples 1000 --out int8.tflite
  qbench quantize --model float.tflite --calib data/ --io uint8 --report calib.json --out u8.tflite
  qbench quantize --model float.tflite --calib data/ --mode 16x8 --out a16w8.tflite`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" || calibDir == "" || out == "" {
				return usagef("--model, --calib and --out are required")
			}
			m, err := quant.ParseMethod(method)
			if err != nil {
				return usagef("--method: %v", err)
			}
			md, err := quant.ParseMode(mode)
			if err != nil {
				return usagef("--mode: %v", err)
			}
			iot, err := quant.ParseIO(io)
			if err != nil {
				return usagef("--io: %v", err)
			}
			if samples <= 0 {
				return usagef("--calib-samples must be positive, got %d", samples)
			}
			if cmd.Flags().Changed("percentile") && m != quant.Percentile {
				return usagef("--percentile applies only to --method percentile (got --method %s)", m)
			}
			opts := quant.Options{Method: m, Percentile: percentile, Mode: md, IO: iot,
				PerTensor: perTensor, BiasCorrection: biasCorr, Threads: a.threads}
			if err := opts.Validate(); err != nil {
				return usageError{err}
			}
			g, err := a.readModel("quantize", model)
			if err != nil {
				return fmt.Errorf("read model: %w", err)
			}
			// A hybrid (dynamic-range) model is quantized from its
			// dequantized weights, as its float original would be.
			g, nh := quant.DequantizeHybrid(g)
			if nh > 0 {
				fmt.Fprintf(a.stderr, "qbench: quantize: %s is a hybrid (dynamic-range) model: its %d int8 weight tensors are dequantized to float32 and the model is quantized as a float one\n", model, nh)
			}
			// So is a float16-quantized one: its weights widened to float32.
			g, nf := quant.DequantizeFloat16(g)
			if nf > 0 {
				fmt.Fprintf(a.stderr, "qbench: quantize: %s is a float16-quantized model: its %d float16 weight tensors are dequantized to float32 and the model is quantized as a float one\n", model, nf)
			}
			spec, err := resolveSpec(a, "quantize", g, &prep)
			if err != nil {
				return err
			}
			cd, err := openCalibration(a, spec, calibDir, lists.open(labels), split, cmd.Flags().Changed("split"), samples)
			if err != nil {
				return err
			}
			printRoles(a, "quantize", []string{model}, []*graph.Graph{g}, []namedSamples{{"calibration data", cd.samples}}, "calibrate")
			task := a.progress().Start("calibrating", int64(len(cd.samples)), "images")
			opts.Progress = func(int) { task.Add(1) }
			q, rep, err := quant.Quantize(cmd.Context(), g, cd.source(cmd.Context(), a.threads), opts)
			task.Done()
			if err != nil {
				return fmt.Errorf("quantize %s: %w", model, err)
			}
			if w := dataset.CheckInputRange(g, cd.seen); w != "" {
				fmt.Fprintf(a.stderr, "qbench: quantize: warning: calibration data: %s\n", w)
			}
			if err := tflite.WriteFile(out, q); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			if reportPath != "" {
				f, err := os.Create(reportPath)
				if err != nil {
					return fmt.Errorf("write report: %w", err)
				}
				werr := rep.WriteJSON(f)
				if cerr := f.Close(); werr == nil {
					werr = cerr
				}
				if werr != nil {
					return fmt.Errorf("write report %s: %w", reportPath, werr)
				}
			}
			for _, f := range append(rep.FloatOps, rep.Notes...) {
				fmt.Fprintf(a.stderr, "qbench: quantize: note: %s\n", f)
			}
			if asJSON {
				return rep.WriteJSON(a.stdout)
			}
			fmt.Fprintf(a.stdout, "calibrated on %d images: %s (method %s, mode %s, io %s)\n",
				rep.Samples, cd.describe, rep.Method, rep.Mode, rep.IO)
			if cd.skipped > 0 {
				fmt.Fprintf(a.stdout, "skipped %d unreadable images\n", cd.skipped)
			}
			if err := rep.WriteTable(a.stdout); err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s (%d bytes)\n", out, st.Size())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "float32 .tflite model to quantize")
	f.StringVar(&calibDir, "calib", "", "calibration images: a dataset folder or a CSV manifest")
	f.StringVar(&labels, "labels", "", "label map for --calib (default: found in the folder)")
	f.StringVar(&split, "split", "train", "split of --calib to calibrate on")
	f.StringVar(&out, "out", "", "output .tflite path")
	f.StringVar(&method, "method", "minmax", "calibration method: minmax, percentile, mse or kl")
	f.Float64Var(&percentile, "percentile", quant.DefaultPercentile, "percentile for --method percentile")
	f.IntVar(&samples, "calib-samples", 500, "number of calibration images (stratified by class, chosen by --seed)")
	f.StringVar(&io, "io", "float", "model input/output type: float, int8 or uint8 (int16 with --mode 16x8)")
	f.StringVar(&mode, "mode", "int8", "int8, or 16x8 (int16 activations, int8 weights)")
	f.BoolVar(&perTensor, "per-tensor", false, "one weight scale per tensor instead of per output channel")
	f.BoolVar(&biasCorr, "bias-correction", false, "correct biases for the mean weight-quantization error")
	f.StringVar(&reportPath, "report", "", "also write the calibration report as JSON to this file")
	f.BoolVar(&asJSON, "json", false, "print the calibration report as JSON instead of a table")
	addPrepFlags(f, &prep)
	addListFlags(f, &lists)
	return cmd
}

// calibData is the chosen calibration images and how to describe them.
type calibData struct {
	samples  []dataset.Sample
	spec     dataset.Spec
	describe string
	skipped  int
	seen     dataset.ValueRange // the values calibration saw
}

// openCalibration opens dir, picks the split (the whole dataset when it
// defines no splits and the user did not ask for one) and subsamples n
// images with the run's seed.
func openCalibration(a *app, spec dataset.Spec, dir string, open dataset.OpenOptions, split string, splitSet bool, n int) (*calibData, error) {
	d, err := dataset.Open(dir, open)
	if err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("split %q of %s", split, dir)
	if len(d.Splits) == 0 && !splitSet {
		desc = fmt.Sprintf("all of %s (it defines no splits)", dir)
	} else {
		if d, err = d.Split(split); err != nil {
			return nil, usagef("--split: %v", err)
		}
	}
	total := d.Len()
	d = d.Subsample(n, a.seed)
	if d.Len() == 0 {
		return nil, fmt.Errorf("calibration data %s: no images", dir)
	}
	desc = fmt.Sprintf("%d of %d images from %s, seed %d", d.Len(), total, desc, a.seed)
	return &calibData{samples: d.Samples, spec: spec, describe: desc}, nil
}

// source adapts the images to quant.Samples, decoding in parallel and
// yielding in order; unreadable images are skipped and counted.
func (c *calibData) source(ctx context.Context, workers int) quant.Samples {
	return func(yield func([]float32) error) error {
		sum, err := dataset.Stream(ctx, c.samples, c.spec, dataset.StreamOptions{Workers: workers},
			func(it dataset.Item) error { c.seen.Add(it.Data); return yield(it.Data) })
		c.skipped = sum.Skipped
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: %w", err)
		}
		return err
	}
}
