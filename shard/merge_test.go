package shard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/dataset/synth"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/tflite"
	"github.com/qbench/qbench/train"
)

const testVersion = "test-build"

// fixture is a generated dataset with three model files, shared by the
// tests of this package (built once: ~20,000 images).
type fixture struct {
	root   string   // dataset folder
	models []string // .tflite paths: float, int8 (same spec), int8 with BGR input (a second decoding group)
	data   *compare.Data
	broken []string // images overwritten with garbage
	// images holds every decoded image (nil for the broken ones): the
	// runs read them from memory, which takes the file system out of
	// the test's time (the Slurm test reads files).
	images map[string]image.Image
	parts  sync.Map // shard count → []string, partials made once
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
	fixDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

// testSize is the image and input side: small so ~20,000 images generate,
// decode and run in seconds on 2 cores.
const testSize = 16

// getFixture generates the data set (3 recordings × 30 classes × 223 =
// 20,070 images, the last recording the verification split) and the
// models once per test binary.
func getFixture(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		fixDir, fixErr = os.MkdirTemp("", "qbench-shard-test-")
		if fixErr != nil {
			return
		}
		fix, fixErr = makeFixture(fixDir)
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func makeFixture(dir string) (*fixture, error) {
	start := time.Now()
	f := &fixture{root: filepath.Join(dir, "data")}
	cfg := synth.Config{Seed: 7, Size: testSize, Recordings: 3, PerClass: 223, Verification: 1}
	if _, err := synth.Write(context.Background(), f.root, cfg, synth.WriteOptions{Workers: 2}); err != nil {
		return nil, err
	}
	gen := time.Since(start)
	// A few undecodable files exercise the skipped-sample path.
	for _, rel := range []string{"rec1/STOPLINE/00005.png", "rec3/CROSSWALK/00100.png"} {
		p := filepath.Join(f.root, rel)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("fixture: %w", err)
		}
		if err := os.WriteFile(p, []byte("not a png"), 0o644); err != nil {
			return nil, err
		}
		f.broken = append(f.broken, rel)
	}
	d, err := compare.OpenData(f.root, compare.DataOptions{Splits: []string{"train", "verification"}, Seed: 1})
	if err != nil {
		return nil, err
	}
	f.data = d
	n := 0
	f.images = map[string]image.Image{}
	for _, s := range d.Splits {
		n += len(s.Samples)
		for _, smp := range s.Samples {
			img, _, err := dataset.ReadImageFile(smp.Path, 0)
			if err == nil {
				f.images[smp.Path] = img
			}
		}
	}
	if n < 20000 {
		return nil, fmt.Errorf("fixture has %d images, want >= 20000", n)
	}
	arch := train.Arch{Name: "tiny", Input: [3]int{testSize, testSize, 3}, Filters: []int{8, 16}, Kernel: 3, Padding: "SAME", Dense: []int{32}, Classes: len(d.Classes)}
	tm, err := train.New(arch, 3)
	if err != nil {
		return nil, err
	}
	spec := dataset.DefaultSpec(testSize, testSize)
	g := tm.Graph()
	if err := spec.Store(g); err != nil {
		return nil, err
	}
	calib := d.Splits[0].Samples[:300]
	samples := func(yield func(x []float32) error) error {
		_, err := dataset.Stream(context.Background(), calib, spec, dataset.StreamOptions{},
			func(it dataset.Item) error { return yield(it.Data) })
		return err
	}
	q, _, err := quant.Quantize(context.Background(), g, samples, quant.Options{})
	if err != nil {
		return nil, err
	}
	bgr := spec
	bgr.ChannelOrder = dataset.OrderBGR
	q2, _, err := quant.Quantize(context.Background(), g, samples, quant.Options{IO: graph.Int8, PerTensor: true})
	if err != nil {
		return nil, err
	}
	if err := bgr.Store(q2); err != nil {
		return nil, err
	}
	for i, m := range []*graph.Graph{g, q, q2} {
		b, err := tflite.Write(m)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, []string{"float.tflite", "int8.tflite", "int8-bgr.tflite"}[i])
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		f.models = append(f.models, p)
	}
	fmt.Fprintf(os.Stderr, "shard test fixture: %d images generated in %v, models in %v\n", n, gen.Round(time.Millisecond), (time.Since(start) - gen).Round(time.Millisecond))
	return f, nil
}

func (f *fixture) config(out string) compare.Config {
	seed := int64(1) // the jobs' seed, which the merged report records
	cfg := compare.Config{
		Seed:   &seed,
		Splits: f.data.Splits, Classes: f.data.Classes, DataRoot: f.data.Root,
		Workers: 2, OutDir: out, Rounding: fixedpoint.SingleRounding, Load: f.load,
	}
	for i, p := range f.models {
		cfg.Models = append(cfg.Models, compare.ModelSpec{Path: p, Name: []string{"float", "int8", "int8-bgr"}[i]})
	}
	return cfg
}

func (f *fixture) load(s dataset.Sample) (image.Image, error) {
	if img := f.images[s.Path]; img != nil {
		return img, nil
	}
	return nil, errors.New("not an image")
}

func (f *fixture) job(dir string, s Spec) Job {
	return Job{Compare: f.config(""), Shard: s, Version: testVersion, Seed: 1, Dir: dir,
		Options: map[string]string{"split": "train,verification"}}
}

// partials returns the paths of the n partials of the fixture's run,
// made on first use (they are read-only to the tests).
func (f *fixture) partials(t *testing.T, n int) []string {
	t.Helper()
	if ps, ok := f.parts.Load(n); ok {
		return append([]string(nil), ps.([]string)...)
	}
	ps := runShards(t, f, filepath.Join(fixDir, fmt.Sprintf("parts%d", n)), n)
	f.parts.Store(n, ps)
	return append([]string(nil), ps...)
}

// runShards runs all n shards into dir and returns the partials' paths.
func runShards(t *testing.T, f *fixture, dir string, n int) []string {
	t.Helper()
	var paths []string
	for i := 1; i <= n; i++ {
		p, err := Run(context.Background(), f.job(dir, Spec{i, n}))
		if err != nil {
			t.Fatalf("shard %d/%d: %v", i, n, err)
		}
		paths = append(paths, p)
	}
	return paths
}

// reportFiles are the files compared byte for byte.
var reportFiles = []string{report.FileJSON, report.FilePredictions, compare.OutputsFile, report.FileMarkdown, report.FileHTML}

func singleRun(t *testing.T, f *fixture, out string) {
	t.Helper()
	r, err := compare.Run(context.Background(), f.config(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteAll(out, r); err != nil {
		t.Fatal(err)
	}
}

func sameFiles(t *testing.T, want, got string) {
	t.Helper()
	for _, name := range append(reportFiles, report.FileSuggestedLabels) {
		a, err := os.ReadFile(filepath.Join(want, name))
		if name == report.FileSuggestedLabels && os.IsNotExist(err) {
			if _, err := os.Stat(filepath.Join(got, name)); err == nil {
				t.Errorf("the merge wrote %s, the single run did not", name)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(got, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == report.FileHTML {
			// The page shows when it was written, to the minute; runs in
			// separate processes (the Slurm array) can straddle a minute.
			if writtenRow.Match(a) != writtenRow.Match(b) {
				t.Errorf("%s: only one of the two pages has a written row (%v)", name, writtenRow)
			}
			a, b = writtenRow.ReplaceAll(a, nil), writtenRow.ReplaceAll(b, nil)
		}
		if !bytes.Equal(a, b) {
			i := 0
			for i < len(a) && i < len(b) && a[i] == b[i] {
				i++
			}
			t.Errorf("%s differs from the single run's (%d vs %d bytes, first difference at byte %d: %q vs %q)",
				name, len(b), len(a), i, excerpt(b, i), excerpt(a, i))
		}
	}
}

// writtenRow matches report.html's "written" row (report/html.go).
var writtenRow = regexp.MustCompile(`<tr><th>written</th><td>[^<]*</td></tr>`)

func excerpt(b []byte, i int) string {
	lo, hi := max(0, i-40), min(len(b), i+40)
	return string(b[lo:hi])
}

// TestMergeEqualsSingleRun is the acceptance test: on 20,070 generated
// images (two of them undecodable) and three models in two
// preprocessing groups, the merged report of N = 1, 2, 3 and 7 shards is
// byte-identical to a single run's: report.json, predictions.csv,
// outputs.bin, report.md and report.html.
func TestMergeEqualsSingleRun(t *testing.T) {
	f := getFixture(t)
	dir := t.TempDir()
	single := filepath.Join(dir, "single")
	start := time.Now()
	singleRun(t, f, single)
	t.Logf("single run: %v", time.Since(start).Round(time.Millisecond))
	js, err := os.ReadFile(filepath.Join(single, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	// The fixture must exercise the skipped-sample path.
	for _, b := range f.broken {
		if !bytes.Contains(js, []byte(b)) {
			t.Fatalf("report.json does not list the broken file %s", b)
		}
	}
	for _, n := range []int{1, 2, 3, 7} {
		start := time.Now()
		paths := f.partials(t, n)
		mid := time.Now()
		// Any order of the partials gives the same report.
		for i, j := 0, len(paths)-1; i < j; i, j = i+1, j-1 {
			paths[i], paths[j] = paths[j], paths[i]
		}
		out := filepath.Join(dir, fmt.Sprintf("merged%d", n))
		r, err := Merge(context.Background(), paths, out, testVersion)
		if err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		if err := report.WriteAll(out, r); err != nil {
			t.Fatal(err)
		}
		t.Logf("N=%d: shards %v, merge %v", n, mid.Sub(start).Round(time.Millisecond), time.Since(mid).Round(time.Millisecond))
		sameFiles(t, single, out)
	}
}

// TestMergeRefuses covers the bad inputs: a missing shard, a duplicate, a
// shard of another run, a damaged or truncated partial, a file that is
// no partial; each error names the file or shard.
func TestMergeRefuses(t *testing.T) {
	f := getFixture(t)
	dir := t.TempDir()
	paths := f.partials(t, 3)
	out := filepath.Join(dir, "out")
	merge := func(ps ...string) error {
		_, err := Merge(context.Background(), ps, out, testVersion)
		if err == nil {
			t.Fatalf("merge of %v succeeded", ps)
		}
		return err
	}
	want := func(err error, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not mention %q", err, p)
			}
		}
	}
	want(merge(paths[0], paths[2]), "missing shard 2/3", "have 1, 3 of 3")
	want(merge(paths[0], paths[1], paths[2], paths[1]), "shard 2/3 given twice", paths[1])

	// A shard of another run: another seed, then other models.
	other := f.job(filepath.Join(dir, "other"), Spec{2, 3})
	other.Seed = 2
	op, err := Run(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	want(merge(paths[0], op, paths[2]), op, "another run", "seed 2, not 1")
	other = f.job(filepath.Join(dir, "other2"), Spec{2, 3})
	other.Compare.Models[1], other.Compare.Models[2] = other.Compare.Models[2], other.Compare.Models[1]
	other.Compare.Models[1].Name, other.Compare.Models[2].Name = "int8", "int8-bgr"
	op2, err := Run(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	want(merge(paths[0], op2, paths[2]), op2, "different models", "model 2 (int8) has SHA-256")
	_, err = Merge(context.Background(), paths, out, "other-build")
	if err == nil || !strings.Contains(err.Error(), "qbench other-build") {
		t.Errorf("merging another build's partials: %v", err)
	}

	data, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "damaged.qbpart")
	flip := append([]byte(nil), data...)
	flip[len(flip)*2/3] ^= 0x10 // inside an output vector: only the checksum sees it
	if err := os.WriteFile(damaged, flip, 0o644); err != nil {
		t.Fatal(err)
	}
	err = merge(paths[0], damaged, paths[2])
	want(err, damaged, "checksum mismatch")
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("%v does not wrap ErrCorrupt", err)
	}
	truncated := filepath.Join(dir, "truncated.qbpart")
	if err := os.WriteFile(truncated, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	want(merge(paths[0], truncated, paths[2]), truncated, "corrupt partial")
	notPart := filepath.Join(dir, "report.json")
	if err := os.WriteFile(notPart, []byte(`{"schema": "qbench.compare/v1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	want(merge(paths[0], notPart, paths[2]), notPart, "not a qbench partial")
	if _, err := os.Stat(filepath.Join(out, compare.OutputsFile)); err == nil {
		t.Error("a failed merge left outputs.bin behind")
	}
}
