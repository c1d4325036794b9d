package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
	"github.com/qbench/qbench/train"
	"github.com/spf13/cobra"
)

// trainFlags holds qbench train's flags.
type trainFlags struct {
	data, labels, valDir, split, valRecs, arch, filters, dense, out, resume string
	trainSplit                                                              string
	optimizer, schedule, augment, resize, normalize                         string
	valFraction, lr, momentum, wd, warmup, gamma                            float64
	input, epochs, batch, stepEpochs, limit                                 int
	nesterov, asJSON                                                        bool
}

func newTrainCmd(a *app) *cobra.Command {
	var f trainFlags
	cmd := &cobra.Command{
		Use:   "train --data DIR --out model.tflite",
		Short: "Train the float CNN (the study's seed-cnn by default) and write it as .tflite",
		Long: `train trains a float32 CNN on a labelled image folder and writes the best epoch (by
validation accuracy) as a .tflite model, with the preprocessing spec stored inside so every
other command reuses it. The default architecture, seed-cnn, is the study's network:
80x80x3 → 4 × [conv 3x3 SAME → max-pool 2x2 → ReLU] with 16, 32, 64, 128 filters → dense 256
→ ReLU → dense K → softmax, K = number of classes. Change it with --input/--filters/--dense,
or --arch FILE (JSON or YAML: {"name", "input": [h,w,c], "filters": [...], "kernel": 3,
"padding": "SAME", "dense": [...], "classes": 0}).

Three roles are kept apart. Training images come from --train-split (default: the label map's
"train" split when it defines one, so a held-out test split such as gen-data's "verification"
is never trained or validated on; "all" for every image). Validation data, checked after every
epoch to pick the best one, is one of: --val DIR (a separate folder), --split NAME (a split of
the label map), --val-recordings R1,R2 (of the training split), or --val-fraction F (default
0.2) of the tracks of each class of the training split, seeded, so no object is in both sets.
Every other split is the test data: report on it with compare and explain (the output lists it).

Images are decoded and preprocessed once and kept in memory (one byte per value). Training
uses Adam(W) or momentum SGD, a cosine (with warmup) or step learning-rate schedule and
seeded augmentation (--augment default | none | shift=0.1,rotate=10,scale=0.1,
brightness=0.1,contrast=0.2,color=0.1). --seed makes runs bit-identical for any --threads.
The checkpoint is replaced atomically after each improving epoch, so Ctrl-C leaves the last
good model in --out.`,
		Example: `  qbench train --data /tmp/qb-gen --epochs 10 --out seed.tflite   # train split; validation: 20% of its tracks
  qbench train --data /tmp/qb-gen --val-recordings rec4 --epochs 8 --out seed.tflite
  qbench train --data gtsrb-mini/train --val gtsrb-mini/val --epochs 30 --out gtsrb.tflite
  qbench train --data DIR --split val --optimizer sgd --lr 0.05 --schedule step --out m.tflite
  qbench train --data DIR --input 48 --filters 8,16,32 --dense 64 --augment none --out small.tflite
  qbench train --data DIR --resume m.tflite --epochs 3 --lr 1e-4 --out m2.tflite`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runTrain(cmd, a, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "training data folder (class folders, recordings or GTSRB)")
	fl.StringVar(&f.labels, "labels", "", "label map (default: found in the folder)")
	fl.StringVar(&f.valDir, "val", "", "separate validation folder")
	fl.StringVar(&f.trainSplit, "train-split", "auto", "label-map split to train on: auto (\"train\" when the label map defines it, else all images), all, or a split name")
	fl.StringVar(&f.split, "split", "", "label-map split to validate on (the training split, less its recordings, trains)")
	fl.StringVar(&f.valRecs, "val-recordings", "", "comma-separated recordings of the training split to validate on")
	fl.Float64Var(&f.valFraction, "val-fraction", 0.2, "fraction of each class's tracks of the training split to validate on (when no other validation choice is given)")
	fl.IntVar(&f.limit, "limit", 0, "train on at most this many images (stratified by class, chosen by --seed); 0 = all")
	fl.StringVar(&f.arch, "arch", "seed-cnn", "architecture: seed-cnn or a JSON/YAML architecture file")
	fl.IntVar(&f.input, "input", 0, "input height and width in pixels (default: the architecture's, 80 for seed-cnn)")
	fl.StringVar(&f.filters, "filters", "", "conv filters per block, e.g. 16,32,64,128")
	fl.StringVar(&f.dense, "dense", "", "hidden dense widths, e.g. 256 (\"none\" for no hidden layer)")
	fl.StringVar(&f.resize, "resize", "bilinear", "resize method of the stored preprocessing spec: bilinear or area")
	fl.StringVar(&f.normalize, "normalize", "-1..1", "input value range of the stored preprocessing spec: -1..1 or 0..1")
	fl.StringVar(&f.resume, "resume", "", "start from this float .tflite (resume or fine-tune) instead of a new network")
	fl.IntVar(&f.epochs, "epochs", 10, "training epochs")
	fl.IntVar(&f.batch, "batch", 64, "batch size")
	fl.StringVar(&f.optimizer, "optimizer", "adam", "adam (AdamW-style decoupled weight decay) or sgd (momentum)")
	fl.Float64Var(&f.lr, "lr", 0, "peak learning rate (default 1e-3 for adam, 0.05 for sgd)")
	fl.Float64Var(&f.momentum, "momentum", 0.9, "SGD momentum")
	fl.BoolVar(&f.nesterov, "nesterov", false, "Nesterov momentum (sgd)")
	floatVarDescribed(fl, &f.wd, "weight-decay", -1, "0.01 for adam: decoupled, AdamW; 5e-4 for sgd: L2", "weight decay of weights, not biases")
	fl.StringVar(&f.schedule, "schedule", "cosine", "learning-rate schedule: cosine (with warmup), step or constant")
	fl.Float64Var(&f.warmup, "warmup", 1, "warmup epochs for the cosine schedule")
	fl.IntVar(&f.stepEpochs, "step-epochs", 10, "step schedule: epochs between decays")
	fl.Float64Var(&f.gamma, "gamma", 0.1, "step schedule: decay factor")
	fl.StringVar(&f.augment, "augment", "default", "augmentation: default, none, or key=value list (see above)")
	fl.StringVar(&f.out, "out", "", "output .tflite path (best checkpoint)")
	fl.BoolVar(&f.asJSON, "json", false, "print the result (history, best epoch) as JSON")
	return cmd
}

func runTrain(cmd *cobra.Command, a *app, f *trainFlags) error {
	if f.data == "" || f.out == "" {
		return usagef("--data and --out are required")
	}
	if f.epochs <= 0 {
		return usagef("--epochs must be positive, got %d", f.epochs)
	}
	if f.batch <= 0 {
		return usagef("--batch must be positive, got %d", f.batch)
	}
	nval := 0
	for _, set := range []bool{f.valDir != "", f.split != "", f.valRecs != "", cmd.Flags().Changed("val-fraction")} {
		if set {
			nval++
		}
	}
	if nval > 1 {
		return usagef("choose one of --val, --split, --val-recordings, --val-fraction")
	}
	if f.valFraction < 0 || f.valFraction >= 1 {
		return usagef("--val-fraction must be in [0,1), got %v", f.valFraction)
	}
	aug, err := train.ParseAugment(f.augment)
	if err != nil {
		return usagef("--augment: %v", err)
	}
	if f.wd < 0 {
		f.wd = train.DefaultWeightDecay(f.optimizer)
	}
	cfg := train.Config{Epochs: f.epochs, BatchSize: f.batch, Augment: aug, Seed: a.seed, Threads: a.threads,
		Out: f.out, Write: tflite.WriteFile,
		Optim:    train.OptimConfig{Name: f.optimizer, LR: f.lr, Momentum: f.momentum, Nesterov: f.nesterov, WeightDecay: f.wd},
		Schedule: train.ScheduleConfig{Name: f.schedule, WarmupEpochs: f.warmup, StepEpochs: f.stepEpochs, Gamma: f.gamma}}
	if f.optimizer != train.OptAdam && f.optimizer != train.OptSGD {
		return usagef("--optimizer must be adam or sgd, got %q", f.optimizer)
	}
	if cmd.Flags().Changed("lr") && !(f.lr > 0) {
		return usagef("--lr must be positive, got %v", f.lr)
	}
	if f.limit < 0 {
		return usagef("--limit must be >= 0, got %d", f.limit)
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if cfg.Arch, cfg.Init, err = trainArch(f); err != nil {
		return err
	}
	in := cfg.Arch.Input
	if cfg.Init != nil {
		in = cfg.Init.Arch.Input
	}
	spec := train.DefaultSpec(train.Arch{Input: in})
	spec.Resize = f.resize
	switch f.normalize {
	case "-1..1":
	case "0..1":
		spec.Scale, spec.Offset = 1.0/255, 0
	default:
		return usagef("--normalize must be 0..1 or -1..1, got %q", f.normalize)
	}
	if cfg.Init != nil {
		// Fine-tuning must see inputs exactly as the model was trained.
		if b, ok := cfg.Init.Metadata[graph.MetadataPreprocess]; ok {
			if spec, err = dataset.ParseSpec(b); err != nil {
				return fmt.Errorf("resume %s: %w", f.resume, err)
			}
		}
	}
	if err := spec.Validate(); err != nil {
		return usagef("preprocessing: %v", err)
	}
	if cfg.Metadata, err = train.SpecMetadata(spec); err != nil {
		return err
	}

	ds, err := dataset.Open(f.data, dataset.OpenOptions{LabelMap: f.labels})
	if err != nil {
		return err
	}
	roles, err := trainSplit(a, f, ds)
	if err != nil {
		return err
	}
	trainDS, valDS, valDesc := roles.train, roles.val, roles.valDesc
	if f.limit > 0 && trainDS.Len() > f.limit {
		trainDS = trainDS.Subsample(f.limit, a.seed)
	}
	if cfg.Metadata[graph.MetadataClasses], err = json.Marshal(ds.Classes); err != nil {
		return err
	}
	// Which images trained and validated the model, so that compare,
	// explain and quantize can say what a split is to it.
	seen := [][]dataset.Sample{trainDS.Samples}
	if valDS != nil {
		seen = append(seen, valDS.Samples)
	}
	rolesRec := dataset.NewRoles(roles.trainDesc, valDesc, roles.held, seen...)
	if cfg.Init != nil {
		if old, ok, err := dataset.RolesFromGraph(&graph.Graph{Metadata: cfg.Init.Metadata}); err == nil && ok {
			rolesRec = rolesRec.Merge(old, f.resume)
		}
	}
	if cfg.Metadata[dataset.MetadataRoles], err = rolesRec.Marshal(); err != nil {
		return err
	}
	// The same spec and names as standard TFLite metadata, for tools
	// other than qbench (Task Library, Android Studio).
	if cfg.Meta, err = train.ModelMeta(spec, ds.Classes); err != nil {
		return err
	}
	if cfg.Init != nil && cfg.Init.Arch.Classes != len(ds.Classes) {
		return fmt.Errorf("resume %s: the model has %d classes, %s has %d", f.resume, cfg.Init.Arch.Classes, f.data, len(ds.Classes))
	}
	rep := a.progress()
	ctx := cmd.Context()
	start := time.Now()
	trainSet, sum, err := train.Load(ctx, trainDS, spec, a.threads, rep, "train")
	if err != nil {
		return err
	}
	skipped := sum.Skipped
	var valSet *train.Data
	if valDS != nil && valDS.Len() > 0 {
		if valSet, sum, err = train.Load(ctx, valDS, spec, a.threads, rep, "val"); err != nil {
			return err
		}
		skipped += sum.Skipped
	}
	loadTime := time.Since(start)
	res, err := train.Run(ctx, cfg, trainSet, valSet, rep)
	rep.Wait()
	if res != nil && res.Interrupted {
		done := len(res.History)
		if res.Best != nil {
			return fmt.Errorf("interrupted after %d epochs; %s holds epoch %d (val accuracy %s)", done, f.out, res.BestEpoch, pct(res.BestValAcc))
		}
		return fmt.Errorf("interrupted in the first epoch; nothing written to %s", f.out)
	}
	if err != nil {
		return err
	}
	if f.asJSON {
		return writeTrainJSON(a, f, cfg, res, trainSet.Len(), valSet.Len(), roles, skipped)
	}
	best := res.History[res.BestEpoch-1]
	fmt.Fprintf(a.stdout, "model      %s, %d parameters\n", res.Best.Arch, res.Best.NumParams())
	fmt.Fprintf(a.stdout, "train      %d images: %s of %s\n", trainSet.Len(), roles.trainDesc, f.data)
	fmt.Fprintf(a.stdout, "validation %d images: %s (picks the best epoch)\n", valSet.Len(), valDesc)
	fmt.Fprintf(a.stdout, "test       %s\n", roles.testDesc())
	if skipped > 0 {
		fmt.Fprintf(a.stdout, "skipped    %d unreadable images\n", skipped)
	}
	fmt.Fprintf(a.stdout, "training   %d epochs, batch %d, %s lr %g, seed %d, augment %q\n", cfg.Epochs, cfg.BatchSize, f.optimizer, res.History[0].LR, a.seed, f.augment)
	fmt.Fprintf(a.stdout, "%5s %9s %9s %9s %9s %8s\n", "epoch", "loss", "acc", "val_loss", "val_acc", "img/s")
	for _, h := range res.History {
		mark := ""
		if h.Best {
			mark = " *"
		}
		fmt.Fprintf(a.stdout, "%5d %9.4f %9s %9.4f %9s %8.0f%s\n", h.Epoch, h.TrainLoss, pct(h.TrainAcc), h.ValLoss, pct(h.ValAcc), h.ImagesPerSec, mark)
	}
	fmt.Fprintf(a.stdout, "best       epoch %d: val accuracy %s (train %s)\n", res.BestEpoch, pct(best.ValAcc), pct(best.TrainAcc))
	fmt.Fprintf(a.stdout, "speed      %.0f images/s training; %.1fs loading, %.1fs total\n", res.ImagesPerSec, loadTime.Seconds(), time.Since(start).Seconds())
	fmt.Fprintf(a.stdout, "wrote      %s (preprocessing spec stored in the model)\n", f.out)
	return nil
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*v)
}

// trainArch resolves --arch/--input/--filters/--dense or --resume.
func trainArch(f *trainFlags) (train.Arch, *train.Model, error) {
	if f.resume != "" {
		g, err := tflite.ReadFile(f.resume)
		if err != nil {
			return train.Arch{}, nil, fmt.Errorf("resume: %w", err)
		}
		m, err := train.LoadFromGraph(g)
		if err != nil {
			return train.Arch{}, nil, fmt.Errorf("resume %s: %w", f.resume, err)
		}
		return m.Arch, m, nil
	}
	var arch train.Arch
	if f.arch == "seed-cnn" {
		arch = train.SeedCNN(0)
	} else {
		var err error
		if arch, err = train.LoadArch(f.arch); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return arch, nil, usagef("--arch: %q is neither seed-cnn nor a readable file", f.arch)
			}
			return arch, nil, err
		}
	}
	if f.input > 0 {
		arch.Input[0], arch.Input[1] = f.input, f.input
	}
	if f.filters != "" {
		v, err := intList(f.filters)
		if err != nil || len(v) == 0 {
			return arch, nil, usagef("--filters: want a comma list of positive integers, got %q", f.filters)
		}
		arch.Filters = v
	}
	if f.dense != "" {
		arch.Dense = nil
		if f.dense != "none" {
			v, err := intList(f.dense)
			if err != nil {
				return arch, nil, usagef("--dense: want a comma list of positive integers or none, got %q", f.dense)
			}
			arch.Dense = v
		}
	}
	return arch, nil, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad value %q", p)
		}
		out = append(out, v)
	}
	return out, nil
}

// dataRoles is how train uses a dataset: images it trains on, images that
// pick the best epoch, and the splits it never sees (the test data).
type dataRoles struct {
	train, val         *dataset.Dataset
	trainDesc, valDesc string
	// held lists the label map's splits with no image in train or val.
	held []string
	ds   *dataset.Dataset
}

// testDesc names the held-out splits for the output.
func (r dataRoles) testDesc() string {
	if len(r.held) == 0 {
		return "none held out: every split was used for training or validation; evaluate on other data"
	}
	parts := make([]string, len(r.held))
	for i, n := range r.held {
		parts[i] = fmt.Sprintf("split %q (%s)", n, strings.Join(r.ds.Splits[n], ","))
	}
	return strings.Join(parts, ", ") + ": never trained or validated on; report on it with compare/explain --split"
}

// trainSplit picks the training, validation and held-out samples. The
// training pool is --train-split (by default the label map's "train" split
// when there is one), so that a split meant for testing is neither trained
// nor validated on unless asked for.
func trainSplit(a *app, f *trainFlags, ds *dataset.Dataset) (dataRoles, error) {
	r := dataRoles{ds: ds}
	pool, poolName := ds, ""
	switch name := f.trainSplit; {
	case name == "all":
	case name == "auto" || name == "":
		if _, ok := ds.Splits["train"]; ok && f.split != "train" {
			poolName = "train"
		}
	default:
		poolName = name
	}
	if poolName != "" {
		p, err := ds.Split(poolName)
		if err != nil {
			return r, usagef("--train-split: %v", err)
		}
		pool = p
		r.trainDesc = fmt.Sprintf("split %q (recordings %s)", poolName, strings.Join(ds.Splits[poolName], ","))
	} else {
		r.trainDesc = "all images"
	}
	switch {
	case f.valDir != "":
		v, err := dataset.Open(f.valDir, dataset.OpenOptions{LabelMap: f.labels})
		if err != nil {
			return r, err
		}
		if strings.Join(v.Classes, "\x00") != strings.Join(ds.Classes, "\x00") {
			return r, fmt.Errorf("validation folder %s has classes %d, training folder %d (use the same label map)", f.valDir, len(v.Classes), len(ds.Classes))
		}
		r.train, r.val, r.valDesc = pool, v, "folder "+f.valDir
	case f.split != "":
		if f.split == poolName {
			return r, usagef("--split %s is also the training split (--train-split); validate on another split", f.split)
		}
		v, err := ds.Split(f.split)
		if err != nil {
			return r, usagef("--split: %v", err)
		}
		r.train, _ = pool.SplitByRecording(ds.Splits[f.split])
		r.val = v
		r.valDesc = fmt.Sprintf("split %q (recordings %s)", f.split, strings.Join(ds.Splits[f.split], ","))
		if poolName == "" {
			r.trainDesc = fmt.Sprintf("all images less split %q", f.split)
		}
	case f.valRecs != "":
		recs := strings.Split(f.valRecs, ",")
		known := map[string]bool{}
		for _, rec := range pool.Recordings {
			known[rec] = true
		}
		for _, rec := range recs {
			if !known[rec] {
				return r, usagef("--val-recordings: %s of %s has no recording %q (it has %v)", r.trainDesc, f.data, rec, pool.Recordings)
			}
		}
		r.train, r.val = pool.SplitByRecording(recs)
		r.valDesc = "recordings " + f.valRecs
		r.trainDesc += " less recordings " + f.valRecs
	case f.valFraction > 0:
		r.train, r.val = pool.SplitByTrack(f.valFraction, a.seed)
		r.valDesc = fmt.Sprintf("%.0f%% of the tracks of each class of the training images (seed %d)", 100*f.valFraction, a.seed)
		r.trainDesc = fmt.Sprintf("the other %.0f%% of %s", 100*(1-f.valFraction), r.trainDesc)
	default:
		r.train, r.valDesc = pool, "none"
	}
	if r.train.Len() == 0 {
		return r, fmt.Errorf("no training images left in %s (%s; validation %s)", f.data, r.trainDesc, r.valDesc)
	}
	used := map[string]bool{}
	for _, d := range []*dataset.Dataset{r.train, r.val} {
		if d == nil || d.Root != ds.Root {
			continue
		}
		for _, s := range d.Samples {
			used[s.Recording] = true
		}
	}
	for _, n := range sortedSplitNames(ds) {
		held := true
		for _, rec := range ds.Splits[n] {
			if used[rec] {
				held = false
			}
		}
		if held {
			r.held = append(r.held, n)
		}
	}
	return r, nil
}

// sortedSplitNames returns the label map's split names in order.
func sortedSplitNames(ds *dataset.Dataset) []string {
	names := make([]string, 0, len(ds.Splits))
	for n := range ds.Splits {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// writeTrainJSON prints the run as JSON on stdout.
func writeTrainJSON(a *app, f *trainFlags, cfg train.Config, res *train.Result, ntrain, nval int, roles dataRoles, skipped int) error {
	hist := make([]map[string]any, len(res.History))
	for i, h := range res.History {
		hist[i] = map[string]any{"epoch": h.Epoch, "lr": h.LR, "train_loss": h.TrainLoss, "train_accuracy": h.TrainAcc,
			"val_loss": nanNil(h.ValLoss), "val_accuracy": nanNil(h.ValAcc), "seconds": h.Seconds, "images_per_sec": h.ImagesPerSec, "best": h.Best}
	}
	out := map[string]any{
		"model": f.out, "arch": res.Best.Arch, "params": res.Best.NumParams(), "data": f.data,
		"train_images": ntrain, "val_images": nval, "training": roles.trainDesc, "validation": roles.valDesc, "held_out_splits": append([]string{}, roles.held...), "skipped": skipped,
		"epochs": cfg.Epochs, "batch": cfg.BatchSize, "optimizer": f.optimizer, "seed": a.seed, "augment": f.augment,
		"best_epoch": res.BestEpoch, "best_val_accuracy": nanNil(res.BestValAcc), "images_per_sec": res.ImagesPerSec,
		"history": hist,
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// nanNil maps NaN (no validation data) to JSON null.
func nanNil(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}
