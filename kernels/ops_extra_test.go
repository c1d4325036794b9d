package kernels

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// i32Const is a constant int32 tensor.
func i32Const(shape []int, v ...int) *graph.Tensor {
	d := make([]int32, len(v))
	for i, x := range v {
		d[i] = int32(x)
	}
	return &graph.Tensor{DType: i32T, Shape: shape, Data: graph.EncodeInt32s(d)}
}

// scalarOf is a constant scalar of dt holding raw value v.
func scalarOf(r *rand.Rand, dt graph.DType) *graph.Tensor {
	return ewConst(r, dt, []int{}, -3, 3)
}

// extraCases are the oracle cases of the indexing, scan and segment ops;
// x is [2, 3, 5, 7].
func extraCases() []ewCase {
	all := []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT}
	same := func(x *graph.Tensor) *graph.Tensor {
		return withQuant(&graph.Tensor{DType: x.DType, Shape: slices.Clone(x.Shape)}, x.Quant)
	}
	onlyTypes := func(k graph.OpKind) []graph.DType {
		var r []graph.DType
		for _, d := range all {
			if slices.Contains(extraDTypes[k], d) {
				r = append(r, d)
			}
		}
		return r
	}
	var cs []ewCase
	cs = append(cs,
		ewCase{kind: graph.OpAtan2, name: "y=x", dts: []graph.DType{f32T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			return []*graph.Tensor{x, ewConst(r, f32T, x.Shape, -3, 3)}, same(x), nil
		}},
		ewCase{kind: graph.OpAtan2, name: "x=x", dts: []graph.DType{f32T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			return []*graph.Tensor{ewConst(r, f32T, x.Shape, -3, 3), x}, same(x), nil
		}},
		ewCase{kind: graph.OpCumsum, dts: []graph.DType{f32T, i32T, i64T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			return []*graph.Tensor{x, i32Const([]int{}, r.IntN(8)-4)}, same(x),
				&graph.CumsumOptions{Exclusive: r.IntN(2) == 0, Reverse: r.IntN(2) == 0}
		}},
		ewCase{kind: graph.OpReverseSequence, dts: onlyTypes(graph.OpReverseSequence), build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			sd := r.IntN(4)
			bd := (sd + 1 + r.IntN(3)) % 4
			lens := make([]int, x.Shape[bd])
			for i := range lens {
				lens[i] = r.IntN(x.Shape[sd] + 1)
			}
			return []*graph.Tensor{x, i32Const([]int{len(lens)}, lens...)}, same(x),
				&graph.ReverseSequenceOptions{SeqDim: sd, BatchDim: bd}
		}},
		ewCase{kind: graph.OpMatrixDiag, dts: onlyTypes(graph.OpMatrixDiag), build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			y := same(x)
			y.Shape = append(y.Shape, x.Shape[3])
			return []*graph.Tensor{x}, y, nil
		}},
		ewCase{kind: graph.OpMatrixSetDiag, name: "input", dts: onlyTypes(graph.OpMatrixSetDiag), build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			d := withQuant(ewConst(r, x.DType, []int{2, 3, 5}, -50, 50), x.Quant)
			return []*graph.Tensor{x, d}, same(x), nil
		}},
		ewCase{kind: graph.OpMatrixSetDiag, name: "diagonal", dts: onlyTypes(graph.OpMatrixSetDiag), build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			m := withQuant(ewConst(r, x.DType, []int{2, 3, 5, 7 + r.IntN(3), 7}, -50, 50), x.Quant)
			if r.IntN(2) == 0 {
				m.Shape[3], m.Shape[4] = m.Shape[4], m.Shape[3]
			}
			y := same(m)
			return []*graph.Tensor{m, x}, y, nil
		}},
		ewCase{kind: graph.OpBucketize, dts: []graph.DType{f32T, i32T, i64T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			b := make([]float32, r.IntN(9))
			for i := range b {
				b[i] = float32(r.IntN(81)-40) / 8
				if x.DType != f32T {
					b[i] *= 10
				}
			}
			slices.Sort(b)
			return []*graph.Tensor{x}, &graph.Tensor{DType: i32T, Shape: slices.Clone(x.Shape)}, &graph.BucketizeOptions{Boundaries: b}
		}},
	)
	for _, k := range []graph.OpKind{graph.OpUnsortedSegmentSum, graph.OpUnsortedSegmentMax, graph.OpUnsortedSegmentMin, graph.OpUnsortedSegmentProd} {
		cs = append(cs, ewCase{kind: k, dts: []graph.DType{f32T, i32T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			lead := 1 + r.IntN(2)
			num := 1 + r.IntN(5)
			ids := make([]int, graph.NumElements(x.Shape[:lead]))
			for i := range ids {
				ids[i] = r.IntN(num)
			}
			y := same(x)
			y.Shape = append([]int{num}, x.Shape[lead:]...)
			return []*graph.Tensor{x, i32Const(slices.Clone(x.Shape[:lead]), ids...), i32Const([]int{}, num)}, y, nil
		}})
	}
	cs = append(cs, ewCase{kind: graph.OpDynamicUpdateSlice, name: "operand", dts: []graph.DType{f32T, i8T, i32T, i64T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		us := []int{1 + r.IntN(2), 1 + r.IntN(3), 1 + r.IntN(5), 1 + r.IntN(7)}
		st := []int{r.IntN(5) - 2, r.IntN(5) - 1, r.IntN(7) - 1, r.IntN(9) - 1}
		u := withQuant(ewConst(r, x.DType, us, -50, 50), x.Quant)
		return []*graph.Tensor{x, u, i32Const([]int{4}, st...)}, withQuant(&graph.Tensor{DType: x.DType, Shape: slices.Clone(x.Shape)}, x.Quant), nil
	}})
	cs = append(cs, ewCase{kind: graph.OpEmbeddingLookup, dts: []graph.DType{f32T, i8T, u8T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		ids := make([]int, 1+r.IntN(6))
		for i := range ids {
			ids[i] = r.IntN(2)
		}
		y := &graph.Tensor{DType: f32T, Shape: append([]int{len(ids)}, x.Shape[1:]...)}
		if x.DType == f32T && r.IntN(2) == 0 {
			y.DType = x.DType
		}
		return []*graph.Tensor{i32Const([]int{len(ids)}, ids...), x}, y, nil
	}})
	for range 4 {
		cs = append(cs, ewCase{kind: graph.OpLocalResponseNormalization, dts: []graph.DType{f32T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			o := &graph.LRNOptions{Radius: r.IntN(5), Bias: float32(0.5 + r.Float64()), Alpha: float32(r.Float64()), Beta: float32(0.25 + r.Float64())}
			return []*graph.Tensor{x}, &graph.Tensor{DType: f32T, Shape: slices.Clone(x.Shape)}, o
		}})
	}
	for _, dt := range extraDTypes[graph.OpOneHot] {
		cs = append(cs, ewCase{kind: graph.OpOneHot, name: dt.String(), dts: []graph.DType{i32T, i64T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			depth := 1 + r.IntN(50)
			axis := r.IntN(6) - 1
			if axis == 5 {
				axis = -1
			}
			shape, _ := graph.OneHotShape(x.Shape, depth, axis)
			on, off := scalarOf(r, dt), scalarOf(r, dt)
			y := withQuant(&graph.Tensor{DType: dt, Shape: shape}, on.Quant)
			off.Quant = on.Quant
			return []*graph.Tensor{x, i32Const([]int{}, depth), on, off}, y, &graph.OneHotOptions{Axis: axis}
		}})
	}
	return cs
}

// TestExtraOpsMatchTFLite runs models of the indexing, scan and segment
// ops in the real TFLite interpreter and in qbench: integer and bool
// outputs must be identical, float32 within 1e-5 of the output's range
// (ATAN2 rounds from float64; the others add in TFLite's order and are
// identical). A model TFLite rejects fails the test, each of its ops then
// run alone to name the one rejected (QBENCH_EXTRA_OP=NAME runs one kind).
func TestExtraOpsMatchTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	const samples, models = 3, 1
	dir := t.TempDir()
	var ops, agree, values int
	for _, dt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT} {
		var cases []ewCase
		for _, c := range casesFor(extraCases(), dt) {
			if only := os.Getenv("QBENCH_EXTRA_OP"); only == "" || only == c.kind.String() {
				cases = append(cases, c)
			}
		}
		if len(cases) == 0 {
			continue
		}
		for mi := range models {
			r := rand.New(rand.NewPCG(140, uint64(dt)*1000+uint64(mi)))
			m := ewBuild(r, dt, cases)
			path := filepath.Join(dir, fmt.Sprintf("extra-%s-%d.tflite", dt, mi))
			if err := tflite.WriteFile(path, m.g); err != nil {
				t.Fatalf("%s model %d: write: %v", dt, mi, err)
			}
			in := ewInput(r, m.in, samples)
			want, err := or.RunAll(path, in)
			if err != nil {
				t.Errorf("%s model %d: %v", dt, mi, err)
				ewIsolate(t, or, dir, m, in)
				continue
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
	t.Logf("%d of %d indexing/scan/segment ops agree with TFLite (%d values)", agree, ops, values)
}

// TestExtraReference checks small cases worked out by hand.
func TestExtraReference(t *testing.T) {
	run := func(op *graph.Op, ins []*graph.Tensor, feed []*Buffer, out *graph.Tensor) *Buffer {
		t.Helper()
		k, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", op.Kind, err)
		}
		y := ewAlloc(out)
		if err := k.Run(feed, []*Buffer{y}); err != nil {
			t.Fatalf("%s: %v", op.Kind, err)
		}
		return y
	}
	x := &graph.Tensor{Name: "x", DType: f32T, Shape: []int{2, 3}}
	xb := &Buffer{DType: f32T, Shape: x.Shape, F32: []float32{1, 2, 3, 4, 5, 6}}
	ax := i32Const([]int{}, 1)
	y := run(&graph.Op{Kind: graph.OpCumsum, Options: &graph.CumsumOptions{Exclusive: true, Reverse: true}},
		[]*graph.Tensor{x, ax}, []*Buffer{xb, {DType: i32T, I32: []int32{1}}}, &graph.Tensor{DType: f32T, Shape: x.Shape})
	if fmt.Sprint(y.F32) != "[5 3 0 11 6 0]" {
		t.Errorf("CUMSUM exclusive reverse: %v", y.F32)
	}
	ids := &graph.Tensor{Name: "ids", DType: i32T, Shape: []int{3}}
	depth := i32Const([]int{}, 3)
	on, off := &graph.Tensor{DType: f32T, Shape: []int{}, Data: graph.EncodeFloat32s([]float32{5})},
		&graph.Tensor{DType: f32T, Shape: []int{}, Data: graph.EncodeFloat32s([]float32{-1})}
	y = run(&graph.Op{Kind: graph.OpOneHot, Options: &graph.OneHotOptions{Axis: 0}}, []*graph.Tensor{ids, depth, on, off},
		[]*Buffer{{DType: i32T, Shape: []int{3}, I32: []int32{2, -1, 0}}, {DType: i32T, I32: []int32{3}}, {DType: f32T, F32: []float32{5}}, {DType: f32T, F32: []float32{-1}}},
		&graph.Tensor{DType: f32T, Shape: []int{3, 3}})
	if fmt.Sprint(y.F32) != "[-1 -1 5 -1 -1 -1 5 -1 -1]" {
		t.Errorf("ONE_HOT axis 0: %v", y.F32)
	}
	y = run(&graph.Op{Kind: graph.OpUnsortedSegmentMax}, []*graph.Tensor{x, &graph.Tensor{DType: i32T, Shape: []int{2}}, i32Const([]int{}, 3)},
		[]*Buffer{xb, {DType: i32T, Shape: []int{2}, I32: []int32{2, 2}}, {DType: i32T, I32: []int32{3}}}, &graph.Tensor{DType: f32T, Shape: []int{3, 3}})
	if fmt.Sprint(y.F32[6:]) != "[4 5 6]" || y.F32[0] != -3.4028235e+38 {
		t.Errorf("UNSORTED_SEGMENT_MAX: %v", y.F32)
	}
	// A segment id at num_segments is refused when it runs.
	k, err := PrepareWith(&graph.Op{Kind: graph.OpUnsortedSegmentSum}, []*graph.Tensor{x, {DType: i32T, Shape: []int{2}}, i32Const([]int{}, 3)},
		[]*graph.Tensor{{DType: f32T, Shape: []int{3, 3}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = k.Run([]*Buffer{xb, {DType: i32T, Shape: []int{2}, I32: []int32{0, 3}}, {DType: i32T, I32: []int32{3}}}, []*Buffer{ewAlloc(&graph.Tensor{DType: f32T, Shape: []int{3, 3}})})
	if err == nil || !strings.Contains(err.Error(), "num_segments") {
		t.Errorf("segment id 3 of 3: %v", err)
	}
	// Unsupported dtypes are refused with ErrUnsupported.
	_, err = PrepareWith(&graph.Op{Kind: graph.OpAtan2}, []*graph.Tensor{{DType: i8T, Shape: []int{2}}, {DType: i8T, Shape: []int{2}}},
		[]*graph.Tensor{{DType: i8T, Shape: []int{2}}}, Options{})
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("int8 ATAN2: %v", err)
	}
}
