// Package compare runs several classifiers (typically a float model and
// its quantized versions) over the same labelled samples and gathers
// everything package metrics computes into a report.Report.
//
// Every model sees every sample with its own preprocessing (the spec
// stored with the model, or a given one). Images are decoded once per
// distinct spec, inference runs in parallel workers with one executor per
// worker and model, and the per-sample output vectors are written to a
// binary file in Config.OutDir rather than kept in memory; the metrics and
// predictions.csv are computed from that file in sample order, so the
// same inputs always give the same report.
//
//	r, err := compare.Run(ctx, compare.Config{
//		Models:  []compare.ModelSpec{{Name: "float", Path: "f.tflite"}, {Name: "int8", Path: "q.tflite"}},
//		Splits:  []compare.SplitSpec{{Name: "val", Samples: ds.Samples}},
//		Classes: ds.Classes, DataRoot: ds.Root, OutDir: "report",
//	})
//	if err == nil { err = report.WriteAll("report", r) }
package compare

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/progress"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/tflite"
	"github.com/qbench/qbench/version"

	"github.com/qbench/qbench/internal/fileio"
)

// ModelSpec names one model to compare.
type ModelSpec struct {
	// Name is shown in reports; "" uses Path's base name without extension.
	Name string
	// Path is a .tflite file, read when Graph is nil.
	Path string
	// Graph is a model built or loaded in code; it takes precedence.
	Graph *graph.Graph
	// Spec overrides the preprocessing stored with the model.
	Spec *dataset.Spec
	// OutputName picks the classifier output of a model with several
	// (a tensor name or an output index); "" picks the only output with
	// one value per class (graph.ClassifierOutput).
	OutputName string
}

// SplitSpec is one set of samples to evaluate (e.g. full, verification).
type SplitSpec struct {
	Name    string
	Samples []dataset.Sample
}

// Config configures Run.
type Config struct {
	// Models to compare; the first is the reference every other model is
	// paired with.
	Models []ModelSpec
	// Splits to run, each into its own section of the report.
	Splits []SplitSpec
	// Classes names the labels; its length must equal every model's
	// number of outputs.
	Classes []string
	// DataRoot is the dataset folder; sample paths are reported relative
	// to it.
	DataRoot string
	// Workers is the number of decoding goroutines and of inference
	// goroutines (<= 0: 2).
	Workers int
	// OutDir receives outputs.bin, the per-sample outputs (see
	// OutputsFile); it is created if needed.
	OutDir string
	// Progress reports images/s and ETA per split (nil: silent).
	Progress *progress.Reporter
	// TopK lists the k of top-k accuracy (nil: 1 and 5).
	TopK []int
	// DefaultSpec preprocesses models that store no spec (nil: derived
	// from the input shape with dataset.DefaultSpec).
	DefaultSpec *dataset.Spec
	// Load, when set, produces a sample's image instead of reading its
	// file (tests, in-memory sources).
	Load func(dataset.Sample) (image.Image, error)
	// Rounding is the integer arithmetic of quantized models (see
	// interp.Options.Rounding). The zero value is TFLite's reference
	// arithmetic; the CLI passes fixedpoint.RuntimeRounding, the TFLite
	// runtime's, so compare agrees with `qbench run` and real TFLite.
	Rounding fixedpoint.Rounding
	// MaxArenaBytes bounds each executor's activation memory (see
	// interp.Options.MaxArenaBytes; 0: its default).
	MaxArenaBytes int64
	// Batch is the most images an inference worker runs through a model
	// at once (<= 0: 16; 1: one at a time). A worker takes what is
	// already decoded, up to Batch, and never waits for a full batch;
	// outputs are bit-identical whatever the batch (a model whose batched
	// outputs would differ runs image by image). Large inputs get smaller
	// batches so one batch's input stays within 4 MB.
	Batch int
	// Preprocess overrides what models say about their preprocessing
	// (dataset.ResolveSpec); ModelSpec.Spec and DefaultSpec bypass it.
	Preprocess dataset.SpecFlags
	// Warn, when set, receives warnings about the run, e.g. a model that
	// received values far outside the range it expects
	// (dataset.CheckInputRange).
	Warn func(string)
	// Note, when set, receives what ResolveSpec took from a model's
	// metadata or quantization or assumed, once per model.
	Note func(string)
	// LabelMap is the dataset's label map ("" when none): a suggested
	// label map keeps its splits and ignored folders.
	LabelMap string
	// Seed, when set, is recorded in the report (the seed that chose a
	// subsample, or made the data and models).
	Seed *int64
	// Created, when set, is shown as the report's date in report.html
	// (report.json stays free of it).
	Created time.Time
}

// OutputsFile is the name, in Config.OutDir, of the binary file holding
// every output vector: for split s, sample i and model m, K little-endian
// float32 values at offset splitBase(s) + ((i·M)+m)·K·4, splits back to
// back in order. Samples that failed to decode hold zeros and are excluded
// from every metric.
const OutputsFile = "outputs.bin"

// model is a compiled model ready to run.
type model struct {
	info report.ModelInfo
	prog *interp.Program
	// progB is prog compiled at batch batch and checked against it (nil,
	// batch 1: image by image only).
	progB *interp.Program
	batch int
	spec  dataset.Spec
	key   string // spec JSON: models with equal keys share decoding
	// seen is the range of the values the model received.
	seen dataset.ValueRange
}

// Run compares the models on every split and returns the report (write it
// with report.WriteAll(cfg.OutDir, r)). The report's Predictions read the
// outputs file, which must stay in place until predictions.csv is written.
// It is Infer followed by Summarize.
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	inf, err := Infer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return Summarize(cfg, inf)
}

// checkConfig applies cfg's defaults and checks what both Infer and
// Summarize rely on; it returns the top-k values kept for k classes.
func checkConfig(cfg *Config) ([]int, error) {
	if len(cfg.Splits) == 0 {
		return nil, errors.New("no splits")
	}
	k := len(cfg.Classes)
	if k == 0 {
		return nil, errors.New("no classes")
	}
	if cfg.OutDir == "" {
		return nil, errors.New("no output directory")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Batch <= 0 {
		cfg.Batch = defaultBatch
	}
	keep := ReportedTopK(cfg.TopK, k)
	seenSplit := map[string]bool{}
	for _, s := range cfg.Splits {
		if seenSplit[s.Name] {
			return nil, fmt.Errorf("split %q given twice", s.Name)
		}
		seenSplit[s.Name] = true
		for _, smp := range s.Samples {
			if smp.Label < 0 || smp.Label >= k {
				return nil, fmt.Errorf("split %q: sample %s has label %d outside the %d classes", s.Name, smp.Path, smp.Label, k)
			}
		}
	}
	return keep, nil
}

// ReportedTopK returns the k of top-k accuracy a report gives for
// Config.TopK topK and k classes: 1 and 5 when topK is nil, values
// outside 1..k dropped.
func ReportedTopK(topK []int, k int) []int {
	if topK == nil {
		topK = []int{1, 5}
	}
	keep := []int{}
	for _, t := range topK {
		if t >= 1 && t <= k {
			keep = append(keep, t)
		}
	}
	return keep
}

// Infer runs every model over every split and writes the output vectors
// to cfg.OutDir/OutputsFile; Summarize turns them into the report. The
// split is for sharded runs (package shard), which infer on part of the
// samples on several machines and summarize once, over all of them.
func Infer(ctx context.Context, cfg Config) (*Inference, error) {
	if len(cfg.Models) == 0 {
		return nil, errors.New("no models")
	}
	if _, err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	models, err := loadModels(cfg, len(cfg.Classes))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.OutDir, 0o777); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", pe.Path, pe.Err) // the part of the path that failed
		}
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	out, err := newOutputs(filepath.Join(cfg.OutDir, OutputsFile), cfg.Splits, len(models), len(cfg.Classes))
	if err != nil {
		return nil, err
	}
	for si := range cfg.Splits {
		if err := runSplit(ctx, cfg, si, models, out); err != nil {
			out.close()
			return nil, err
		}
	}
	if cfg.Warn != nil {
		for _, m := range models {
			if w := dataset.CheckInputRange(m.prog.Graph(), m.seen); w != "" {
				cfg.Warn(m.info.Name + ": " + w)
			}
		}
	}
	inf := &Inference{Skips: out.skips}
	for _, m := range models {
		inf.Models = append(inf.Models, m.info)
	}
	return inf, nil
}

// Summarize computes the report from the outputs file Infer wrote in
// cfg.OutDir (cfg.Models is not used: inf names the models). The same
// outputs, skips and config give the same report, byte for byte: every
// statistic is accumulated in sample order.
func Summarize(cfg Config, inf *Inference) (*report.Report, error) {
	keep, err := checkConfig(&cfg)
	if err != nil {
		return nil, err
	}
	if inf == nil || len(inf.Models) == 0 {
		return nil, errors.New("no models")
	}
	if len(inf.Skips) > len(cfg.Splits) {
		return nil, fmt.Errorf("skips for %d splits, config has %d", len(inf.Skips), len(cfg.Splits))
	}
	out := openOutputs(filepath.Join(cfg.OutDir, OutputsFile), cfg.Splits, len(inf.Models), len(cfg.Classes))
	for si, ss := range inf.Skips {
		for _, s := range ss {
			if s.Index < 0 || s.Index >= out.n[si] {
				return nil, fmt.Errorf("split %q: skipped sample %d outside its %d samples", cfg.Splits[si].Name, s.Index, out.n[si])
			}
			out.invalid[si][s.Index] = true
		}
	}
	settings := report.DefaultSettings(keep)
	settings.IntegerRounding = cfg.Rounding.String()
	r := &report.Report{
		Schema: report.Schema, Classes: append([]string(nil), cfg.Classes...),
		Settings: settings, DataRoot: cfg.DataRoot,
		Generator: version.Get().String(), Seed: cfg.Seed, Created: cfg.Created,
	}
	for si, s := range cfg.Splits {
		var skips []Skip
		if si < len(inf.Skips) {
			skips = inf.Skips[si]
		}
		sp, err := summarize(cfg, si, s, inf.Models, skips, keep, out)
		if err != nil {
			return nil, err
		}
		r.Splits = append(r.Splits, sp)
	}
	splitRoles(cfg, inf.Models, r)
	r.Models, r.Pairs = r.Splits[0].Models, r.Splits[0].Pairs
	if err := diagnoseClassOrder(cfg, r); err != nil {
		return nil, err
	}
	names := make([]string, len(inf.Models))
	for i, m := range inf.Models {
		names[i] = m.Name
	}
	r.Predictions = &predictions{out: out, cfg: cfg, names: names}
	return r, nil
}

// loadModels reads, compiles and checks every model against k classes.
func loadModels(cfg Config, k int) ([]*model, error) {
	var ms []*model
	names := map[string]bool{}
	for i, spec := range cfg.Models {
		m, err := loadModel(cfg, spec, k)
		if err != nil {
			return nil, fmt.Errorf("model %d (%s): %w", i+1, orPath(spec), err)
		}
		if names[m.info.Name] {
			return nil, fmt.Errorf("two models are named %q; give distinct names with --name", m.info.Name)
		}
		names[m.info.Name] = true
		ms = append(ms, m)
	}
	return ms, nil
}

func orPath(s ModelSpec) string {
	if s.Name != "" {
		return s.Name
	}
	if s.Path != "" {
		return s.Path
	}
	return "graph"
}

func loadModel(cfg Config, spec ModelSpec, k int) (*model, error) {
	g := spec.Graph
	info := report.ModelInfo{Name: spec.Name, Path: spec.Path}
	if g == nil {
		if spec.Path == "" {
			return nil, errors.New("neither a graph nor a path")
		}
		data, err := fileio.ReadFile(spec.Path, tflite.MaxFileBytes)
		if err != nil {
			// The caller names the path; keep only the reason.
			var fe *fileio.Error
			if errors.As(err, &fe) {
				return nil, fe.Err
			}
			return nil, err
		}
		sum := sha256.Sum256(data)
		info.SHA256 = hex.EncodeToString(sum[:])
		info.Size = int64(len(data))
		if g, err = tflite.Read(data); err != nil {
			return nil, err
		}
		// A usable model with broken optional parts (its metadata, its
		// packed label file) compares, but the user relying on those hears.
		if cfg.Warn != nil {
			for _, w := range g.Warnings {
				cfg.Warn(spec.Path + ": " + w)
			}
		}
	}
	if info.Name == "" {
		base := filepath.Base(spec.Path)
		info.Name = strings.TrimSuffix(base, filepath.Ext(base))
		if spec.Path == "" {
			info.Name = "model"
		}
	}
	if len(g.Outputs) > 1 || spec.OutputName != "" {
		i, why, err := graph.ClassifierOutput(g, spec.OutputName, k)
		if err != nil {
			return nil, err
		}
		if g, err = graph.WithOutputs(g, []int{i}); err != nil {
			return nil, err
		}
		info.Output = why
	}
	opts := interp.Options{Batch: 1, Rounding: cfg.Rounding, MaxArenaBytes: cfg.MaxArenaBytes}
	prog, err := interp.Compile(g, opts)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	if prog.NumInputs() != 1 || prog.NumOutputs() < 1 {
		return nil, fmt.Errorf("need one input and an output, model has %d inputs and %d outputs", prog.NumInputs(), prog.NumOutputs())
	}
	in, outT := prog.InputTensor(0), prog.OutputTensor(0)
	info.InputType, info.OutputType = in.DType.String(), outT.DType.String()
	info.Quantized = computesInIntegers(g)
	info.Quantization = describeQuantization(g, info.Quantized)
	if n := g.Float16Weights(); n > 0 && cfg.Note != nil {
		cfg.Note(fmt.Sprintf("%s is a float16-quantized model: %d float16 weight tensors, dequantized to float32 at load; it counts as a float model and computes in float32", info.Name, n))
	}
	if n := hybridOps(g); n > 0 && cfg.Note != nil {
		cfg.Note(fmt.Sprintf("%s is a hybrid (dynamic-range) model: int8 weights in %d ops, float activations; it counts as a float model and runs as TFLite's hybrid kernels compute (inputs quantized on the fly)", info.Name, n))
	}
	if n := outT.NumElements(); n != k {
		return nil, fmt.Errorf("output %q has %d values but the dataset has %d classes (a classifier for these classes needs one output per class)", outT.Name, n, k)
	}
	var ps dataset.Spec
	switch {
	case spec.Spec != nil:
		ps = *spec.Spec
	default:
		_, stored, err := dataset.SpecFromGraph(g)
		if err != nil {
			return nil, fmt.Errorf("preprocessing stored with the model: %w", err)
		}
		if !stored && cfg.DefaultSpec != nil {
			ps = *cfg.DefaultSpec
			break
		}
		var notes []string
		if ps, notes, err = dataset.ResolveSpec(g, cfg.Preprocess); err != nil {
			return nil, err
		}
		if cfg.Note != nil {
			for _, n := range notes {
				cfg.Note(info.Name + ": " + n)
			}
		}
	}
	if err := ps.CheckShape(in.Shape); err != nil {
		return nil, fmt.Errorf("preprocessing does not fit input %q: %w", in.Name, err)
	}
	js, err := ps.Marshal()
	if err != nil {
		return nil, fmt.Errorf("preprocessing: %w", err)
	}
	info.Preprocess = string(js)
	m := &model{info: info, prog: prog, spec: ps, key: string(js), batch: 1}
	if b := batchSize(cfg.Batch, in.NumElements()); b > 1 {
		if m.progB = compileBatch(g, opts, prog, b); m.progB != nil {
			m.batch = b
		}
	}
	return m, nil
}

// computesInIntegers reports whether some non-constant tensor of g is an
// integer tensor with quantization parameters (int8/uint8/int16/int4
// activations): a post-training-quantized model, even one whose input and
// output stay float32. A hybrid model (int8 weights only) computes in float.
func computesInIntegers(g *graph.Graph) bool {
	for _, t := range g.Tensors {
		if t.IsConst() {
			// Constant int8 weights alone make a hybrid model, which
			// computes in float.
			continue
		}
		switch t.DType {
		case graph.Int8, graph.UInt8, graph.Int16, graph.Int4:
			if t.Quant != nil && len(t.Quant.Scale) > 0 {
				return true
			}
		}
	}
	return false
}

// hybridOps counts the CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED ops
// with float32 input and constant int8 weights.
func hybridOps(g *graph.Graph) int {
	n := 0
	for _, op := range g.Ops {
		switch op.Kind {
		case graph.OpConv2D, graph.OpDepthwiseConv2D, graph.OpFullyConnected:
		default:
			continue
		}
		if len(op.Inputs) < 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 {
			continue
		}
		in, w := g.Tensor(op.Inputs[0]), g.Tensor(op.Inputs[1])
		if in != nil && w != nil && in.DType == graph.Float32 && w.DType == graph.Int8 && w.IsConst() {
			n++
		}
	}
	return n
}

// describeQuantization says what g's tensors show about how it was
// quantized: the activation type, and the weights of CONV_2D,
// DEPTHWISE_CONV_2D and FULLY_CONNECTED (type, per channel or per
// tensor, how many ops). The report's header shows it beside the file.
func describeQuantization(g *graph.Graph, integer bool) string {
	acts := map[string]bool{}
	for _, t := range g.Tensors {
		if !t.IsConst() && t.Quant != nil && len(t.Quant.Scale) > 0 {
			switch t.DType {
			case graph.Int8, graph.UInt8, graph.Int16, graph.Int4:
				acts[t.DType.String()] = true
			}
		}
	}
	weights := map[string]int{}
	for _, op := range g.Ops {
		switch op.Kind {
		case graph.OpConv2D, graph.OpDepthwiseConv2D, graph.OpFullyConnected:
		default:
			continue
		}
		if len(op.Inputs) < 2 || op.Inputs[1] < 0 {
			continue
		}
		w := g.Tensor(op.Inputs[1])
		if w == nil || !w.IsConst() {
			continue
		}
		kind := w.DType.String()
		switch {
		case w.Quant.PerChannel():
			kind += " per channel"
		case w.Quant != nil && len(w.Quant.Scale) == 1:
			kind += " per tensor"
		}
		weights[kind]++
	}
	var parts []string
	switch {
	case integer:
		parts = append(parts, strings.Join(sortedKeys(acts), "/")+" activations")
	case hybridOps(g) > 0:
		parts = append(parts, "hybrid: float32 activations")
	default:
		parts = append(parts, "float32 activations")
	}
	if n := g.Float16Weights(); n > 0 {
		parts = append(parts, fmt.Sprintf("float16 weights (%d %s, dequantized at load)", n, plural(n, "tensor", "tensors")))
	}
	kinds := make([]string, 0, len(weights))
	for k := range weights {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		n := weights[k]
		parts = append(parts, fmt.Sprintf("%s weights (%d %s)", k, n, plural(n, "op", "ops")))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
