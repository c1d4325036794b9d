package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
)

func TestSGDAndAdamOneStepByHand(t *testing.T) {
	decay := []bool{true, false}
	o, _ := newOptimizer(OptimConfig{Name: OptSGD, Momentum: 0.5, WeightDecay: 0.1}, decay)
	p := []float32{1, 1}
	g := []float32{0.5, 0.5}
	o.step(p, g, 0.1)
	// w: v = 0.5 + 0.1·1 = 0.6 → 1 − 0.06; bias: v = 0.5 → 1 − 0.05.
	if !near(p[0], 0.94) || !near(p[1], 0.95) {
		t.Fatalf("sgd step 1: %v", p)
	}
	o.step(p, g, 0.1)
	// w: v = 0.5·0.6 + 0.5 + 0.094 = 0.894 → 0.94 − 0.0894.
	if !near(p[0], 0.94-0.0894) {
		t.Fatalf("sgd step 2: %v", p)
	}
	o, _ = newOptimizer(OptimConfig{Name: OptSGD, Momentum: 0.5, Nesterov: true}, decay)
	p = []float32{1, 1}
	o.step(p, g, 0.1)
	// Nesterov: v = 0.5; step = g + μv = 0.75.
	if !near(p[1], 1-0.075) {
		t.Fatalf("nesterov: %v", p)
	}
	// Adam's first step moves every parameter by ≈ lr·sign(g), whatever |g|;
	// AdamW decay shrinks the weight by lr·λ·w on top.
	o, _ = newOptimizer(OptimConfig{Name: OptAdam, WeightDecay: 0.5}, decay)
	p = []float32{1, 1}
	o.step(p, []float32{3, -0.001}, 0.01)
	if !near(p[0], 1-0.01*0.5-0.01) || math.Abs(float64(p[1])-1.01) > 1e-4 {
		t.Fatalf("adam step: %v", p)
	}
	if _, err := newOptimizer(OptimConfig{Name: "rmsprop"}, decay); err == nil {
		t.Fatal("unknown optimizer accepted")
	}
}

func near(a float32, b float64) bool { return math.Abs(float64(a)-b) < 1e-6 }

func TestSchedules(t *testing.T) {
	c := ScheduleConfig{Name: SchedCosine, WarmupEpochs: 1}
	// 10 steps per epoch, 30 steps: warmup 0.1..1.0, then cosine from 1 to 0.
	if v := c.lrAt(1, 0, 30, 10); math.Abs(v-0.1) > 1e-12 {
		t.Errorf("warmup step 0: %v", v)
	}
	if v := c.lrAt(1, 9, 30, 10); v != 1 {
		t.Errorf("warmup end: %v", v)
	}
	if v := c.lrAt(1, 10, 30, 10); v != 1 {
		t.Errorf("cosine start: %v", v)
	}
	if v := c.lrAt(1, 29, 30, 10); math.Abs(v) > 1e-12 {
		t.Errorf("cosine end: %v", v)
	}
	if v := c.lrAt(1, 19, 30, 10); v <= 0.45 || v >= 0.55 {
		t.Errorf("cosine middle: %v", v)
	}
	s := ScheduleConfig{Name: SchedStep, StepEpochs: 2, Gamma: 0.5}
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 1}, {19, 1}, {20, 0.5}, {45, 0.25}} {
		if v := s.lrAt(1, tc.step, 100, 10); v != tc.want {
			t.Errorf("step schedule at %d: %v, want %v", tc.step, v, tc.want)
		}
	}
	if (ScheduleConfig{Name: "linear"}).validate() == nil {
		t.Error("unknown schedule accepted")
	}
}

func TestAugment(t *testing.T) {
	a, err := ParseAugment("shift=0.1,rotate=10,contrast=0.2")
	if err != nil || a.Shift != 0.1 || a.Rotate != 10 || a.Contrast != 0.2 || a.Scale != 0 {
		t.Fatalf("ParseAugment: %+v %v", a, err)
	}
	if a, _ := ParseAugment("default,rotate=0"); a.Rotate != 0 || a.Shift != DefaultAugment().Shift {
		t.Fatalf("default,rotate=0: %+v", a)
	}
	for _, bad := range []string{"shift", "zoom=1", "rotate=-3", "shift=NaN"} {
		if _, err := ParseAugment(bad); err == nil {
			t.Errorf("ParseAugment(%q) accepted", bad)
		}
	}
	if a, _ := ParseAugment("none"); a.Enabled() {
		t.Fatal("none is enabled")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	h, w, c := 9, 7, 3
	src := randSlice(rng, h*w*c, 1)
	dst := make([]float32, len(src))
	// A pure translation by whole pixels moves values exactly.
	warp(src, dst, h, w, c, 2, 1, 0, 1)
	if dst[((4)*w+5)*c+1] != src[((3)*w+3)*c+1] {
		t.Fatalf("shift by (2,1): dst(4,5) = %v, want src(3,3) = %v", dst[((4)*w+5)*c+1], src[((3)*w+3)*c+1])
	}
	// Same (seed, epoch, position) → same draw; different position → different.
	d1, d2, d3 := make([]float32, len(src)), make([]float32, len(src)), make([]float32, len(src))
	DefaultAugment().apply(augmentRNG(5, 2, 7), src, d1, h, w, c)
	DefaultAugment().apply(augmentRNG(5, 2, 7), src, d2, h, w, c)
	DefaultAugment().apply(augmentRNG(5, 2, 8), src, d3, h, w, c)
	same, diff := true, false
	for i := range d1 {
		same = same && d1[i] == d2[i]
		diff = diff || d1[i] != d3[i]
	}
	if !same || !diff {
		t.Fatalf("augmentation determinism: same=%v diff=%v", same, diff)
	}
}

func TestDataRoundTrip(t *testing.T) {
	d, err := NewData(2, 2, 2, 1, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	img := []float32{-1, 0, 0.5, 1}
	if err := d.Set(1, img, 1); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 4)
	d.Image(1, got)
	for i := range img {
		// Half a step of the range 2/255.
		if math.Abs(float64(got[i]-img[i])) > 1.0/255+1e-6 {
			t.Fatalf("round trip %v → %v", img, got)
		}
	}
	if got[0] != -1 || math.Abs(float64(got[3]-1)) > 1e-6 {
		t.Fatalf("extremes not exact: %v", got)
	}
	if err := d.Set(0, img, 2); err == nil {
		t.Fatal("out-of-range label accepted")
	}
	if err := d.Set(0, img[:3], 0); err == nil {
		t.Fatal("short image accepted")
	}
	if err := d.Set(0, []float32{0, float32(math.NaN()), 0, 0}, 0); err == nil {
		t.Fatal("NaN accepted")
	}
	if _, err := NewData(1<<30, 80, 80, 3, nil); err == nil {
		t.Fatal("huge data accepted")
	}
}

// blobs makes a 3-class toy problem: class k has a bright square in
// quadrant k of a noisy 16x16x3 image.
func blobs(t *testing.T, n int, seed uint64) *Data {
	t.Helper()
	d, err := NewData(n, 16, 16, 3, []string{"tl", "tr", "bl"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	img := make([]float32, 16*16*3)
	for i := range n {
		k := i % 3
		for j := range img {
			img[j] = float32(rng.NormFloat64() * 0.3)
		}
		y0, x0 := (k/2)*8+1+rng.IntN(3), (k%2)*8+1+rng.IntN(3)
		for y := y0; y < y0+4; y++ {
			for x := x0; x < x0+4; x++ {
				for c := range 3 {
					img[(y*16+x)*3+c] += 1.5
				}
			}
		}
		if err := d.Set(i, img, k); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

var tinyArch = Arch{Name: "tiny", Input: [3]int{16, 16, 3}, Filters: []int{4, 8}, Kernel: 3, Padding: "SAME", Dense: []int{16}}

func TestRunLearnsAndIsDeterministic(t *testing.T) {
	trainSet, valSet := blobs(t, 240, 1), blobs(t, 90, 2)
	cfg := Config{Arch: tinyArch, Epochs: 6, BatchSize: 40, Seed: 7, Augment: Augment{Shift: 0.05, Brightness: 0.05},
		Optim: OptimConfig{Name: OptAdam, LR: 0.01, WeightDecay: 1e-4}}
	var weights [][]float32
	for _, threads := range []int{1, 3} {
		cfg.Threads = threads
		res, err := Run(context.Background(), cfg, trainSet, valSet, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.History) != 6 || res.BestValAcc < 0.95 {
			t.Fatalf("threads %d: best val acc %.3f after %d epochs: %+v", threads, res.BestValAcc, len(res.History), res.History)
		}
		if h := res.History; h[len(h)-1].TrainLoss >= h[0].TrainLoss {
			t.Errorf("loss did not fall: %+v", h)
		}
		weights = append(weights, res.Last.Params)
		if _, acc, err := Evaluate(res.Best, valSet, threads); err != nil || acc != res.BestValAcc {
			t.Errorf("Evaluate(best) = %v, %v; Run reported %v", acc, err, res.BestValAcc)
		}
	}
	for i := range weights[0] {
		if weights[0][i] != weights[1][i] {
			t.Fatalf("1 and 3 threads differ at parameter %d: %v vs %v", i, weights[0][i], weights[1][i])
		}
	}
	cfg.Optim = OptimConfig{Name: OptSGD, LR: 0.05, Nesterov: true}
	cfg.Schedule = ScheduleConfig{Name: SchedStep, StepEpochs: 4, Gamma: 0.3}
	res, err := Run(context.Background(), cfg, trainSet, valSet, nil)
	if err != nil || res.BestValAcc < 0.9 {
		t.Fatalf("sgd: best val %.3f, %v", res.BestValAcc, err)
	}
}

// fakeWrite stands in for tflite.WriteFile: it writes the graph's
// description and a parameter checksum as JSON.
func fakeWrite(path string, g *graph.Graph) error {
	var sum float64
	for _, t := range g.Tensors {
		if t.DType == graph.Float32 && t.IsConst() {
			for _, v := range t.Float32s() {
				sum += float64(v)
			}
		}
	}
	b, _ := json.Marshal(map[string]any{"desc": g.Description, "sum": sum})
	return os.WriteFile(path, b, 0o644)
}

func TestRunCheckpointAndCancel(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.tflite")
	trainSet, valSet := blobs(t, 60, 3), blobs(t, 30, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{Arch: tinyArch, Epochs: 3, BatchSize: 20, Seed: 1, Out: out, Threads: 2,
		Write: func(p string, g *graph.Graph) error {
			// Cancel as soon as the first checkpoint is written: epoch 2 must
			// stop and leave this file intact.
			defer cancel()
			return fakeWrite(p, g)
		}}
	res, err := Run(ctx, cfg, trainSet, valSet, nil)
	if !errors.Is(err, context.Canceled) || res == nil || !res.Interrupted || res.BestEpoch != 1 || len(res.History) != 1 {
		t.Fatalf("cancel: res=%+v err=%v", res, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Sum float64 }
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("checkpoint is not complete: %v", err)
	}
	var want float64
	for _, v := range res.Best.Params {
		want += float64(v)
	}
	if math.Abs(got.Sum-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Fatalf("checkpoint holds sum %v, best model %v", got.Sum, want)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	// A failing writer is reported and leaves no temporary file.
	cfg.Write = func(string, *graph.Graph) error { return errors.New("disk full") }
	if _, err := Run(context.Background(), cfg, trainSet, valSet, nil); err == nil {
		t.Fatal("write error not reported")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left after failed write: %v", ents)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	d := blobs(t, 10, 5)
	for _, cfg := range []Config{
		{Arch: SeedCNN(3)}, // 80x80 model, 16x16 data
		{Arch: tinyArch, BatchSize: -1},
		{Arch: tinyArch, Optim: OptimConfig{LR: -1}},
		{Arch: tinyArch, Out: "x.tflite"}, // no writer
		{Arch: tinyArch, Schedule: ScheduleConfig{Name: "wobble"}},
		{Arch: Arch{Name: "bad", Input: [3]int{16, 16, 3}, Filters: []int{4, 4, 4, 4, 4}, Kernel: 3, Padding: "SAME"}},
	} {
		if _, err := Run(context.Background(), cfg, d, nil, nil); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if _, err := Run(context.Background(), Config{Arch: tinyArch}, &Data{}, nil, nil); err == nil {
		t.Error("empty training set accepted")
	}
}
