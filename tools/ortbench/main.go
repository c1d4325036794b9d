//go:build ortbench

// Command ortbench runs the same models in qbench, ONNX Runtime and (at
// the TFLite interpreter compiled to WebAssembly, and prints
// images per second for each and the ratios. It first checks that qbench
// and ORT produce the same outputs on the same input, so the comparison is
// of equal work.
//
// It needs cgo and ONNX Runtime's shared library (npm's onnxruntime-node
// ships one; .ci/install-ort.sh installs it), and for the WASM column the
// tflite-oracle (.ci/install-oracle.sh):
//
//	cd tools/ortbench && go run -tags ortbench . --lib ~/.cache/qbench/onnxruntime/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1 --synthetic
//	go run -tags ortbench . --lib ... --zoo ../../../shared/models/zoo --configs 1x1,2x1,1x64,2x64 --markdown table.md
//
// zoo.sh beside this file regenerates the table of docs/performance.md.
//
// Models are .tflite files given as arguments, every .tflite in --zoo, or
// with --synthetic the seed-cnn architecture with seeded random weights, as
// float32 and as int8 quantized on random calibration images. Each model is
// exported with qbench's ONNX exporter: float models as float, models with
// int8 activations as QDQ twice (int8 activations "s8 QDQ", and uint8
// activations "u8 QDQ", which ORT on x86 fuses into its integer kernels),
// uint8 models as QDQ; integer inputs and outputs keep their types. The
// ratio uses the fastest ORT form. With threads T, T sessions (ORT, one
// intra-op thread each), T executors (qbench) and T WASM processes run
// concurrently; rounds alternate between the runtimes and medians are
// reported, since shared machines are noisy.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	path string // the .tflite file (written to a temporary folder for --synthetic)
}

type config struct{ threads, batch int }

type settings struct {
	seconds  float64
	rounds   int
	rnd      fixedpoint.Rounding
	wasmDir  string
	onnxDir  string
	markdown string
}

func main() {
	lib := flag.String("lib", os.Getenv("ORT_LIB"), "path to libonnxruntime.so (or $ORT_LIB)")
	threads := flag.Int("threads", 1, "concurrent sessions / executors (when --configs is empty)")
	batch := flag.Int("batch", 1, "images per run (when --configs is empty)")
	configs := flag.String("configs", "", "comma-separated THREADSxBATCH configurations, e.g. 1x1,2x1,1x64,2x64")
	seconds := flag.Float64("seconds", 2, "measuring time per runtime and round")
	rounds := flag.Int("rounds", 3, "alternating measurement rounds (median reported)")
	synthetic := flag.Bool("synthetic", false, "benchmark seed-cnn float and int8 with random weights")
	zoo := flag.String("zoo", "", "also benchmark every .tflite file in this folder")
	wasm := flag.String("wasm", defaultWasmDir(), "tflite-oracle folder (tflite_run.js) for the TFLite WASM column; empty: no WASM column")
	keep := flag.String("onnx-dir", "", "also write the exported .onnx files here")
	markdown := flag.String("markdown", "", "also write the results as a Markdown table to this file")
	rounding := flag.String("rounding", "runtime", "qbench's integer rounding: runtime (the TFLite runtime's with its XNNPACK delegate, qbench's CLI default), single (TFLite's builtin kernels) or double (TFLite Micro's reference)")
	flag.Parse()
	rnd, ok := fixedpoint.ParseRounding(*rounding)
	if !ok {
		fmt.Fprintf(os.Stderr, "ortbench: --rounding must be runtime, single or double, got %q\n", *rounding)
		os.Exit(2)
	}
	cs := []config{{*threads, *batch}}
	if *configs != "" {
		var err error
		if cs, err = parseConfigs(*configs); err != nil {
			fmt.Fprintln(os.Stderr, "ortbench:", err)
			os.Exit(2)
		}
	}
	st := settings{seconds: *seconds, rounds: *rounds, rnd: rnd, wasmDir: *wasm, onnxDir: *keep, markdown: *markdown}
	if err := run(*lib, cs, st, *synthetic, *zoo, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ortbench:", err)
		os.Exit(1)
	}
}

func defaultWasmDir() string {
	d := os.Getenv("QBENCH_TFLITE_ORACLE")
	if d == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		d = filepath.Join(home, ".cache", "qbench", "tflite-oracle")
	}
	if _, err := os.Stat(filepath.Join(d, "tflite_run.js")); err != nil {
		return ""
	}
	return d
}

func parseConfigs(s string) ([]config, error) {
	var cs []config
	for _, f := range strings.Split(s, ",") {
		t, b, ok := strings.Cut(strings.TrimSpace(f), "x")
		ti, err1 := strconv.Atoi(t)
		bi, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || ti < 1 || bi < 1 {
			return nil, fmt.Errorf("--configs: %q is not THREADSxBATCH (e.g. 2x64)", f)
		}
		cs = append(cs, config{ti, bi})
	}
	return cs, nil
}

func run(lib string, cs []config, st settings, synthetic bool, zoo string, paths []string) error {
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
	if zoo != "" {
		files, err := filepath.Glob(filepath.Join(zoo, "*.tflite"))
		if err != nil {
			return err
		}
		slices.Sort(files)
		paths = append(paths, files...)
	}
	for _, p := range paths {
		g, err := tflite.ReadFile(p)
		if err != nil {
			return err
		}
		// Constant shape arithmetic becomes constants, as qbench export does.
		if g, _, err = interp.Fold(g); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		models = append(models, model{strings.TrimSuffix(filepath.Base(p), ".tflite"), g, p})
	}
	if len(models) == 0 {
		return fmt.Errorf("no models: give .tflite paths, --zoo or --synthetic")
	}
	wasmNote := "no TFLite WASM column (--wasm empty)"
	if st.wasmDir != "" {
		wasmNote = "TFLite WASM (SIMD, XNNPACK) from " + st.wasmDir
	}
	// GODEBUG is how zoo.sh's CPU variants reach qbench's CPU detection;
	// ORT's library path says which copy it runs.
	godebug := ""
	if d := os.Getenv("GODEBUG"); d != "" {
		godebug = " (GODEBUG=" + d + ")"
	}
	fmt.Printf("cpu: %s; qbench gemm %s%s, %s rounding; ORT %s; %d rounds of %.1fs; %s; load average %s\n",
		bench.CPUModel(), gemm.Impl(), godebug, st.rnd, lib, st.rounds, st.seconds, wasmNote, loadAvg())
	var rows []row
	for _, m := range models {
		for _, c := range cs {
			r := measure(m, c, st)
			fmt.Println(r.text())
			rows = append(rows, r)
		}
	}
	fmt.Printf("load average at the end: %s\n", loadAvg())
	if st.markdown != "" {
		return os.WriteFile(st.markdown, []byte(markdownTable(rows)), 0o644)
	}
	return nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// kind classifies a model for the table: int8 or uint8 activations, hybrid
// (float activations, int8 weights) or float.
func kind(g *graph.Graph) string {
	hasU8, hybrid := false, false
	for _, op := range g.Ops {
		for _, o := range op.Outputs {
			if o < 0 || o >= len(g.Tensors) {
				continue
			}
			switch g.Tensors[o].DType {
			case graph.Int8:
				return "int8"
			case graph.UInt8:
				hasU8 = true
			}
		}
		for _, in := range op.Inputs {
			if in >= 0 && in < len(g.Tensors) && g.Tensors[in].IsConst() && g.Tensors[in].DType == graph.Int8 {
				hybrid = true
			}
		}
	}
	switch {
	case hasU8:
		return "uint8"
	case hybrid:
		return "hybrid"
	}
	return "float"
}

type variant struct {
	name string
	data []byte
}

// variants exports g in the forms ORT is timed on.
func variants(m model, st settings) ([]variant, error) {
	forms := []struct {
		name string
		o    onnx.Options
	}{{"float", onnx.Options{}}}
	switch kind(m.g) {
	case "int8":
		forms = []struct {
			name string
			o    onnx.Options
		}{{"s8 QDQ", onnx.Options{}}, {"u8 QDQ", onnx.Options{UInt8Activations: true}}}
	case "uint8":
		forms[0].name = "u8 QDQ"
	}
	var vs []variant
	for _, f := range forms {
		data, err := onnx.ExportWith(m.g, f.o)
		if err != nil {
			return nil, err
		}
		if st.onnxDir != "" {
			suffix := ""
			if f.o.UInt8Activations {
				suffix = ".u8"
			}
			if err := os.WriteFile(filepath.Join(st.onnxDir, m.name+suffix+".onnx"), data, 0o644); err != nil {
				return nil, err
			}
		}
		vs = append(vs, variant{f.name, data})
	}
	return vs, nil
}

// row is one model in one configuration; 0 rates are not measured and
// notes say why.
type row struct {
	model, kind string
	c           config
	qbench      float64
	ort         map[string]float64
	wasm        float64
	checks      []string
	notes       []string
}

func (r *row) bestORT() (string, float64) {
	best, name := 0.0, ""
	for _, k := range []string{"float", "s8 QDQ", "u8 QDQ"} {
		if v := r.ort[k]; v > best {
			best, name = v, k
		}
	}
	return name, best
}

func measure(m model, c config, st settings) row {
	r := row{model: m.name, kind: kind(m.g), c: c, ort: map[string]float64{}}
	prog, err := compile(m.g, c.batch, st.rnd)
	if err != nil {
		r.notes = append(r.notes, "qbench: "+err.Error())
		return r
	}
	vs, err := variants(m, st)
	if err != nil {
		r.notes = append(r.notes, "no ONNX export: "+err.Error())
		vs = nil
	}
	var ok []variant
	sessions := map[string][]*session{}
	for _, v := range vs {
		chk, err := compareOutputs(m.g, prog, v.data)
		if err != nil {
			r.notes = append(r.notes, fmt.Sprintf("ORT %s at batch %d: %v", v.name, c.batch, err))
			continue
		}
		// Sessions are opened once and reused by every round.
		ss, err := openSessions(m.g, prog, v.data, c.threads)
		if err != nil {
			r.notes = append(r.notes, fmt.Sprintf("ORT %s at batch %d: %v", v.name, c.batch, err))
			continue
		}
		defer destroyAll(ss)
		sessions[v.name] = ss
		r.checks = append(r.checks, v.name+": "+chk)
		ok = append(ok, v)
	}
	wasm := st.wasmDir != "" && m.path != ""
	wasmPath := m.path
	if wasm && c.batch != 1 {
		// The oracle runs a file's own input shape: write a batched copy.
		dir, err := os.MkdirTemp("", "ortbench-wasm-")
		if err == nil {
			defer os.RemoveAll(dir)
			wasmPath, err = batchedFile(m.g, c.batch, dir, m.name)
		}
		if err != nil {
			r.notes = append(r.notes, fmt.Sprintf("TFLite WASM at batch %d: %v", c.batch, err))
			wasm = false
		}
	}
	var qs, ws []float64
	ors := map[string][]float64{}
	for i := 0; i < st.rounds; i++ {
		res, err := bench.Run(context.Background(), m.name, m.g, bench.Options{Threads: c.threads, Batch: c.batch,
			Duration: time.Duration(st.seconds * float64(time.Second)), Warmup: 200 * time.Millisecond, Seed: int64(i), Rounding: st.rnd})
		if err != nil {
			r.notes = append(r.notes, "qbench bench: "+err.Error())
			return r
		}
		qs = append(qs, res.ImagesPerSecond)
		for _, v := range ok {
			ips, err := ortThroughput(sessions[v.name], c.batch, st.seconds)
			if err != nil {
				r.notes = append(r.notes, fmt.Sprintf("ORT %s: %v", v.name, err))
				return r
			}
			ors[v.name] = append(ors[v.name], ips)
		}
		if wasm {
			runs, err := wasmThroughput(st.wasmDir, wasmPath, c.threads, st.seconds)
			if err != nil {
				r.notes = append(r.notes, fmt.Sprintf("batch %d: %v", c.batch, err))
				wasm = false
			} else {
				ws = append(ws, runs*float64(c.batch))
			}
		}
	}
	r.qbench = median(qs)
	for k, v := range ors {
		r.ort[k] = median(v)
	}
	if len(ws) > 0 {
		r.wasm = median(ws)
	}
	return r
}

func rate(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", v)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// targets says which of issue 16's targets the row meets: ≥ 1.0× the
// fastest ORT form (seed-cnn: float ≥ 1.25×, int8 ≥ 2.5×) and ≥ 2× TFLite
// WASM.
func (r *row) targets() string {
	_, o := r.bestORT()
	var parts []string
	if r.qbench > 0 && o > 0 {
		want := 1.0
		if strings.HasPrefix(r.model, "seed-cnn") {
			want = 1.25
			if r.kind == "int8" {
				want = 2.5
			}
		}
		if r.qbench/o >= want {
			parts = append(parts, fmt.Sprintf("ORT ≥%.3g× met", want))
		} else {
			parts = append(parts, fmt.Sprintf("ORT ≥%.3g× **not met**", want))
		}
	}
	if r.qbench > 0 && r.wasm > 0 {
		if r.qbench/r.wasm >= 2 {
			parts = append(parts, "WASM ≥2× met")
		} else {
			parts = append(parts, "WASM ≥2× **not met**")
		}
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, "; ")
}

func (r *row) text() string {
	name, o := r.bestORT()
	s := fmt.Sprintf("%-28s %-6s T%d B%-3d qbench %8s  ORT %8s (%s)  WASM %8s  qbench/ORT %5s  qbench/WASM %5s  %s",
		r.model, r.kind, r.c.threads, r.c.batch, rate(r.qbench), rate(o), name, rate(r.wasm), ratio(r.qbench, o), ratio(r.qbench, r.wasm), r.targets())
	for _, k := range []string{"float", "s8 QDQ", "u8 QDQ"} {
		if v, ok := r.ort[k]; ok {
			s += fmt.Sprintf("\n    ORT %s %s img/s", k, rate(v))
		}
	}
	for _, c := range r.checks {
		s += "\n    check " + c
	}
	for _, n := range r.notes {
		s += "\n    note: " + n
	}
	return s
}

// markdownTable renders the rows (images/s, medians of alternating
// rounds) and, below, the output checks and notes per model.
func markdownTable(rows []row) string {
	var b strings.Builder
	b.WriteString("| model | kind | threads | batch | qbench | ORT float | ORT s8 QDQ | ORT u8 QDQ | TFLite WASM | qbench / best ORT | qbench / WASM | targets |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		_, o := r.bestORT()
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.model, r.kind, r.c.threads, r.c.batch,
			rate(r.qbench), rate(r.ort["float"]), rate(r.ort["s8 QDQ"]), rate(r.ort["u8 QDQ"]), rate(r.wasm),
			ratio(r.qbench, o), ratio(r.qbench, r.wasm), r.targets())
	}
	b.WriteString(targetSummary(rows))
	b.WriteString("\nOutput checks (qbench vs ORT on one random batch; integer outputs: values that differ and the largest step) and notes:\n\n")
	seen := map[string]bool{}
	for _, r := range rows {
		for _, s := range append(append([]string{}, r.checks...), r.notes...) {
			line := fmt.Sprintf("- %s, batch %d: %s", r.model, r.c.batch, s)
			if seen[line] {
				continue
			}
			seen[line] = true
			b.WriteString(line + "\n")
		}
	}
	return b.String()
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
	dir, err := os.MkdirTemp("", "ortbench-")
	if err != nil {
		return nil, err
	}
	ms := []model{{"seed-cnn-float", fg, filepath.Join(dir, "seed-cnn-float.tflite")}, {"seed-cnn-int8", qg, filepath.Join(dir, "seed-cnn-int8.tflite")}}
	for _, m := range ms {
		if err := tflite.WriteFile(m.path, m.g); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// targetSummary counts, over the measured rows, how often each of issue
// 16's targets is met and lists the misses with their ratios.
func targetSummary(rows []row) string {
	var ortMet, ortAll, wMet, wAll int
	var ortMiss, wMiss, none []string
	for _, r := range rows {
		tag := fmt.Sprintf("%s T%d B%d", r.model, r.c.threads, r.c.batch)
		_, o := r.bestORT()
		if r.qbench > 0 && o > 0 {
			want := 1.0
			if strings.HasPrefix(r.model, "seed-cnn") {
				want = 1.25
				if r.kind == "int8" {
					want = 2.5
				}
			}
			ortAll++
			if r.qbench/o >= want {
				ortMet++
			} else {
				ortMiss = append(ortMiss, fmt.Sprintf("%s %.2f× (want %.3g×)", tag, r.qbench/o, want))
			}
		}
		if r.qbench > 0 && r.wasm > 0 {
			wAll++
			if r.qbench/r.wasm >= 2 {
				wMet++
			} else {
				wMiss = append(wMiss, fmt.Sprintf("%s %.2f×", tag, r.qbench/r.wasm))
			}
		}
		if r.qbench == 0 || (o == 0 && r.wasm == 0) {
			none = append(none, tag)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nTargets: ≥ 1.0× the best ORT form (seed-cnn float ≥ 1.25×, int8 ≥ 2.5×) met in %d of %d measured rows", ortMet, ortAll)
	if len(ortMiss) > 0 {
		fmt.Fprintf(&b, "; not met: %s", strings.Join(ortMiss, ", "))
	}
	fmt.Fprintf(&b, ".\n\n≥ 2× TFLite WASM met in %d of %d measured rows", wMet, wAll)
	if len(wMiss) > 0 {
		fmt.Fprintf(&b, "; not met: %s", strings.Join(wMiss, ", "))
	}
	b.WriteString(".\n")
	if len(none) > 0 {
		fmt.Fprintf(&b, "\nNot compared (see the notes): %s.\n", strings.Join(none, ", "))
	}
	return b.String()
}
