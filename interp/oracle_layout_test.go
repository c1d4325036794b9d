package interp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/opcases"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// oracleOutputs runs model in the TFLite oracle on input and returns every
// output's raw bytes (tflite_run.js --out-all).
func oracleOutputs(or *oracle.Runner, model string, input []byte) ([][]byte, error) {
	tmp, err := os.MkdirTemp("", "qbench-oracle-all-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	abs, err := filepath.Abs(model)
	if err != nil {
		return nil, err
	}
	in := filepath.Join(tmp, "in.bin")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, or.Node, "tflite_run.js", abs, in, "--out-all", filepath.Join(tmp, "out"))
	cmd.Dir = or.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var keep []string
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "ERROR") || strings.HasPrefix(strings.TrimSpace(l), "FAILED") {
				keep = append(keep, strings.TrimSpace(l))
			}
		}
		return nil, fmt.Errorf("tflite oracle on %s: %w: %s", model, err, strings.Join(keep, " | "))
	}
	var outs [][]byte
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(tmp, fmt.Sprintf("out.%d.bin", i)))
		if errors.Is(err, os.ErrNotExist) {
			return outs, nil
		}
		if err != nil {
			return nil, err
		}
		outs = append(outs, b)
	}
}

// freshOutputs returns a copy of the oracle (its script patched, its
// node_modules linked, in a temporary folder) that reads each output after
// every infer() instead of through views taken before the first: TFLite
// reallocates dynamic outputs (a SPACE_TO_BATCH_ND whose paddings a SHAPE
// subgraph computes), and the installed tflite_run.js then reads stale
// memory (zeros). Without the expected line it returns or unchanged.
func freshOutputs(t *testing.T, or *oracle.Runner) *oracle.Runner {
	src, err := os.ReadFile(filepath.Join(or.Dir, "tflite_run.js"))
	if err != nil {
		return or
	}
	const stale = "    outs.forEach((t, i) => {\n      const d = t.data();"
	if !strings.Contains(string(src), stale) {
		return or
	}
	dir := t.TempDir()
	fixed := strings.Replace(string(src), stale, "    runner.getOutputs().forEach((t, i) => {\n      const d = t.data();", 1)
	if err := os.WriteFile(filepath.Join(dir, "tflite_run.js"), []byte(fixed), 0o644); err != nil {
		return or
	}
	if err := os.Symlink(filepath.Join(or.Dir, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		return or
	}
	c := *or
	c.Dir = dir
	return &c
}

// qbenchOutputs compiles g with the runtime's arithmetic, runs it on input
// (graph input 0) and returns every output's raw bytes.
func qbenchOutputs(g *graph.Graph, inputs ...[]byte) ([][]byte, *interp.Program, error) {
	p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.SingleRounding})
	if err != nil {
		return nil, nil, err
	}
	e := p.NewExecutor()
	for i, in := range inputs {
		if err := e.SetInputBytes(i, in); err != nil {
			return nil, nil, err
		}
	}
	if err := e.Run(); err != nil {
		return nil, nil, err
	}
	var outs [][]byte
	for i := range p.NumOutputs() {
		outs = append(outs, e.AppendOutputBytes(i, nil))
	}
	return outs, p, nil
}

// layoutCase is one op of a combined oracle model.
type layoutCase struct {
	name string
	g    *graph.Graph
}

// composeLayout puts cases side by side in one model whose single input is
// a flat vector: each case's input is a SLICE of it, RESHAPEd to the case's
// input shape, so node and TFLite start once for many ops. All quantized
// tensors take q (copies need equal input and output parameters). It
// returns the model and, per case, its first output's position.
func composeLayout(dt graph.DType, q *graph.Quantization, cases []layoutCase) (*graph.Graph, []int, int) {
	g := &graph.Graph{}
	total := 0
	for _, c := range cases {
		total += c.g.Tensors[c.g.Inputs[0]].NumElements()
	}
	xf := g.AddTensor(&graph.Tensor{Name: "x", DType: dt, Shape: []int{total}, Quant: q.Clone()})
	g.Inputs = []int{xf}
	var first []int
	off := 0
	for k, c := range cases {
		in := c.g.Tensors[c.g.Inputs[0]]
		n := in.NumElements()
		s := g.AddTensor(&graph.Tensor{Name: fmt.Sprintf("k%d_flat", k), DType: dt, Shape: []int{n}, Quant: q.Clone()})
		g.AddOp(graph.OpSlice, []int{xf, g.AddTensor(opcases.Ints(fmt.Sprintf("k%d_b", k), nil, off)),
			g.AddTensor(opcases.Ints(fmt.Sprintf("k%d_s", k), nil, n))}, []int{s}, nil)
		off += n
		m := make([]int, len(c.g.Tensors))
		for i, t := range c.g.Tensors {
			if i == c.g.Inputs[0] {
				continue
			}
			ct := *t
			ct.Name = fmt.Sprintf("k%d_%s", k, t.Name)
			if ct.Quant != nil {
				ct.Quant = q.Clone()
			}
			m[i] = g.AddTensor(&ct)
		}
		xin := *in
		xin.Name = fmt.Sprintf("k%d_x", k)
		if xin.Quant != nil {
			xin.Quant = q.Clone()
		}
		m[c.g.Inputs[0]] = g.AddTensor(&xin)
		rs := []int{s}
		if len(in.Shape) > 0 {
			// A scalar's empty shape tensor would be written without data,
			// which makes TFLite's output dynamic (and the oracle's views
			// of dynamic outputs stale); the options say it.
			rs = append(rs, g.AddTensor(opcases.Ints(fmt.Sprintf("k%d_shape", k), nil, in.Shape...)))
		}
		g.AddOp(graph.OpReshape, rs, []int{m[c.g.Inputs[0]]}, &graph.ReshapeOptions{NewShape: append([]int{}, in.Shape...)})
		for _, op := range c.g.Ops {
			ins := make([]int, len(op.Inputs))
			for j, t := range op.Inputs {
				ins[j] = m[t]
			}
			outs := make([]int, len(op.Outputs))
			for j, t := range op.Outputs {
				outs[j] = m[t]
			}
			g.AddOp(op.Kind, ins, outs, op.Options)
		}
		first = append(first, len(g.Outputs))
		for _, o := range c.g.Outputs {
			g.Outputs = append(g.Outputs, m[o])
		}
	}
	return g, first, total
}

// oracleLayoutGaps are (op, dtype) pairs the oracle's TFLite build (tfjs-tflite
// 0.0.1-alpha.10) refuses, so they are checked only against qbench's own
// float32 twin (kernels' TestLayoutTableCoversDTypes). A pair listed here
// that the oracle runs fails the test, so the list stays true.
// A key is "OP" (every dtype) or "OP/dtype".
var oracleLayoutGaps = map[string]string{
	"BROADCAST_TO": "no BROADCAST_TO kernel registered in the oracle's TFLite",
	"FILL/uint8":   "TFLite's FILL has no uint8 kernel (qbench refuses it too)",
	// The oracle's TFLite build has no int16 kernel for these; qbench runs
	// int16 like every other width (newer TFLite runtimes add int16 for
	// 16x8 models).
	"TILE/int16":              "no int16 kernel in the oracle's TFLite",
	"MIRROR_PAD/int16":        "no int16 kernel in the oracle's TFLite",
	"SPACE_TO_BATCH_ND/int16": "no int16 kernel in the oracle's TFLite",
	"BATCH_TO_SPACE_ND/int16": "no int16 kernel in the oracle's TFLite",
	"SPACE_TO_DEPTH/int16":    "no int16 kernel in the oracle's TFLite",
	"DEPTH_TO_SPACE/int16":    "no int16 kernel in the oracle's TFLite",
	// tflite_run.js has no typed array for int64 outputs (it fails reading
	// BYTES_PER_ELEMENT); int64 data and SHAPE's int64 out_type are checked
	// against the float32 twin only.
	"*/int64": "tflite_run.js cannot read int64 outputs",
}

func oracleGap(kind graph.OpKind, dt graph.DType) bool {
	return oracleLayoutGaps[kind.String()] != "" || oracleLayoutGaps[kind.String()+"/"+dt.String()] != ""
}

// TestLayoutOpsMatchTFLite runs every layout, indexing and shape op on
// random shapes, parameters and quantization in every dtype, many ops per
// model, in qbench and in the real TFLite interpreter on the same random
// input: outputs must be bit-identical (the ops move values; RANGE adds in
// float32 as TFLite does).
func TestLayoutOpsMatchTFLite(t *testing.T) {
	sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node once per dtype and trial; skipped with -short")
	}
	rng := rand.New(rand.NewPCG(14, 23))
	dir := t.TempDir()
	// One model per dtype (two random cases of every op) by default;
	// QBENCH_ORACLE_ALL=1 runs six and re-checks that every listed gap is
	// still refused.
	all := os.Getenv("QBENCH_ORACLE_ALL") != ""
	trials := 1
	if all {
		trials = 6
	}
	for _, dt := range opcases.DataTypes {
		if dt == graph.Int64 {
			continue // see oracleLayoutGaps
		}
		for trial := range trials {
			var cases []layoutCase
			for _, kind := range opcases.LayoutKinds {
				key := kind.String() + "/" + dt.String()
				if oracleGap(kind, dt) || !slices.Contains(opcases.LayoutDTypes(kind), dt) {
					continue
				}
				for r := 0; r < 2; {
					g, err := opcases.Layout(kind, dt, rng)
					if err != nil {
						t.Fatalf("%s: %v", key, err)
					}
					if g.Tensors[g.Outputs[0]].DType == graph.Int64 {
						continue // SHAPE's out_type int64: see oracleLayoutGaps
					}
					cases = append(cases, layoutCase{fmt.Sprintf("%s/%d.%d", key, trial, r), g})
					r++
				}
			}
			checkLayoutCases(t, or, dir, dt, fmt.Sprintf("%s-%d", dt, trial), cases, rng)
		}
	}
	for key := range oracleLayoutGaps {
		if !all || strings.HasPrefix(key, "*/") || key == "FILL/uint8" {
			continue
		}
		parts := strings.SplitN(key+"/float32", "/", 3)
		kind, _ := graph.ParseOpKind(parts[0])
		dt, _ := graph.ParseDType(parts[1])
		g, err := opcases.Layout(kind, dt, rng)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "gap.tflite")
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatal(err)
		}
		if _, err := oracleOutputs(or, path, opcases.Input(g, rng)); err == nil {
			t.Errorf("%s is listed as refused by the oracle (%s) but runs: test it", key, oracleLayoutGaps[key])
		}
	}
}

func checkLayoutCases(t *testing.T, or *oracle.Runner, dir string, dt graph.DType, name string, cases []layoutCase, rng *rand.Rand) {
	g, first, n := composeLayout(dt, opcases.Quant(dt, rng), cases)
	path := filepath.Join(dir, name+".tflite")
	if err := tflite.WriteFile(path, g); err != nil {
		t.Fatalf("%s: write: %v", name, err)
	}
	in := opcases.RandomData(rng, dt, n)
	got, _, err := qbenchOutputs(g, in)
	if err != nil {
		t.Fatalf("%s: qbench: %v", name, err)
	}
	start := time.Now()
	want, err := oracleOutputs(or, path, in)
	t.Logf("%s: %d ops, oracle %v", name, len(g.Ops), time.Since(start).Round(time.Millisecond))
	if err != nil {
		// TFLite names the node and op it refuses.
		t.Errorf("%s: %v", name, err)
		return
	}
	if len(want) != len(got) {
		t.Fatalf("%s: %d outputs from TFLite, %d from qbench", name, len(want), len(got))
	}
	for k, c := range cases {
		end := len(got)
		if k+1 < len(first) {
			end = first[k+1]
		}
		for o := first[k]; o < end; o++ {
			if !bytes.Equal(got[o], want[o]) {
				t.Errorf("%s: output %d differs from TFLite (%d bytes vs %d)\n got %v\nwant %v", c.name, o-first[k], len(got[o]), len(want[o]), head(got[o]), head(want[o]))
			}
		}
	}
}

func head(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// checkOne compares one model's outputs on one input.
func checkOne(t *testing.T, or *oracle.Runner, dir, name string, g *graph.Graph, in []byte) {
	path := filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".tflite")
	if err := tflite.WriteFile(path, g); err != nil {
		t.Fatalf("%s: write: %v", name, err)
	}
	got, _, err := qbenchOutputs(g, in)
	if err != nil {
		t.Errorf("%s: qbench: %v", name, err)
		return
	}
	want, err := oracleOutputs(or, path, in)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	for o := range want {
		if o >= len(got) || !bytes.Equal(got[o], want[o]) {
			t.Errorf("%s: output %d differs from TFLite", name, o)
		}
	}
}
