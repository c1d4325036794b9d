package compare

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/metrics"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/tflite"
)

const side = 4 // images and model input are side×side RGB

var classes = []string{"a_red", "b_green", "c_blue"} // sorted = channel order

// writeDataset writes perClass noisy PNGs per class: class c is bright in
// channel c. One sample per class is made ambiguous so models disagree.
func writeDataset(t *testing.T, root string, perClass int, seed int64) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	for c, name := range classes {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perClass {
			img := image.NewRGBA(image.Rect(0, 0, side, side))
			for y := range side {
				for x := range side {
					var v [3]uint8
					for ch := range 3 {
						base := 40
						if ch == c {
							base = 180
						}
						if i == 0 && ch == (c+1)%3 {
							base = 170 // ambiguous sample
						}
						v[ch] = uint8(base + rng.Intn(60))
					}
					img.Set(x, y, color.RGBA{v[0], v[1], v[2], 255})
				}
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d.png", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fcModel is RESHAPE → FULLY_CONNECTED → SOFTMAX: logit c sums channel c
// minus the mean of the others, plus noise of amplitude perturb.
func fcModel(t *testing.T, perturb float64, seed int64) *graph.Graph {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	n := side * side * 3
	w := make([]float32, 3*n)
	for c := range 3 {
		for p := range side * side {
			for ch := range 3 {
				v := -0.5
				if ch == c {
					v = 1
				}
				w[c*n+p*3+ch] = float32((v + perturb*(rng.Float64()*2-1)) * 0.5)
			}
		}
	}
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "input", Shape: []int{1, side, side, 3}, DType: graph.Float32})
	sh := g.AddTensor(&graph.Tensor{Name: "shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, int32(n)})})
	fl := g.AddTensor(&graph.Tensor{Name: "flat", Shape: []int{1, n}, DType: graph.Float32})
	g.AddOp(graph.OpReshape, []int{in, sh}, []int{fl}, &graph.ReshapeOptions{NewShape: []int{1, n}})
	wt := g.AddTensor(&graph.Tensor{Name: "w", Shape: []int{3, n}, DType: graph.Float32, Data: graph.EncodeFloat32s(w)})
	bt := g.AddTensor(&graph.Tensor{Name: "b", Shape: []int{3}, DType: graph.Float32, Data: graph.EncodeFloat32s(make([]float32, 3))})
	lo := g.AddTensor(&graph.Tensor{Name: "logits", Shape: []int{1, 3}, DType: graph.Float32})
	g.AddOp(graph.OpFullyConnected, []int{fl, wt, bt}, []int{lo}, &graph.FullyConnectedOptions{})
	pr := g.AddTensor(&graph.Tensor{Name: "probs", Shape: []int{1, 3}, DType: graph.Float32})
	g.AddOp(graph.OpSoftmax, []int{lo}, []int{pr}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{in}, []int{pr}
	if err := dataset.DefaultSpec(side, side).Store(g); err != nil {
		t.Fatal(err)
	}
	return g
}

// int8Model quantizes the float model with int8 input and output.
func int8Model(t *testing.T, g *graph.Graph, ds *dataset.Dataset) *graph.Graph {
	t.Helper()
	spec := dataset.DefaultSpec(side, side)
	samples := func(yield func(x []float32) error) error {
		_, err := dataset.Stream(context.Background(), ds.Samples, spec, dataset.StreamOptions{},
			func(it dataset.Item) error { return yield(it.Data) })
		return err
	}
	q, _, err := quant.Quantize(context.Background(), g, samples, quant.Options{IO: graph.Int8})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func setup(t *testing.T) (Config, string) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "data")
	writeDataset(t, root, 12, 1)
	ds, err := dataset.Open(root, dataset.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := fcModel(t, 0, 1)
	cfg := Config{
		Models: []ModelSpec{
			{Name: "float", Graph: f},
			{Name: "perturbed", Graph: fcModel(t, 1.6, 7)},
			{Name: "int8", Graph: int8Model(t, f, ds)},
		},
		Splits:   []SplitSpec{{Name: "full", Samples: ds.Samples}, {Name: "verification", Samples: ds.Subsample(9, 3).Samples}},
		Classes:  ds.Classes,
		DataRoot: root,
		Workers:  2,
		OutDir:   filepath.Join(dir, "out"),
		TopK:     []int{1, 2},
	}
	return cfg, dir
}

func TestEndToEnd(t *testing.T) {
	cfg, _ := setup(t)
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteAll(cfg.OutDir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{report.FileJSON, report.FileMarkdown, report.FileHTML, report.FilePredictions, OutputsFile} {
		if st, err := os.Stat(filepath.Join(cfg.OutDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty (%v)", f, err)
		}
	}
	js, err := os.ReadFile(filepath.Join(cfg.OutDir, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := report.ValidateJSON(js); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	var got report.Report
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	if got.Splits[0].N != 36 || got.Splits[1].N != 9 || len(got.Models) != 3 || len(got.Pairs) != 2 {
		t.Fatalf("shape: n=%d/%d models=%d pairs=%d", got.Splits[0].N, got.Splits[1].N, len(got.Models), len(got.Pairs))
	}
	if got.Models[0].Accuracy < 0.9 {
		t.Errorf("float model accuracy %.3f on separable data", got.Models[0].Accuracy)
	}
	if got.Models[2].InputType != "int8" || got.Models[2].OutputType != "int8" {
		t.Errorf("int8 model types %s → %s", got.Models[2].InputType, got.Models[2].OutputType)
	}
	if got.Pairs[0].Agreement == 1 {
		t.Error("perturbed model agrees everywhere; the test data should make it flip")
	}
	recomputeFromCSV(t, filepath.Join(cfg.OutDir, report.FilePredictions), &got)
}

// recomputeFromCSV recomputes every model's and pair's metrics from
// predictions.csv and requires them to equal report.json's.
func recomputeFromCSV(t *testing.T, path string, rep *report.Report) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	k := len(rep.Classes)
	type key struct{ split, model string }
	accs := map[key]*metrics.Model{}
	pairs := map[key]*metrics.Pair{}
	var refProbs []float32
	for _, rec := range recs[1:] {
		split, model := rec[1], rec[4]
		label, _ := strconv.Atoi(rec[2])
		pred, _ := strconv.Atoi(rec[5])
		p := make([]float32, k)
		for c := range k {
			v, err := strconv.ParseFloat(rec[7+c], 32)
			if err != nil {
				t.Fatal(err)
			}
			p[c] = float32(v)
		}
		if metrics.Argmax(p) != pred {
			t.Errorf("row %v: pred %d is not the argmax", rec[:6], pred)
		}
		kk := key{split, model}
		if accs[kk] == nil {
			accs[kk], _ = metrics.NewModel(k, rep.Settings.TopK)
			pairs[kk], _ = metrics.NewPair(k)
		}
		_ = accs[kk].Add(label, p)
		if model == rep.Models[0].Name {
			refProbs = p
		} else {
			_ = pairs[kk].Add(label, refProbs, p)
		}
	}
	for _, s := range rep.Splits {
		for _, m := range s.Models {
			want := accs[key{s.Name, m.Name}].Result(rep.Classes)
			gotJS, _ := json.Marshal(m.ModelResult)
			wantJS, _ := json.Marshal(want)
			if !bytes.Equal(gotJS, wantJS) {
				t.Errorf("split %s model %s: report.json differs from recomputation from predictions.csv\n got %s\nwant %s", s.Name, m.Name, gotJS, wantJS)
			}
		}
		for _, p := range s.Pairs {
			want := pairs[key{s.Name, p.B}].Result(rep.Classes)
			gotJS, _ := json.Marshal(p.PairResult)
			wantJS, _ := json.Marshal(want)
			if !bytes.Equal(gotJS, wantJS) {
				t.Errorf("split %s pair %s: differs from recomputation\n got %s\nwant %s", s.Name, p.B, gotJS, wantJS)
			}
		}
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	cfg, dir := setup(t)
	var outs [][]byte
	for i, w := range []int{1, 3} {
		cfg.Workers = w
		cfg.OutDir = filepath.Join(dir, fmt.Sprint("run", i))
		r, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := report.WriteAll(cfg.OutDir, r); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(cfg.OutDir, report.FileJSON))
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("report.json differs between runs with 1 and 3 workers")
	}
}

func TestCorruptImageSkipped(t *testing.T) {
	cfg, _ := setup(t)
	cfg.Models = cfg.Models[:2]
	bad := cfg.Splits[0].Samples[5].Path
	if err := os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nbroken"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Splits = cfg.Splits[:1]
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Splits[0]; s.N != 35 || s.Skipped != 1 || s.Models[0].N != 35 {
		t.Errorf("n=%d skipped=%d model n=%d, want 35/1/35", s.N, s.Skipped, s.Models[0].N)
	}
	// The report names the file once, relative to the data root, with
	// the decoder's reason (both models share a spec: listed once).
	want := relPath(cfg.DataRoot, bad)
	if f := r.Splits[0].SkippedFiles; len(f) != 1 || f[0].Path != want || f[0].Reason == "" || strings.Contains(f[0].Reason, bad) {
		t.Errorf("skipped files %+v, want one entry for %s with a reason", f, want)
	}
}

func TestConfigErrors(t *testing.T) {
	cfg, _ := setup(t)
	cases := map[string]func(c *Config){
		"no models":      func(c *Config) { c.Models = nil },
		"no splits":      func(c *Config) { c.Splits = nil },
		"no out dir":     func(c *Config) { c.OutDir = "" },
		"class mismatch": func(c *Config) { c.Classes = []string{"a", "b"} },
		"dup names":      func(c *Config) { c.Models[1].Name = "float" },
		"missing file":   func(c *Config) { c.Models[1] = ModelSpec{Path: "/nonexistent/m.tflite"} },
		"dup split":      func(c *Config) { c.Splits[1].Name = "full" },
		"bad label": func(c *Config) {
			c.Splits[1].Samples = append([]dataset.Sample{}, c.Splits[1].Samples...)
			c.Splits[1].Samples[0].Label = 7
		},
	}
	for name, mutate := range cases {
		c := cfg
		c.Models = append([]ModelSpec{}, cfg.Models...)
		c.Splits = append([]SplitSpec{}, cfg.Splits...)
		mutate(&c)
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCancel(t *testing.T) {
	cfg, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, cfg); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestDistinctSpecsDecodeSeparately(t *testing.T) {
	cfg, _ := setup(t)
	other := dataset.DefaultSpec(side, side)
	other.Offset = -0.25 // a different spec: decoded in its own pass
	cfg.Models[1].Spec = &other
	cfg.Splits = cfg.Splits[:1]
	models, err := loadModels(cfg, len(cfg.Classes))
	if err != nil {
		t.Fatal(err)
	}
	gs := groupModels(models)
	if len(gs) != 2 || len(gs[0].models) != 2 || gs[1].models[0] != 1 {
		t.Fatalf("groups = %+v, want float+int8 sharing one spec and perturbed alone", gs)
	}
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Models[1].Preprocess == r.Models[0].Preprocess || r.Splits[0].N != 36 {
		t.Errorf("preprocess %q vs %q, n=%d", r.Models[1].Preprocess, r.Models[0].Preprocess, r.Splits[0].N)
	}
}

// TestModelFileWarningsReported: a model file whose TFLite metadata is
// corrupt compares, and the reader's warning reaches Config.Warn.
func TestModelFileWarningsReported(t *testing.T) {
	cfg, dir := setup(t)
	g := cfg.Models[0].Graph.Clone()
	g.Metadata = map[string][]byte{tflite.MetadataKey: []byte("garbage metadata")}
	path := filepath.Join(dir, "broken-meta.tflite")
	if err := tflite.WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
	cfg.Models = []ModelSpec{{Name: "broken", Path: path}}
	cfg.Splits = cfg.Splits[:1]
	var warnings []string
	cfg.Warn = func(w string) { warnings = append(warnings, w) }
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(warnings, "\n"); !strings.Contains(w, path+": model metadata (TFLITE_METADATA buffer") {
		t.Errorf("warnings %q lack the metadata warning", w)
	}
}
