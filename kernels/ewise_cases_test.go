package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/tflite"
)

// Case generators for the elementwise, unary and reduction families
// (binary*.go, unary*.go, reduce.go). A case is one op reading the model
// input x (of the dtype the case is drawn for) and constants; the oracle
// test puts many cases into one model, each op an output, and the table
// test checks every (kind, dtype) the kernels accept has a case.

// ewCase builds one op on x: its inputs (x among them), output and options.
type ewCase struct {
	kind  graph.OpKind
	name  string
	dts   []graph.DType // x dtypes this case covers
	build func(r *rand.Rand, x *graph.Tensor) (ins []*graph.Tensor, out *graph.Tensor, opts any)
	// noOracle: the oracle's TFLite has no kernel for this case (a later
	// TFLite does); the table test counts it, the oracle test skips it.
	noOracle bool
}

func noOracle(c ewCase) ewCase {
	c.noOracle = true
	return c
}

var (
	f32T  = graph.Float32
	i8T   = graph.Int8
	u8T   = graph.UInt8
	i16T  = graph.Int16
	i32T  = graph.Int32
	i64T  = graph.Int64
	boolT = graph.Bool
)

// ewQuant draws quantization parameters that stress the arithmetic: zero
// points at the dtype's extremes or middle, and scales that are powers of
// two or simple ratios (exact products make rounding ties likely), or
// random.
func ewQuant(r *rand.Rand, dt graph.DType) *graph.Quantization {
	if dt != i8T && dt != u8T && dt != i16T {
		return nil
	}
	var scale float32
	switch r.IntN(4) {
	case 0:
		scale = float32(math.Ldexp(1, -1-r.IntN(8)))
	case 1:
		scale = float32(1+r.IntN(7)) / float32(int(1)<<(3+r.IntN(5)))
	default:
		scale = float32(0.002 + 0.2*r.Float64())
	}
	var zp int64
	if dt != i16T {
		lo, hi := DTypeRange(dt)
		switch r.IntN(4) {
		case 0:
			zp = int64(lo)
		case 1:
			zp = int64(hi)
		case 2:
			zp = int64(lo+hi+1) / 2
		default:
			zp = int64(lo) + r.Int64N(int64(hi-lo)+1)
		}
	} else {
		scale /= 256
	}
	return &graph.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
}

// tensorLike returns a non-constant tensor of dtype dt and shape, with a
// drawn quantization when dt is quantized.
func tensorLike(r *rand.Rand, dt graph.DType, shape []int) *graph.Tensor {
	return &graph.Tensor{DType: dt, Shape: append([]int{}, shape...), Quant: ewQuant(r, dt)}
}

// withQuant returns t with quantization q (cloned).
func withQuant(t *graph.Tensor, q *graph.Quantization) *graph.Tensor {
	if q != nil {
		t.Quant = q.Clone()
	}
	return t
}

// ewConst returns a constant of dtype dt and shape with random values
// (floats in [lo, hi], integers over the dtype's range or [lo, hi] when
// narrower), quantized when dt is.
func ewConst(r *rand.Rand, dt graph.DType, shape []int, lo, hi float64) *graph.Tensor {
	t := tensorLike(r, dt, shape)
	n := t.NumElements()
	var b []byte
	for range n {
		switch dt {
		case f32T:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(lo+(hi-lo)*r.Float64())))
		case boolT:
			b = append(b, byte(r.IntN(2)))
		default:
			dlo, dhi := DTypeRange(dt)
			a, z := max(int64(dlo), int64(lo)), min(int64(dhi), int64(hi))
			if dt == i64T {
				a, z = int64(lo), int64(hi)
			}
			v := a + r.Int64N(z-a+1)
			switch dt.Size() {
			case 1:
				b = append(b, byte(v))
			case 2:
				b = binary.LittleEndian.AppendUint16(b, uint16(v))
			case 4:
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			case 8:
				b = binary.LittleEndian.AppendUint64(b, uint64(v))
			}
		}
	}
	t.Data = b
	return t
}

// nonZero rewrites a constant's zero integer values (stored value minus
// zero point for quantized tensors) to 1 above it: divisors.
func nonZero(t *graph.Tensor) *graph.Tensor {
	zp := int64(0)
	if t.Quant != nil {
		zp = t.Quant.ZeroPoint[0]
	}
	b := ewDecode(t.DType, t.Shape, t.Data)
	for i := range t.NumElements() {
		switch t.DType {
		case f32T:
			if b.F32[i] == 0 {
				b.F32[i] = 1
			}
		case i64T:
			if b.I64[i] == 0 {
				b.I64[i] = 1
			}
		default:
			if v := int64(getInt(b, i)); v == zp || v == 0 {
				lo, hi := DTypeRange(t.DType)
				v := int32(max(zp, 0)) + 1
				if v > hi || int64(v) == zp {
					v = int32(min(zp, 0)) - 1
				}
				setInt(b, i, min(max(v, lo), hi))
			}
		}
	}
	t.Data = ewEncode(b)
	return t
}

func axisConst(v ...int32) *graph.Tensor {
	return &graph.Tensor{Name: "axis", DType: i32T, Shape: []int{len(v)}, Data: graph.EncodeInt32s(v)}
}

// broadcastShapes are second-operand shapes against x's [2, 3, 5, 7].
var broadcastShapes = [][]int{{2, 3, 5, 7}, {7}, {1}, {3, 1, 7}, {2, 1, 5, 1}, {}}

var (
	allNum   = []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T}
	floatI32 = []graph.DType{f32T, i32T}
)

// binaryCase: x op c (or c op x when swap), c broadcast from a random shape.
func binaryCase(kind graph.OpKind, name string, dts []graph.DType, opts func(r *rand.Rand) any, lo, hi float64, divisor, swap bool) ewCase {
	return ewCase{kind: kind, name: name, dts: dts, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		c := ewConst(r, x.DType, broadcastShapes[r.IntN(len(broadcastShapes))], lo, hi)
		if divisor {
			c = nonZero(c)
		}
		out := tensorLike(r, x.DType, x.Shape)
		var o any
		if opts != nil {
			o = opts(r)
		}
		if swap {
			return []*graph.Tensor{c, x}, out, o
		}
		return []*graph.Tensor{x, c}, out, o
	}}
}

func arith(r *rand.Rand) any {
	acts := []graph.Activation{graph.ActNone, graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}
	return &graph.ArithOptions{Activation: acts[r.IntN(len(acts))]}
}

// sameQuantOut: output quantized like x (MINIMUM, MAXIMUM, the reductions
// that copy values).
func sameQuantOut(kind graph.OpKind, name string, dts []graph.DType, mk func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []int, any)) ewCase {
	return ewCase{kind: kind, name: name, dts: dts, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		ins, shape, o := mk(r, x)
		out := withQuant(&graph.Tensor{DType: x.DType, Shape: shape}, x.Quant)
		return ins, out, o
	}}
}

func unaryCase(kind graph.OpKind, name string, dts []graph.DType, outQuant func(dt graph.DType) *graph.Quantization, opts any) ewCase {
	return ewCase{kind: kind, name: name, dts: dts, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		out := tensorLike(r, x.DType, x.Shape)
		if outQuant != nil {
			if q := outQuant(x.DType); q != nil {
				out.Quant = q
			}
		}
		return []*graph.Tensor{x}, out, opts
	}}
}

func fixedQuant(scale float32, zp8, zpU8 int64) func(dt graph.DType) *graph.Quantization {
	return func(dt graph.DType) *graph.Quantization {
		zp := zp8
		if dt == u8T {
			zp = zpU8
		}
		return &graph.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
}

func reduceCase(kind graph.OpKind, name string, dts []graph.DType, newQuant bool) ewCase {
	return ewCase{kind: kind, name: name, dts: dts, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		axesSets := [][]int32{{1}, {0, 2}, {-1}, {1, 2, 3}, {3, 1}}
		axes := axesSets[r.IntN(len(axesSets))]
		keep := r.IntN(2) == 0
		red := map[int]bool{}
		for _, a := range axes {
			red[(int(a)+4)%4] = true
		}
		var shape []int
		for d, n := range x.Shape {
			switch {
			case !red[d]:
				shape = append(shape, n)
			case keep:
				shape = append(shape, 1)
			}
		}
		out := withQuant(&graph.Tensor{DType: x.DType, Shape: shape}, x.Quant)
		if newQuant {
			out.Quant = ewQuant(r, x.DType)
		}
		return []*graph.Tensor{x, axisConst(axes...)}, out, &graph.ReducerOptions{KeepDims: keep}
	}}
}

func argCase(kind graph.OpKind, outType graph.DType) ewCase {
	return ewCase{kind: kind, name: outType.String(), dts: []graph.DType{f32T, i8T, u8T, i32T, boolT}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		ax := r.IntN(4)
		var shape []int
		for d, n := range x.Shape {
			if d != ax {
				shape = append(shape, n)
			}
		}
		return []*graph.Tensor{x, axisConst(int32(ax))}, &graph.Tensor{DType: outType, Shape: shape}, &graph.ArgOptions{OutType: outType}
	}}
}

func castCase(to graph.DType) ewCase {
	return ewCase{kind: graph.OpCast, name: "to-" + to.String(), dts: []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT},
		build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			return []*graph.Tensor{x}, &graph.Tensor{DType: to, Shape: x.Shape}, &graph.CastOptions{InType: x.DType, OutType: to}
		}}
}

func compareCase(kind graph.OpKind) ewCase {
	dts := []graph.DType{f32T, i8T, u8T, i32T, i64T}
	if kind == graph.OpEqual || kind == graph.OpNotEqual {
		dts = append(dts, boolT)
	}
	return ewCase{kind: kind, name: "", dts: dts, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		c := ewConst(r, x.DType, broadcastShapes[r.IntN(len(broadcastShapes))], -3, 3)
		if x.DType == i8T || x.DType == u8T {
			// Wide constants make equal real values rare; draw them in
			// x's quantization around its zero point too.
			c = ewConst(r, x.DType, c.Shape, -1e9, 1e9)
			if r.IntN(2) == 0 && x.Quant != nil {
				c.Quant = x.Quant.Clone()
			}
		}
		ins := []*graph.Tensor{x, c}
		if r.IntN(2) == 0 {
			ins = []*graph.Tensor{c, x}
		}
		return ins, &graph.Tensor{DType: boolT, Shape: x.Shape}, nil
	}}
}

// ewCases lists every case; kinds map to the families' table lines.
func ewCases() []ewCase {
	var cs []ewCase
	add := func(c ...ewCase) { cs = append(cs, c...) }
	q8 := []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T}
	add(binaryCase(graph.OpMul, "", q8, arith, -3, 3, false, false))
	add(binaryCase(graph.OpSub, "", q8, arith, -3, 3, false, false))
	add(binaryCase(graph.OpSub, "swap", q8, arith, -3, 3, false, true))
	add(binaryCase(graph.OpDiv, "", []graph.DType{f32T, i32T, u8T}, arith, -9, 9, true, false))
	add(binaryCase(graph.OpDiv, "swap", []graph.DType{f32T}, arith, -9, 9, true, true))
	add(binaryCase(graph.OpSquaredDifference, "", []graph.DType{f32T, i32T, i8T}, nil, -3, 3, false, false))
	for _, k := range []graph.OpKind{graph.OpMinimum, graph.OpMaximum} {
		add(sameQuantOut(k, "", allNum, func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []int, any) {
			c := ewConst(r, x.DType, broadcastShapes[r.IntN(len(broadcastShapes))], -3, 3)
			c.Quant = nil
			c = withQuant(c, x.Quant)
			return []*graph.Tensor{x, c}, x.Shape, nil
		}))
	}
	for _, k := range []graph.OpKind{graph.OpFloorDiv, graph.OpFloorMod} {
		dts := []graph.DType{f32T, i32T}
		if k == graph.OpFloorMod {
			dts = append(dts, i64T)
		}
		add(binaryCase(k, "", dts, nil, -9, 9, true, false))
		if k == graph.OpFloorMod { // FLOOR_DIV fails on a zero divisor, which x holds
			add(binaryCase(k, "swap", []graph.DType{f32T}, nil, -9, 9, true, true))
		}
	}
	add(binaryCase(graph.OpPow, "", floatI32, nil, 0, 4, false, false))
	for _, k := range []graph.OpKind{graph.OpLess, graph.OpLessEqual, graph.OpGreater, graph.OpGreaterEqual, graph.OpEqual, graph.OpNotEqual} {
		add(compareCase(k))
	}
	for _, k := range []graph.OpKind{graph.OpLogicalAnd, graph.OpLogicalOr} {
		add(ewCase{kind: k, dts: []graph.DType{boolT}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			return []*graph.Tensor{x, ewConst(r, boolT, broadcastShapes[r.IntN(len(broadcastShapes))], 0, 1)}, &graph.Tensor{DType: boolT, Shape: x.Shape}, nil
		}})
	}
	add(unaryCase(graph.OpLogicalNot, "", []graph.DType{boolT}, nil, nil))
	for _, k := range []graph.OpKind{graph.OpSelect, graph.OpSelectV2} {
		k := k
		// x as the condition, constant values of every dtype.
		for _, vt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT} {
			vt := vt
			add(ewCase{kind: k, name: "cond-" + vt.String(), dts: []graph.DType{boolT}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
				a := ewConst(r, vt, x.Shape, -3, 3)
				b := ewConst(r, vt, x.Shape, -3, 3)
				if k == graph.OpSelectV2 {
					b = ewConst(r, vt, []int{5, 1}, -3, 3)
				}
				b.Quant = nil
				b = withQuant(b, a.Quant)
				return []*graph.Tensor{x, a, b}, withQuant(&graph.Tensor{DType: vt, Shape: x.Shape}, a.Quant), nil
			}})
		}
		// x as a value, constant condition.
		add(ewCase{kind: k, name: "value", dts: []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
			cs := x.Shape
			if k == graph.OpSelect {
				cs = []int{x.Shape[0]}
			} else {
				cs = []int{3, 1, 1}
			}
			b := ewConst(r, x.DType, x.Shape, -3, 3)
			b.Quant = nil
			b = withQuant(b, x.Quant)
			return []*graph.Tensor{ewConst(r, boolT, cs, 0, 1), b, x}, withQuant(&graph.Tensor{DType: x.DType, Shape: x.Shape}, x.Quant), nil
		}})
	}
	add(ewCase{kind: graph.OpAddN, dts: floatI32, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		return []*graph.Tensor{x, ewConst(r, x.DType, x.Shape, -9, 9), x}, &graph.Tensor{DType: x.DType, Shape: x.Shape}, nil
	}})
	add(ewCase{kind: graph.OpPrelu, dts: []graph.DType{f32T, i8T, u8T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		shapes := [][]int{{7}, {1, 1, 7}, {5, 7}, x.Shape}
		return []*graph.Tensor{x, ewConst(r, x.DType, shapes[r.IntN(len(shapes))], -1, 1)}, tensorLike(r, x.DType, x.Shape), nil
	}})

	// unary
	f := []graph.DType{f32T}
	add(unaryCase(graph.OpAbs, "", []graph.DType{f32T, i8T, i16T}, nil, nil))
	add(sameQuantOut(graph.OpAbs, "same-quant", []graph.DType{i8T, i16T}, func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, []int, any) {
		return []*graph.Tensor{x}, x.Shape, nil
	}))
	add(unaryCase(graph.OpNeg, "", []graph.DType{f32T, i32T, i64T}, nil, nil))
	for _, k := range []graph.OpKind{graph.OpSqrt, graph.OpRsqrt, graph.OpSquare, graph.OpLog, graph.OpSin, graph.OpCos, graph.OpFloor, graph.OpCeil, graph.OpRound} {
		add(unaryCase(k, "", f, nil, nil))
	}
	add(unaryCase(graph.OpExp, "", f, nil, nil))
	// int8 EXP (a float-computed table, as TFLite 2.13+ does) is newer than
	// the runtime the oracle ships.
	add(noOracle(unaryCase(graph.OpExp, "int8", []graph.DType{i8T}, nil, nil)))
	add(unaryCase(graph.OpSign, "", f, nil, nil))
	add(unaryCase(graph.OpTanh, "", []graph.DType{f32T, i8T, u8T}, fixedQuant(1.0/128, 0, 128), nil))
	add(unaryCase(graph.OpTanh, "int16", []graph.DType{i16T}, fixedQuant(1.0/32768, 0, 0), nil))
	// int8 RSQRT fails on an input below its zero point, which x holds:
	// the case reads a constant of non-negative values instead.
	add(ewCase{kind: graph.OpRsqrt, name: "int8", dts: []graph.DType{i8T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		c := ewConst(r, i8T, x.Shape, -1e9, 1e9)
		zp := c.Quant.ZeroPoint[0]
		for i := range c.Data {
			if int64(int8(c.Data[i])) < zp {
				c.Data[i] = byte(int8(zp + r.Int64N(128-zp)))
			}
		}
		return []*graph.Tensor{c}, tensorLike(r, i8T, x.Shape), nil
	}})
	add(unaryCase(graph.OpHardSwish, "", []graph.DType{f32T, i8T, u8T}, nil, nil))
	add(unaryCase(graph.OpGelu, "", []graph.DType{f32T, i8T, u8T}, nil, &graph.GeluOptions{}))
	add(unaryCase(graph.OpGelu, "approx", []graph.DType{f32T, i8T, u8T}, nil, &graph.GeluOptions{Approximate: true}))
	add(unaryCase(graph.OpElu, "", []graph.DType{f32T, i8T}, nil, nil))
	add(unaryCase(graph.OpReluN1To1, "", []graph.DType{f32T, i8T, u8T}, nil, nil))
	add(unaryCase(graph.OpRelu0To1, "", []graph.DType{f32T, i8T, u8T}, nil, nil))
	for _, to := range castDTypes {
		add(castCase(to))
	}
	add(unaryCase(graph.OpZerosLike, "", []graph.DType{f32T, i32T, i64T}, nil, nil))
	add(unaryCase(graph.OpLogSoftmax, "", []graph.DType{f32T, i8T, u8T}, fixedQuant(16.0/256, 127, 255), nil))
	add(unaryCase(graph.OpL2Normalization, "", []graph.DType{f32T, i8T, u8T}, fixedQuant(1.0/128, 0, 128), &graph.L2NormOptions{}))

	// reductions
	add(reduceCase(graph.OpSum, "", []graph.DType{f32T, i32T, i64T}, false))
	add(reduceCase(graph.OpSum, "requant", []graph.DType{i8T, u8T}, true))
	add(reduceCase(graph.OpSum, "same-quant", []graph.DType{i8T, u8T, i16T}, false))
	for _, k := range []graph.OpKind{graph.OpReduceMax, graph.OpReduceMin} {
		add(reduceCase(k, "", allNum, false))
	}
	add(reduceCase(graph.OpReduceProd, "", []graph.DType{f32T, i32T, i64T}, false))
	add(reduceCase(graph.OpReduceProd, "quant", []graph.DType{i8T, i16T}, true))
	// Three factors with an output scale near the product's: most
	// results land inside the output range instead of saturating.
	add(ewCase{kind: graph.OpReduceProd, name: "quant-3", dts: []graph.DType{i8T, i16T}, build: func(r *rand.Rand, x *graph.Tensor) ([]*graph.Tensor, *graph.Tensor, any) {
		si := float64(x.Quant.Scale[0])
		typical := 48.0
		if x.DType == i16T {
			typical = 12000
		}
		_, hi := DTypeRange(x.DType)
		so := float32(math.Pow(si*typical, 3) / float64(hi) * (0.5 + r.Float64()))
		out := &graph.Tensor{DType: x.DType, Shape: []int{2, 5, 7}, Quant: &graph.Quantization{Scale: []float32{so}, ZeroPoint: []int64{0}}}
		if x.DType == i8T {
			out.Quant.ZeroPoint[0] = int64(r.IntN(41) - 20)
		}
		return []*graph.Tensor{x, axisConst(1)}, out, &graph.ReducerOptions{}
	}})
	add(reduceCase(graph.OpReduceAny, "", []graph.DType{boolT}, false))
	for _, k := range []graph.OpKind{graph.OpArgMax, graph.OpArgMin} {
		add(argCase(k, i32T), argCase(k, i64T))
	}
	return cs
}

// ewFamilies are the kinds the cases cover: every table line of
// binary.go, unary.go and reduce.go.
var ewFamilies = []graph.OpKind{
	graph.OpMul, graph.OpSub, graph.OpDiv, graph.OpSquaredDifference, graph.OpMinimum, graph.OpMaximum,
	graph.OpFloorDiv, graph.OpFloorMod, graph.OpPow, graph.OpLess, graph.OpLessEqual, graph.OpGreater,
	graph.OpGreaterEqual, graph.OpEqual, graph.OpNotEqual, graph.OpLogicalAnd, graph.OpLogicalOr,
	graph.OpSelect, graph.OpSelectV2, graph.OpAddN, graph.OpPrelu,
	graph.OpAbs, graph.OpNeg, graph.OpSqrt, graph.OpRsqrt, graph.OpSquare, graph.OpExp, graph.OpLog,
	graph.OpSin, graph.OpCos, graph.OpFloor, graph.OpCeil, graph.OpRound, graph.OpSign, graph.OpTanh,
	graph.OpHardSwish, graph.OpGelu, graph.OpElu, graph.OpReluN1To1, graph.OpRelu0To1, graph.OpCast,
	graph.OpLogicalNot, graph.OpZerosLike, graph.OpLogSoftmax, graph.OpL2Normalization,
	graph.OpSum, graph.OpReduceMax, graph.OpReduceMin, graph.OpReduceProd, graph.OpReduceAny,
	graph.OpArgMax, graph.OpArgMin,
}

// ewModel is one oracle model: input x and one op per case.
type ewModel struct {
	g     *graph.Graph
	x     *graph.Tensor // what the cases read
	in    *graph.Tensor // the model input: x, or int32 cast to an int64 x
	names []string      // case name per output
	ops   []*graph.Op   // case op per output (an int64 result is output cast to int32)
}

// ewBuild puts the cases that take dtype dt into one model with input x
// of shape [2, 3, 5, 7].
func ewBuild(r *rand.Rand, dt graph.DType, cases []ewCase) *ewModel {
	g := &graph.Graph{}
	x := tensorLike(r, dt, []int{2, 3, 5, 7})
	x.Name = "x"
	xi := g.AddTensor(x)
	g.Inputs = []int{xi}
	m := &ewModel{g: g, x: x, in: x}
	if dt == i64T {
		// The oracle cannot feed int64 inputs: the model takes int32 and
		// casts it.
		m.in = &graph.Tensor{Name: "x32", DType: i32T, Shape: x.Shape}
		g.Inputs = []int{g.AddTensor(m.in)}
		g.AddOp(graph.OpCast, []int{g.Inputs[0]}, []int{xi}, &graph.CastOptions{InType: i32T, OutType: i64T})
	}
	for ci, c := range cases {
		ins, out, opts := c.build(r, x)
		var idx []int
		for k, t := range ins {
			if t == x {
				idx = append(idx, xi)
				continue
			}
			t.Name = fmt.Sprintf("c%d_%d", ci, k)
			idx = append(idx, g.AddTensor(t))
		}
		name := c.kind.String()
		if c.name != "" {
			name += "/" + c.name
		}
		out.Name = fmt.Sprintf("y%d_%s", ci, name)
		oi := g.AddTensor(out)
		g.AddOp(c.kind, idx, []int{oi}, opts)
		if out.DType == i64T {
			// The oracle cannot hand out int64 tensors: the model outputs
			// the values cast to int32 (they are small), see runEwOp.
			c32 := g.AddTensor(&graph.Tensor{Name: out.Name + "_i32", DType: i32T, Shape: out.Shape})
			op := g.Ops[len(g.Ops)-1]
			g.AddOp(graph.OpCast, []int{oi}, []int{c32}, &graph.CastOptions{InType: i64T, OutType: i32T})
			m.ops = append(m.ops, op)
			oi = c32
		} else {
			m.ops = append(m.ops, g.Ops[len(g.Ops)-1])
		}
		g.Outputs = append(g.Outputs, oi)
		m.names = append(m.names, name)
	}
	return m
}

// casesFor returns the cases covering dtype dt.
func casesFor(cs []ewCase, dt graph.DType) []ewCase {
	var r []ewCase
	for _, c := range cs {
		if hasDType(c.dts, dt) {
			r = append(r, c)
		}
	}
	return r
}

// ewInput draws K samples of x: floats in [-4, 4] (with exact halves and
// zeros), integers over the dtype (int32/int64 in [-50, 50]), bools.
func ewInput(r *rand.Rand, x *graph.Tensor, k int) []byte {
	var b []byte
	for range x.NumElements() * k {
		switch x.DType {
		case f32T:
			v := float32(-4 + 8*r.Float64())
			if r.IntN(8) == 0 {
				v = float32(r.IntN(17)-8) / 2
			}
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		case boolT:
			b = append(b, byte(r.IntN(2)))
		case i8T, u8T:
			b = append(b, byte(r.UintN(256)))
		case i16T:
			b = binary.LittleEndian.AppendUint16(b, uint16(r.UintN(65536)))
		case i32T:
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(r.IntN(101)-50)))
		case i64T:
			b = binary.LittleEndian.AppendUint64(b, uint64(int64(r.IntN(101)-50)))
		}
	}
	return b
}

// ewDecode makes a buffer of raw little-endian bytes.
func ewDecode(dt graph.DType, shape []int, raw []byte) *Buffer {
	n := len(raw) / max(dt.Size(), 1)
	b := &Buffer{DType: dt, Shape: shape}
	switch dt {
	case f32T:
		b.F32 = make([]float32, n)
		for i := range n {
			b.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case i8T:
		b.I8 = make([]int8, n)
		for i := range n {
			b.I8[i] = int8(raw[i])
		}
	case u8T:
		b.U8 = append([]uint8{}, raw[:n]...)
	case boolT:
		b.Bool = make([]bool, n)
		for i := range n {
			b.Bool[i] = raw[i] != 0
		}
	case i16T:
		b.I16 = make([]int16, n)
		for i := range n {
			b.I16[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case i32T:
		b.I32 = make([]int32, n)
		for i := range n {
			b.I32[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case i64T:
		b.I64 = make([]int64, n)
		for i := range n {
			b.I64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	return b
}

// ewEncode is ewDecode's inverse.
func ewEncode(b *Buffer) []byte {
	var r []byte
	switch b.DType {
	case f32T:
		for _, v := range b.F32 {
			r = binary.LittleEndian.AppendUint32(r, math.Float32bits(v))
		}
	case i8T:
		for _, v := range b.I8 {
			r = append(r, byte(v))
		}
	case u8T:
		r = append(r, b.U8...)
	case boolT:
		for _, v := range b.Bool {
			if v {
				r = append(r, 1)
			} else {
				r = append(r, 0)
			}
		}
	case i16T:
		for _, v := range b.I16 {
			r = binary.LittleEndian.AppendUint16(r, uint16(v))
		}
	case i32T:
		for _, v := range b.I32 {
			r = binary.LittleEndian.AppendUint32(r, uint32(v))
		}
	case i64T:
		for _, v := range b.I64 {
			r = binary.LittleEndian.AppendUint64(r, uint64(v))
		}
	}
	return r
}

// ewAlloc allocates a zeroed buffer for t.
func ewAlloc(t *graph.Tensor) *Buffer {
	return ewDecode(t.DType, t.Shape, make([]byte, t.NumElements()*t.DType.Size()))
}

// runEwOp prepares op with o and runs it on sample, the raw bytes of x.
func runEwOp(m *ewModel, op *graph.Op, o Options, sample []byte) ([]byte, error) {
	var ins []*graph.Tensor
	var feed []*Buffer
	for _, i := range op.Inputs {
		t := m.g.Tensors[i]
		ins = append(ins, t)
		if t == m.x {
			b := ewDecode(m.in.DType, t.Shape, sample)
			if m.in != m.x {
				b = &Buffer{DType: i64T, Shape: t.Shape, I64: make([]int64, len(b.I32))}
				for i, v := range ewDecode(i32T, nil, sample).I32 {
					b.I64[i] = int64(v)
				}
			}
			feed = append(feed, b)
		} else {
			feed = append(feed, ewDecode(t.DType, t.Shape, t.Data))
		}
	}
	out := m.g.Tensors[op.Outputs[0]]
	k, err := PrepareWith(op, ins, []*graph.Tensor{out}, o)
	if err != nil {
		return nil, err
	}
	y := ewAlloc(out)
	if err := k.Run(feed, []*Buffer{y}); err != nil {
		return nil, err
	}
	if y.DType == i64T {
		// As the model's output: cast to int32.
		c := &Buffer{DType: i32T, Shape: y.Shape, I32: make([]int32, len(y.I64))}
		for i, v := range y.I64 {
			c.I32[i] = int32(v)
		}
		y = c
	}
	return ewEncode(y), nil
}

// ewCompare compares one output: integers and bools bit for bit, floats
// within 1e-5 of the expected output's range (NaN matches NaN). It returns
// the number of differing values and a description of the first.
func ewCompare(dt graph.DType, got, want []byte) (int, string) {
	if len(got) != len(want) {
		return 1, fmt.Sprintf("%d bytes, want %d", len(got), len(want))
	}
	g, w := ewDecode(dt, nil, got), ewDecode(dt, nil, want)
	bad, first := 0, ""
	if dt == f32T {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range w.F32 {
			if f := float64(v); !math.IsInf(f, 0) && !math.IsNaN(f) {
				lo, hi = min(lo, f), max(hi, f)
			}
		}
		tol := 1e-5 * max(hi-lo, 1e-3)
		for i := range w.F32 {
			a, b := float64(g.F32[i]), float64(w.F32[i])
			if a == b || (a != a && b != b) || math.Abs(a-b) <= tol {
				continue
			}
			if bad == 0 {
				first = fmt.Sprintf("element %d: got %g, want %g", i, a, b)
			}
			bad++
		}
		return bad, first
	}
	for i := range got {
		if got[i] != want[i] {
			if bad == 0 {
				e := i / max(dt.Size(), 1)
				first = fmt.Sprintf("element %d: got %v, want %v", e, elemString(g, e), elemString(w, e))
			}
			bad++
		}
	}
	return bad, first
}

func elemString(b *Buffer, i int) string {
	switch b.DType {
	case boolT:
		return fmt.Sprint(b.Bool[i])
	case i64T:
		return fmt.Sprint(b.I64[i])
	}
	return fmt.Sprint(getInt(b, i))
}

// sortedKinds returns the kinds of m in a stable order.
func sortedKinds(m map[graph.OpKind]bool) []graph.OpKind {
	var ks []graph.OpKind
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// ewOracleRun writes m to dir/name.tflite, draws samples inputs for it from
// r and returns them with the oracle's outputs (one slice per model output,
// samples back to back), failing the test when TFLite refuses the model.
func ewOracleRun(t *testing.T, or *oracle.Runner, dir, name string, r *rand.Rand, m *ewModel, samples int) (in []byte, want [][]byte) {
	t.Helper()
	path := filepath.Join(dir, name+".tflite")
	if err := tflite.WriteFile(path, m.g); err != nil {
		t.Fatalf("%s: write: %v", name, err)
	}
	in = ewInput(r, m.in, samples)
	want, err := or.RunAll(path, in)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return in, want
}
