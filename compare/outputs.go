package compare

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/metrics"
	"github.com/qbench/qbench/report"
)

// outputs is the on-disk store of every output vector (see OutputsFile).
// Workers write records at fixed offsets, so the file's contents do not
// depend on which worker finished first.
type outputs struct {
	path string
	f    *os.File // open while inference runs
	m, k int
	base []int64 // byte offset of each split
	n    []int   // samples per split
	// skips lists, per split, every sample a decoder skipped, group by
	// group in sample order (Infer's result).
	skips [][]Skip
	// invalid marks, per split, the samples some group skipped: they are
	// left out of every metric (Summarize's input).
	invalid [][]bool
}

// Skip is a sample one preprocessing group could not decode. Models with
// the same preprocessing form a group (in the order of their first
// model); a sample skipped by any group is left out of every metric.
type Skip struct {
	// Index is the sample's position in its split.
	Index int
	// Group is the preprocessing group that skipped it.
	Group int
	// Path is the sample's path as reports show it (relative to
	// Config.DataRoot when inside it); Reason says why.
	Path, Reason string
}

// Inference is what Infer found besides the outputs file: the models'
// descriptions and, per split, the skipped samples.
type Inference struct {
	Models []report.ModelInfo
	Skips  [][]Skip
}

// maxSkippedFiles bounds the skipped files a report lists per split (the
// count is always exact).
const maxSkippedFiles = 100

// skippedFiles lists a split's skipped samples as the report shows them:
// in group then sample order, each path once, at most maxSkippedFiles.
func skippedFiles(skips []Skip) []report.SkippedFile {
	var files []report.SkippedFile
	have := map[string]bool{}
	for _, s := range skips {
		if have[s.Path] || len(files) >= maxSkippedFiles {
			continue
		}
		have[s.Path] = true
		files = append(files, report.SkippedFile{Path: s.Path, Reason: s.Reason})
	}
	return files
}

// addProblems records the skipped samples of one decoding pass of group
// g; decoded marks the samples it handed over. Stream reports problems in
// sample order, one per sample it did not hand over, which gives each
// problem its index.
func (o *outputs) addProblems(split, g int, root string, decoded []bool, ps []dataset.Problem) error {
	for o.skips == nil || len(o.skips) <= split {
		o.skips = append(o.skips, nil)
	}
	next := 0
	for i, ok := range decoded {
		if ok {
			continue
		}
		if next >= len(ps) {
			return fmt.Errorf("sample %d was neither decoded nor reported", i)
		}
		p := ps[next]
		next++
		// The message may repeat the path; the report shows it once.
		reason := report.ValidText(strings.TrimPrefix(p.Msg, p.Path+": "))
		o.skips[split] = append(o.skips[split], Skip{Index: i, Group: g, Path: relPath(root, p.Path), Reason: reason})
	}
	if next != len(ps) {
		return fmt.Errorf("%d problems reported for %d undecoded samples", len(ps), next)
	}
	return nil
}

func newOutputs(path string, splits []SplitSpec, m, k int) (*outputs, error) {
	o := openOutputs(path, splits, m, k)
	off := o.size()
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("outputs file: %w", err)
	}
	if err := f.Truncate(off); err != nil {
		f.Close()
		return nil, fmt.Errorf("size %s to %d bytes: %w", path, off, err)
	}
	o.f = f
	return o, nil
}

// openOutputs describes the outputs file at path for splits without
// touching it (Summarize reads it, package shard writes it).
func openOutputs(path string, splits []SplitSpec, m, k int) *outputs {
	o := &outputs{path: path, m: m, k: k, skips: make([][]Skip, len(splits))}
	var off int64
	rec := int64(m) * int64(k) * 4
	for _, s := range splits {
		o.base = append(o.base, off)
		o.n = append(o.n, len(s.Samples))
		o.invalid = append(o.invalid, make([]bool, len(s.Samples)))
		off += int64(len(s.Samples)) * rec
	}
	return o
}

// size is the file's length in bytes.
func (o *outputs) size() int64 {
	if len(o.base) == 0 {
		return 0
	}
	last := len(o.base) - 1
	return o.base[last] + int64(o.n[last])*int64(o.m)*int64(o.k)*4
}

func (o *outputs) offset(split, i, m int) int64 {
	return o.base[split] + (int64(i)*int64(o.m)+int64(m))*int64(o.k)*4
}

// write stores model m's output for sample i; scratch is the caller's
// reusable byte buffer (returned, possibly grown).
func (o *outputs) write(split, i, m int, v []float32, scratch []byte) ([]byte, error) {
	if len(v) != o.k {
		return scratch, fmt.Errorf("output has %d values, want %d", len(v), o.k)
	}
	scratch = scratch[:0]
	for _, x := range v {
		scratch = binary.LittleEndian.AppendUint32(scratch, math.Float32bits(x))
	}
	if _, err := o.f.WriteAt(scratch, o.offset(split, i, m)); err != nil {
		return scratch, fmt.Errorf("write %s: %w", o.path, err)
	}
	return scratch, nil
}

// finish closes the file after inference.
func (o *outputs) finish() error {
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", o.path, err)
	}
	return nil
}

func (o *outputs) close() { _ = o.finish() }

func (o *outputs) valid(split, i int) bool { return !o.invalid[split][i] }

// each reads split's records in sample order and calls fn for every valid
// sample with one vector per model (reused between calls).
func (o *outputs) each(split int, fn func(i int, v [][]float32) error) error {
	f, err := os.Open(o.path)
	if err != nil {
		return fmt.Errorf("outputs file: %w", err)
	}
	defer f.Close()
	rec := o.m * o.k * 4
	sec := io.NewSectionReader(f, o.base[split], int64(o.n[split])*int64(rec))
	br := bufio.NewReaderSize(sec, 1<<16)
	buf := make([]byte, rec)
	v := make([][]float32, o.m)
	for m := range v {
		v[m] = make([]float32, o.k)
	}
	for i := range o.n[split] {
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("read %s: %w", o.path, err)
		}
		if !o.valid(split, i) {
			continue
		}
		for m := range o.m {
			for c := range o.k {
				off := (m*o.k + c) * 4
				v[m][c] = math.Float32frombits(binary.LittleEndian.Uint32(buf[off:]))
			}
		}
		if err := fn(i, v); err != nil {
			return err
		}
	}
	return nil
}

// summarize computes the metrics of one split from the outputs file.
func summarize(cfg Config, si int, s SplitSpec, models []report.ModelInfo, skips []Skip, topK []int, out *outputs) (report.Split, error) {
	k := len(cfg.Classes)
	accs := make([]*metrics.Model, len(models))
	for m := range models {
		a, err := metrics.NewModel(k, topK)
		if err != nil {
			return report.Split{}, err
		}
		accs[m] = a
	}
	pairs := make([]*metrics.Pair, len(models)-1)
	flips := make([][]report.Flip, len(models)-1)
	for p := range pairs {
		pr, err := metrics.NewPair(k)
		if err != nil {
			return report.Split{}, err
		}
		pairs[p] = pr
		flips[p] = []report.Flip{}
	}
	n := 0
	err := out.each(si, func(i int, v [][]float32) error {
		n++
		label := s.Samples[i].Label
		for m, a := range accs {
			if err := a.Add(label, v[m]); err != nil {
				return fmt.Errorf("split %q sample %s model %s: %w", s.Name, s.Samples[i].Path, models[m].Name, err)
			}
		}
		predA := metrics.Argmax(v[0])
		for p, pr := range pairs {
			if err := pr.Add(label, v[0], v[p+1]); err != nil {
				return fmt.Errorf("split %q sample %s: %w", s.Name, s.Samples[i].Path, err)
			}
			predB := metrics.Argmax(v[p+1])
			if (predA == label) != (predB == label) && len(flips[p]) < report.MaxFlips {
				dir := "correct_to_wrong"
				if predB == label {
					dir = "wrong_to_correct"
				}
				flips[p] = append(flips[p], report.Flip{
					Index: i, Path: relPath(cfg.DataRoot, s.Samples[i].Path), Label: label, PredA: predA, PredB: predB,
					ProbA: float64(v[0][label]), ProbB: float64(v[p+1][label]), Direction: dir,
				})
			}
		}
		return nil
	})
	if err != nil {
		return report.Split{}, err // names the split, sample or file
	}
	sp := report.Split{Name: s.Name, N: n, Skipped: len(s.Samples) - n}
	sp.SkippedFiles = skippedFiles(skips)
	for m, a := range accs {
		sp.Models = append(sp.Models, report.ModelEntry{ModelInfo: models[m], ModelResult: a.Result(cfg.Classes)})
	}
	sp.Pairs = []report.PairEntry{}
	for p, pr := range pairs {
		sp.Pairs = append(sp.Pairs, report.PairEntry{
			A: models[0].Name, B: models[p+1].Name, PairResult: pr.Result(cfg.Classes), Flips: flips[p],
		})
	}
	return sp, nil
}

// relPath makes p relative to root when it lies inside it, with forward
// slashes so reports read the same on every OS, and bytes that are not
// UTF-8 escaped (report.ValidText).
func relPath(root, p string) string {
	if root == "" {
		return report.ValidText(filepath.ToSlash(p))
	}
	r, err := filepath.Rel(root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return report.ValidText(filepath.ToSlash(p))
	}
	return report.ValidText(filepath.ToSlash(r))
}

// predictions streams predictions.csv rows from the outputs file.
type predictions struct {
	out   *outputs
	cfg   Config
	names []string
}

func (p *predictions) Each(fn func(report.PredictionRow) error) error {
	for si, s := range p.cfg.Splits {
		err := p.out.each(si, func(i int, v [][]float32) error {
			smp := s.Samples[i]
			for m, name := range p.names {
				row := report.PredictionRow{Path: relPath(p.cfg.DataRoot, smp.Path), Split: s.Name, Label: smp.Label,
					Model: name, Pred: metrics.Argmax(v[m]), Probs: v[m]}
				if err := fn(row); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// finishSplit closes the file after the last split's inference.
func (o *outputs) finishSplit(last bool) error {
	if !last {
		return nil
	}
	return o.finish()
}
