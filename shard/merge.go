package shard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/internal/fileio"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/report"
)

// Merge reads the partials at paths — one per shard of one run, in any
// order — and returns the run's report, with compare's outputs file
// written to outDir (write the rest with report.WriteAll(outDir, r)).
// version is the merging qbench's (see Job.Version): the statistics are
// computed here, so partials of another build are refused too ("" skips
// that check). Errors name the partial concerned: another run's partial,
// a missing or duplicate shard, a damaged file.
func Merge(ctx context.Context, paths []string, outDir, version string) (*report.Report, error) {
	if len(paths) == 0 {
		return nil, errors.New("no partials to merge")
	}
	if outDir == "" {
		return nil, errors.New("no output directory")
	}
	heads := make([]*Header, len(paths))
	for i, p := range paths {
		h, err := ReadHeader(p)
		if err != nil {
			return nil, err
		}
		heads[i] = h
	}
	h0 := heads[0]
	if version != "" && h0.QBench != version {
		return nil, fmt.Errorf("%s was written by qbench %s, this is qbench %s: merge with the qbench that computed the shards", paths[0], h0.QBench, version)
	}
	for i := 1; i < len(paths); i++ {
		if err := sameRun(h0, heads[i]); err != nil {
			return nil, fmt.Errorf("%s is from another run than %s: %w", paths[i], paths[0], err)
		}
	}
	if err := complete(paths, heads); err != nil {
		return nil, err
	}
	// A class-order diagnosis reads the label map again: it must still be
	// the one the shards used.
	if lm, err := fileHash(h0.LabelMap); err != nil {
		return nil, fmt.Errorf("label map of the run: %w", err)
	} else if lm != h0.LabelMapSHA256 {
		return nil, fmt.Errorf("label map %s changed since the shards ran (SHA-256 %.12s…, was %.12s…)", h0.LabelMap, lm, h0.LabelMapSHA256)
	}
	rounding, ok := fixedpoint.ParseRounding(h0.Rounding)
	if !ok {
		return nil, fmt.Errorf("%s: %w", paths[0], corrupt("rounding %q", h0.Rounding))
	}

	// Reassemble the sample lists and compare's outputs file.
	splits := make([]compare.SplitSpec, len(h0.Splits))
	owner := make([][]int32, len(h0.Splits))
	for s, sp := range h0.Splits {
		splits[s] = compare.SplitSpec{Name: sp.Name, Samples: make([]dataset.Sample, sp.Samples)}
		owner[s] = make([]int32, sp.Samples)
		for i := range owner[s] {
			owner[s][i] = -1
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", outDir, err)
	}
	outPath := filepath.Join(outDir, compare.OutputsFile)
	tmpPath := outPath + ".tmp"
	out, err := os.Create(tmpPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", outPath, err)
	}
	defer func() {
		out.Close()
		os.Remove(tmpPath)
	}()
	rec := int64(h0.recordSize())
	base := make([]int64, len(h0.Splits))
	var size int64
	for s, sp := range h0.Splits {
		base[s] = size
		size += int64(sp.Samples) * rec
	}
	if err := out.Truncate(size); err != nil {
		return nil, fmt.Errorf("size %s to %d bytes: %w", outPath, size, err)
	}
	skips := make([][]compare.Skip, len(h0.Splits))
	for pi, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		shard := int32(heads[pi].Shard.Index - 1)
		err := readPartial(p, func(h *Header, s int, r Record) error {
			if owner[s][r.Index] >= 0 {
				return fmt.Errorf("split %q sample %d (%s) is also in shard %d/%d", h.Splits[s].Name, r.Index, r.Sample.Path, owner[s][r.Index]+1, h.Shard.Count)
			}
			owner[s][r.Index] = shard
			splits[s].Samples[r.Index] = r.Sample
			for _, sk := range r.Skips {
				skips[s] = append(skips[s], compare.Skip{Index: r.Index, Group: sk.Group, Path: sk.Path, Reason: sk.Reason})
			}
			if _, err := out.WriteAt(r.Outputs, base[s]+int64(r.Index)*rec); err != nil {
				return fmt.Errorf("write %s: %w", outPath, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// The counts add up and no sample came twice, so every sample is
	// there; check that each came from the shard it belongs to and that
	// the lists are the ones the shards were cut from.
	labels := make([][]int, len(splits))
	for s, sp := range splits {
		labels[s] = make([]int, len(sp.Samples))
		for i, smp := range sp.Samples {
			if owner[s][i] < 0 {
				return nil, fmt.Errorf("split %q sample %d is in no partial", sp.Name, i)
			}
			labels[s][i] = smp.Label
		}
	}
	want := Assign(labels, h0.Shard.Count)
	byShard := map[int32]string{}
	for i, h := range heads {
		byShard[int32(h.Shard.Index-1)] = paths[i]
	}
	for s := range splits {
		for i, o := range owner[s] {
			if o != want[s][i] {
				return nil, fmt.Errorf("%s holds split %q sample %d (%s), which belongs to shard %d/%d: the partials were cut from different sample lists",
					byShard[o], splits[s].Name, i, splits[s].Samples[i].Path, want[s][i]+1, h0.Shard.Count)
			}
		}
	}
	got, err := DataHash(splits)
	if err != nil {
		return nil, err
	}
	if got != h0.DataSHA256 {
		return nil, fmt.Errorf("the partials' samples do not match the data they name (sample list hash %.12s…, headers say %.12s…)", got, h0.DataSHA256)
	}
	for s := range skips {
		sort.SliceStable(skips[s], func(a, b int) bool {
			x, y := skips[s][a], skips[s][b]
			return x.Group < y.Group || (x.Group == y.Group && x.Index < y.Index)
		})
	}
	if err := out.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", outPath, err)
	}
	if err := os.Rename(tmpPath, outPath); err != nil {
		return nil, fmt.Errorf("write %s: %w", outPath, err)
	}
	seed := h0.Seed
	cfg := compare.Config{
		Splits: splits, Classes: h0.Classes, DataRoot: h0.DataRoot, OutDir: outDir,
		TopK: h0.TopK, Rounding: rounding, LabelMap: h0.LabelMap, Seed: &seed,
	}
	return compare.Summarize(cfg, &compare.Inference{Models: h0.Models, Skips: skips})
}

// MergeToFolder merges like Merge and writes the whole report folder
// outDir — outputs.bin and report.WriteAll's files — as one unit, the way
// compare.RunToFolder does: built in a hidden sibling folder and renamed
// into place, so a failed merge leaves the previous folder (or none), and
// a folder holding files qbench does not write is refused. created, when
// not zero, dates the report (report.Report.Created).
func MergeToFolder(ctx context.Context, paths []string, outDir, version string, created time.Time) (*report.Report, error) {
	st, err := fileio.NewStage(outDir, report.IsOutputName)
	if err != nil {
		return nil, fmt.Errorf("report folder %w", err)
	}
	defer st.Abort()
	r, err := Merge(ctx, paths, st.Dir(), version)
	if err != nil {
		return nil, err
	}
	r.Created = created
	if err := report.WriteAll(st.Dir(), r); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := st.Commit(); err != nil {
		return nil, fmt.Errorf("report folder %w", err)
	}
	compare.Relocate(r, outDir)
	return r, nil
}

// ReadHeader reads a partial's header (and checks it on its own).
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // names the path
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h, _, err := readHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// readPartial reads the partial at path and hands fn every record; it
// fails, naming path, on any damage, the checksum included (which is
// checked after the last record: fn's effects must be discarded then).
func readPartial(path string, fn func(h *Header, split int, r Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h, rd, err := readHeader(f, st.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := rd.records(h, func(s int, r Record) error { return fn(h, s, r) }); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// complete checks that heads hold every shard 1..N exactly once and that
// the shards' counts add up to the splits' sizes.
func complete(paths []string, heads []*Header) error {
	n := heads[0].Shard.Count
	have := map[int]string{}
	for i, h := range heads {
		if prev, dup := have[h.Shard.Index]; dup {
			return fmt.Errorf("shard %s given twice: %s and %s", h.Shard, prev, paths[i])
		}
		have[h.Shard.Index] = paths[i]
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if _, ok := have[i]; !ok {
			missing = append(missing, Spec{i, n}.String())
		}
	}
	if len(missing) > 0 {
		got := slices.Sorted(maps.Keys(have))
		gs := make([]string, len(got))
		for i, g := range got {
			gs[i] = strconv.Itoa(g)
		}
		word := "shard"
		if len(missing) > 1 {
			word = "shards"
		}
		return fmt.Errorf("missing %s %s (have %s of %d)", word, strings.Join(missing, ", "), strings.Join(gs, ", "), n)
	}
	for s, sp := range heads[0].Splits {
		total := 0
		for _, h := range heads {
			total += h.Splits[s].Count
		}
		if total != sp.Samples {
			return fmt.Errorf("split %q: the shards hold %d samples, the split has %d", sp.Name, total, sp.Samples)
		}
	}
	return nil
}

// sameRun says how b's run differs from a's (nil: same run).
func sameRun(a, b *Header) error {
	switch {
	case a.QBench != b.QBench:
		return fmt.Errorf("written by qbench %s, not %s", b.QBench, a.QBench)
	case a.Kernels != b.Kernels:
		return fmt.Errorf("computed with the %s kernels, not %s (float outputs differ between kernel paths: run every shard on the same kind of CPU)", b.Kernels, a.Kernels)
	case a.Shard.Count != b.Shard.Count:
		return fmt.Errorf("shard %s of %d shards, not %d", b.Shard, b.Shard.Count, a.Shard.Count)
	case a.Seed != b.Seed:
		return fmt.Errorf("seed %d, not %d", b.Seed, a.Seed)
	}
	if err := sameModels(a.Models, b.Models); err != nil {
		return fmt.Errorf("different models: %w", err)
	}
	switch {
	case a.Schema != b.Schema:
		return fmt.Errorf("report schema %s, not %s", b.Schema, a.Schema)
	case !slices.Equal(a.Classes, b.Classes):
		return fmt.Errorf("different data: classes %s, not %s", short(b.Classes), short(a.Classes))
	case a.DataRoot != b.DataRoot:
		return fmt.Errorf("different data: folder %s, not %s", b.DataRoot, a.DataRoot)
	case len(a.Splits) != len(b.Splits):
		return fmt.Errorf("different data: %d splits, not %d", len(b.Splits), len(a.Splits))
	}
	for s := range a.Splits {
		x, y := a.Splits[s], b.Splits[s]
		if x.Name != y.Name || x.Samples != y.Samples {
			return fmt.Errorf("different data: split %q of %d samples, not %q of %d", y.Name, y.Samples, x.Name, x.Samples)
		}
	}
	switch {
	case a.DataSHA256 != b.DataSHA256:
		return fmt.Errorf("different data: sample list hash %.12s…, not %.12s… (same sizes, other files or labels)", b.DataSHA256, a.DataSHA256)
	case !slices.Equal(a.TopK, b.TopK):
		return fmt.Errorf("top-k %v, not %v", b.TopK, a.TopK)
	case a.Rounding != b.Rounding:
		return fmt.Errorf("--rounding %s, not %s", b.Rounding, a.Rounding)
	case a.LabelMap != b.LabelMap || a.LabelMapSHA256 != b.LabelMapSHA256:
		return fmt.Errorf("different data: label map %s (SHA-256 %.12s…), not %s (%.12s…)", b.LabelMap, b.LabelMapSHA256, a.LabelMap, a.LabelMapSHA256)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Options)) {
		if v, ok := b.Options[k]; !ok || v != a.Options[k] {
			return fmt.Errorf("option %s is %q, not %q", k, v, a.Options[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b.Options)) {
		if _, ok := a.Options[k]; !ok {
			return fmt.Errorf("option %s is %q, unset in the other", k, b.Options[k])
		}
	}
	return nil
}

func sameModels(a, b []report.ModelInfo) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d models, not %d", len(b), len(a))
	}
	for i := range a {
		x, y := a[i], b[i]
		switch {
		case x.SHA256 != y.SHA256:
			return fmt.Errorf("model %d (%s) has SHA-256 %.12s…, not %.12s…", i+1, y.Name, y.SHA256, x.SHA256)
		case x.Name != y.Name:
			return fmt.Errorf("model %d is named %q, not %q", i+1, y.Name, x.Name)
		case x.Path != y.Path:
			return fmt.Errorf("model %d (%s) was read from %s, not %s (the report names the path)", i+1, y.Name, y.Path, x.Path)
		case x.Preprocess != y.Preprocess:
			return fmt.Errorf("model %d (%s) preprocesses with %s, not %s", i+1, y.Name, y.Preprocess, x.Preprocess)
		case x != y:
			return fmt.Errorf("model %d (%s) is described differently (%+v, not %+v)", i+1, y.Name, y, x)
		}
	}
	return nil
}

// short abbreviates a long class list for an error message.
func short(s []string) string {
	if len(s) <= 4 {
		return "[" + strings.Join(s, " ") + "]"
	}
	return fmt.Sprintf("[%s … %s] (%d)", strings.Join(s[:3], " "), s[len(s)-1], len(s))
}
