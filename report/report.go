// Package report renders the result of a model comparison: report.json
// (versioned schema "qbench.compare/v1"), report.md in the study's table
// layouts, predictions.csv, a self-contained offline report.html with SVG
// plots, and a compact terminal summary. It only renders: every number
// comes from package metrics.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qbench/qbench/metrics"
)

// Schema identifies the report.json format; bump it on incompatible changes.
const Schema = "qbench.compare/v1"

// Report is everything a comparison found. Models and Pairs repeat the
// results of the first split so simple consumers need not look into
// Splits; Splits holds every split, the first one included.
type Report struct {
	Schema   string   `json:"schema"`
	Classes  []string `json:"classes"`
	Settings Settings `json:"settings"`
	// DataRoot is the dataset directory sample paths are relative to.
	DataRoot string       `json:"data_root"`
	Models   []ModelEntry `json:"models"`
	Pairs    []PairEntry  `json:"pairs"`
	Splits   []Split      `json:"splits"`
	// ClassOrder, when set, warns that a model's outputs look like the
	// right classes in another order (see metrics.DiagnoseClassOrder).
	ClassOrder *ClassOrderNote `json:"class_order,omitempty"`

	// Generator names the qbench build that wrote the report (module
	// version, VCS revision, Go version; see package version).
	Generator string `json:"generator,omitempty"`
	// Seed is the --seed of the run (it picks subsamples and, in the
	// demo, the data, training and calibration); nil when not known.
	Seed *int64 `json:"seed,omitempty"`
	// Reference holds published results to set beside ours (the study's
	// accuracies when the demo re-runs it); empty for other data.
	Reference []Reference `json:"reference,omitempty"`

	// Created is when the report was made, shown in report.html's header.
	// It stays out of report.json, which the same inputs reproduce byte
	// for byte; the zero time shows none.
	Created time.Time `json:"-"`

	// SuggestedLabels, when set, is the label map that fixes ClassOrder;
	// WriteAll writes it as suggested-labels.yaml.
	SuggestedLabels []byte `json:"-"`

	// Predictions, when set, supplies the rows of predictions.csv. It is
	// not part of report.json: per-sample outputs can be far larger than
	// the report and live on disk.
	Predictions Predictions `json:"-"`
}

// Settings records how the metrics were computed.
type Settings struct {
	TieRule       string  `json:"tie_rule"`
	HistBins      int     `json:"hist_bins"`
	ECEBins       int     `json:"ece_bins"`
	NLLClamp      float64 `json:"nll_clamp"`
	KLEpsilon     float64 `json:"kl_epsilon"`
	DivergenceLog string  `json:"divergence_log"`
	WilsonZ       float64 `json:"wilson_z"`
	TopK          []int   `json:"top_k"`
	// IntegerRounding is the integer arithmetic quantized models ran with:
	// "runtime" (the TFLite runtime on CPU with its XNNPACK delegate),
	// "single" (TFLite's builtin kernels) or "double" (TFLite's reference
	// kernels and TFLite Micro); see interp.Options.Rounding.
	IntegerRounding string `json:"integer_rounding,omitempty"`
}

// DefaultSettings returns the settings matching package metrics.
func DefaultSettings(topK []int) Settings {
	return Settings{
		TieRule: metrics.TieRule, HistBins: metrics.HistBins, ECEBins: metrics.ECEBins,
		NLLClamp: metrics.NLLClamp, KLEpsilon: metrics.KLEpsilon, DivergenceLog: "natural (nats)",
		WilsonZ: metrics.WilsonZ, TopK: append([]int{}, topK...),
	}
}

// ModelInfo describes one compared model.
type ModelInfo struct {
	Name string `json:"name"`
	// Path is the model file ("" for a graph built in code).
	Path string `json:"path"`
	// SHA256 is the hex digest of the model file ("" without a file).
	SHA256 string `json:"sha256"`
	// InputType and OutputType are the graph's input and output dtypes.
	InputType  string `json:"input_type"`
	OutputType string `json:"output_type"`
	// Quantized is set by compare when the graph computes in integers
	// (any integer tensor with quantization parameters); see
	// ModelInfo.IsQuantized for the rule reports use.
	Quantized bool `json:"quantized"`
	// Preprocess is the preprocessing spec the model's inputs were made
	// with, as the compact JSON the model stores (or the default used).
	Preprocess string `json:"preprocess"`
	// Output says which output was taken as the class scores when the
	// model has several ("" for a single-output model).
	Output string `json:"output,omitempty"`
	// Size is the model file's size in bytes (0 without a file).
	Size int64 `json:"size,omitempty"`
	// Quantization says what the graph's tensors show about how it was
	// quantized (weights per channel or per tensor, activation type),
	// e.g. "int8 activations, int8 weights per channel (6 ops)".
	Quantization string `json:"quantization,omitempty"`
}

// Reference is a published result set beside ours in the reports' accuracy
// tables: the accuracy Source found for the float (Quantized false) or the
// quantized model on a split of the same name.
type Reference struct {
	Source    string  `json:"source"`
	Split     string  `json:"split"`
	Quantized bool    `json:"quantized"`
	Accuracy  float64 `json:"accuracy"`
}

// StudySource names the quantization study the demo re-runs.
const StudySource = "the quantization study (seed/quantization-study.md)"

// StudyReference returns the study's published accuracies: float 99.85% and
// int8 96.93% on the full configuration, 99.83% and 58.14% on the
// verification configuration. The demo sets them beside its own numbers.
func StudyReference() []Reference {
	return []Reference{
		{StudySource, "full", false, 0.9985}, {StudySource, "full", true, 0.9693},
		{StudySource, "verification", false, 0.9983}, {StudySource, "verification", true, 0.5814},
	}
}

// referenceFor returns the reference accuracy for model m on split, if any.
func (r *Report) referenceFor(split string, m ModelInfo) (Reference, bool) {
	return r.ReferenceFor(split, m.IsQuantized())
}

// ReferenceFor returns the published result for the float (quantized
// false) or quantized model on split, if the report has one.
func (r *Report) ReferenceFor(split string, quantized bool) (Reference, bool) {
	for _, ref := range r.Reference {
		if ref.Split == split && ref.Quantized == quantized {
			return ref, true
		}
	}
	return Reference{}, false
}

// ClassOrderNote is the class-order warning of a report.
type ClassOrderNote struct {
	// Model and Split name where the diagnosis was made.
	Model string `json:"model"`
	Split string `json:"split"`
	metrics.ClassOrder
	// Message is the warning as printed; it contains "class order".
	Message string `json:"message"`
}

// SkippedFile is a sample that could not be decoded.
type SkippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// ModelEntry is one model's results on one split.
type ModelEntry struct {
	ModelInfo
	metrics.ModelResult
	// BySplit names the model file used on every split. It is filled in
	// the top-level Models of report.json only (by Report.JSON), whose
	// results are the first split's: a run may evaluate each split with
	// its own files (the demo trains one float and one int8 model per
	// configuration).
	BySplit []SplitModel `json:"by_split,omitempty"`
}

// SplitModel names the file a model was on one split.
type SplitModel struct {
	Split  string `json:"split"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// bySplit lists, for the i-th model, the file it was on every split.
func (r *Report) bySplit(i int) []SplitModel {
	var out []SplitModel
	for _, s := range r.Splits {
		if i < len(s.Models) {
			m := s.Models[i]
			out = append(out, SplitModel{Split: s.Name, Path: m.Path, SHA256: m.SHA256})
		}
	}
	return out
}

// Flip is a sample whose correctness changed between the pair's models.
type Flip struct {
	Index int    `json:"index"`
	Path  string `json:"path"`
	Label int    `json:"label"`
	PredA int    `json:"pred_a"`
	PredB int    `json:"pred_b"`
	// ProbA and ProbB are the true class's probability under each model.
	ProbA float64 `json:"prob_a"`
	ProbB float64 `json:"prob_b"`
	// Direction is "correct_to_wrong" or "wrong_to_correct".
	Direction string `json:"direction"`
}

// PairEntry compares model A (the first model) with model B.
type PairEntry struct {
	A string `json:"a"`
	B string `json:"b"`
	metrics.PairResult
	// Flips lists up to MaxFlips flipped samples, in sample order.
	Flips []Flip `json:"flips"`
}

// MaxFlips bounds the flipped samples kept per pair and split.
const MaxFlips = 48

// Split holds all results of one split.
type Split struct {
	Name string `json:"name"`
	// N counts the samples every model saw; Skipped those that could
	// not be decoded and were left out of every metric.
	N       int `json:"n"`
	Skipped int `json:"skipped"`
	// SkippedFiles names the skipped samples and why (at most 100; nil
	// when none was skipped).
	SkippedFiles []SkippedFile `json:"skipped_files,omitempty"`
	Models       []ModelEntry  `json:"models"`
	Pairs        []PairEntry   `json:"pairs"`
	// Roles says, for each model that records the images it trained and
	// validated on (models qbench trains do), what this split is to it:
	// test data, or not (Warning set); nil when no model records it.
	Roles []RoleNote `json:"roles,omitempty"`
}

// RoleNote is the role of a split's images for one model.
type RoleNote struct {
	Model   string `json:"model"`
	Note    string `json:"note"`
	Warning bool   `json:"warning,omitempty"`
}

// PredictionRow is one row of predictions.csv: one sample seen by one model.
type PredictionRow struct {
	Path  string
	Split string
	Label int
	Model string
	Pred  int
	Probs []float32
}

// Predictions streams prediction rows in a fixed order.
type Predictions interface {
	Each(fn func(PredictionRow) error) error
}

// Validate checks the report's internal consistency so renderers can
// index without bounds surprises.
func (r *Report) Validate() error {
	if r == nil {
		return errors.New("report: nil report")
	}
	k := len(r.Classes)
	if k == 0 {
		return errors.New("report: no classes")
	}
	if len(r.Splits) == 0 {
		return errors.New("report: no splits")
	}
	for _, s := range r.Splits {
		for _, m := range s.Models {
			if len(m.Confusion) != k || len(m.CertaintyHist) != metrics.HistBins || len(m.OutputHist) != metrics.HistBins {
				return fmt.Errorf("report: split %q model %q: results do not match %d classes", s.Name, m.Name, k)
			}
		}
		for _, p := range s.Pairs {
			if len(p.ConfusionDelta) != k || len(p.PerClass) != k {
				return fmt.Errorf("report: split %q pair %s/%s: results do not match %d classes", s.Name, p.A, p.B, k)
			}
		}
		if len(s.Models) != len(r.Splits[0].Models) {
			return fmt.Errorf("report: split %q has %d models, split %q has %d", s.Name, len(s.Models), r.Splits[0].Name, len(r.Splits[0].Models))
		}
	}
	return nil
}

// JSON returns report.json's bytes (indented, trailing newline).
// The encoding is deterministic: the same report gives the same bytes.
func (r *Report) JSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	// The top-level models say which file each was on every split; the
	// caller's report is left as it is.
	cp := *r
	if r.Models != nil {
		cp.Models = make([]ModelEntry, len(r.Models))
	}
	for i, m := range r.Models {
		m.BySplit = r.bySplit(i)
		cp.Models[i] = m
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(&cp); err != nil {
		return nil, fmt.Errorf("report: encode JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// Files written by WriteAll.
const (
	FileJSON        = "report.json"
	FileMarkdown    = "report.md"
	FileHTML        = "report.html"
	FilePredictions = "predictions.csv"
	// FileSuggestedLabels is the label map fixing a class-order mistake
	// (written only when Report.SuggestedLabels is set).
	FileSuggestedLabels = "suggested-labels.yaml"
)

// IsOutputName reports whether name is one the report-writing commands
// (compare, explain, demo) put into a report folder, or a temporary file of
// theirs. A report folder holding anything else is not replaced (see
// fileio.NewStage): it may be the user's own folder given by mistake.
func IsOutputName(name string) bool {
	switch name {
	case FileJSON, FileMarkdown, FileHTML, FilePredictions, FileSuggestedLabels,
		"outputs.bin",                                                        // compare.OutputsFile
		"explain.json", "explain.html", "mixed.tflite", "requantized.tflite", // explain
		"models", "work": // demo's models and per-configuration work folders
		return true
	}
	return strings.Contains(name, ".tmp")
}

// WriteAll writes report.json, report.md, report.html and, when
// r.Predictions is set, predictions.csv into dir (created if needed).
// Each file is written to a temporary name and renamed, so a failed run
// never leaves a truncated report behind.
func WriteAll(dir string, r *Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("create %s: %w", dir, reason(err))
	}
	js, err := r.JSON()
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, FileJSON), func(f *os.File) error { _, err := f.Write(js); return err }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, FileMarkdown), func(f *os.File) error { return WriteMarkdown(f, r) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, FileHTML), func(f *os.File) error { return WriteHTML(f, r) }); err != nil {
		return err
	}
	if r.SuggestedLabels != nil {
		if err := writeFile(filepath.Join(dir, FileSuggestedLabels), func(f *os.File) error { _, err := f.Write(r.SuggestedLabels); return err }); err != nil {
			return err
		}
	}
	if r.Predictions != nil {
		if err := writeFile(filepath.Join(dir, FilePredictions), func(f *os.File) error { return WritePredictionsCSV(f, r) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, fill func(*os.File) error) error {
	// Write to a temporary name and rename, so a failed run never leaves
	// a half-written file under the final name. Errors name the final
	// path once and keep only the system's reason.
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("%s: %w", path, reason(err))
	}
	if err := fill(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, reason(err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, reason(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, reason(err))
	}
	return nil
}

// reason strips the operation and path from file-system errors (the
// caller names the file).
func reason(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// className returns the name of class i, or its index.
func (r *Report) className(i int) string {
	if i >= 0 && i < len(r.Classes) && r.Classes[i] != "" {
		return r.Classes[i]
	}
	return fmt.Sprint(i)
}

// IsQuantized decides whether a model counts as the quantized one in the
// study's float-vs-quantized tables: Quantized (set from the graph by
// compare), else an integer input or output type (int8, uint8, int16),
// else a name or file name containing "int8", "uint8", "int16", "quant"
// or "q8" (case-insensitive), which covers hand-built reports.
func (m ModelInfo) IsQuantized() bool {
	if m.Quantized {
		return true
	}
	for _, t := range []string{m.InputType, m.OutputType} {
		switch t {
		case "int8", "uint8", "int16":
			return true
		}
	}
	for _, s := range []string{m.Name, filepath.Base(m.Path)} {
		s = strings.ToLower(s)
		for _, w := range []string{"int8", "uint8", "int16", "quant", "q8"} {
			if strings.Contains(s, w) {
				return true
			}
		}
	}
	return false
}
