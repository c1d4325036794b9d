package compare

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/report"
)

// convModel is CONV_2D (3×3, 8 channels, ReLU) → RESHAPE → FULLY_CONNECTED
// (37 units, ReLU) → FULLY_CONNECTED (3) → SOFTMAX on side×side RGB: a
// per-image prefix the interpreter runs image by image at batch > 1, then
// dense layers of odd widths that it runs as one GEMM over the batch.
func convModel(t *testing.T, seed int64) *graph.Graph {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	rnd := func(n int, amp float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(amp * (rng.Float64()*2 - 1))
		}
		return v
	}
	const ch, hidden = 8, 37
	flat := side * side * ch
	g := &graph.Graph{}
	f32 := func(name string, shape []int, data []float32) int {
		t := &graph.Tensor{Name: name, Shape: shape, DType: graph.Float32}
		if data != nil {
			t.Data = graph.EncodeFloat32s(data)
		}
		return g.AddTensor(t)
	}
	in := f32("input", []int{1, side, side, 3}, nil)
	cw := f32("cw", []int{ch, 3, 3, 3}, rnd(ch*27, 0.5))
	cb := f32("cb", []int{ch}, rnd(ch, 0.1))
	cv := f32("conv", []int{1, side, side, ch}, nil)
	g.AddOp(graph.OpConv2D, []int{in, cw, cb}, []int{cv}, &graph.Conv2DOptions{Padding: graph.PaddingSame,
		StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: graph.ActRelu})
	sh := g.AddTensor(&graph.Tensor{Name: "shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, int32(flat)})})
	fl := f32("flat", []int{1, flat}, nil)
	g.AddOp(graph.OpReshape, []int{cv, sh}, []int{fl}, &graph.ReshapeOptions{NewShape: []int{1, flat}})
	w1 := f32("w1", []int{hidden, flat}, rnd(hidden*flat, 0.2))
	b1 := f32("b1", []int{hidden}, rnd(hidden, 0.1))
	h := f32("hidden", []int{1, hidden}, nil)
	g.AddOp(graph.OpFullyConnected, []int{fl, w1, b1}, []int{h}, &graph.FullyConnectedOptions{Activation: graph.ActRelu})
	w2 := f32("w2", []int{3, hidden}, rnd(3*hidden, 0.5))
	b2 := f32("b2", []int{3}, rnd(3, 0.1))
	lo := f32("logits", []int{1, 3}, nil)
	g.AddOp(graph.OpFullyConnected, []int{h, w2, b2}, []int{lo}, &graph.FullyConnectedOptions{})
	pr := f32("probs", []int{1, 3}, nil)
	g.AddOp(graph.OpSoftmax, []int{lo}, []int{pr}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{in}, []int{pr}
	if err := dataset.DefaultSpec(side, side).Store(g); err != nil {
		t.Fatal(err)
	}
	return g
}

// batchSetup is setup with the float and int8 forms of convModel added.
func batchSetup(t *testing.T) (Config, string) {
	t.Helper()
	cfg, dir := setup(t)
	ds, err := dataset.Open(cfg.DataRoot, dataset.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := convModel(t, 3)
	cfg.Models = append(cfg.Models, ModelSpec{Name: "conv", Graph: c}, ModelSpec{Name: "conv-int8", Graph: int8Model(t, c, ds)})
	return cfg, dir
}

// TestBatchProgramsMatchBatchOne requires every test model, float and
// int8, to batch: the check loadModel runs (batch b against batch 1,
// bit for bit) must pass at a full and at odd batch sizes. A dense kernel
// whose float summation order depends on the row count fails here.
func TestBatchProgramsMatchBatchOne(t *testing.T) {
	cfg, _ := batchSetup(t)
	for _, spec := range cfg.Models {
		p1, err := interp.Compile(spec.Graph, interp.Options{Batch: 1, Rounding: cfg.Rounding})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []int{2, 5, 16} {
			pb, err := interp.Compile(spec.Graph, interp.Options{Batch: b, Rounding: cfg.Rounding})
			if err != nil {
				t.Fatal(err)
			}
			if err := checkBatch(p1, pb, b); err != nil {
				t.Errorf("%s: %v", spec.Name, err)
			}
		}
	}
	cfg.Batch = defaultBatch // Run's default
	models, err := loadModels(cfg, len(cfg.Classes))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		if m.batch != defaultBatch || m.progB == nil {
			t.Errorf("%s: batch %d, want %d", m.info.Name, m.batch, defaultBatch)
		}
	}
}

// runFiles runs cfg into dir and returns the bytes of the written files.
func runFiles(t *testing.T, cfg Config, dir string) map[string][]byte {
	t.Helper()
	cfg.OutDir = dir
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteAll(dir, r); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range []string{report.FileJSON, report.FilePredictions, OutputsFile} {
		if files[f], err = os.ReadFile(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestBatchedRunsIdentical compares whole runs image by image (Batch 1)
// with batched ones at several batch sizes and worker counts: every
// written file must be byte-identical.
func TestBatchedRunsIdentical(t *testing.T) {
	cfg, dir := batchSetup(t)
	cfg.Batch, cfg.Workers = 1, 1
	want := runFiles(t, cfg, filepath.Join(dir, "b1"))
	for _, c := range []struct{ batch, workers int }{{0, 1}, {0, 3}, {4, 2}, {7, 1}} {
		cfg.Batch, cfg.Workers = c.batch, c.workers
		got := runFiles(t, cfg, filepath.Join(dir, fmt.Sprintf("b%d-w%d", c.batch, c.workers)))
		for f, b := range want {
			if !bytes.Equal(got[f], b) {
				t.Errorf("batch %d, %d workers: %s differs from the batch-1 run", c.batch, c.workers, f)
			}
		}
	}
}

// TestWorkerBatches drives a worker directly with a full batch and a
// partial one, which a whole run only reaches when the decoder happens to
// deliver images in bursts, and compares the outputs file with one
// written image by image.
func TestWorkerBatches(t *testing.T) {
	cfg, dir := batchSetup(t)
	cfg.Batch = 4
	models, err := loadModels(cfg, len(cfg.Classes))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		if m.batch != 4 {
			t.Fatalf("%s: batch %d, want 4", m.info.Name, m.batch)
		}
	}
	g := groupModels(models)[0]
	if len(g.models) != len(models) {
		t.Fatalf("group has %d of %d models", len(g.models), len(models))
	}
	samples := cfg.Splits[0].Samples[:7] // a batch of 4, then 3 image by image
	var data [][]float32
	_, err = dataset.Stream(context.Background(), samples, g.spec, dataset.StreamOptions{Fresh: true},
		func(it dataset.Item) error { data = append(data, it.Data); return nil })
	if err != nil {
		t.Fatal(err)
	}
	split := []SplitSpec{{Name: "s", Samples: samples}}
	write := func(name string, batches [][]int) []byte {
		path := filepath.Join(dir, name)
		out, err := newOutputs(path, split, len(models), len(cfg.Classes))
		if err != nil {
			t.Fatal(err)
		}
		w := newWorker(0, g, models, out, 4)
		for _, idx := range batches {
			w.batch = w.batch[:0]
			for _, i := range idx {
				w.batch = append(w.batch, job{i, data[i]})
			}
			if err := w.run(); err != nil {
				t.Fatal(err)
			}
		}
		if err := out.finish(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	one := write("one.bin", [][]int{{0}, {1}, {2}, {3}, {4}, {5}, {6}})
	// Out of order, as two workers may take them.
	batched := write("batched.bin", [][]int{{5, 1, 6, 0}, {3, 2, 4}})
	if !bytes.Equal(one, batched) {
		t.Error("outputs of a batch of 4 and a partial batch differ from image-by-image outputs")
	}
	rec := 4 * len(cfg.Classes)
	for off := 0; off < len(one); off += rec {
		if bytes.Equal(one[off:off+rec], make([]byte, rec)) {
			t.Fatalf("record %d was not written", off/rec)
		}
	}
}
