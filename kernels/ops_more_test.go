package kernels

import (
	"fmt"
	"math"
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

// moreCase builds one op on model input x (dtype and shape given by the
// case): its inputs (x among them), outputs and options. Outputs whose
// shape is data-dependent are declared at their bound; qbench's kernel
// trims them, TFLite resizes them.
type moreCase struct {
	kind  graph.OpKind
	name  string
	dt    graph.DType
	shape []int
	build func(r *rand.Rand, x *graph.Tensor) (ins, outs []*graph.Tensor, opts any)
	// noOracle: the oracle's TFLite has no kernel for the op (it came in
	// a later TFLite: BITCAST, BITWISE_XOR, RIGHT_SHIFT are refused as
	// "builtin_code out of range", measured with QBENCH_MORE_NO_ORACLE=1);
	// TestMoreOpsReference checks them by hand instead.
	noOracle bool
}

func f32Scalar(v float32) *graph.Tensor {
	return &graph.Tensor{DType: f32T, Shape: []int{}, Data: graph.EncodeFloat32s([]float32{v})}
}

// distinctScores is a constant of n scores in (0, 1), all different.
func distinctScores(r *rand.Rand, n int) *graph.Tensor {
	v := make([]float32, n)
	for i, p := range r.Perm(n) {
		v[i] = (float32(p) + 0.5 + 0.4*r.Float32()) / float32(n)
	}
	return &graph.Tensor{DType: f32T, Shape: []int{n}, Data: graph.EncodeFloat32s(v)}
}

// randomBoxes is a constant of n boxes, corners in either order, many
// overlapping, a few empty.
func randomBoxes(r *rand.Rand, n int) *graph.Tensor {
	v := make([]float32, 4*n)
	for i := range n {
		y, x := r.Float32(), r.Float32()
		h, w := 0.1+0.4*r.Float32(), 0.1+0.4*r.Float32()
		if r.IntN(10) == 0 {
			h = 0
		}
		c := []float32{y, x, y + h, x + w}
		if r.IntN(3) == 0 {
			c[0], c[2] = c[2], c[0]
		}
		copy(v[4*i:], c)
	}
	return &graph.Tensor{DType: f32T, Shape: []int{n, 4}, Data: graph.EncodeFloat32s(v)}
}

func moreCases() []moreCase {
	var cs []moreCase
	same := func(x *graph.Tensor, shape []int) *graph.Tensor {
		return withQuant(&graph.Tensor{DType: x.DType, Shape: shape}, x.Quant)
	}
	for i, dt := range []graph.DType{f32T, i8T, u8T, i32T, i64T} {
		for _, shape := range [][][]int{{{2, 3, 5, 7}, {13}}, {{3, 1}, {4, 9}}}[i%2] {
			cs = append(cs, moreCase{kind: graph.OpTopKV2, dt: dt, shape: shape, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
				last := x.Shape[len(x.Shape)-1]
				k := r.IntN(last + 1)
				s := append(slices.Clone(x.Shape[:len(x.Shape)-1]), k)
				return []*graph.Tensor{x, i32Const([]int{}, k)}, []*graph.Tensor{same(x, s), {DType: i32T, Shape: slices.Clone(s)}}, nil
			}})
		}
	}
	for _, dt := range []graph.DType{f32T, i8T, u8T, i32T, i64T, boolT} {
		cs = append(cs, moreCase{kind: graph.OpScatterND, dt: dt, shape: []int{4, 3, 5}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
			// updates x [4, 3, 5]; indices [4, 3, nd] address an output of
			// rank nd + 1 ending in 5, duplicates included.
			nd := 1 + r.IntN(2)
			shape := []int{2 + r.IntN(3), 5}
			if nd == 2 {
				shape = []int{2 + r.IntN(2), 3, 5}
			}
			var idx []int
			for range 12 {
				for d := range nd {
					idx = append(idx, r.IntN(shape[d]))
				}
			}
			return []*graph.Tensor{i32Const([]int{4, 3, nd}, idx...), x, i32Const([]int{len(shape)}, shape...)},
				[]*graph.Tensor{same(x, shape)}, nil
		}})
	}
	cs = append(cs, moreCase{kind: graph.OpBroadcastArgs, dt: i32T, shape: []int{4}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
		return []*graph.Tensor{x, i32Const([]int{2}, 1, 1)}, []*graph.Tensor{{DType: i32T, Shape: []int{4}}}, nil
	}})
	for _, k := range []graph.OpKind{graph.OpBitwiseXor, graph.OpRightShift} {
		cs = append(cs, moreCase{kind: k, dt: i32T, shape: []int{2, 3, 5, 7}, noOracle: true, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
			return []*graph.Tensor{x, ewConst(r, i32T, []int{7}, -3, 40)}, []*graph.Tensor{same(x, slices.Clone(x.Shape))}, nil
		}})
	}
	cs = append(cs, moreCase{kind: graph.OpBitcast, dt: f32T, shape: []int{2, 3}, noOracle: true, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
		return []*graph.Tensor{x}, []*graph.Tensor{{DType: i32T, Shape: []int{2, 3}}}, nil
	}})
	cs = append(cs, moreCase{kind: graph.OpReduceAll, dt: boolT, shape: []int{2, 3, 5, 7}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
		axes := []int{r.IntN(4)}
		if r.IntN(2) == 0 {
			axes = append(axes, (axes[0]+1+r.IntN(3))%4)
		}
		keep := r.IntN(2) == 0
		var s []int
		for d, n := range x.Shape {
			switch {
			case !slices.Contains(axes, d):
				s = append(s, n)
			case keep:
				s = append(s, 1)
			}
		}
		return []*graph.Tensor{x, i32Const([]int{len(axes)}, axes...)}, []*graph.Tensor{{DType: boolT, Shape: s}}, &graph.ReducerOptions{KeepDims: keep}
	}})
	for _, dt := range []graph.DType{f32T, i32T} {
		cs = append(cs, moreCase{kind: graph.OpSegmentSum, dt: dt, shape: []int{6, 3, 2}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
			ids := []int{0}
			for range 5 {
				ids = append(ids, ids[len(ids)-1]+r.IntN(2))
			}
			return []*graph.Tensor{x, i32Const([]int{6}, ids...)}, []*graph.Tensor{same(x, []int{ids[5] + 1, 3, 2})}, nil
		}})
	}
	for _, v5 := range []bool{false, true} {
		for _, n := range []int{1, 7, 40} {
			kind := graph.OpNonMaxSuppressionV4
			if v5 {
				kind = graph.OpNonMaxSuppressionV5
			}
			cs = append(cs, moreCase{kind: kind, name: fmt.Sprint(n), dt: f32T, shape: []int{n}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
				m := r.IntN(n + 3)
				ins := []*graph.Tensor{randomBoxes(r, n), x, i32Const([]int{}, m), f32Scalar(float32(r.IntN(11)) / 10), f32Scalar(float32(r.IntN(8)-2) / 10)}
				outs := []*graph.Tensor{{DType: i32T, Shape: []int{m}}}
				if v5 {
					ins = append(ins, f32Scalar([]float32{0, 0.1, 0.5, 2}[r.IntN(4)]))
					outs = append(outs, &graph.Tensor{DType: f32T, Shape: []int{m}})
				}
				return ins, append(outs, &graph.Tensor{DType: i32T, Shape: []int{}}), nil
			}})
		}
	}
	for i, dt := range []graph.DType{boolT, f32T, i8T, u8T, i32T, i64T} {
		for _, shape := range [][][]int{{{2, 3, 5, 7}, {9}}, {{4, 1, 3}}}[i%2] {
			cs = append(cs, moreCase{kind: graph.OpWhere, dt: dt, shape: shape, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
				return []*graph.Tensor{x}, []*graph.Tensor{{DType: i64T, Shape: graph.WhereBound(x.Shape)}}, nil
			}})
		}
	}
	for i, dt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T} {
		for _, it := range []graph.DType{[]graph.DType{i32T, i64T}[i%2]} {
			cs = append(cs, moreCase{kind: graph.OpUnique, name: it.String(), dt: dt, shape: []int{30}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
				y, idx := graph.UniqueBound(x.Shape)
				return []*graph.Tensor{x}, []*graph.Tensor{same(x, y), {DType: it, Shape: idx}}, &graph.UniqueOptions{IdxType: it}
			}})
		}
	}
	for i, shape := range [][]int{{1, 4, 5, 6, 3}, {2, 3, 4, 5, 2}, {1, 2, 7, 3, 1}} {
		for range 3 {
			cs = append(cs, moreCase{kind: graph.OpConv3D, name: fmt.Sprint(i), dt: f32T, shape: shape, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
				o := &graph.Conv3DOptions{Padding: graph.Padding(r.IntN(2)), StrideD: 1 + r.IntN(2), StrideH: 1 + r.IntN(2), StrideW: 1 + r.IntN(3),
					DilationD: 1, DilationH: 1 + r.IntN(2), DilationW: 1 + r.IntN(2), Activation: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}[r.IntN(4)]}
				if r.IntN(3) == 0 {
					o.DilationD, o.StrideD = 2, 1
				}
				cout := 1 + r.IntN(4)
				w := []int{1 + r.IntN(2), 1 + r.IntN(3), 1 + r.IntN(3), x.Shape[4], cout}
				for o.Padding == graph.PaddingValid && (w[0]-1)*o.DilationD+1 > x.Shape[1] {
					w[0]--
				}
				for o.Padding == graph.PaddingValid && (w[1]-1)*o.DilationH+1 > x.Shape[2] {
					w[1]--
				}
				for o.Padding == graph.PaddingValid && (w[2]-1)*o.DilationW+1 > x.Shape[3] {
					w[2]--
				}
				ys, err := graph.Conv3DShape(x.Shape, w, o)
				if err != nil {
					panic(err)
				}
				var bias *graph.Tensor
				if r.IntN(2) == 0 {
					bias = ewConst(r, f32T, []int{cout}, -1, 1)
				}
				return []*graph.Tensor{x, ewConst(r, f32T, w, -1, 1), bias}, []*graph.Tensor{{DType: f32T, Shape: ys}}, o
			}})
		}
	}
	for _, dt := range []graph.DType{f32T, i8T, u8T, i32T, i64T} {
		cs = append(cs, moreCase{kind: graph.OpSparseToDense, dt: dt, shape: []int{6}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
			// values x [6] at 6 distinct positions of a [3, 4] output.
			var idx []int
			for _, p := range r.Perm(12)[:6] {
				idx = append(idx, p/4, p%4)
			}
			return []*graph.Tensor{i32Const([]int{6, 2}, idx...), i32Const([]int{2}, 3, 4), x, withQuant(ewConst(r, dt, []int{}, -9, 9), x.Quant)},
				[]*graph.Tensor{same(x, []int{3, 4})}, &graph.SparseToDenseOptions{ValidateIndices: r.IntN(2) == 0}
		}})
	}
	cr := rand.New(rand.NewPCG(5, 6))
	for i := range 6 {
		o := &graph.Conv3DOptions{Padding: graph.Padding(i % 2), StrideD: 1 + cr.IntN(2), StrideH: 1 + cr.IntN(2), StrideW: 1 + cr.IntN(3),
			DilationD: 1, DilationH: 1, DilationW: 1, Activation: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[cr.IntN(3)]}
		cin, cout := 1+cr.IntN(3), 1+cr.IntN(3)
		w := []int{1 + cr.IntN(2), 1 + cr.IntN(3), 1 + cr.IntN(3), cout, cin}
		out := []int{1 + cr.IntN(2), 2 + cr.IntN(3), 3 + cr.IntN(4), 3 + cr.IntN(3), cout}
		fwd, err := graph.Conv3DShape(append(slices.Clone(out[:4]), cin), []int{w[0], w[1], w[2], cin, cout}, o)
		if err != nil {
			panic(err)
		}
		xs := append(fwd[:4], cin)
		cs = append(cs, moreCase{kind: graph.OpConv3DTranspose, name: fmt.Sprint(i), dt: f32T, shape: xs, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []*graph.Tensor, any) {
			var bias *graph.Tensor
			if r.IntN(2) == 0 {
				bias = ewConst(r, f32T, []int{cout}, -1, 1)
			}
			return []*graph.Tensor{i32Const([]int{5}, out...), ewConst(r, f32T, w, -1, 1), x, bias}, []*graph.Tensor{{DType: f32T, Shape: slices.Clone(out)}}, o
		}})
	}
	return cs
}

// moreInput draws one sample of x: ewInput's values, except that WHERE
// and UNIQUE get many zeros and repeats (a few distinct values) and NMS
// scores spread over (-0.3, 1).
func moreInput(r *rand.Rand, c moreCase, x *graph.Tensor) []byte {
	switch c.kind {
	case graph.OpNonMaxSuppressionV4, graph.OpNonMaxSuppressionV5:
		return graph.EncodeFloat32s(distinctScores(r, x.Shape[0]).Float32s())
	case graph.OpWhere, graph.OpUnique:
		b := ewDecode(x.DType, x.Shape, ewInput(r, x, 1))
		for i := range graph.NumElements(x.Shape) {
			switch x.DType {
			case f32T:
				b.F32[i] = float32(r.IntN(5)-2) / 2
			case boolT:
			case i64T:
				b.I64[i] = int64(r.IntN(5) - 2)
			default:
				setInt(b, i, int32(r.IntN(5))*3)
			}
		}
		if x.DType == f32T && c.kind == graph.OpUnique {
			b.F32[0] = float32(math.Copysign(0, -1)) // -0 then 0: one value
		}
		return ewEncode(b)
	}
	return ewInput(r, x, 1)
}

// moreModel writes c as a one-op model: input x (int32 cast to int64 for
// an int64 x), int64 outputs cast to int32 (the oracle feeds and hands out
// neither). It returns the graph, the op and x.
func moreModel(r *rand.Rand, c moreCase) (*graph.Graph, *graph.Op, *graph.Tensor, *graph.Tensor) {
	g := &graph.Graph{}
	x := tensorLike(r, c.dt, c.shape)
	x.Name = "x"
	xi := g.AddTensor(x)
	in := x
	g.Inputs = []int{xi}
	if c.dt == i64T {
		in = &graph.Tensor{Name: "x32", DType: i32T, Shape: x.Shape}
		g.Inputs = []int{g.AddTensor(in)}
		g.AddOp(graph.OpCast, []int{g.Inputs[0]}, []int{xi}, &graph.CastOptions{InType: i32T, OutType: i64T})
	}
	ins, outs, opts := c.build(r, x)
	var ii, oi []int
	for k, t := range ins {
		if t == x {
			ii = append(ii, xi)
			continue
		}
		if t == nil {
			ii = append(ii, -1)
			continue
		}
		t.Name = fmt.Sprintf("c%d", k)
		ii = append(ii, g.AddTensor(t))
	}
	for k, t := range outs {
		t.Name = fmt.Sprintf("y%d", k)
		oi = append(oi, g.AddTensor(t))
	}
	op := g.AddOp(c.kind, ii, oi, opts)
	for k, t := range outs {
		o := oi[k]
		if t.DType == i64T {
			o = g.AddTensor(&graph.Tensor{Name: t.Name + "_i32", DType: i32T, Shape: t.Shape})
			g.AddOp(graph.OpCast, []int{oi[k]}, []int{o}, &graph.CastOptions{InType: i64T, OutType: i32T})
		}
		g.Outputs = append(g.Outputs, o)
	}
	return g, op, x, in
}

// runMore runs op's kernel on one sample of x and returns each output's
// bytes (int64 as int32, as the model hands them out).
func runMore(g *graph.Graph, op *graph.Op, x, in *graph.Tensor, sample []byte) ([][]byte, error) {
	var ins []*graph.Tensor
	var feed []*Buffer
	for _, i := range op.Inputs {
		if i < 0 {
			ins, feed = append(ins, nil), append(feed, nil)
			continue
		}
		t := g.Tensors[i]
		ins = append(ins, t)
		switch {
		case t != x:
			feed = append(feed, ewDecode(t.DType, t.Shape, t.Data))
		case in != x:
			b := &Buffer{DType: i64T, Shape: t.Shape}
			for _, v := range ewDecode(i32T, nil, sample).I32 {
				b.I64 = append(b.I64, int64(v))
			}
			feed = append(feed, b)
		default:
			feed = append(feed, ewDecode(t.DType, t.Shape, sample))
		}
	}
	var outs []*graph.Tensor
	var bufs []*Buffer
	for _, o := range op.Outputs {
		outs = append(outs, g.Tensors[o])
		bufs = append(bufs, ewAlloc(g.Tensors[o]))
	}
	k, err := PrepareWith(op, ins, outs, Options{Rounding: fixedpoint.RuntimeRounding})
	if err != nil {
		return nil, err
	}
	if err := k.Run(feed, bufs); err != nil {
		return nil, err
	}
	var res [][]byte
	for _, y := range bufs {
		if y.DType == i64T {
			c := &Buffer{DType: i32T, Shape: y.Shape}
			for _, v := range y.I64 {
				c.I32 = append(c.I32, int32(v))
			}
			y = c
		}
		res = append(res, ewEncode(y))
	}
	return res, nil
}

// TestMoreOpsMatchTFLite runs each case as a one-op model in the real
// TFLite interpreter and in qbench, on two random inputs: every output
// (WHERE's and UNIQUE's at the size the data gives) identical, float32
// within 1e-5 of the range (NMS V5's soft scores decay through exp). A
// model TFLite rejects fails the test (QBENCH_MORE_OP=NAME runs one kind).
func TestMoreOpsMatchTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	dir := t.TempDir()
	if or, err = or.Dynamic(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	var ops, agree, values int
	for ci, c := range moreCases() {
		if only := os.Getenv("QBENCH_MORE_OP"); (only != "" && only != c.kind.String()) || (c.noOracle && os.Getenv("QBENCH_MORE_NO_ORACLE") == "") {
			continue
		}
		r := rand.New(rand.NewPCG(141, uint64(ci)))
		g, op, x, in := moreModel(r, c)
		name := fmt.Sprintf("%s/%s%s%v", c.kind, c.name, c.dt, c.shape)
		path := filepath.Join(dir, fmt.Sprintf("more-%d.tflite", ci))
		if err := tflite.WriteFile(path, g); err != nil {
			t.Fatalf("%s: write: %v", name, err)
		}
		ops++
		ok := true
		for s := range 2 {
			sample := moreInput(r, c, in)
			want, err := or.RunAll(path, sample)
			if err != nil {
				t.Errorf("%s: TFLite: %v", name, err)
				ok = false
				break
			}
			got, err := runMore(g, op, x, in, sample)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				ok = false
				break
			}
			for o := range got {
				dt := g.Tensors[g.Outputs[o]].DType
				values += len(got[o]) / max(dt.Size(), 1)
				if bad, first := ewCompare(dt, got[o], want[o]); bad > 0 {
					t.Errorf("%s %+v sample %d output %d: %d values differ from TFLite; %s", name, op.Options, s, o, bad, first)
					ok = false
				}
			}
		}
		if ok {
			agree++
		}
	}
	t.Logf("%d of %d TOPK_V2/SCATTER_ND/BROADCAST_ARGS/REDUCE_ALL/SEGMENT_SUM/NMS/WHERE/UNIQUE/CONV_3D/CONV_3D_TRANSPOSE/SPARSE_TO_DENSE models agree with TFLite (%d values)", agree, ops, values)
}

// TestMoreOpsReference checks cases worked out by hand, among them the
// ops the oracle's TFLite lacks.
func TestMoreOpsReference(t *testing.T) {
	run := func(kind graph.OpKind, opts any, ins []*graph.Tensor, outs []*graph.Tensor) ([]*Buffer, error) {
		t.Helper()
		var feed []*Buffer
		for _, x := range ins {
			feed = append(feed, ewDecode(x.DType, x.Shape, x.Data))
		}
		k, err := PrepareWith(&graph.Op{Kind: kind, Options: opts}, ins, outs, Options{})
		if err != nil {
			return nil, err
		}
		var bufs []*Buffer
		for _, o := range outs {
			bufs = append(bufs, ewAlloc(o))
		}
		return bufs, k.Run(feed, bufs)
	}
	i8s := func(shape []int, v ...int8) *graph.Tensor {
		b := make([]byte, len(v))
		for i, x := range v {
			b[i] = byte(x)
		}
		return &graph.Tensor{DType: i8T, Shape: shape, Data: b}
	}
	// BITWISE_XOR broadcasts; RIGHT_SHIFT clamps the shift to [0, 7] and
	// shifts int8 arithmetically.
	y, err := run(graph.OpBitwiseXor, nil, []*graph.Tensor{i8s([]int{2, 2}, 1, -1, 5, 127), i8s([]int{2}, 3, -128)}, []*graph.Tensor{{DType: i8T, Shape: []int{2, 2}}})
	if err != nil || fmt.Sprint(y[0].I8) != "[2 127 6 -1]" {
		t.Errorf("BITWISE_XOR: %v %v", y, err)
	}
	y, err = run(graph.OpRightShift, nil, []*graph.Tensor{i8s([]int{4}, -128, 64, -1, 100), i8s([]int{4}, 3, 9, -2, 1)}, []*graph.Tensor{{DType: i8T, Shape: []int{4}}})
	if err != nil || fmt.Sprint(y[0].I8) != "[-16 0 -1 50]" {
		t.Errorf("RIGHT_SHIFT: %v %v", y, err)
	}
	// BITCAST float32 -> int8 appends a dimension of 4, little-endian.
	y, err = run(graph.OpBitcast, nil, []*graph.Tensor{{DType: f32T, Shape: []int{1}, Data: graph.EncodeFloat32s([]float32{1})}}, []*graph.Tensor{{DType: u8T, Shape: []int{1, 4}}})
	if err != nil || fmt.Sprint(y[0].U8) != "[0 0 128 63]" {
		t.Errorf("BITCAST: %v %v", y, err)
	}
	if _, err = run(graph.OpBitcast, nil, []*graph.Tensor{{DType: u8T, Shape: []int{3}, Data: []byte{1, 2, 3}}}, []*graph.Tensor{{DType: i16T, Shape: []int{}}}); err == nil {
		t.Error("BITCAST of 3 bytes to int16: no error")
	}
	// BROADCAST_ARGS: [2 1 3] against [4 1] is [2 4 3]; [2] against [3] fails when run.
	y, err = run(graph.OpBroadcastArgs, nil, []*graph.Tensor{i32Const([]int{3}, 2, 1, 3), i32Const([]int{2}, 4, 1)}, []*graph.Tensor{{DType: i32T, Shape: []int{3}}})
	if err != nil || fmt.Sprint(y[0].I32) != "[2 4 3]" {
		t.Errorf("BROADCAST_ARGS: %v %v", y, err)
	}
	if _, err = run(graph.OpBroadcastArgs, nil, []*graph.Tensor{i32Const([]int{1}, 2), i32Const([]int{1}, 3)}, []*graph.Tensor{{DType: i32T, Shape: []int{1}}}); err == nil || !strings.Contains(err.Error(), "do not broadcast") {
		t.Errorf("BROADCAST_ARGS [2] vs [3]: %v", err)
	}
	// SEGMENT_SUM against a hand sum and against UNSORTED_SEGMENT_SUM with
	// num_segments = last id + 1 (the same sums for sorted ids). The
	// oracle's SEGMENT_SUM gave zeros and overwrote other tensors when it
	// was tried (7f3a885), so this reference is the check.
	data := &graph.Tensor{DType: f32T, Shape: []int{4, 2}, Data: graph.EncodeFloat32s([]float32{1, 2, 3, 4, 5, 6, 7, 8})}
	ids := i32Const([]int{4}, 0, 0, 1, 1)
	y, err = run(graph.OpSegmentSum, nil, []*graph.Tensor{data, ids}, []*graph.Tensor{{DType: f32T, Shape: []int{2, 2}}})
	if err != nil || fmt.Sprint(y[0].F32) != "[4 6 12 14]" {
		t.Errorf("SEGMENT_SUM: %v %v", y, err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 50 {
		rows, inner := 1+r.IntN(9), 1+r.IntN(4)
		id := []int{0}
		for len(id) < rows {
			id = append(id, id[len(id)-1]+r.IntN(2))
		}
		x := ewConst(r, i32T, []int{rows, inner}, -100, 100)
		out := &graph.Tensor{DType: i32T, Shape: []int{id[rows-1] + 1, inner}}
		a, err1 := run(graph.OpSegmentSum, nil, []*graph.Tensor{x, i32Const([]int{rows}, id...)}, []*graph.Tensor{out})
		b, err2 := run(graph.OpUnsortedSegmentSum, nil, []*graph.Tensor{x, i32Const([]int{rows}, id...), i32Const([]int{}, id[rows-1]+1)}, []*graph.Tensor{out})
		if err1 != nil || err2 != nil || !slices.Equal(a[0].I32, b[0].I32) {
			t.Fatalf("trial %d: SEGMENT_SUM %v (%v) vs UNSORTED_SEGMENT_SUM %v (%v)", trial, a, err1, b, err2)
		}
	}
	// Unsorted ids are refused when they are only known at run time.
	k, err := PrepareWith(&graph.Op{Kind: graph.OpSegmentSum}, []*graph.Tensor{data, {DType: i32T, Shape: []int{4}}}, []*graph.Tensor{{DType: f32T, Shape: []int{2, 2}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = k.Run([]*Buffer{ewDecode(f32T, data.Shape, data.Data), {DType: i32T, Shape: []int{4}, I32: []int32{0, 2, 1, 1}}}, []*Buffer{ewAlloc(&graph.Tensor{DType: f32T, Shape: []int{2, 2}})})
	if err == nil {
		t.Error("SEGMENT_SUM with ids 0 2 1 1: no error")
	}
	// SPARSE_TO_DENSE: a scalar value broadcast, a later duplicate
	// written again, an index past the output refused.
	y, err = run(graph.OpSparseToDense, nil, []*graph.Tensor{i32Const([]int{3}, 2, 0, 2), i32Const([]int{1}, 4), i32Const([]int{}, 7), i32Const([]int{}, -1)}, []*graph.Tensor{{DType: i32T, Shape: []int{4}}})
	if err != nil || fmt.Sprint(y[0].I32) != "[7 -1 7 -1]" {
		t.Errorf("SPARSE_TO_DENSE: %v %v", y, err)
	}
	if _, err = run(graph.OpSparseToDense, nil, []*graph.Tensor{i32Const([]int{1}, 4), i32Const([]int{1}, 4), i32Const([]int{}, 7), i32Const([]int{}, 0)}, []*graph.Tensor{{DType: i32T, Shape: []int{4}}}); err == nil {
		t.Error("SPARSE_TO_DENSE index 4 of 4: no error")
	}
	// TOPK_V2 ties: equal values in index order.
	y, err = run(graph.OpTopKV2, nil, []*graph.Tensor{i32Const([]int{6}, 3, 7, 3, 7, 1, 3), i32Const([]int{}, 4)}, []*graph.Tensor{{DType: i32T, Shape: []int{4}}, {DType: i32T, Shape: []int{4}}})
	if err != nil || fmt.Sprint(y[0].I32, y[1].I32) != "[7 7 3 3] [1 3 0 2]" {
		t.Errorf("TOPK_V2 ties: %v %v", y, err)
	}
	// WHERE trims its output to the true elements.
	y, err = run(graph.OpWhere, nil, []*graph.Tensor{{DType: boolT, Shape: []int{2, 2}, Data: []byte{0, 1, 1, 0}}}, []*graph.Tensor{{DType: i64T, Shape: []int{4, 2}}})
	if err != nil || fmt.Sprint(y[0].Shape, y[0].I64) != "[2 2] [0 1 1 0]" {
		t.Errorf("WHERE: %v %v", y, err)
	}
	// SCATTER_ND adds duplicates and refuses an index past the output.
	y, err = run(graph.OpScatterND, nil, []*graph.Tensor{i32Const([]int{3, 1}, 1, 1, 0), i32Const([]int{3}, 5, 6, 7), i32Const([]int{1}, 3)}, []*graph.Tensor{{DType: i32T, Shape: []int{3}}})
	if err != nil || fmt.Sprint(y[0].I32) != "[7 11 0]" {
		t.Errorf("SCATTER_ND: %v %v", y, err)
	}
	if _, err = run(graph.OpScatterND, nil, []*graph.Tensor{i32Const([]int{1, 1}, 3), i32Const([]int{1}, 5), i32Const([]int{1}, 3)}, []*graph.Tensor{{DType: i32T, Shape: []int{3}}}); err == nil {
		t.Error("SCATTER_ND index 3 of 3: no error")
	}
}
