// Package demo re-runs the quantization study end to end: it generates the
// synthetic 30-class dataset, trains the float seed-cnn in the study's two
// configurations, quantizes each model post-training to full int8 with float
// input and output (as the study's model was), compares float against int8,
// and writes the full report.
//
// Every step is a call into the library packages the CLI uses too
// (dataset/synth, train, quant, tflite, compare, report); this package only
// decides the plan and the order.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/dataset/synth"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/fileio"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/progress"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/tflite"
	"github.com/qbench/qbench/train"
)

// Plan fixes the scale of a demo run.
type Plan struct {
	Name string
	// Data is the synthetic dataset to generate.
	Data synth.Config
	// Epochs of training for each configuration, and the batch size.
	Epochs, BatchSize int
	// FullTrainFraction of all samples trains the full configuration
	// (the study: 47,969 of 53,299 ≈ 0.9); the rest picks its best epoch.
	FullTrainFraction float64
	// ValFraction of the training recordings picks the verification
	// configuration's best epoch (never the held-out recordings).
	ValFraction float64
	// CalibSamples drawn from each model's own training data calibrate it.
	CalibSamples int
	// Arch is the network (seed-cnn for 30 classes unless a test shrinks it).
	Arch train.Arch
}

// Scales the demo offers. The default must finish in a few minutes on two
// cores (3.2 measured), quick in under one; full uses the study's dataset
// size.
const (
	ScaleQuick   = "quick"
	ScaleDefault = "default"
	ScaleFull    = "full"
)

// PlanFor returns the plan of a named scale.
func PlanFor(scale string, seed int64) (Plan, error) {
	p := Plan{Name: scale, FullTrainFraction: 0.9, ValFraction: 0.1, BatchSize: 32, Arch: train.SeedCNN(synth.NumClasses)}
	p.Data = synth.Config{Seed: seed, Size: 80, Verification: 1}
	switch scale {
	case ScaleQuick:
		p.Data.Recordings, p.Data.PerClass = 4, 20
		p.Epochs, p.CalibSamples = 6, 200
	case ScaleDefault:
		p.Data.Recordings, p.Data.PerClass = 5, 60
		p.Epochs, p.CalibSamples = 10, 500
	case ScaleFull:
		// 6 recordings × 30 classes × 296 = 53,280 images, the study's 53,299.
		p.Data.Recordings, p.Data.PerClass = 6, 296
		p.Epochs, p.CalibSamples = 12, 1000
	default:
		return p, fmt.Errorf("unknown scale %q (want quick, default or full)", scale)
	}
	return p, nil
}

// Config configures Run.
type Config struct {
	Plan Plan
	// OutDir receives models, reports and per-sample outputs.
	OutDir string
	// CacheDir holds generated datasets, one folder per generator
	// configuration, reused when the seed and settings match.
	CacheDir string
	Seed     int64
	Threads  int
	// Progress shows live progress (nil: silent).
	Progress *progress.Reporter
	// Log receives one line per finished stage (nil: discarded).
	Log io.Writer
	// Created dates the report (report.Report.Created; zero: no date).
	Created time.Time
}

// Stage is one timed step of the run.
type Stage struct {
	Name    string
	Seconds float64
}

// Config names one of the study's two configurations.
type ConfigResult struct {
	Name       string // "full" or "verification"
	TrainCount int
	ValCount   int
	EvalCount  int
	FloatPath  string
	Int8Path   string
	CalibPath  string
	BestEpoch  int
	BestValAcc float64
	TrainIPS   float64
}

// Result is what a demo run produced.
type Result struct {
	Plan    Plan
	DataDir string
	// DataReused is set when the cached dataset was used as it was.
	DataReused bool
	Configs    []ConfigResult
	Report     *report.Report
	// Files lists every artefact written, by kind.
	Files  map[string]string
	Stages []Stage
	Total  time.Duration
}

// Run executes the whole study.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	res := &Result{Plan: cfg.Plan, Files: map[string]string{}}
	stage := func(name string, t0 time.Time) {
		s := Stage{Name: name, Seconds: time.Since(t0).Seconds()}
		res.Stages = append(res.Stages, s)
		fmt.Fprintf(logw, "  %-34s %6.1fs\n", name, s.Seconds)
	}
	// Everything goes to a staged folder renamed over cfg.OutDir at the
	// end: an interrupted demo leaves the previous complete output or none.
	st, err := fileio.NewStage(cfg.OutDir, report.IsOutputName)
	if err != nil {
		return nil, fmt.Errorf("output folder %w", err)
	}
	defer st.Abort()
	outDir := st.Dir()
	if err := os.MkdirAll(filepath.Join(outDir, "models"), 0o777); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}

	t0 := time.Now()
	dir, reused, err := ensureData(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.DataDir, res.DataReused = dir, reused
	if reused {
		stage(fmt.Sprintf("dataset (cached, %d images)", cfg.Plan.Data.Total()), t0)
	} else {
		stage(fmt.Sprintf("dataset generated (%d images)", cfg.Plan.Data.Total()), t0)
	}
	ds, err := dataset.Open(dir, dataset.OpenOptions{})
	if err != nil {
		return nil, fmt.Errorf("open generated dataset: %w", err)
	}
	if len(ds.Problems) > 0 {
		return nil, fmt.Errorf("generated dataset %s has problems: %s", dir, ds.Problems[0])
	}
	held := ds.Splits["verification"]
	if len(held) == 0 {
		return nil, fmt.Errorf("generated dataset %s names no verification recordings", dir)
	}

	// The study's two configurations. Full: most samples train, all are
	// evaluated (how the model is deployed). Verification: train on the
	// training recordings only, evaluate on recordings never seen.
	fullTrain, fullVal := ds.SplitByTrack(1-cfg.Plan.FullTrainFraction, cfg.Seed)
	verTrainAll, verEval := ds.SplitByRecording(held)
	verTrain, verVal := verTrainAll.SplitByTrack(cfg.Plan.ValFraction, cfg.Seed)
	type setup struct {
		name               string
		trainDS, valDS     *dataset.Dataset
		eval               *dataset.Dataset
		trainDesc, valDesc string
	}
	setups := []setup{
		{"full", fullTrain, fullVal, ds, "demo full configuration: 90% of the tracks of all recordings", "the other 10% of the tracks"},
		{"verification", verTrain, verVal, verEval, "demo verification configuration: 90% of the tracks of the training recordings",
			"the other 10% of their tracks (held out: recordings " + strings.Join(held, ",") + ")"},
	}
	spec := train.DefaultSpec(cfg.Plan.Arch)
	meta, err := train.SpecMetadata(spec)
	if err != nil {
		return nil, err
	}
	if meta[graph.MetadataClasses], err = json.Marshal(ds.Classes); err != nil {
		return nil, err
	}

	var reports []*report.Report
	for _, s := range setups {
		cr := ConfigResult{Name: s.name, TrainCount: s.trainDS.Len(), ValCount: s.valDS.Len(), EvalCount: s.eval.Len()}
		t0 = time.Now()
		// The model records which images trained and validated it, so
		// that compare and explain on its files later say what a split is
		// to it.
		cmeta := maps.Clone(meta)
		roles := dataset.NewRoles(s.trainDesc, s.valDesc, nil, s.trainDS.Samples, s.valDS.Samples)
		if cmeta[dataset.MetadataRoles], err = roles.Marshal(); err != nil {
			return nil, err
		}
		floatG, tr, err := trainModel(ctx, cfg, s.trainDS, s.valDS, spec, cmeta, s.name)
		if err != nil {
			return nil, fmt.Errorf("%s configuration: train: %w", s.name, err)
		}
		cr.BestEpoch, cr.BestValAcc, cr.TrainIPS = tr.BestEpoch, tr.BestValAcc, tr.ImagesPerSec
		cr.FloatPath = filepath.Join(outDir, "models", "float-"+s.name+".tflite")
		if err := tflite.WriteFile(cr.FloatPath, floatG); err != nil {
			return nil, err
		}
		stage(fmt.Sprintf("train float (%s, %d images)", s.name, cr.TrainCount), t0)

		t0 = time.Now()
		q, qrep, err := quantizeModel(ctx, cfg, floatG, s.trainDS, spec)
		if err != nil {
			return nil, fmt.Errorf("%s configuration: quantize: %w", s.name, err)
		}
		cr.Int8Path = filepath.Join(outDir, "models", "int8-"+s.name+".tflite")
		if err := tflite.WriteFile(cr.Int8Path, q); err != nil {
			return nil, err
		}
		cr.CalibPath = filepath.Join(outDir, "models", "calibration-"+s.name+".json")
		if err := writeCalibration(cr.CalibPath, qrep); err != nil {
			return nil, err
		}
		stage(fmt.Sprintf("quantize int8 (%s, %d calib.)", s.name, qrep.Samples), t0)

		t0 = time.Now()
		r, err := compare.Run(ctx, compare.Config{
			Models: []compare.ModelSpec{
				{Name: "float", Path: cr.FloatPath},
				{Name: "int8", Path: cr.Int8Path},
			},
			Splits:   []compare.SplitSpec{{Name: s.name, Samples: s.eval.Samples}},
			Classes:  ds.Classes,
			DataRoot: dir,
			Workers:  cfg.Threads,
			OutDir:   filepath.Join(outDir, "work", s.name),
			Progress: cfg.Progress,
			Rounding: fixedpoint.RuntimeRounding,
		})
		if err != nil {
			return nil, fmt.Errorf("%s configuration: compare: %w", s.name, err)
		}
		stage(fmt.Sprintf("compare float vs int8 (%s, %d)", s.name, cr.EvalCount), t0)
		reports = append(reports, r)
		res.Configs = append(res.Configs, cr)
	}

	t0 = time.Now()
	merged, err := Merge(reports)
	if err != nil {
		return nil, err
	}
	// The data re-creates the study's, so its numbers stand beside ours.
	merged.Reference = report.StudyReference()
	seed := cfg.Seed
	merged.Seed, merged.Created = &seed, cfg.Created
	res.Report = merged
	// Reports and results name files where they will be, not where they
	// are staged.
	finalPaths(merged, st)
	if err := report.WriteAll(outDir, merged); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := st.Commit(); err != nil {
		return nil, fmt.Errorf("output folder %w", err)
	}
	merged.Predictions = nil // they were read from the staged folder
	for i := range res.Configs {
		c := &res.Configs[i]
		c.FloatPath, c.Int8Path, c.CalibPath = st.Final(c.FloatPath), st.Final(c.Int8Path), st.Final(c.CalibPath)
	}
	for _, k := range []string{report.FileJSON, report.FileMarkdown, report.FilePredictions, report.FileHTML} {
		res.Files[k] = filepath.Join(cfg.OutDir, k)
	}
	stage("reports written", t0)
	res.Total = time.Since(start)
	return res, nil
}

// finalPaths rewrites the model paths of r from the staged folder to the
// final one.
func finalPaths(r *report.Report, st *fileio.Stage) {
	for i := range r.Models {
		r.Models[i].Path = st.Final(r.Models[i].Path)
	}
	for si := range r.Splits {
		for mi := range r.Splits[si].Models {
			m := &r.Splits[si].Models[mi]
			m.Path = st.Final(m.Path)
		}
	}
}

// trainModel loads the images once and trains the plan's network.
func trainModel(ctx context.Context, cfg Config, trDS, valDS *dataset.Dataset, spec dataset.Spec, meta map[string][]byte, name string) (*graph.Graph, *train.Result, error) {
	trData, _, err := train.Load(ctx, trDS, spec, cfg.Threads, cfg.Progress, name)
	if err != nil {
		return nil, nil, err
	}
	var valData *train.Data
	if valDS.Len() > 0 {
		if valData, _, err = train.Load(ctx, valDS, spec, cfg.Threads, cfg.Progress, name+" val"); err != nil {
			return nil, nil, err
		}
	}
	modelMeta, err := train.ModelMeta(spec, trDS.Classes)
	if err != nil {
		return nil, nil, err
	}
	tcfg := train.Config{
		Meta:      modelMeta,
		Arch:      cfg.Plan.Arch,
		Epochs:    cfg.Plan.Epochs,
		BatchSize: cfg.Plan.BatchSize,
		Optim:     train.OptimConfig{Name: train.OptAdam, WeightDecay: train.DefaultWeightDecay(train.OptAdam)},
		Seed:      cfg.Seed,
		Threads:   cfg.Threads,
		Augment:   train.DefaultAugment(),
		Metadata:  meta,
	}
	r, err := train.Run(ctx, tcfg, trData, valData, cfg.Progress)
	if err != nil {
		return nil, nil, err
	}
	return r.Best.Graph(), r, nil
}

// quantizeModel calibrates on a seeded, stratified subsample of the model's
// own training data, as the study's converter was given it.
func quantizeModel(ctx context.Context, cfg Config, g *graph.Graph, trDS *dataset.Dataset, spec dataset.Spec) (*graph.Graph, *quant.Report, error) {
	calib := trDS.Subsample(cfg.Plan.CalibSamples, cfg.Seed+1)
	samples := func(yield func([]float32) error) error {
		_, err := dataset.Stream(ctx, calib.Samples, spec, dataset.StreamOptions{Workers: cfg.Threads}, func(it dataset.Item) error {
			return yield(it.Data)
		})
		return err
	}
	return quant.Quantize(ctx, g, samples, quant.Options{Threads: cfg.Threads})
}

func writeCalibration(path string, r *quant.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
