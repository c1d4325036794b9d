package interp_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// dynGraph helps build the graphs of the dynamic-shape tests.
type dynGraph struct{ g *graph.Graph }

func (d dynGraph) t(name string, dt graph.DType, shape ...int) int {
	return d.g.AddTensor(&graph.Tensor{Name: name, DType: dt, Shape: shape})
}

func (d dynGraph) i32(name string, shape []int, v ...int32) int {
	return d.g.AddTensor(&graph.Tensor{Name: name, DType: graph.Int32, Shape: shape, Data: graph.EncodeInt32s(v)})
}

func (d dynGraph) f32(name string, shape []int, v ...float32) int {
	return d.g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)})
}

// whereGraph: x [2, 3, 5, 7] → WHERE(x > 0.5) → coordinates (int32), the
// positive values by GATHER_ND, their doubled sum and the SHAPE of the
// coordinates; every op after WHERE has a run-time shape.
func whereGraph() *graph.Graph {
	d := dynGraph{&graph.Graph{}}
	x := d.t("x", graph.Float32, 2, 3, 5, 7)
	half := d.f32("half", []int{}, 0.5)
	gt := d.t("gt", graph.Bool, 2, 3, 5, 7)
	w := d.t("where", graph.Int64, 210, 4)
	w32 := d.t("coords", graph.Int32, 210, 4)
	vals := d.t("values", graph.Float32, 210)
	two := d.f32("two", []int{}, 2)
	dbl := d.t("doubled", graph.Float32, 210)
	ax := d.i32("axis", []int{1}, 0)
	sum := d.t("sum", graph.Float32)
	shp := d.t("shape", graph.Int32, 2)
	g := d.g
	g.AddOp(graph.OpGreater, []int{x, half}, []int{gt}, nil)
	g.AddOp(graph.OpWhere, []int{gt}, []int{w}, nil)
	g.AddOp(graph.OpCast, []int{w}, []int{w32}, &graph.CastOptions{InType: graph.Int64, OutType: graph.Int32})
	g.AddOp(graph.OpGatherND, []int{x, w32}, []int{vals}, nil)
	g.AddOp(graph.OpMul, []int{vals, two}, []int{dbl}, &graph.ArithOptions{})
	g.AddOp(graph.OpSum, []int{dbl, ax}, []int{sum}, &graph.ReducerOptions{})
	g.AddOp(graph.OpShape, []int{w}, []int{shp}, &graph.ShapeOptions{OutType: graph.Int32})
	g.Inputs, g.Outputs = []int{x}, []int{w32, vals, sum, shp}
	return g
}

// uniqueGraph: x [40] int32 → UNIQUE → values times 3 and idx, and the
// values' count by SHAPE.
func uniqueGraph() *graph.Graph {
	d := dynGraph{&graph.Graph{}}
	x := d.t("x", graph.Int32, 40)
	y := d.t("y", graph.Int32, 40)
	idx := d.t("idx", graph.Int32, 40)
	three := d.i32("three", []int{}, 3)
	y3 := d.t("y3", graph.Int32, 40)
	shp := d.t("count", graph.Int32, 1)
	g := d.g
	g.AddOp(graph.OpUnique, []int{x}, []int{y, idx}, &graph.UniqueOptions{IdxType: graph.Int32})
	g.AddOp(graph.OpMul, []int{y, three}, []int{y3}, &graph.ArithOptions{})
	g.AddOp(graph.OpShape, []int{y}, []int{shp}, &graph.ShapeOptions{OutType: graph.Int32})
	g.Inputs, g.Outputs = []int{x}, []int{y3, idx, shp}
	return g
}

// nmsGraph is the TF2 detector tail: scores x [n] over constant boxes →
// NON_MAX_SUPPRESSION_V5 (max_output_size m) → the valid indices by a
// SLICE sized from valid_outputs → their boxes by GATHER (the last
// output, which the oracle cannot check: see TestDynamicShapesMatchTFLite).
func nmsGraph(r *rand.Rand, n, m int) *graph.Graph {
	d := dynGraph{&graph.Graph{}}
	bv := make([]float32, 4*n)
	for i := range n {
		y, x := r.Float32(), r.Float32()
		copy(bv[4*i:], []float32{y, x, y + 0.1 + 0.4*r.Float32(), x + 0.1 + 0.4*r.Float32()})
	}
	boxes := d.f32("boxes", []int{n, 4}, bv...)
	x := d.t("scores", graph.Float32, n)
	sel := d.t("selected", graph.Int32, m)
	ssc := d.t("selected_scores", graph.Float32, m)
	valid := d.t("valid", graph.Int32)
	one := d.i32("shape1", []int{1}, 1)
	valid1 := d.t("valid1", graph.Int32, 1)
	zero := d.i32("begin", []int{1}, 0)
	kept := d.t("kept", graph.Int32, 1)
	out := d.t("kept_boxes", graph.Float32, 1, 4)
	g := d.g
	g.AddOp(graph.OpNonMaxSuppressionV5, []int{boxes, x, d.i32("max", []int{}, int32(m)), d.f32("iou", []int{}, 0.4),
		d.f32("score", []int{}, 0.2), d.f32("sigma", []int{}, 0.3)}, []int{sel, ssc, valid}, nil)
	g.AddOp(graph.OpReshape, []int{valid, one}, []int{valid1}, &graph.ReshapeOptions{NewShape: []int{1}})
	g.AddOp(graph.OpSlice, []int{sel, zero, valid1}, []int{kept}, nil)
	g.AddOp(graph.OpGather, []int{boxes, kept}, []int{out}, &graph.GatherOptions{})
	g.Inputs, g.Outputs = []int{x}, []int{sel, ssc, valid, out}
	return g
}

// runInterp compiles g and runs it on each sample (raw bytes of input 0),
// returning each output's bytes per sample.
func runInterp(t *testing.T, g *graph.Graph, samples [][]byte) [][][]byte {
	t.Helper()
	p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding})
	if err != nil {
		t.Fatal(err)
	}
	e := p.NewExecutor()
	var res [][][]byte
	for _, s := range samples {
		in := e.Input(0)
		switch in.DType {
		case graph.Float32:
			for i := range in.F32 {
				in.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(s[4*i:]))
			}
		case graph.Int32:
			for i := range in.I32 {
				in.I32[i] = int32(binary.LittleEndian.Uint32(s[4*i:]))
			}
		}
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
		var outs [][]byte
		for o := range p.NumOutputs() {
			outs = append(outs, rawOf(e.Output(o)))
		}
		res = append(res, outs)
	}
	return res
}

func rawOf(b *kernels.Buffer) []byte {
	var r []byte
	for _, v := range b.F32 {
		r = binary.LittleEndian.AppendUint32(r, math.Float32bits(v))
	}
	for _, v := range b.I32 {
		r = binary.LittleEndian.AppendUint32(r, uint32(v))
	}
	return r
}

func dynSamples(r *rand.Rand, g *graph.Graph, n int) [][]byte {
	x := g.Tensors[g.Inputs[0]]
	var ss [][]byte
	for range n {
		var b []byte
		span := 2 + r.IntN(12) // distinct values in the sample: up to span
		for range x.NumElements() {
			if x.DType == graph.Int32 {
				b = binary.LittleEndian.AppendUint32(b, uint32(r.IntN(span)-4))
			} else {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(r.Float32()))
			}
		}
		ss = append(ss, b)
	}
	return ss
}

// TestDynamicShapesMatchTFLite runs graphs with data-dependent shapes
// (WHERE, UNIQUE, NMS V5 then a SLICE sized by its valid count) through
// Compile and the real TFLite interpreter on random inputs of which each
// gives other sizes: every output identical (float32 ones are gathered or
// doubled values, NMS's soft scores within 1e-5 of their range), sizes
// included. The boxes the NMS graph keeps are checked against its own
// selected indices and valid count instead: the oracle's TFLite gives
// that SLICE the output shape the file declares, whatever the size input
// holds (measured: valid_outputs 10, declared [1] gives 1 index, declared
// [7] gives 7), where TFLite's SLICE kernel marks an output with a
// computed size dynamic and sizes it when it runs, as qbench does.
func TestDynamicShapesMatchTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	if or, err = or.Dynamic(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	cases := map[string]*graph.Graph{"where": whereGraph(), "unique": uniqueGraph(), "nms": nmsGraph(r, 30, 25)}
	dir := t.TempDir()
	sizes := map[string][]int{}
	for _, name := range []string{"where", "unique", "nms"} {
		g := cases[name]
		path := filepath.Join(dir, name+".tflite")
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatal(err)
		}
		samples := dynSamples(r, g, 4)
		got := runInterp(t, g, samples)
		for s, in := range samples {
			want, err := or.RunAll(path, in)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for o := range want {
				if name == "nms" && o == 3 {
					checkKept(t, g, got[s])
					continue
				}
				a, b := got[s][o], want[o]
				ot := g.Tensors[g.Outputs[o]]
				if !closeBytes(ot.DType, a, b) {
					t.Errorf("%s sample %d output %q: qbench %d bytes %v, TFLite %d bytes %v", name, s, ot.Name, len(a), firstBytes(a), len(b), firstBytes(b))
				}
			}
			first := got[s][0]
			if name == "nms" {
				first = got[s][3]
			}
			sizes[name] = append(sizes[name], len(first))
		}
	}
	t.Logf("bytes of the dynamic output per sample (WHERE coordinates, UNIQUE values, kept boxes): %v", sizes)
}

// checkKept: the NMS graph's kept boxes are the boxes of the first
// valid selected indices.
func checkKept(t *testing.T, g *graph.Graph, outs [][]byte) {
	t.Helper()
	boxes := g.Tensors[0].Float32s()
	valid := int(binary.LittleEndian.Uint32(outs[2]))
	var want []byte
	for i := range valid {
		j := int(binary.LittleEndian.Uint32(outs[0][4*i:]))
		for _, v := range boxes[4*j : 4*j+4] {
			want = binary.LittleEndian.AppendUint32(want, math.Float32bits(v))
		}
	}
	if !slices.Equal(outs[3], want) {
		t.Errorf("nms: kept boxes %d bytes, want the %d selected boxes (%d bytes)", len(outs[3]), valid, len(want))
	}
}

func firstBytes(b []byte) []byte { return b[:min(len(b), 16)] }

// closeBytes compares raw outputs: int32 exactly, float32 within 1e-5 of
// the expected range.
func closeBytes(dt graph.DType, a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	if dt != graph.Float32 {
		return slices.Equal(a, b)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 0; i < len(b); i += 4 {
		v := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
		lo, hi = min(lo, v), max(hi, v)
	}
	tol := 1e-5 * max(hi-lo, 1e-3)
	for i := 0; i < len(b); i += 4 {
		x := float64(math.Float32frombits(binary.LittleEndian.Uint32(a[i:])))
		y := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
		if math.Abs(x-y) > tol {
			return false
		}
	}
	return true
}

// TestDynamicBuffersResize: a dynamic graph's outputs take each run's
// size, shrinking and growing back with the right values, and a WHERE
// with no true element gives an empty output.
func TestDynamicBuffersResize(t *testing.T) {
	g := uniqueGraph()
	p, err := interp.Compile(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := p.NewExecutor()
	for _, n := range []int{40, 3, 17, 1, 40} {
		in := e.Input(0)
		for i := range in.I32 {
			in.I32[i] = int32(i % n)
		}
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
		y := e.Output(0)
		if fmt.Sprint(y.Shape) != fmt.Sprint([]int{n}) || y.I32[n-1] != int32(3*(n-1)) || e.Output(2).I32[0] != int32(n) {
			t.Fatalf("%d distinct values: y %v %v, count %v", n, y.Shape, y.I32, e.Output(2).I32)
		}
		if f := e.OutputFloat(0, nil); len(f) != n {
			t.Fatalf("OutputFloat: %d values, want %d", len(f), n)
		}
	}
	// Raw runs concatenate each sample's values, whatever their number
	// (2 and 5 distinct values: 7 int32s), even when given workers.
	var in []byte
	for _, n := range []int{2, 5} {
		for i := range 40 {
			in = binary.LittleEndian.AppendUint32(in, uint32(i%n))
		}
	}
	outs, err := interp.RunRawAll(p, [][]byte{in}, 2)
	if err != nil || len(outs[0]) != 7*4 || len(outs[1]) != 80*4 {
		t.Fatalf("RunRawAll: %d and %d bytes (%v), want 28 and 320", len(outs[0]), len(outs[1]), err)
	}
	if raw, err := interp.RunRaw(p, in, 2); err != nil || len(raw) != 28 {
		t.Fatalf("RunRaw: %d bytes (%v), want 28", len(raw), err)
	}
	// A WHERE on a graph input alone: a bound of 0 true elements works.
	d := dynGraph{&graph.Graph{}}
	x := d.t("x", graph.Bool, 3)
	w := d.t("w", graph.Int64, 3, 1)
	d.g.AddOp(graph.OpWhere, []int{x}, []int{w}, nil)
	d.g.Inputs, d.g.Outputs = []int{x}, []int{w}
	p, err = interp.Compile(d.g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e = p.NewExecutor()
	if err := e.Run(); err != nil || fmt.Sprint(e.Output(0).Shape) != "[0 1]" {
		t.Fatalf("WHERE of all false: %v %v", e.Output(0).Shape, err)
	}
}
