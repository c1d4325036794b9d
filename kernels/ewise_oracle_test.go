package kernels

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// ewModelsPerDType is how many models (each with its own random input
// quantization and constants) the oracle test runs per input dtype;
// QBENCH_ORACLE_ALL=1 runs more.
const ewModelsPerDType = 3

// TestElementwiseOpsMatchTFLite builds, per input dtype, models holding
// every elementwise, unary and reduction case for that dtype (random
// constants and quantization: zero points at the extremes, power-of-two
// and simple-ratio scales), runs them in the real TFLite interpreter and
// op by op in qbench (the runtime's arithmetic) on the same random inputs:
// integer and bool outputs must be identical, floats within 1e-5 of the
// output's range. It logs the agreement count.
func TestElementwiseOpsMatchTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	n := ewModelsPerDType
	if os.Getenv("QBENCH_ORACLE_ALL") == "1" {
		n = 12
	}
	const samples = 4
	dir := t.TempDir()
	var cases []ewCase
	for _, c := range ewCases() {
		if !c.noOracle {
			cases = append(cases, c)
		}
	}
	var ops, agree, values int
	only := os.Getenv("QBENCH_EW_DTYPE") // e.g. uint8: run that dtype's models only
	for _, dt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT} {
		if only != "" && only != dt.String() {
			continue
		}
		for mi := range n {
			// One seed per model, so a failing model replays alone.
			r := rand.New(rand.NewPCG(14, uint64(dt)*1000+uint64(mi)))
			m := ewBuild(r, dt, casesFor(cases, dt))
			path := filepath.Join(dir, fmt.Sprintf("ew-%s-%d.tflite", dt, mi))
			if err := tflite.WriteFile(path, m.g); err != nil {
				t.Fatalf("%s model %d: write: %v", dt, mi, err)
			}
			in := ewInput(r, m.in, samples)
			want, err := or.RunAll(path, in)
			if err != nil {
				t.Errorf("%s model %d: %v", dt, mi, err)
				if os.Getenv("QBENCH_EW_ISOLATE") == "1" {
					ewIsolate(t, or, dir, m, in)
				} else {
					t.Log("set QBENCH_EW_ISOLATE=1 to run each op alone and name the ones TFLite rejects")
				}
				continue
			}
			if len(want) != len(m.ops) {
				t.Fatalf("%s model %d: oracle gave %d outputs for %d ops", dt, mi, len(want), len(m.ops))
			}
			step := len(in) / samples
			for oi, op := range m.ops {
				ops++
				out := m.g.Tensors[m.g.Outputs[oi]]
				osz := out.NumElements() * out.DType.Size()
				ok := true
				for s := range samples {
					got, err := runEwOp(m, op, Options{Rounding: fixedpoint.RuntimeRounding}, in[s*step:(s+1)*step])
					if err != nil {
						t.Errorf("%s model %d %s: %v", dt, mi, m.names[oi], err)
						ok = false
						break
					}
					values += out.NumElements()
					if bad, first := ewCompare(out.DType, got, want[oi][s*osz:(s+1)*osz]); bad > 0 {
						first += ewInputsAt(m, op, in[s*step:(s+1)*step], first)
						t.Errorf("%s model %d %s %+v (x %v, out %v): %d of %d values differ from TFLite; %s",
							dt, mi, m.names[oi], op.Options, quantString(m.x), quantString(out), bad, out.NumElements(), first)
						ok = false
						break
					}
				}
				if ok {
					agree++
				}
			}
		}
	}
	t.Logf("%d of %d ops agree with TFLite (%d values checked)", agree, ops, values)
}

func quantString(t *graph.Tensor) string {
	s, z, ok := QuantParams(t)
	if !ok {
		return t.DType.String()
	}
	return fmt.Sprintf("%s %g/%d", t.DType, s, z)
}

// ewIsolate runs each op of a model TFLite rejected in a model of its own
// and reports the ones it rejects.
func ewIsolate(t *testing.T, or *oracle.Runner, dir string, m *ewModel, in []byte) {
	t.Helper()
	for oi, op := range m.ops {
		g := &graph.Graph{}
		remap := map[int]int{}
		var ins []int
		for _, i := range op.Inputs {
			if _, ok := remap[i]; !ok {
				remap[i] = g.AddTensor(m.g.Tensors[i])
			}
			ins = append(ins, remap[i])
		}
		o := g.AddTensor(m.g.Tensors[op.Outputs[0]])
		g.AddOp(op.Kind, ins, []int{o}, op.Options)
		if m.g.Tensors[op.Outputs[0]].DType == i64T {
			c := g.AddTensor(&graph.Tensor{Name: "y32", DType: i32T, Shape: m.g.Tensors[op.Outputs[0]].Shape})
			g.AddOp(graph.OpCast, []int{o}, []int{c}, &graph.CastOptions{InType: i64T, OutType: i32T})
			o = c
		}
		if m.in != m.x {
			continue // needs the input cast; run the model with the others
		}
		g.Inputs, g.Outputs = []int{remap[m.g.Inputs[0]]}, []int{o}
		path := filepath.Join(dir, fmt.Sprintf("iso-%d.tflite", oi))
		if err := tflite.WriteFile(path, g); err != nil {
			t.Errorf("%s: write: %v", m.names[oi], err)
			continue
		}
		if _, err := or.Run(path, in); err != nil {
			t.Errorf("TFLite rejects %s (x %v, out %v): %v", m.names[oi], quantString(m.x), quantString(m.g.Tensors[op.Outputs[0]]), err)
		}
	}
}

// TestElementwiseTableCovered walks the op table for the elementwise,
// unary and reduction families: every kind needs a case, every dtype a
// case accepts must prepare, and every dtype no case lists must be refused
// with ErrUnsupported (so what the kernels take is exactly what is tested).
func TestElementwiseTableCovered(t *testing.T) {
	cases := ewCases()
	covered := map[graph.OpKind]map[graph.DType]bool{}
	for _, c := range cases {
		if covered[c.kind] == nil {
			covered[c.kind] = map[graph.DType]bool{}
		}
		for _, d := range c.dts {
			covered[c.kind][d] = true
		}
	}
	r := rand.New(rand.NewPCG(5, 5))
	for _, kind := range ewFamilies {
		if opTable[kind] == nil {
			t.Errorf("%s: not in opTable", kind)
		}
		if covered[kind] == nil {
			t.Errorf("%s: no case", kind)
			continue
		}
		for _, dt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT} {
			// Draw each case for dt (or, when none lists dt, the kind's
			// first case with x of dtype dt) and prepare it.
			cs := casesFor(cases, dt)
			var mine []ewCase
			for _, c := range cs {
				if c.kind == kind {
					mine = append(mine, c)
				}
			}
			if len(mine) == 0 {
				for _, c := range cases {
					if c.kind == kind {
						mine = append(mine, c)
						break
					}
				}
			}
			for _, c := range mine {
				m := ewBuild(r, dt, []ewCase{c})
				op := m.ops[0]
				_, err := runEwOp(m, op, Options{Rounding: fixedpoint.SingleRounding}, ewInput(r, m.in, 1))
				switch {
				case covered[kind][dt] && err != nil:
					t.Errorf("%s %s: listed but fails: %v", m.names[0], dt, err)
				case !covered[kind][dt] && err == nil:
					t.Errorf("%s %s: accepted but no case tests it", m.names[0], dt)
				case !covered[kind][dt] && !errors.Is(err, ErrUnsupported):
					t.Errorf("%s %s: refused without ErrUnsupported: %v", m.names[0], dt, err)
				}
			}
		}
	}
}

// ewInputsAt names the inputs of the element a comparison message names,
// when every input has the output's size (no broadcasting to undo).
func ewInputsAt(m *ewModel, op *graph.Op, sample []byte, msg string) string {
	var e int
	if _, err := fmt.Sscanf(msg, "element %d:", &e); err != nil {
		return ""
	}
	out := m.g.Tensors[op.Outputs[0]]
	s := " (inputs"
	idx := []int{e, e}
	if len(op.Inputs) == 2 {
		a, b := m.g.Tensors[op.Inputs[0]], m.g.Tensors[op.Inputs[1]]
		if bc, err := newBroadcast(a.Shape, b.Shape, out.Shape); err == nil {
			bc.each(func(o, i1, i2 int) {
				if o == e {
					idx = []int{i1, i2}
				}
			})
		}
	}
	for k, i := range op.Inputs {
		t := m.g.Tensors[i]
		if len(op.Inputs) != 2 && t.NumElements() != out.NumElements() {
			return ""
		}
		if k < 2 {
			e = idx[k]
		}
		raw := t.Data
		if t == m.x {
			raw = sample
		}
		b := ewDecode(t.DType, t.Shape, raw)
		if t.DType == f32T {
			s += fmt.Sprintf(" %g", b.F32[e])
		} else {
			s += " " + elemString(b, e)
		}
		if t.Quant != nil {
			s += " [" + quantString(t) + "]"
		}
	}
	return s + ")"
}

// TestElementwiseFastMatchesReference runs every case, for every dtype it
// covers, with the fast paths (8-bit tables) and with the plain reference
// arithmetic on random inputs (odd shapes come from the cases' broadcast
// shapes; 8-bit inputs cover every value) and requires identical bytes.
func TestElementwiseFastMatchesReference(t *testing.T) {
	for _, dt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT} {
		for mi := range 4 {
			r := rand.New(rand.NewPCG(7, uint64(dt)*1000+uint64(mi)))
			m := ewBuild(r, dt, casesFor(ewCases(), dt))
			in := ewInput(r, m.in, 1)
			for oi, op := range m.ops {
				for _, rnd := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
					fast, err := runEwOp(m, op, Options{Rounding: rnd}, in)
					if err != nil {
						t.Errorf("%s %s: %v", dt, m.names[oi], err)
						continue
					}
					ref, err := runEwOp(m, op, Options{Rounding: rnd, reference: true}, in)
					if err != nil {
						t.Errorf("%s %s reference: %v", dt, m.names[oi], err)
						continue
					}
					if bad, first := ewCompare(m.g.Tensors[op.Outputs[0]].DType, fast, ref); bad > 0 {
						t.Errorf("%s %s (%s): %d values differ from the reference; %s", dt, m.names[oi], rnd, bad, first)
					}
				}
			}
		}
	}
}
