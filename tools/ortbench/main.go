//go:build ortbench

// Command ortbench runs the same models in ONNX Runtime and in qbench in
// one process and prints images per second for both and the ratio
// qbench/ORT. It first checks that both produce the same outputs on the
// same input, so the comparison is of equal work.
//
// It needs cgo and ONNX Runtime's shared library (npm's onnxruntime-node
// ships one):
//
//	(cd /tmp/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0)
//	cd tools/ortbench && go run -tags ortbench . --lib /tmp/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1 --synthetic
//
// Models are .tflite files given as arguments, or with --synthetic the
// seed-cnn architecture with seeded random weights, as float32 and as
// int8 quantized on random calibration images. Each model is exported
// with qbench's ONNX exporter (QDQ for int8). With --threads N, N sessions
// (ORT, one intra-op thread each) and N executors (qbench) run
// concurrently; rounds alternate between the two runtimes and medians are
// reported, since shared machines are noisy.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/qbench/qbench/bench"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
	"github.com/qbench/qbench/onnx"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/tflite"
	"github.com/qbench/qbench/train"
)

type model struct {
	name string
	g    *graph.Graph
}

func main() {
	lib := flag.String("lib", os.Getenv("ORT_LIB"), "path to libonnxruntime.so (or $ORT_LIB)")
	threads := flag.Int("threads", 1, "concurrent sessions / executors")
	batch := flag.Int("batch", 1, "images per run")
	seconds := flag.Float64("seconds", 2, "measuring time per runtime and round")
	rounds := flag.Int("rounds", 3, "alternating measurement rounds (median reported)")
	synthetic := flag.Bool("synthetic", false, "benchmark seed-cnn float and int8 with random weights")
	keep := flag.String("onnx-dir", "", "also write the exported .onnx files here")
	rounding := flag.String("rounding", "runtime", "qbench's integer rounding: runtime (the TFLite runtime's with its XNNPACK delegate, qbench's CLI default), single (TFLite's builtin kernels) or double (TFLite Micro's reference)")
	flag.Parse()
	rnd, ok := fixedpoint.ParseRounding(*rounding)
	if !ok {
		fmt.Fprintf(os.Stderr, "ortbench: --rounding must be runtime, single or double, got %q\n", *rounding)
		os.Exit(2)
	}
	if err := run(*lib, *threads, *batch, *seconds, *rounds, *synthetic, *keep, rnd, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ortbench:", err)
		os.Exit(1)
	}
}

func run(lib string, threads, batch int, seconds float64, rounds int, synthetic bool, keep string, rnd fixedpoint.Rounding, paths []string) error {
	if lib == "" {
		return fmt.Errorf("--lib (or $ORT_LIB) must name libonnxruntime.so")
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		return fmt.Errorf("onnxruntime: %w", err)
	}
	defer ort.DestroyEnvironment()
	var models []model
	if synthetic {
		ms, err := seedModels()
		if err != nil {
			return err
		}
		models = append(models, ms...)
	}
	for _, p := range paths {
		g, err := tflite.ReadFile(p)
		if err != nil {
			return err
		}
		models = append(models, model{p, g})
	}
	if len(models) == 0 {
		return fmt.Errorf("no models: give .tflite paths or --synthetic")
	}
	fmt.Printf("cpu: %s; threads %d; batch %d; qbench gemm %s, %s rounding; %d rounds of %.1fs\n", bench.CPUModel(), threads, batch, gemm.Impl(), rnd, rounds, seconds)
	fmt.Printf("%-24s %-7s %12s %12s %8s  %s\n", "model", "ORT qdq", "qbench img/s", "ORT img/s", "ratio", "check")
	for _, m := range models {
		// Integer models are exported twice: int8 activations (as in
		// TFLite) and uint8 activations, which ORT fuses into its integer
		// kernels on x86. Both are timed; the ratio uses the faster ORT.
		variants := []onnx.Options{{}}
		if isInteger(m.g) {
			variants = append(variants, onnx.Options{UInt8Activations: true})
		}
		datas := make([][]byte, len(variants))
		checks := make([]string, len(variants))
		for v, o := range variants {
			data, err := onnx.ExportWith(m.g, o)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			datas[v] = data
			if keep != "" {
				suffix := ""
				if o.UInt8Activations {
					suffix = ".u8"
				}
				if err := os.WriteFile(filepath.Join(keep, filepath.Base(m.name)+suffix+".onnx"), data, 0o644); err != nil {
					return err
				}
			}
			if checks[v], err = compareOutputs(m.g, data, batch, rnd); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		var qs []float64
		ors := make([][]float64, len(variants))
		for r := 0; r < rounds; r++ {
			res, err := bench.Run(context.Background(), m.name, m.g, bench.Options{Threads: threads, Batch: batch,
				Duration: time.Duration(seconds * float64(time.Second)), Warmup: 200 * time.Millisecond, Seed: int64(r), Rounding: rnd})
			if err != nil {
				return err
			}
			qs = append(qs, res.ImagesPerSecond)
			for v, data := range datas {
				ips, err := ortThroughput(m.g, data, threads, batch, seconds)
				if err != nil {
					return fmt.Errorf("%s: onnxruntime: %w", m.name, err)
				}
				ors[v] = append(ors[v], ips)
			}
		}
		q := median(qs)
		for v, o := range variants {
			kind := "float"
			if isInteger(m.g) {
				kind = "s8"
				if o.UInt8Activations {
					kind = "u8"
				}
			}
			ort := median(ors[v])
			fmt.Printf("%-24s %-7s %12.1f %12.1f %8.2f  %s\n", filepath.Base(m.name), kind, q, ort, q/ort, checks[v])
		}
	}
	return nil
}

// isInteger reports whether any op of g produces an int8 tensor.
func isInteger(g *graph.Graph) bool {
	for _, op := range g.Ops {
		for _, o := range op.Outputs {
			if o >= 0 && g.Tensors[o].DType == graph.Int8 {
				return true
			}
		}
	}
	return false
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return bench.Percentile(s, 50)
}

// seedModels builds seed-cnn (43 classes) with seeded random weights and
// quantizes it to int8 on random calibration images.
func seedModels() ([]model, error) {
	m, err := train.New(train.SeedCNN(43), 1)
	if err != nil {
		return nil, err
	}
	fg := m.Graph()
	rng := rand.New(rand.NewPCG(1, 2))
	var xs [][]float32
	for range 16 {
		x := make([]float32, 80*80*3)
		for i := range x {
			x[i] = rng.Float32()
		}
		xs = append(xs, x)
	}
	qg, _, err := quant.Quantize(context.Background(), fg, quant.SliceSamples(xs), quant.Options{})
	if err != nil {
		return nil, fmt.Errorf("quantize seed-cnn: %w", err)
	}
	return []model{{"seed-cnn-float", fg}, {"seed-cnn-int8", qg}}, nil
}

// session is one ORT session with its bound input and output tensors.
type session struct {
	s   *ort.AdvancedSession
	in  ort.Value
	out ort.Value
	inF []float32
	inI []int8
}

func shapeFor(t *graph.Tensor, batch int) ort.Shape {
	s := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		s[i] = int64(d)
	}
	s[0] = int64(batch)
	return ort.NewShape(s...)
}

func newSession(g *graph.Graph, data []byte, batch int) (*session, error) {
	if len(g.Inputs) != 1 || len(g.Outputs) != 1 {
		return nil, fmt.Errorf("want one input and one output, have %d and %d", len(g.Inputs), len(g.Outputs))
	}
	inNames, outNames := onnx.IONames(g)
	it, ot := g.Tensors[g.Inputs[0]], g.Tensors[g.Outputs[0]]
	ss := &session{}
	var err error
	switch it.DType {
	case graph.Float32:
		t, e := ort.NewEmptyTensor[float32](shapeFor(it, batch))
		ss.in, ss.inF, err = t, t.GetData(), e
	case graph.Int8:
		t, e := ort.NewEmptyTensor[int8](shapeFor(it, batch))
		ss.in, ss.inI, err = t, t.GetData(), e
	default:
		return nil, fmt.Errorf("input dtype %s", it.DType)
	}
	if err != nil {
		return nil, err
	}
	switch ot.DType {
	case graph.Float32:
		ss.out, err = ort.NewEmptyTensor[float32](shapeFor(ot, batch))
	case graph.Int8:
		ss.out, err = ort.NewEmptyTensor[int8](shapeFor(ot, batch))
	default:
		return nil, fmt.Errorf("output dtype %s", ot.DType)
	}
	if err != nil {
		return nil, err
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	ss.s, err = ort.NewAdvancedSessionWithONNXData(data, inNames, outNames, []ort.Value{ss.in}, []ort.Value{ss.out}, opts)
	return ss, err
}

func (s *session) destroy() {
	s.s.Destroy()
	s.in.Destroy()
	s.out.Destroy()
}

// outputFloat returns the session output as floats (dequantized with the
// graph output's parameters when it is int8).
func outputFloat(v ort.Value, t *graph.Tensor) []float32 {
	switch o := v.(type) {
	case *ort.Tensor[float32]:
		return slices.Clone(o.GetData())
	case *ort.Tensor[int8]:
		d := o.GetData()
		f := make([]float32, len(d))
		for i, x := range d {
			f[i] = float32(int64(x)-t.Quant.ZeroPoint[0]) * t.Quant.Scale[0]
		}
		return f
	}
	return nil
}

// compareOutputs runs one batch of the same random input through qbench
// and ORT and summarises the difference.
func compareOutputs(g *graph.Graph, data []byte, batch int, rnd fixedpoint.Rounding) (string, error) {
	prog, err := interp.Compile(g, interp.Options{Batch: batch, Rounding: rnd})
	if err != nil {
		return "", err
	}
	ex := prog.NewExecutor()
	s, err := newSession(g, data, batch)
	if err != nil {
		return "", err
	}
	defer s.destroy()
	rng := rand.New(rand.NewPCG(7, 7))
	in := ex.Input(0)
	switch {
	case s.inF != nil:
		for i := range s.inF {
			s.inF[i] = rng.Float32()
		}
		copy(in.F32, s.inF)
	default:
		for i := range s.inI {
			s.inI[i] = int8(rng.IntN(256) - 128)
		}
		copy(in.I8, s.inI)
	}
	if err := ex.Run(); err != nil {
		return "", err
	}
	if err := s.s.Run(); err != nil {
		return "", err
	}
	q := ex.OutputFloat(0, nil)
	o := outputFloat(s.out, prog.OutputTensor(0))
	if len(q) != len(o) {
		return "", fmt.Errorf("output sizes differ: qbench %d, ORT %d", len(q), len(o))
	}
	var maxDiff float64
	for i := range q {
		maxDiff = math.Max(maxDiff, math.Abs(float64(q[i]-o[i])))
	}
	per := len(q) / batch
	agree := 0
	for b := 0; b < batch; b++ {
		if argmax(q[b*per:(b+1)*per]) == argmax(o[b*per:(b+1)*per]) {
			agree++
		}
	}
	return fmt.Sprintf("max|Δ| %.3g, top-1 agree %d/%d", maxDiff, agree, batch), nil
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// ortThroughput runs threads sessions concurrently for the given time and
// returns images per second.
func ortThroughput(g *graph.Graph, data []byte, threads, batch int, seconds float64) (float64, error) {
	ss := make([]*session, threads)
	for i := range ss {
		s, err := newSession(g, data, batch)
		if err != nil {
			return 0, err
		}
		defer s.destroy()
		ss[i] = s
		for j := range s.inF {
			s.inF[j] = float32(j%251) / 251
		}
		if err := s.s.Run(); err != nil { // warm-up
			return 0, err
		}
	}
	start := time.Now()
	deadline := start.Add(time.Duration(seconds * float64(time.Second)))
	runs := make([]int, threads)
	errs := make([]error, threads)
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := s.s.Run(); err != nil {
					errs[i] = err
					return
				}
				runs[i]++
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	total := 0
	for i, n := range runs {
		if errs[i] != nil {
			return 0, errs[i]
		}
		total += n
	}
	return float64(total*batch) / wall, nil
}
