// Command memsweep checks issue 16's peak-memory target on every CPU
// variant: for each model and configuration it runs
//
//	qbench bench MODEL --threads T --batch B --seconds S --json -q
//
// in a process of its own (so VmHWM covers that model only), once per CPU
// variant (GODEBUG turning VBMI, VNNI, AVX-512 or AVX-VNNI off), reads
// peak_memory_mb and prints a Markdown table against the bound
//
//	bound MiB = (weights + plan·threads)/2^20 + 20
//
// where weights are the bytes of the model's constant tensors as
// tflite.ReadFile loads them and plan is interp.Program.ArenaBytes() of one
// executor compiled at that batch (bench runs one executor per thread).
// The plan does not depend on the CPU (kernel scratch is not in it; it is
// part of what the 20 MB of slack must hold).
//
// Usage, from the repository root (it sits beside ../shared):
//
//	go run ./tools/memsweep                        # zoo + seed-cnn, 1x1 and 2x64, five CPU variants
//	go run ./tools/memsweep --synthetic            # seed-cnn written with random weights, as tools/ortbench does
//	go run ./tools/memsweep --runs 2 a.tflite b.tflite
//
// Peak memory does not depend on machine load, so the sweep may run on a
// busy machine; --runs repeats each measurement and the table shows the
// largest peak.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/tflite"
	"github.com/qbench/qbench/train"
)

// slackMiB is issue 16's allowance above weights and plan (mostly the Go
// runtime and the binary).
const slackMiB = 20

// config is one threads × batch setting.
type config struct{ threads, batch int }

func (c config) String() string { return fmt.Sprintf("%dt b%d", c.threads, c.batch) }

// variant is a simulated CPU: the GODEBUG qbench runs under.
type variant struct{ name, godebug string }

// variants are the CPUs of issue 16 (see docs/performance.md): AVX-512,
// AVX-512 without VBMI (Intel Cascade Lake), AVX-512 without VNNI or VBMI
// (Skylake-SP), AVX2 + AVX-VNNI, AVX2 only. Each picks other kernels, and
// kernels differ in their packed copies and scratch.
var variants = []variant{
	{"default", ""},
	{"cascadelake", "cpu.avx512vbmi=off"},
	{"skylake", "cpu.avx512vbmi=off,cpu.avx512vnni=off,cpu.avxvnni=off"},
	{"noavx512", "cpu.avx512f=off,cpu.avx512bw=off"},
	{"avx2", "cpu.avx512f=off,cpu.avx512bw=off,cpu.avxvnni=off"},
}

// model is one row: its file and the sizes its bound is made of.
type model struct {
	name    string
	path    string
	weights int         // bytes of constant tensors
	plan    map[int]int // batch → ArenaBytes of one executor
}

// bound is the peak-memory target in MiB at c.
func (m *model) bound(c config) float64 {
	return float64(m.weights+m.plan[c.batch]*c.threads)/(1<<20) + slackMiB
}

func main() {
	qbench := flag.String("qbench", "", "qbench binary (default: go build ./cmd/qbench into a temporary folder)")
	zoo := flag.String("zoo", "../shared/models/zoo", "folder of zoo .tflite models (empty: none)")
	seedDir := flag.String("seed-dir", "/tmp/rep/demo1/models", "folder holding seed-cnn float-full.tflite and int8-full.tflite (skipped when absent)")
	synthetic := flag.Bool("synthetic", false, "write seed-cnn float and int8 with seeded random weights instead of reading --seed-dir")
	configs := flag.String("configs", "1x1,2x64", "comma-separated THREADSxBATCH settings")
	vars := flag.String("variants", "default,cascadelake,skylake,noavx512,avx2", "comma-separated CPU variants: default, cascadelake (no VBMI), skylake (no VNNI, no VBMI), noavx512 (AVX2 + AVX-VNNI), avx2")
	seconds := flag.Float64("seconds", 0.3, "bench --seconds per run")
	runs := flag.Int("runs", 1, "runs per model, configuration and variant (the table shows the largest peak)")
	flag.Parse()
	if err := run(*qbench, *zoo, *seedDir, *synthetic, *configs, *vars, *seconds, *runs, flag.Args(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "memsweep:", err)
		os.Exit(1)
	}
}

func run(qbench, zoo, seedDir string, synthetic bool, configs, vars string, seconds float64, runs int, paths []string, out, log io.Writer) error {
	cs, err := parseConfigs(configs)
	if err != nil {
		return err
	}
	vs, err := parseVariants(vars)
	if err != nil {
		return err
	}
	if !(seconds > 0) || runs < 1 {
		return fmt.Errorf("--seconds must be > 0 and --runs ≥ 1")
	}
	tmp, err := os.MkdirTemp("", "memsweep-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if qbench == "" {
		qbench = filepath.Join(tmp, "qbench")
		cmd := exec.Command("go", "build", "-o", qbench, "github.com/qbench/qbench/cmd/qbench")
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build qbench: %w", err)
		}
	}
	if zoo != "" {
		files, err := filepath.Glob(filepath.Join(zoo, "*.tflite"))
		if err != nil {
			return err
		}
		if len(files) == 0 {
			fmt.Fprintf(log, "memsweep: no .tflite in %s (zoo skipped)\n", zoo)
		}
		slices.Sort(files)
		paths = append(paths, files...)
	}
	switch {
	case synthetic:
		ps, err := writeSeedCNN(tmp)
		if err != nil {
			return err
		}
		paths = append(paths, ps...)
	case seedDir != "":
		for _, n := range []string{"float-full.tflite", "int8-full.tflite"} {
			p := filepath.Join(seedDir, n)
			if _, err := os.Stat(p); err != nil {
				fmt.Fprintf(log, "memsweep: %s absent (skipped; --synthetic writes seed-cnn)\n", p)
				continue
			}
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return fmt.Errorf("no models: give .tflite paths, --zoo, --seed-dir or --synthetic")
	}
	var ms []*model
	for _, p := range paths {
		m, err := measureModel(p, cs)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	// peaks[model][variant][config] = largest peak over runs, MiB.
	peaks := make([][][]float64, len(ms))
	for i, m := range ms {
		peaks[i] = make([][]float64, len(vs))
		for j, v := range vs {
			peaks[i][j] = make([]float64, len(cs))
			for k, c := range cs {
				for range runs {
					pk, err := benchPeak(qbench, m.path, c, v, seconds)
					if err != nil {
						return err
					}
					peaks[i][j][k] = max(peaks[i][j][k], pk)
				}
				fmt.Fprintf(log, "memsweep: %s %s %s: %.1f MiB (bound %.1f)\n", m.name, v.name, c, peaks[i][j][k], m.bound(c))
			}
		}
	}
	writeTable(out, ms, cs, vs, peaks)
	return nil
}

func parseConfigs(s string) ([]config, error) {
	var cs []config
	for f := range strings.SplitSeq(s, ",") {
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

func parseVariants(s string) ([]variant, error) {
	var vs []variant
	for f := range strings.SplitSeq(s, ",") {
		i := slices.IndexFunc(variants, func(v variant) bool { return v.name == strings.TrimSpace(f) })
		if i < 0 {
			return nil, fmt.Errorf("--variants: unknown %q (want default, cascadelake, skylake, noavx512 or avx2)", f)
		}
		vs = append(vs, variants[i])
	}
	return vs, nil
}

// measureModel reads the model as bench does and compiles it at each
// configuration's batch for its plan.
func measureModel(path string, cs []config) (*model, error) {
	g, err := tflite.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	m := &model{name: modelName(path), path: path, weights: constBytes(g), plan: map[int]int{}}
	for _, c := range cs {
		if _, ok := m.plan[c.batch]; ok {
			continue
		}
		p, err := interp.Compile(g, interp.Options{Batch: c.batch})
		if err != nil {
			return nil, fmt.Errorf("%s at batch %d: %w", path, c.batch, err)
		}
		m.plan[c.batch], _ = p.ArenaBytes()
	}
	return m, nil
}

// modelName names a zoo model by its file and seed-cnn's files by what
// they hold.
func modelName(path string) string {
	n := strings.TrimSuffix(filepath.Base(path), ".tflite")
	switch n {
	case "float-full", "seed-cnn-float":
		return "seed-cnn float"
	case "int8-full", "seed-cnn-int8":
		return "seed-cnn int8"
	}
	return n
}

// constBytes is the size of g's constant tensors (the weights).
func constBytes(g *graph.Graph) int {
	n := 0
	for _, t := range g.Tensors {
		n += len(t.Data)
	}
	return n
}

// benchPeak runs one bench in its own process under v and returns its
// peak_memory_mb.
func benchPeak(qbench, path string, c config, v variant, seconds float64) (float64, error) {
	cmd := exec.Command(qbench, "bench", path, "--threads", strconv.Itoa(c.threads), "--batch", strconv.Itoa(c.batch),
		"--seconds", strconv.FormatFloat(seconds, 'g', -1, 64), "--json", "-q")
	cmd.Env = os.Environ()
	if v.godebug != "" {
		cmd.Env = append(cmd.Env, "GODEBUG="+v.godebug)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s %s %s: %w: %s", path, v.name, c, err, strings.TrimSpace(stderr.String()))
	}
	return parsePeak(stdout.Bytes())
}

// parsePeak reads peak_memory_mb from bench's JSON line.
func parsePeak(b []byte) (float64, error) {
	var r struct {
		Peak float64 `json:"peak_memory_mb"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &r); err != nil {
		return 0, fmt.Errorf("bench --json output %q: %w", b, err)
	}
	if r.Peak <= 0 {
		return 0, fmt.Errorf("bench --json output has no peak_memory_mb (not Linux?): %q", b)
	}
	return r.Peak, nil
}

// writeTable prints one row per model: weights, plan and bound per
// configuration, then each variant's peaks, bold where over the bound, and
// the smallest margin over all.
func writeTable(w io.Writer, ms []*model, cs []config, vs []variant, peaks [][][]float64) {
	var cn []string
	for _, c := range cs {
		cn = append(cn, c.String())
	}
	per := strings.Join(cn, " / ")
	fmt.Fprintf(w, "| model | weights MB | plan MB, %s | bound MiB, %s |", per, per)
	for _, v := range vs {
		fmt.Fprintf(w, " %s peak MiB |", v.name)
	}
	fmt.Fprintln(w, " least margin MiB |")
	fmt.Fprint(w, "|---|--:|--:|--:|")
	for range vs {
		fmt.Fprint(w, "--:|")
	}
	fmt.Fprintln(w, "--:|")
	for i, m := range ms {
		var plan, bound []string
		for _, c := range cs {
			plan = append(plan, fmt.Sprintf("%.2f", float64(m.plan[c.batch])/1e6))
			bound = append(bound, fmt.Sprintf("%.1f", m.bound(c)))
		}
		fmt.Fprintf(w, "| %s | %.2f | %s | %s |", m.name, float64(m.weights)/1e6, strings.Join(plan, " / "), strings.Join(bound, " / "))
		least, at := 0.0, ""
		for j, v := range vs {
			var ps []string
			for k, c := range cs {
				pk := peaks[i][j][k]
				margin := m.bound(c) - pk
				s := fmt.Sprintf("%.1f", pk)
				if margin < 0 {
					s = "**" + s + "**"
				}
				ps = append(ps, s)
				if at == "" || margin < least {
					least, at = margin, v.name+" "+c.String()
				}
			}
			fmt.Fprintf(w, " %s |", strings.Join(ps, " / "))
		}
		fmt.Fprintf(w, " %.1f (%s) |\n", least, at)
	}
}

// writeSeedCNN writes seed-cnn float and int8 with seeded random weights
// into dir, as tools/ortbench --synthetic does (train.SeedCNN(43),
// quantized on 16 random images).
func writeSeedCNN(dir string) ([]string, error) {
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
	ps := []string{filepath.Join(dir, "seed-cnn-float.tflite"), filepath.Join(dir, "seed-cnn-int8.tflite")}
	for i, g := range []*graph.Graph{fg, qg} {
		if err := tflite.WriteFile(ps[i], g); err != nil {
			return nil, err
		}
	}
	return ps, nil
}
