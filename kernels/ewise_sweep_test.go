package kernels

import (
	"encoding/binary"
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

// sweepCase is one op family of TestQuantSweepMatchTFLite: many ops on
// one input x holding every 8-bit value (or 4096 random int16 ones), each
// op with its own drawn quantization.
type sweepCase struct {
	name  string
	dt    graph.DType
	shape []int // x's shape
	op    func(r *rand.Rand, x *graph.Tensor, i int) (kind graph.OpKind, ins []*graph.Tensor, out *graph.Tensor, opts any)
}

func sweepCases() []sweepCase {
	u8All, i8All := []int{256}, []int{4, 64}
	return []sweepCase{
		{"DIV uint8", u8T, u8All, func(r *rand.Rand, x *graph.Tensor, _ int) (graph.OpKind, []*graph.Tensor, *graph.Tensor, any) {
			return graph.OpDiv, []*graph.Tensor{x, nonZero(ewConst(r, u8T, x.Shape, -1e9, 1e9))}, tensorLike(r, u8T, x.Shape), &graph.ArithOptions{}
		}},
		{"PRELU int8, alpha broadcast", i8T, i8All, func(r *rand.Rand, x *graph.Tensor, _ int) (graph.OpKind, []*graph.Tensor, *graph.Tensor, any) {
			return graph.OpPrelu, []*graph.Tensor{x, ewConst(r, i8T, []int{64}, -1e9, 1e9)}, tensorLike(r, i8T, x.Shape), nil
		}},
		{"PRELU uint8", u8T, u8All, func(r *rand.Rand, x *graph.Tensor, _ int) (graph.OpKind, []*graph.Tensor, *graph.Tensor, any) {
			return graph.OpPrelu, []*graph.Tensor{x, ewConst(r, u8T, x.Shape, -1e9, 1e9)}, tensorLike(r, u8T, x.Shape), nil
		}},
		{"ABS int8", i8T, i8All, func(r *rand.Rand, x *graph.Tensor, _ int) (graph.OpKind, []*graph.Tensor, *graph.Tensor, any) {
			return graph.OpAbs, []*graph.Tensor{x}, tensorLike(r, i8T, x.Shape), nil
		}},
		{"ABS int16", i16T, []int{4096}, func(r *rand.Rand, x *graph.Tensor, _ int) (graph.OpKind, []*graph.Tensor, *graph.Tensor, any) {
			return graph.OpAbs, []*graph.Tensor{x}, tensorLike(r, i16T, x.Shape), nil
		}},
		{"RELU family uint8", u8T, u8All, func(r *rand.Rand, x *graph.Tensor, i int) (graph.OpKind, []*graph.Tensor, *graph.Tensor, any) {
			kinds := []graph.OpKind{graph.OpRelu, graph.OpRelu6, graph.OpReluN1To1, graph.OpRelu0To1}
			return kinds[i%len(kinds)], []*graph.Tensor{x}, tensorLike(r, u8T, x.Shape), nil
		}},
		{"TANH int16", i16T, []int{4096}, func(r *rand.Rand, x *graph.Tensor, _ int) (graph.OpKind, []*graph.Tensor, *graph.Tensor, any) {
			return graph.OpTanh, []*graph.Tensor{x}, &graph.Tensor{DType: i16T, Shape: x.Shape, Quant: fixedQuant(1.0/32768, 0, 0)(i16T)}, nil
		}},
	}
}

// TestQuantSweepMatchTFLite runs, per case, models of many ops with random
// quantizations (zero points at the extremes, tie-prone scales) over every
// 8-bit input value in the real TFLite interpreter and in qbench: every
// value must agree. It guards the rules found by measurement (scale ratios
// formed in float32, DIV's operand negation, the int16 TANH paths), which
// the mixed-op test meets only on a few values. QBENCH_ORACLE_ALL=1 runs
// more models and ops.
func TestQuantSweepMatchTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	models, ops := 2, 24
	if os.Getenv("QBENCH_ORACLE_ALL") == "1" {
		models, ops = 4, 40
	}
	dir := t.TempDir()
	for ci, c := range sweepCases() {
		values, bad := 0, 0
		for mi := range models {
			r := rand.New(rand.NewPCG(15, uint64(ci)*100+uint64(mi)))
			g := &graph.Graph{}
			x := tensorLike(r, c.dt, c.shape)
			if c.name == "TANH int16" && mi%2 == 0 {
				x.Quant.Scale[0] = float32(1.0 / float64(int(2048)<<(mi/2%2))) // 2^-11, 2^-12: the gemmlowp path
			}
			x.Name = "x"
			xi := g.AddTensor(x)
			g.Inputs = []int{xi}
			m := &ewModel{g: g, x: x, in: x}
			for oi := range ops {
				kind, ins, out, opts := c.op(r, x, oi)
				var idx []int
				for k, tn := range ins {
					if tn == x {
						idx = append(idx, xi)
						continue
					}
					tn.Name = fmt.Sprintf("c%d_%d", oi, k)
					idx = append(idx, g.AddTensor(tn))
				}
				out.Name = fmt.Sprintf("y%d", oi)
				o := g.AddTensor(out)
				g.AddOp(kind, idx, []int{o}, opts)
				g.Outputs = append(g.Outputs, o)
				m.ops = append(m.ops, g.Ops[len(g.Ops)-1])
				m.names = append(m.names, kind.String())
			}
			sample := sweepInput(r, x)
			path := filepath.Join(dir, fmt.Sprintf("sweep-%d-%d.tflite", ci, mi))
			if err := tflite.WriteFile(path, g); err != nil {
				t.Fatal(err)
			}
			want, err := or.RunAll(path, sample)
			if err != nil {
				t.Fatalf("%s model %d: %v", c.name, mi, err)
			}
			for oi, op := range m.ops {
				got, err := runEwOp(m, op, Options{Rounding: fixedpoint.RuntimeRounding}, sample)
				if err != nil {
					t.Fatalf("%s model %d op %d: %v", c.name, mi, oi, err)
				}
				out := g.Tensors[op.Outputs[0]]
				values += out.NumElements()
				if n, first := ewCompare(out.DType, got, want[oi]); n > 0 {
					bad += n
					t.Errorf("%s model %d %s (x %v, out %v): %d of %d values differ from TFLite; %s%s", c.name, mi, m.names[oi],
						quantString(x), quantString(out), n, out.NumElements(), first, ewInputsAt(m, op, sample, first))
				}
			}
		}
		t.Logf("%s: %d of %d values agree with TFLite", c.name, values-bad, values)
	}
}

// sweepInput is every 8-bit stored value in order, or random int16 values.
func sweepInput(r *rand.Rand, x *graph.Tensor) []byte {
	var b []byte
	for i := range x.NumElements() {
		switch x.DType {
		case i16T:
			b = binary.LittleEndian.AppendUint16(b, uint16(r.UintN(65536)))
		default:
			b = append(b, byte(i))
		}
	}
	return b
}
