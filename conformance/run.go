package conformance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/tflite"
)

// Result is the outcome of one case.
type Result struct {
	Path string `json:"path"` // case file
	Name string `json:"name"` // the case's name, or the path when it could not be read
	Op   string `json:"op"`   // op name (kernel case) or comma-separated ops (model case)
	Pass bool   `json:"pass"`
	// Reason says why a failing case failed: an unsupported op, a load
	// error, or the first mismatching output element.
	Reason string `json:"reason,omitempty"`
}

// Results are the outcomes of a directory of cases, in path order.
type Results struct {
	Cases  []Result `json:"cases"`
	Passed int      `json:"passed"`
	Failed int      `json:"failed"`
}

// RunDir runs every case file (*.json with the tflm-ref-case format) under
// dir, recursively. Files named index.json, and JSON files of another
// format, are skipped. A case that cannot be loaded or run fails with a
// reason; the error is only for an unreadable directory.
func RunDir(dir string) (Results, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") && d.Name() != "index.json" {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return Results{}, fmt.Errorf("reading cases: %w", err)
	}
	sort.Strings(paths)
	var rs Results
	for _, p := range paths {
		c, err := LoadCase(p)
		if errors.Is(err, ErrNotCase) {
			continue
		}
		if err != nil {
			rs.add(Result{Path: p, Name: p, Reason: err.Error()})
			continue
		}
		rs.add(RunCase(c, filepath.Dir(p), p))
	}
	return rs, nil
}

func (rs *Results) add(r Result) {
	rs.Cases = append(rs.Cases, r)
	if r.Pass {
		rs.Passed++
	} else {
		rs.Failed++
	}
}

// RunCase runs one loaded case; dir is where a model case's .tflite lives.
func RunCase(c *Case, dir, path string) Result {
	r := Result{Path: path, Name: c.Name, Op: c.Op}
	var err error
	switch c.Kind {
	case "kernel":
		err = runKernel(c)
	case "model":
		err = runModel(c, dir, &r)
	default:
		err = fmt.Errorf("unknown case kind %q", c.Kind)
	}
	if err != nil {
		r.Reason = err.Error()
		return r
	}
	r.Pass = true
	return r
}

func runKernel(c *Case) error {
	g, feeds, err := KernelGraph(c)
	if err != nil {
		return err
	}
	// TFLite Micro's kernels use the output dims the case declares (see
	// interp.Options.DeclaredShapes); 8 of its cases declare dims that
	// TFLite's shape inference would change.
	p, err := interp.Compile(g, interp.Options{DeclaredShapes: true})
	if err != nil {
		return err
	}
	e := p.NewExecutor()
	for i, v := range feeds {
		if err := fill(e.Input(i), v); err != nil {
			return fmt.Errorf("input %d: %w", i, err)
		}
	}
	if err := e.Run(); err != nil {
		return err
	}
	for i := range c.Outputs {
		if err := check(&c.Outputs[i], e.Output(i), p.OutputTensor(i)); err != nil {
			return fmt.Errorf("output %d %q: %w", i, c.Outputs[i].Name, err)
		}
	}
	return nil
}

func runModel(c *Case, dir string, r *Result) error {
	g, err := tflite.ReadFile(filepath.Join(dir, c.Model))
	if err != nil {
		return err
	}
	var ops []string
	for _, op := range g.Ops {
		ops = append(ops, op.Kind.String())
	}
	r.Op = strings.Join(ops, ",")
	p, err := interp.Compile(g, interp.Options{})
	if err != nil {
		return err
	}
	e := p.NewExecutor()
	for n, inv := range c.Invocations {
		for _, in := range inv.Inputs {
			b := e.Input(in.Index)
			if b == nil {
				return fmt.Errorf("invocation %d: input index %d out of range", n, in.Index)
			}
			if err := fill(b, in.Data); err != nil {
				return fmt.Errorf("invocation %d: input %d: %w", n, in.Index, err)
			}
		}
		if err := e.Run(); err != nil {
			return fmt.Errorf("invocation %d: %w", n, err)
		}
		for _, o := range inv.Outputs {
			b := e.Output(o.Index)
			if b == nil {
				return fmt.Errorf("invocation %d: output index %d out of range", n, o.Index)
			}
			if err := check(&o, b, p.OutputTensor(o.Index)); err != nil {
				return fmt.Errorf("invocation %d: output %d: %w", n, o.Index, err)
			}
		}
	}
	return nil
}

// fill writes case values into an input buffer of any dtype.
func fill(b *kernels.Buffer, v Values) error {
	data, err := encode(b.DType, b.Shape, v)
	if err != nil {
		return err
	}
	n := len(v)
	switch b.DType {
	case graph.Float32:
		for i := range n {
			b.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case graph.Int8, graph.Int4:
		for i := range n {
			b.I8[i] = int8(data[i])
		}
	case graph.UInt8:
		copy(b.U8, data)
	case graph.Bool:
		for i := range n {
			b.Bool[i] = data[i] != 0
		}
	case graph.Int16:
		for i := range n {
			b.I16[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case graph.Int32:
		for i := range n {
			b.I32[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case graph.Int64:
		for i := range n {
			b.I64[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
		}
	}
	return nil
}

// values returns a buffer's elements as float64 and whether it is integer.
func values(b *kernels.Buffer) ([]float64, bool) {
	var out []float64
	switch b.DType {
	case graph.Float32:
		for _, x := range b.F32 {
			out = append(out, float64(x))
		}
		return out, false
	case graph.Int8, graph.Int4:
		for _, x := range b.I8 {
			out = append(out, float64(x))
		}
	case graph.UInt8:
		for _, x := range b.U8 {
			out = append(out, float64(x))
		}
	case graph.Int16:
		for _, x := range b.I16 {
			out = append(out, float64(x))
		}
	case graph.Int32:
		for _, x := range b.I32 {
			out = append(out, float64(x))
		}
	case graph.Int64:
		for _, x := range b.I64 {
			out = append(out, float64(x))
		}
	case graph.Bool:
		for _, x := range b.Bool {
			v := 0.0
			if x {
				v = 1
			}
			out = append(out, v)
		}
	}
	return out, true
}

// check applies an output's compare mode, then for integer outputs demands
// equality with TFLite's reference.
func check(spec *TensorSpec, b *kernels.Buffer, t *graph.Tensor) error {
	got, isInt := values(b)
	tol := 0.0
	if spec.Tolerance != nil {
		tol = *spec.Tolerance
	}
	switch spec.Compare {
	case "raw", "":
		if err := near(got, spec.Expected, tol, "expected"); err != nil {
			return err
		}
	case "dequantized":
		s, zp, ok := kernels.QuantParams(t)
		if !ok {
			return fmt.Errorf("compare dequantized: output has no quantization")
		}
		deq := make([]float64, len(got))
		for i, q := range got {
			deq[i] = float64(s) * (q - float64(zp))
		}
		if err := near(deq, spec.Expected, tol, "expected (dequantized)"); err != nil {
			return err
		}
	case "argmax":
		if spec.ExpectedArgmax == nil {
			return fmt.Errorf("compare argmax without expected_argmax")
		}
		best := 0
		for i, v := range got {
			if v > got[best] {
				best = i
			}
		}
		if best != *spec.ExpectedArgmax {
			return fmt.Errorf("argmax %d, expected %d", best, *spec.ExpectedArgmax)
		}
	case "reference":
		if !isInt {
			if err := near(got, spec.Reference, tol, "reference"); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown compare mode %q", spec.Compare)
	}
	if isInt && spec.Reference != nil {
		if err := near(got, spec.Reference, 0, "reference"); err != nil {
			return fmt.Errorf("not bit-exact with TFLite: %w", err)
		}
	}
	return nil
}

// near compares element-wise with an absolute tolerance; NaN matches NaN.
func near(got []float64, want Values, tol float64, what string) error {
	w, err := want.Floats()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(w) != len(got) {
		return fmt.Errorf("%d values, %s has %d", len(got), what, len(w))
	}
	bad, first := 0, -1
	for i := range w {
		g := got[i]
		if math.IsNaN(w[i]) && math.IsNaN(g) || g == w[i] {
			continue
		}
		if !(math.Abs(g-w[i]) <= tol) {
			bad++
			if first < 0 {
				first = i
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d values differ from %s beyond %g; first at [%d]: got %g, want %g",
			bad, len(w), what, tol, first, got[first], w[first])
	}
	return nil
}
