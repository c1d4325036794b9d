package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/report"
	"github.com/spf13/cobra"
)

func newCompareCmd(a *app) *cobra.Command {
	var (
		models, names, splits       []string
		data, labels, out, rounding string
		outputName                  string
		samples                     int
		topK                        []int
		asJSON                      bool
		prep                        prepFlags
		lists                       listFlags
		sharding                    shardFlags
		arena                       arenaFlag
	)
	cmd := &cobra.Command{
		Use:   "compare --model A.tflite --model B.tflite --data DIR --out REPORTDIR",
		Short: "Compare a float model with its quantized versions on a labelled dataset",
		Long: `compare runs every model over every sample of a labelled image folder, each with the
preprocessing stored in the model, and reports what changed between the first model (the
reference, usually float) and each other one.

Per model: accuracy with a Wilson 95% interval, top-k accuracy, confusion matrix, per-class
precision/recall/F1, the certainty histogram (probability of the predicted class over correctly
classified samples) and the histogram of all output values in 10 bins, mean normalised entropy,
expected calibration error (15 bins) with a reliability diagram, NLL and Brier score. Per pair:
top-1 agreement, flips with McNemar's exact p-value, per-class accuracy changes, the confusions
that appeared or vanished (ranked, with class names), KL and Jensen-Shannon divergence, |Δp| and
the change of the top-1 margin. The prediction is the highest probability; ties go to the
lowest class index.

REPORTDIR receives report.json (schema qbench.compare/v1, see docs/report-schema.md), report.md
(the study's tables), predictions.csv, report.html (one offline file with SVG plots) and
outputs.bin (every output vector). A compact summary goes to stdout (--json prints report.json
instead). --split NAME selects a split the label map defines; --split NAME=DIR adds another
folder as a split; several splits land in one report.

--shard I/N computes a stratified 1/N of every split's samples and writes a partial result into
REPORTDIR; "qbench merge" turns all N partials into the report a single run would write, byte for
byte. Inside a Slurm job array or a Kubernetes Indexed Job (with --shards N) the shard comes from the
environment; see docs/scale-out.md.`,
		Example: `  qbench compare --model float.tflite --model int8.tflite --data data/val --out report
  qbench compare --model f.tflite --model q.tflite --name float --name int8 \
      --data data --split full=data/all --split verification=data/verif --out report
  qbench compare --model f.tflite --model q.tflite --data data --labels labels.yaml --split verification --out r --json
  qbench compare --model f.tflite --model q.tflite --data data --shard 2/4 --out parts   # then: qbench merge parts/*.qbpart --out report`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(models) == 0 || data == "" || out == "" {
				return usagef("--model, --data and --out are required")
			}
			if len(names) > len(models) {
				return usagef("%d --name flags for %d --model flags", len(names), len(models))
			}
			if samples < 0 {
				return usagef("--samples must be >= 0, got %d", samples)
			}
			for _, k := range topK {
				if k < 1 {
					return usagef("--top-k values must be >= 1, got %d", k)
				}
			}
			rnd, err := parseRounding(rounding)
			if err != nil {
				return err
			}
			pf, err := prep.flags()
			if err != nil {
				return err
			}
			sp, shardSrc, sharded, err := sharding.resolve(a.getenv)
			if err != nil {
				return err
			}
			if sharded && asJSON {
				return usagef("--json prints a report; a shard writes a partial result (qbench merge --json prints the report)")
			}
			var specs []compare.ModelSpec
			for i, m := range models {
				spec := compare.ModelSpec{Path: m, OutputName: outputName}
				if i < len(names) {
					spec.Name = names[i]
				}
				specs = append(specs, spec)
			}
			cm, err := compare.ClassModel(specs)
			if err != nil {
				return err
			}
			d, err := compare.OpenData(data, compare.DataOptions{LabelMap: labels, Splits: splits,
				GroundTruth: lists.groundTruth, Synsets: lists.synsets,
				Samples: samples, Seed: a.seed, Model: cm})
			if err != nil {
				return fmt.Errorf("read data: %w", err)
			}
			for _, p := range d.Problems {
				fmt.Fprintf(a.stderr, "qbench: compare: warning: %s\n", p)
			}
			for _, w := range d.Warnings {
				fmt.Fprintf(a.stderr, "qbench: compare: warning: %s\n", w)
			}
			sets := make([]namedSamples, len(d.Splits))
			for i, s := range d.Splits {
				sets[i] = namedSamples{"split " + s.Name, s.Samples}
			}
			printRoles(a, "compare", models, readGraphs(a, "compare", models), sets, "evaluate")
			created, err := a.reportDate()
			if err != nil {
				return err
			}
			cfg := compare.Config{
				Seed: &a.seed, Created: created,
				Models: specs, Splits: d.Splits, Classes: d.Classes, DataRoot: d.Root,
				Workers: a.threads, OutDir: out, TopK: topK, Rounding: rnd, MaxArenaBytes: arena.bytes,
				LabelMap: d.LabelMap, Preprocess: pf,
				Note: func(n string) { fmt.Fprintf(a.stderr, "qbench: compare: note: %s\n", n) },
				Warn: func(w string) { fmt.Fprintf(a.stderr, "qbench: compare: warning: %s\n", w) },
			}
			pr := a.progress()
			cfg.Progress = pr
			if sharded {
				opts := map[string]string{"rounding": rounding, "top-k": fmt.Sprint(topK), "samples": fmt.Sprint(samples),
					"labels": labels, "split": strings.Join(splits, ","), "output-name": outputName}
				err := runCompareShard(cmd.Context(), a, cfg, sp, shardSrc, out, opts)
				pr.Wait()
				return err
			}
			r, err := compare.RunToFolder(cmd.Context(), cfg)
			pr.Wait()
			if err != nil {
				return err
			}
			for _, m := range r.Models {
				if m.Output != "" {
					fmt.Fprintf(a.stderr, "qbench: compare: %s: class scores from %s\n", m.Name, m.Output)
				}
			}
			fixMsg := ""
			if r.ClassOrder != nil {
				fix := filepath.Join(out, report.FileSuggestedLabels)
				rerun := []string{"qbench compare"}
				for i, m := range models {
					rerun = append(rerun, "--model "+shellQuote(m))
					if i < len(names) {
						rerun = append(rerun, "--name "+shellQuote(names[i]))
					}
				}
				rerun = append(rerun, "--data "+shellQuote(data))
				for _, s := range splits {
					rerun = append(rerun, "--split "+shellQuote(s))
				}
				rerun = append(rerun, "--labels "+shellQuote(fix), "--out "+shellQuote(strings.TrimRight(out, "/")+"-fixed"))
				msg := fmt.Sprintf("wrote %s; to use it: %s\n", fix, strings.Join(rerun, " "))
				if asJSON {
					fmt.Fprintf(a.stderr, "qbench: compare: warning: %s\n", r.ClassOrder.Message)
					fmt.Fprint(a.stderr, msg)
				} else {
					fixMsg = msg
				}
			}
			if asJSON {
				js, err := r.JSON()
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(js)
				return err
			}
			if err := report.WriteTerminal(a.stdout, r); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s/{%s}\n", strings.TrimRight(out, "/"), strings.Join([]string{
				report.FileJSON, report.FileMarkdown, report.FileHTML, report.FilePredictions, compare.OutputsFile}, ","))
			fmt.Fprint(a.stdout, fixMsg)
			return nil
		},
	}
	f := cmd.Flags()
	addRoundingFlag(f, &rounding)
	addMaxArenaFlag(f, &arena)
	f.StringArrayVar(&models, "model", nil, "model .tflite (repeat; the first is the reference)")
	f.StringArrayVar(&names, "name", nil, "display name of the model in the same position (repeat)")
	f.StringVar(&data, "data", "", "labelled images: a folder (class folders, recordings, GTSRB, ImageNet-style flat folder + ground truth) or a CSV manifest (path,label[,split])")
	f.StringVar(&labels, "labels", "", "label map (YAML/JSON/labels.txt; default: found in the folder)")
	f.StringArrayVar(&splits, "split", nil, "split to run: NAME from the label map, or NAME=DIR (repeat)")
	f.StringVar(&out, "out", "", "report directory")
	f.IntVar(&samples, "samples", 0, "use a stratified subsample of N images per split (0: all; chosen by --seed)")
	f.IntSliceVar(&topK, "top-k", []int{1, 5}, "k values of top-k accuracy")
	f.BoolVar(&asJSON, "json", false, "print report.json to stdout instead of the summary")
	f.StringVar(&outputName, "output-name", "", "classifier output of models with several (tensor name or index; default: the one with one value per class)")
	addPrepFlags(f, &prep)
	addListFlags(f, &lists)
	sharding.add(f)
	return cmd
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
