package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/explain"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/report"
	"github.com/spf13/cobra"
)

func newExplainCmd(a *app) *cobra.Command {
	var (
		model, quantPath, dataDir, labels, split, out, calibSplit, rounding string
		calibDir                                                            string
		samples, calibSamples, layerSamples                                 int
		target                                                              float64
		asJSON                                                              bool
		outputName                                                          string
		prep                                                                prepFlags
		lists                                                               listFlags
		arena                                                               arenaFlag
	)
	cmd := &cobra.Command{
		Use:   "explain --model float.tflite --quant int8.tflite --data DIR --out DIR",
		Short: "Find where quantization error comes from and the cheapest fix for a target",
		Long: `explain runs a float model and its quantized version on the same images and reports, per
layer: SQNR, cosine similarity, mean/max absolute error, RMSE in quantization steps (0.29 is pure
rounding noise), clipped fraction and how much of the integer range is used — both accumulated
(the real integer model) and isolated (only that layer quantized, everything before it float), so
you see where error is born versus where it arrives.

It also measures data shift: on every split of the dataset (the others with --layer-samples
images each), the fraction of each activation's values outside its calibrated range, its mean and
its peak relative to the range, with a note saying whether clipping from data shift is confirmed
or ruled out. It attributes the accuracy lost by the worst classes to layers.

The fix search (--target-drop) tries every kind of fix: the smallest set of layers to keep in
float (ranking by isolated error), per-channel weights, and, recalibrating on --calib DIR (or
--data's --calib-split, never the explained split), each calibration method and 16x8. It
chooses on half of the images (stratified by class, seeded by --seed) and confirms the finalists
on the other half, which no choice looks at; it reports both, with McNemar's exact p of the drop
against the float model on the confirm half, and says when the target is finer than one image
there or a drop is not significant. The output leads with the best fix of any kind: one that
meets the target on the choose half, of the kind cheapest to deploy (int8 recalibration or
per-channel weights, then 16x8, then float islands), then the most accurate; else the most
accurate one that beats the quantized model.

Outputs: a table on stdout, DIR/explain.json (schema qbench.explain/v1), DIR/explain.html (same
style as compare's report.html) and the best fix's model: DIR/mixed.tflite when it keeps float
layers (QUANTIZE/DEQUANTIZE around the float islands), DIR/requantized.tflite otherwise. When no
fix is needed or none improves on the quantized model, no model is written and the output says so.
Tensor matching is exact for models qbench quantized; other pairs are matched by op order.`,
		Example: `  qbench explain --model float.tflite --quant int8.tflite --data data/ --split verification --out explain/
  qbench explain --model float.tflite --quant int8.tflite --data data/ --samples 500 --target-drop 1 --out ex/
  qbench explain --model float.tflite --quant int8.tflite --data data/ --target-drop -1 --json --out ex/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" || quantPath == "" || dataDir == "" || out == "" {
				return usagef("--model, --quant, --data and --out are required")
			}
			if samples <= 0 {
				return usagef("--samples must be positive, got %d", samples)
			}
			if layerSamples < 0 {
				return usagef("--layer-samples must be >= 0, got %d", layerSamples)
			}
			if calibSamples <= 0 {
				return usagef("--calib-samples must be positive, got %d", calibSamples)
			}
			rnd, err := parseRounding(rounding)
			if err != nil {
				return err
			}
			if err := explain.CheckFolder(out); err != nil {
				return err
			}
			f, err := a.readModel("explain", model)
			if err != nil {
				return fmt.Errorf("read float model: %w", err)
			}
			q, err := a.readModel("explain", quantPath)
			if err != nil {
				return fmt.Errorf("read quantized model: %w", err)
			}
			// With several outputs, explain follows the classifier output:
			// named, or the only one with one value per class.
			if len(f.Outputs) > 1 || outputName != "" {
				k := 0
				if _, _, err := graph.ClassifierOutput(f, outputName, 0); err != nil && outputName == "" {
					d, err := openForModel(a, "explain", dataDir, lists.open(labels), f)
					if err != nil {
						return err
					}
					k = len(d.Classes)
				}
				i, why, err := graph.ClassifierOutput(f, outputName, k)
				if err != nil {
					return fmt.Errorf("%s: %w", model, err)
				}
				if len(q.Outputs) != len(f.Outputs) {
					return fmt.Errorf("%s has %d outputs, %s has %d", model, len(f.Outputs), quantPath, len(q.Outputs))
				}
				if f, err = graph.WithOutputs(f, []int{i}); err != nil {
					return err
				}
				if q, err = graph.WithOutputs(q, []int{i}); err != nil {
					return fmt.Errorf("%s: %w", quantPath, err)
				}
				fmt.Fprintf(a.stderr, "qbench: explain: class scores from %s\n", why)
			}
			spec, err := resolveSpec(a, "explain", f, &prep)
			if err != nil {
				return err
			}
			d, err := openForModel(a, "explain", dataDir, lists.open(labels), f)
			if err != nil {
				return err
			}
			mainName := "all"
			main := d
			if split != "" {
				if main, err = d.Split(split); err != nil {
					return usagef("--split: %v", err)
				}
				mainName = split
			}
			main = main.Subsample(samples, a.seed)
			printRoles(a, "explain", []string{model}, []*graph.Graph{f}, []namedSamples{{"split " + mainName, main.Samples}}, "evaluate")
			ctx := cmd.Context()
			opts := explain.Options{Split: mainName, TargetDrop: target, Threads: a.threads, Rounding: rnd, ClassNames: d.Classes, Seed: a.seed,
				FloatName: filepath.Base(model), QuantName: filepath.Base(quantPath), MaxArenaBytes: arena.bytes}
			if layerSamples > 0 && main.Len() > layerSamples {
				opts.LayerEvery = (main.Len() + layerSamples - 1) / layerSamples
			}
			names := make([]string, 0, len(d.Splits))
			for n := range d.Splits {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if n == split {
					continue
				}
				sd, err := d.Split(n)
				if err != nil {
					continue // a split without images is reported by dataset.Open
				}
				// Only the per-layer samples' worth of images: the data-shift
				// pass uses every image it is given, and decoding images that
				// would be skipped costs as much as a comparison's decoding.
				shiftN := samples
				if layerSamples > 0 {
					shiftN = min(samples, layerSamples)
				}
				sd = sd.Subsample(shiftN, a.seed)
				opts.Shift = append(opts.Shift, explain.NamedData{Name: n, Data: streamData(ctx, sd.Samples, spec, a.threads, nil)})
			}
			switch {
			case calibDir != "":
				// Like quantize --calib: its --calib-split split, or all of
				// it when it defines none and none was asked for.
				cd, err := openCalibration(a, spec, calibDir, lists.open(""), calibSplit, cmd.Flags().Changed("calib-split"), calibSamples)
				if err != nil {
					return fmt.Errorf("--calib %s: %w", calibDir, err)
				}
				opts.Calib = streamData(ctx, cd.samples, spec, a.threads, nil)
				fmt.Fprintf(a.stderr, "qbench: explain: recalibrating on %s\n", cd.describe)
				printRoles(a, "explain", []string{model}, []*graph.Graph{f}, []namedSamples{{"recalibration data", cd.samples}}, "calibrate")
			case calibSplit != "" && calibSplit != split:
				if cd, err := d.Split(calibSplit); err == nil {
					cd = cd.Subsample(calibSamples, a.seed)
					opts.Calib = streamData(ctx, cd.Samples, spec, a.threads, nil)
					printRoles(a, "explain", []string{model}, []*graph.Graph{f}, []namedSamples{{"recalibration data (split " + calibSplit + ")", cd.Samples}}, "calibrate")
				} else if cmd.Flags().Changed("calib-split") {
					return usagef("--calib-split: %v", err)
				} else if target >= 0 {
					fmt.Fprintf(a.stderr, "qbench: explain: note: no recalibration alternatives: --data has no split %q (give --calib DIR, as for quantize)\n", calibSplit)
				}
			}
			rep := a.progress()
			var task = rep.Start("explain: layer errors", int64(main.Len()), "images")
			stage := "layer errors"
			opts.Progress = func(s string, done int) {
				if s != stage {
					task.Done()
					stage = s
					task = rep.Start("explain: "+s, 0, "images")
				}
				task.Add(1)
			}
			var seen dataset.ValueRange
			res, err := explain.Explain(ctx, f, q, streamData(ctx, main.Samples, spec, a.threads, &seen), opts)
			task.Done()
			if err != nil {
				return err
			}
			for _, g := range []*graph.Graph{f, q} {
				if w := dataset.CheckInputRange(g, seen); w != "" {
					fmt.Fprintf(a.stderr, "qbench: explain: warning: %s\n", w)
					break // the quantized model's range says the same
				}
			}
			fixMsg := ""
			if c := res.ClassOrder; c != nil {
				if res.SuggestedLabels, err = suggestedLabels(c, d.Classes, d.LabelMap, "explain"); err != nil {
					fmt.Fprintf(a.stderr, "qbench: explain: warning: no %s written: %v\n", report.FileSuggestedLabels, err)
				}
			}
			if c := res.ClassOrder; c != nil && res.SuggestedLabels != nil {
				rerun := []string{"qbench explain", "--model " + shellQuote(model), "--quant " + shellQuote(quantPath),
					"--data " + shellQuote(dataDir)}
				if split != "" {
					rerun = append(rerun, "--split "+shellQuote(split))
				}
				fix := filepath.Join(out, report.FileSuggestedLabels)
				rerun = append(rerun, "--labels "+shellQuote(fix), "--out "+shellQuote(strings.TrimRight(out, "/")+"-fixed"))
				fixMsg = fmt.Sprintf("wrote %s; to use it: %s\n", fix, strings.Join(rerun, " "))
			}
			if err := res.WriteFolder(out); err != nil {
				return err
			}
			jp, hp := filepath.Join(out, explain.FileJSON), filepath.Join(out, explain.FileHTML)
			if asJSON {
				if c := res.ClassOrder; c != nil {
					fmt.Fprintf(a.stderr, "qbench: explain: warning: %s\n", c.Message)
					fmt.Fprint(a.stderr, fixMsg)
				}
				return res.WriteJSON(a.stdout)
			}
			if err := res.WriteTable(a.stdout); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s and %s\n", jp, hp)
			fmt.Fprint(a.stdout, fixMsg)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "", "float32 .tflite model")
	fl.StringVar(&quantPath, "quant", "", "its quantized .tflite")
	fl.StringVar(&dataDir, "data", "", "dataset to evaluate on: a folder or a CSV manifest")
	fl.StringVar(&labels, "labels", "", "label map for --data (default: found in the folder)")
	fl.StringVar(&outputName, "output-name", "", "classifier output of models with several (tensor name or index; default: the one with one value per class)")
	fl.StringVar(&split, "split", "", "split of --data to explain (default: all images); other splits feed the data-shift table")
	fl.IntVar(&samples, "samples", 1000, "images per split (stratified by class, chosen by --seed)")
	fl.StringVar(&out, "out", "", "output folder for explain.json, explain.html and the best fix (mixed.tflite or requantized.tflite)")
	fl.Float64Var(&target, "target-drop", 0.5, "accuracy drop (points) the fix search must reach; negative disables it")
	fl.StringVar(&calibDir, "calib", "", "calibration images for the recalibration alternatives, as for quantize: a folder or CSV manifest (default: --data's --calib-split)")
	fl.StringVar(&calibSplit, "calib-split", "train", "split (of --calib, else of --data) to recalibrate on when the fix search tries each calibration method (\"\" to skip)")
	fl.IntVar(&calibSamples, "calib-samples", 200, "images of --calib-split used for recalibration")
	fl.IntVar(&layerSamples, "layer-samples", 100, "compute per-layer statistics and data shift on about this many images per split (0: all); accuracy always uses every image")
	addRoundingFlag(fl, &rounding)
	addMaxArenaFlag(fl, &arena)
	fl.BoolVar(&asJSON, "json", false, "print explain.json to stdout instead of the table")
	addPrepFlags(fl, &prep)
	addListFlags(fl, &lists)
	return cmd
}

// openForModel opens a dataset and matches its classes to the model's
// outputs by name (dataset.MatchModel), printing what did not match.
func openForModel(a *app, cmdName, dir string, opts dataset.OpenOptions, g *graph.Graph) (*dataset.Dataset, error) {
	d, err := dataset.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	d, m, err := d.MatchModel(g)
	if err != nil {
		return nil, err
	}
	for _, w := range m.Warnings() {
		fmt.Fprintf(a.stderr, "qbench: %s: warning: %s\n", cmdName, w)
	}
	return d, nil
}

// streamData adapts dataset samples to explain.Data; each call decodes the
// images again in order. seen, when set, gathers the range of the values.
func streamData(ctx context.Context, samples []dataset.Sample, spec dataset.Spec, workers int, seen *dataset.ValueRange) explain.Data {
	return func(yield func([]float32, int) error) error {
		_, err := dataset.Stream(ctx, samples, spec, dataset.StreamOptions{Workers: workers},
			func(it dataset.Item) error {
				if seen != nil {
					seen.Add(it.Data)
				}
				return yield(it.Data, it.Sample.Label)
			})
		return err
	}
}

// suggestedLabels is the label map (YAML) fixing class-order diagnosis c
// of data with classes, keeping what labelMap ("" for none) defines.
func suggestedLabels(c *report.ClassOrderNote, classes []string, labelMap, cmdName string) ([]byte, error) {
	mapping := c.Mapping
	if c.Full != nil {
		mapping = c.Full
	}
	var base *dataset.LabelMap
	if labelMap != "" {
		var err error
		if base, err = dataset.ReadLabelMap(labelMap); err != nil {
			return nil, err
		}
	}
	lm, err := dataset.SuggestLabelMap(classes, mapping, base)
	if err != nil {
		return nil, fmt.Errorf("suggested label map: %w", err)
	}
	y, err := lm.Marshal()
	if err != nil {
		return nil, err
	}
	return append([]byte("# Written by qbench "+cmdName+": the class order its diagnosis suggests.\n"), y...), nil
}
