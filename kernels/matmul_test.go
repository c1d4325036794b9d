package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// bmQuant is a per-tensor quantization for a BATCH_MATMUL tensor.
func bmQuant(r *rand.Rand, dt graph.DType, scale float64) *graph.Quantization {
	switch dt {
	case i8T:
		return &graph.Quantization{Scale: []float32{float32(scale)}, ZeroPoint: []int64{[]int64{-128, 127, 0, int64(r.IntN(256) - 128)}[r.IntN(4)]}}
	case i16T:
		return &graph.Quantization{Scale: []float32{float32(scale)}, ZeroPoint: []int64{0}}
	}
	return nil
}

// bmBuild puts random BATCH_MATMULs of one input x into a model: x times a
// constant (broadcast batch dimensions, adj_x/adj_y), a constant times x,
// and for float32 L2_POOL_2Ds of x viewed as an image.
func bmBuild(r *rand.Rand, dt graph.DType, n int) *ewModel {
	g := &graph.Graph{}
	xs := []int{1 + r.IntN(3), 1 + r.IntN(4), 1 + r.IntN(5), 1 + r.IntN(6)}
	if r.IntN(2) == 0 {
		xs = xs[1:]
	}
	sx := 0.01 + r.Float64()/10
	if dt == i16T {
		sx /= 100
	}
	x := &graph.Tensor{Name: "x", DType: dt, Shape: xs, Quant: bmQuant(r, dt, sx)}
	xi := g.AddTensor(x)
	g.Inputs = []int{xi}
	m := &ewModel{g: g, x: x, in: x}
	rx := len(xs)
	for ci := range n {
		adjX, adjY := r.IntN(2) == 0, r.IntN(2) == 0
		xOnLeft := r.IntN(3) > 0
		// The constant's shape: its own matrix, batch dimensions drawn
		// from x's (kept or 1 for broadcasting), leading ones dropped.
		var cs []int
		for d := 0; d < rx-2; d++ {
			if r.IntN(2) == 0 {
				cs = append(cs, xs[d])
			} else {
				cs = append(cs, 1)
			}
		}
		cs = cs[r.IntN(len(cs)+1):] // leading batch dimensions may be absent
		if r.IntN(4) == 0 && len(cs) == rx-2 && rx < 5 {
			cs = append([]int{1 + r.IntN(2)}, cs...)
		}
		other := 1 + r.IntN(5)
		xr, xc := xs[rx-2], xs[rx-1]
		var inner int
		if xOnLeft {
			inner = xc
			if adjX {
				inner = xr
			}
			if adjY {
				cs = append(cs, other, inner)
			} else {
				cs = append(cs, inner, other)
			}
		} else {
			inner = xr
			if adjY {
				inner = xc
			}
			if adjX {
				cs = append(cs, inner, other)
			} else {
				cs = append(cs, other, inner)
			}
		}
		sc := 0.002 + 0.02*r.Float64()
		c := &graph.Tensor{Name: fmt.Sprintf("c%d", ci), DType: dt, Shape: cs, Quant: bmQuant(r, dt, sc)}
		c.Data = ewInput(r, c, 1)
		if dt == f32T {
			c.Data = opcasesFloat(r, graph.NumElements(cs))
		}
		ci2 := g.AddTensor(c)
		ins := []int{xi, ci2}
		a, b := x, c
		if !xOnLeft {
			ins = []int{ci2, xi}
			a, b = c, x
		}
		o := &graph.BatchMatMulOptions{AdjX: adjX, AdjY: adjY}
		shape, err := graph.BatchMatMulShape(a.Shape, b.Shape, adjX, adjY)
		if err != nil {
			panic(fmt.Sprintf("case %d: %v", ci, err))
		}
		sy := sx * sc * 127 * math.Sqrt(float64(inner)) * (0.3 + r.Float64())
		if dt == i16T {
			sy /= 16
		}
		if r.IntN(3) == 0 {
			sy = sx * sc * float64(int(1)<<(2+r.IntN(4))) // ties
		}
		y := &graph.Tensor{Name: fmt.Sprintf("y%d", ci), DType: dt, Shape: shape, Quant: bmQuant(r, dt, sy)}
		yi := g.AddTensor(y)
		g.AddOp(graph.OpBatchMatMul, ins, []int{yi}, o)
		m.ops = append(m.ops, g.Ops[len(g.Ops)-1])
		m.names = append(m.names, fmt.Sprintf("BATCH_MATMUL %v x %v %+v", a.Shape, b.Shape, *o))
		g.Outputs = append(g.Outputs, yi)
	}
	if dt == f32T && rx == 4 {
		for ci := range 3 {
			o := &graph.Pool2DOptions{Padding: graph.Padding(r.IntN(2)), StrideH: 1 + r.IntN(2), StrideW: 1 + r.IntN(2),
				FilterH: 1 + r.IntN(3), FilterW: 1 + r.IntN(3), Activation: []graph.Activation{graph.ActNone, graph.ActRelu6}[r.IntN(2)]}
			shape := []int{xs[0], graph.ConvOutputSize(o.Padding, xs[1], o.FilterH, o.StrideH, 1),
				graph.ConvOutputSize(o.Padding, xs[2], o.FilterW, o.StrideW, 1), xs[3]}
			if shape[1] == 0 || shape[2] == 0 {
				continue
			}
			yi := g.AddTensor(&graph.Tensor{Name: fmt.Sprintf("p%d", ci), DType: f32T, Shape: shape})
			g.AddOp(graph.OpL2Pool2D, []int{xi}, []int{yi}, o)
			m.ops = append(m.ops, g.Ops[len(g.Ops)-1])
			m.names = append(m.names, fmt.Sprintf("L2_POOL_2D %v %+v", xs, *o))
			g.Outputs = append(g.Outputs, yi)
		}
	}
	return m
}

func opcasesFloat(r *rand.Rand, n int) []byte {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return graph.EncodeFloat32s(v)
}

// TestBatchMatMulMatchesTFLite runs models of random BATCH_MATMULs (odd
// sizes, broadcast batch dimensions, adj_x/adj_y, the input on either
// side, tie-prone output scales, extreme zero points) and float L2_POOL_2Ds
// in the real TFLite interpreter and in qbench (runtime rounding):
// integer outputs must be identical, float within 1e-5 of the range.
func TestBatchMatMulMatchesTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	const samples = 3
	dir := t.TempDir()
	var ops, agree, values int
	explore := os.Getenv("QBENCH_BM_EXPLORE") == "1"
	for _, dt := range []graph.DType{f32T, i8T, i16T} {
		for mi := range 4 {
			r := rand.New(rand.NewPCG(41, uint64(dt)*100+uint64(mi)))
			m := bmBuild(r, dt, 6)
			in, want := ewOracleRun(t, or, dir, fmt.Sprintf("bm-%s-%d", dt, mi), r, m, samples)
			step := len(in) / samples
			for oi, op := range m.ops {
				ops++
				out := m.g.Tensors[m.g.Outputs[oi]]
				osz := out.NumElements() * out.DType.Size()
				ok := true
				for s := range samples {
					w := want[oi][s*osz : (s+1)*osz]
					if explore {
						var names []string
						for _, rnd := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding} {
							g, err := runEwOp(m, op, Options{Rounding: rnd}, in[s*step:(s+1)*step])
							if bad, _ := ewCompare(out.DType, g, w); err == nil && bad == 0 {
								names = append(names, rnd.String())
							}
						}
						t.Logf("%s %s: agree %v", dt, m.names[oi], names)
					}
					got, err := runEwOp(m, op, Options{Rounding: fixedpoint.RuntimeRounding}, in[s*step:(s+1)*step])
					if err != nil {
						t.Fatalf("%s %s: %v", dt, m.names[oi], err)
					}
					values += out.NumElements()
					if bad, first := ewCompare(out.DType, got, w); bad > 0 {
						t.Errorf("%s model %d %s (x %s, out %s): %d of %d values differ from TFLite; %s", dt, mi, m.names[oi],
							quantString(m.x), quantString(out), bad, out.NumElements(), first)
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
	t.Logf("%d of %d BATCH_MATMUL and L2_POOL_2D ops agree with TFLite (%d values)", agree, ops, values)
}

// TestBatchMatMulReference checks a broadcast, transposed product worked
// out by hand, and the int8 path's zero points and rescaling.
func TestBatchMatMulReference(t *testing.T) {
	// lhs [2, 1, 2] (two row vectors), rhs [3, 2] given transposed
	// (adj_y): out[b] = lhs[b] · rhsᵀ.
	a := &graph.Tensor{Name: "a", DType: f32T, Shape: []int{2, 1, 2}}
	b := &graph.Tensor{Name: "b", DType: f32T, Shape: []int{3, 2}}
	y := &graph.Tensor{Name: "y", DType: f32T, Shape: []int{2, 1, 3}}
	op := &graph.Op{Kind: graph.OpBatchMatMul, Options: &graph.BatchMatMulOptions{AdjY: true}}
	k, err := PrepareWith(op, []*graph.Tensor{a, b}, []*graph.Tensor{y}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := ewAlloc(y)
	err = k.Run([]*Buffer{{DType: f32T, Shape: a.Shape, F32: []float32{1, 2, 3, 4}},
		{DType: f32T, Shape: b.Shape, F32: []float32{1, 0, 0, 1, 1, 1}}}, []*Buffer{out})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(out.F32) != "[1 2 3 3 4 7]" {
		t.Errorf("float: %v, want [1 2 3 3 4 7]", out.F32)
	}
	// int8 [1, 2] · [2, 1]: (3−1)·(2−0) + (5−1)·(−1−0) = 0; (7−1)·2 +
	// (1−1)·(−1) = 12 → scale 0.5 → 6, plus output zero point 10.
	q := func(s float32, zp int64) *graph.Quantization {
		return &graph.Quantization{Scale: []float32{s}, ZeroPoint: []int64{zp}}
	}
	a = &graph.Tensor{Name: "a", DType: i8T, Shape: []int{2, 2}, Quant: q(1, 1)}
	b = &graph.Tensor{Name: "b", DType: i8T, Shape: []int{2, 1}, Quant: q(1, 0)}
	y = &graph.Tensor{Name: "y", DType: i8T, Shape: []int{2, 1}, Quant: q(2, 10)}
	op = &graph.Op{Kind: graph.OpBatchMatMul, Options: &graph.BatchMatMulOptions{}}
	k, err = PrepareWith(op, []*graph.Tensor{a, b}, []*graph.Tensor{y}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out = ewAlloc(y)
	err = k.Run([]*Buffer{{DType: i8T, Shape: a.Shape, I8: []int8{3, 5, 7, 1}}, {DType: i8T, Shape: b.Shape, I8: []int8{2, -1}}}, []*Buffer{out})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(out.I8) != "[10 16]" {
		t.Errorf("int8: %v, want [10 16]", out.I8)
	}
}

// TestMatMulTableCovered walks opTable for BATCH_MATMUL and L2_POOL_2D: the
// dtypes the oracle test covers prepare, others are refused with
// ErrUnsupported.
func TestMatMulTableCovered(t *testing.T) {
	for _, dt := range []graph.DType{f32T, i8T, u8T, i16T, i32T, i64T, boolT} {
		q := bmQuant(rand.New(rand.NewPCG(1, 1)), dt, 0.5)
		if dt == u8T {
			q = &graph.Quantization{Scale: []float32{0.5}, ZeroPoint: []int64{3}}
		}
		a := &graph.Tensor{Name: "a", DType: dt, Shape: []int{2, 3}, Quant: q}
		b := &graph.Tensor{Name: "b", DType: dt, Shape: []int{3, 4}, Quant: q}
		y := &graph.Tensor{Name: "y", DType: dt, Shape: []int{2, 4}, Quant: q}
		_, err := PrepareWith(&graph.Op{Kind: graph.OpBatchMatMul, Options: &graph.BatchMatMulOptions{}}, []*graph.Tensor{a, b}, []*graph.Tensor{y}, Options{})
		covered := dt == f32T || dt == i8T || dt == i16T
		if covered != (err == nil) || (!covered && !errors.Is(err, ErrUnsupported)) {
			t.Errorf("BATCH_MATMUL %s: %v", dt, err)
		}
		x := &graph.Tensor{Name: "x", DType: dt, Shape: []int{1, 4, 4, 2}, Quant: q}
		p := &graph.Tensor{Name: "p", DType: dt, Shape: []int{1, 2, 2, 2}, Quant: q}
		_, err = PrepareWith(&graph.Op{Kind: graph.OpL2Pool2D, Options: &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideH: 2, StrideW: 2, FilterH: 2, FilterW: 2}},
			[]*graph.Tensor{x}, []*graph.Tensor{p}, Options{})
		if (dt == f32T) != (err == nil) || (dt != f32T && !errors.Is(err, ErrUnsupported)) {
			t.Errorf("L2_POOL_2D %s: %v", dt, err)
		}
	}
}
