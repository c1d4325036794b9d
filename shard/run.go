// Package shard splits a comparison across machines and merges the
// pieces into the report a single run would write.
//
// Run computes shard I of N: a deterministic, class-stratified 1/N of
// every split's samples (Assign), through compare.Infer, and writes a
// partial result file (see Ext for its layout) that holds a header
// identifying the run and, per sample, the path, label, decoding problems
// and every model's output vector. Merge reads all N partials, refuses
// ones from different runs, reassembles compare's outputs file and calls
// compare.Summarize, which accumulates every statistic in sample order
// exactly as a single run does: report.json, predictions.csv and
// outputs.bin come out byte-identical to `qbench compare` without shards
// on the same data, models, options and kernels.
//
// The shard index usually comes from the scheduler (FromEnv: Slurm job
// arrays, Kubernetes Indexed Jobs); nothing here talks to a scheduler.
package shard

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/kernels/gemm"
	"github.com/qbench/qbench/report"
)

// Job is one shard's work.
type Job struct {
	// Compare is the whole comparison (every sample of every split);
	// its OutDir is ignored.
	Compare compare.Config
	Shard   Spec
	// Version identifies the qbench build; merge refuses partials of
	// other builds.
	Version string
	// Seed and Options are recorded in the header and must agree across
	// shards (Options: the command's flags that shape the result).
	Seed    int64
	Options map[string]string
	// Dir receives the partial, named Shard.FileName().
	Dir string
}

// Run computes job's shard and writes its partial; it returns the
// partial's path.
func Run(ctx context.Context, job Job) (string, error) {
	if err := job.Shard.Validate(); err != nil {
		return "", err
	}
	if job.Dir == "" {
		return "", errors.New("no output directory")
	}
	cfg := job.Compare
	labels := make([][]int, len(cfg.Splits))
	for s, sp := range cfg.Splits {
		labels[s] = make([]int, len(sp.Samples))
		for i, smp := range sp.Samples {
			labels[s][i] = smp.Label
		}
	}
	assign := Assign(labels, job.Shard.Count)
	// picked[s] maps the shard's j-th sample of split s to its index.
	picked := make([][]int, len(cfg.Splits))
	sub := make([]compare.SplitSpec, len(cfg.Splits))
	for s, sp := range cfg.Splits {
		sub[s].Name = sp.Name
		for i, a := range assign[s] {
			if int(a) == job.Shard.Index-1 {
				picked[s] = append(picked[s], i)
				sub[s].Samples = append(sub[s].Samples, sp.Samples[i])
			}
		}
	}
	if err := os.MkdirAll(job.Dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", job.Dir, err)
	}
	name := job.Shard.FileName()
	tmp, err := os.MkdirTemp(job.Dir, "."+name+".")
	if err != nil {
		return "", fmt.Errorf("create a temporary folder in %s: %w", job.Dir, err)
	}
	defer os.RemoveAll(tmp)
	cfg.Splits, cfg.OutDir = sub, tmp
	inf, err := compare.Infer(ctx, cfg)
	if err != nil {
		return "", err
	}
	dataHash, err := DataHash(job.Compare.Splits)
	if err != nil {
		return "", err
	}
	lmHash, err := fileHash(cfg.LabelMap)
	if err != nil {
		return "", fmt.Errorf("label map: %w", err)
	}
	h := &Header{
		Format: Format, QBench: job.Version, Kernels: gemm.Impl(), Shard: job.Shard, Seed: job.Seed,
		Options: job.Options, Schema: report.Schema, Classes: cfg.Classes, DataRoot: cfg.DataRoot,
		TopK: compare.ReportedTopK(cfg.TopK, len(cfg.Classes)), Rounding: cfg.Rounding.String(), Models: inf.Models,
		LabelMap: cfg.LabelMap, LabelMapSHA256: lmHash,
		DataSHA256: dataHash,
	}
	if h.Options == nil {
		h.Options = map[string]string{}
	}
	for s, sp := range job.Compare.Splits {
		h.Splits = append(h.Splits, SplitHeader{Name: sp.Name, Samples: len(sp.Samples), Count: len(picked[s])})
	}
	path := filepath.Join(job.Dir, name)
	if err := writePartial(path, h, sub, picked, inf, filepath.Join(tmp, compare.OutputsFile)); err != nil {
		return "", err
	}
	return path, nil
}

// writePartial writes the partial to a temporary name and renames it, so
// a failed or killed shard never leaves a partial a merge could take.
func writePartial(path string, h *Header, sub []compare.SplitSpec, picked [][]int, inf *compare.Inference, outputs string) error {
	src, err := os.Open(outputs)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	w, err := newWriter(f, h)
	if err != nil {
		return fail(err)
	}
	rec := make([]byte, h.recordSize())
	// compare's outputs file holds the shard's samples in order, one
	// record each, splits back to back.
	br := bufio.NewReaderSize(src, 1<<16)
	for s, sp := range sub {
		skips := map[int][]SkipRecord{}
		if s < len(inf.Skips) {
			for _, sk := range inf.Skips[s] {
				skips[sk.Index] = append(skips[sk.Index], SkipRecord{Group: sk.Group, Path: sk.Path, Reason: sk.Reason})
			}
		}
		if err := w.count(len(sp.Samples)); err != nil {
			return fail(err)
		}
		for j, smp := range sp.Samples {
			if _, err := io.ReadFull(br, rec); err != nil {
				return fail(fmt.Errorf("read %s: %w", outputs, err))
			}
			r := Record{Index: picked[s][j], Sample: smp, Skips: skips[j], Outputs: rec}
			if err := w.record(r); err != nil {
				return fail(err)
			}
		}
	}
	if err := w.finish(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// DataHash is the hex SHA-256 of the splits' names and sample lists
// (every sample's JSON, in order, as partials store them): the data
// identity every shard computes over the whole list and the merge checks.
func DataHash(splits []compare.SplitSpec) (string, error) {
	h := sha256.New()
	var b []byte
	put := func(s []byte) {
		b = binary.LittleEndian.AppendUint64(b[:0], uint64(len(s)))
		h.Write(b)
		h.Write(s)
	}
	for _, sp := range splits {
		put([]byte(sp.Name))
		b = binary.LittleEndian.AppendUint64(b[:0], uint64(len(sp.Samples)))
		h.Write(b)
		for _, smp := range sp.Samples {
			js, err := json.Marshal(smp)
			if err != nil {
				return "", fmt.Errorf("sample %s: %w", smp.Path, err)
			}
			put(js)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fileHash is the hex SHA-256 of a file's contents ("" for path "").
func fileHash(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
