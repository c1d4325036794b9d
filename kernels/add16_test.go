package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// int16Case is a one-op model whose first input is fed raw bytes.
type int16Case struct {
	name string
	g    *graph.Graph
	in   []byte
}

func randI16Const(name string, shape []int, scale float32, r *rand.Rand) *graph.Tensor {
	t := qt(name, graph.Int16, shape, []float32{scale}, []int64{0})
	v := make([]int16, t.NumElements())
	for i := range v {
		v[i] = int16(r.Intn(65536) - 32768)
	}
	t.Data = graph.EncodeInt16s(v)
	return t
}

func int16OracleCases(r *rand.Rand) []int16Case {
	var cs []int16Case
	raw16 := func(n int) []byte {
		b := make([]byte, 2*n)
		r.Read(b)
		return b
	}
	sc := func() float32 { return float32(1e-5 + 3e-4*r.Float64()) }
	pow := func(e int) float32 { return float32(math.Ldexp(1, e)) }
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}
	for i, c := range []struct {
		pot        bool
		s1, s2, so float32
		bshape     []int
	}{
		{false, sc(), sc(), sc(), []int{2, 5, 7, 3}},
		{false, sc(), sc(), sc(), []int{3}},
		{true, sc(), sc(), sc(), []int{2, 5, 7, 3}},                      // not powers of two: the general path
		{true, pow(-12), pow(-12), pow(-12), []int{2, 5, 7, 3}},          // powers of two, no shift
		{true, pow(-14), pow(-12), pow(-12), []int{2, 5, 7, 3}},          // input 0 shifted
		{true, pow(-11), pow(-13) * 1.0001, pow(-11), []int{2, 5, 7, 3}}, // input 1 shifted (log2 within 1e-3)
	} {
		x := qt("x", graph.Int16, []int{2, 5, 7, 3}, []float32{c.s1}, []int64{0})
		y := randI16Const("y", c.bshape, c.s2, r)
		out := qt("out", graph.Int16, []int{2, 5, 7, 3}, []float32{c.so}, []int64{0})
		opts := &graph.AddOptions{Activation: acts[i%3], PotScaleInt16: c.pot}
		cs = append(cs, int16Case{fmt.Sprintf("add_int16_%d", i), oneOpGraph(graph.OpAdd, opts, x, []*graph.Tensor{y}, out), raw16(4 * 210)})
	}
	// int16 SOFTMAX (output 1/32768): many rows, inputs over the whole
	// range, so that every part of both tables is read.
	for i, sIn := range []float32{1e-4, 3.1e-4, 1e-3} {
		x := qt("x", graph.Int16, []int{96, 41}, []float32{sIn}, []int64{0})
		out := qt("out", graph.Int16, []int{96, 41}, []float32{1.0 / 32768}, []int64{0})
		cs = append(cs, int16Case{fmt.Sprintf("softmax_int16_%d", i), oneOpGraph(graph.OpSoftmax, &graph.SoftmaxOptions{Beta: 1}, x, nil, out), raw16(2 * 96 * 41)})
	}
	// float → int16 QUANTIZE with quotients up to 2^15: float32 division
	// lands on exact .5 ties that the double quotient misses.
	for i := 0; i < 3; i++ {
		x := &graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 4096}}
		s := float32(7.0/32767) * float32(1+0.3*r.Float64())
		out := qt("out", graph.Int16, []int{1, 4096}, []float32{s}, []int64{0})
		in := make([]byte, 0, 4*4096*4)
		for range 4 * 4096 {
			in = binary.LittleEndian.AppendUint32(in, math.Float32bits(float32(14*r.Float64()-7)))
		}
		cs = append(cs, int16Case{fmt.Sprintf("quantize_int16_%d", i), oneOpGraph(graph.OpQuantize, nil, x, nil, out), in})
	}
	return cs
}

// TestInt16AddQuantizeMatchTFLite checks int16 ADD (general scales with
// pot_scale_int16 false or true, and the power-of-two path), int16 SOFTMAX
// and float → int16 QUANTIZE against the real TFLite interpreter, in RuntimeRounding:
// outputs must be identical. It also counts the QUANTIZE outputs that
// TFLite Micro's float32 division (DoubleRounding) gives differently.
func TestInt16AddQuantizeMatchTFLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TFLite once per case; skipped with -short")
	}
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	r := rand.New(rand.NewSource(91))
	dir := t.TempDir()
	for _, c := range int16OracleCases(r) {
		path := filepath.Join(dir, c.name+".tflite")
		if err := tflite.WriteFile(path, c.g); err != nil {
			t.Fatalf("%s: write: %v", c.name, err)
		}
		want, err := or.Run(path, c.in)
		if err != nil {
			t.Fatalf("%s: oracle: %v", c.name, err)
		}
		op := c.g.Ops[0]
		var ins []*graph.Tensor
		for _, ti := range op.Inputs {
			ins = append(ins, c.g.Tensor(ti))
		}
		out := c.g.Tensors[c.g.Outputs[0]]
		for _, rnd := range []fixedpoint.Rounding{fixedpoint.RuntimeRounding, fixedpoint.DoubleRounding} {
			k, err := PrepareWith(op, ins, []*graph.Tensor{out}, Options{Rounding: rnd})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			n := out.NumElements()
			bad, total := 0, 0
			for s := 0; s*n*2 < len(want); s++ {
				x := refBuffer(ins[0].DType, ins[0].Shape, nil)
				if x.DType == graph.Float32 {
					for i := range x.F32 {
						x.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(c.in[4*(s*n+i):]))
					}
				} else {
					for i := range x.I16 {
						x.I16[i] = int16(binary.LittleEndian.Uint16(c.in[2*(s*n+i):]))
					}
				}
				feed := []*Buffer{x}
				if len(ins) > 1 {
					y := refBuffer(graph.Int16, ins[1].Shape, nil)
					copy(y.I16, ins[1].Int16s())
					feed = append(feed, y)
				}
				z := refBuffer(graph.Int16, out.Shape, nil)
				if err := k.Run(feed, []*Buffer{z}); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				for i, v := range z.I16 {
					w := int16(binary.LittleEndian.Uint16(want[2*(s*n+i):]))
					if v != w {
						if bad == 0 && rnd == fixedpoint.RuntimeRounding {
							t.Errorf("%s: output %d = %d, TFLite %d", c.name, s*n+i, v, w)
						}
						bad++
					}
					total++
				}
			}
			if rnd == fixedpoint.RuntimeRounding && bad > 0 {
				t.Errorf("%s: %d of %d outputs differ from TFLite", c.name, bad, total)
			} else {
				t.Logf("%s (%s): %d of %d outputs differ from TFLite", c.name, rnd, bad, total)
			}
		}
	}
}

// TestAdd16FastMatchesQuantAdd holds the int16 ADD's loop (add16Fast) to
// the reference quantAdd for random general-path scales and activations:
// every pair of extreme and small inputs and random pairs, in the
// same-shape form (AVX2 loop and Go loop) and with either input broadcast
// along the row, for lengths 0, 1, 31, 33 and 1001.
func TestAdd16FastMatchesQuantAdd(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	edges := []int16{math.MinInt16, math.MinInt16 + 1, -16385, -16384, -2, -1, 0, 1, 2, 16383, 16384, math.MaxInt16 - 1, math.MaxInt16}
	acts := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}
	tested := 0
	for c := range 200 {
		sc := func() float32 { return float32(math.Exp2(rng.Float64()*16 - 20)) }
		x := qt("x", graph.Int16, []int{1001}, []float32{sc()}, []int64{0})
		y := qt("y", graph.Int16, []int{1001}, []float32{sc()}, []int64{0})
		out := qt("out", graph.Int16, []int{1001}, []float32{sc()}, []int64{0})
		op := &graph.Op{Kind: graph.OpAdd, Options: &graph.AddOptions{Activation: acts[c%len(acts)]}}
		kk, err := PrepareWith(op, []*graph.Tensor{x, y}, []*graph.Tensor{out}, Options{})
		if err != nil {
			continue // a rescale multiplier of 1 or more
		}
		k := kk.(*addKernel)
		if k.add16 == nil {
			t.Fatalf("case %d: general int16 ADD without the fast loop (m %d %d %d, shifts %d %d %d)", c, k.m1, k.m2, k.mOut, k.sh1, k.sh2, k.shOut)
		}
		xs, ys := make([]int16, 1001), make([]int16, 1001)
		for i := range xs {
			xs[i], ys[i] = int16(rng.Intn(65536)-32768), int16(rng.Intn(65536)-32768)
		}
		for i, e := range edges {
			for j, f := range edges {
				xs[i*len(edges)+j], ys[i*len(edges)+j] = e, f
			}
		}
		for _, n := range []int{0, 1, 31, 33, 1001} {
			for _, d := range [][3]int{{1, 1, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 1}} {
				k.add16.goOnly = d[2] == 1 // the AVX2 loop (where the CPU has it), then Go's
				z := make([]int16, n+1)
				z[n] = 12345
				k.add16.run(xs, ys, z[:n], d[0], d[1])
				k.add16.goOnly = false
				for j := range n {
					if w := int16(k.quantAdd(int32(xs[j*d[0]]), int32(ys[j*d[1]]))); z[j] != w {
						t.Fatalf("case %d, n %d, strides %v: %d + %d = %d, reference %d", c, n, d, xs[j*d[0]], ys[j*d[1]], z[j], w)
					}
				}
				if z[n] != 12345 {
					t.Fatalf("case %d: wrote past %d elements", c, n)
				}
			}
		}
		tested++
	}
	if tested < 100 {
		t.Errorf("only %d of 200 random int16 ADDs could be prepared", tested)
	}
}
