package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/ortrun"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// ortType names a dtype as onnxruntime-node does.
func ortType(d graph.DType) string {
	switch d {
	case graph.Float32:
		return "float32"
	case graph.Int8:
		return "int8"
	case graph.UInt8:
		return "uint8"
	case graph.Int16:
		return "int16"
	case graph.Int32:
		return "int32"
	case graph.Int64:
		return "int64"
	}
	return d.String()
}

// randomInput fills one input of the given shape with seeded values: floats
// in [lo, hi), 8/16-bit integers over their whole range and int32/int64 in
// [0, idxMax) (token or index inputs).
func randomInput(r *rand.Rand, t *graph.Tensor, shape []int, lo, hi float32, idxMax int) []byte {
	n := graph.NumElements(shape)
	var b []byte
	for range n {
		switch t.DType {
		case graph.Float32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(lo+(hi-lo)*r.Float32()))
		case graph.Int8, graph.UInt8:
			b = append(b, byte(r.IntN(256)))
		case graph.Int16:
			b = binary.LittleEndian.AppendUint16(b, uint16(r.IntN(65536)))
		case graph.Int32:
			b = binary.LittleEndian.AppendUint32(b, uint32(r.IntN(idxMax)))
		case graph.Int64:
			b = binary.LittleEndian.AppendUint64(b, uint64(r.IntN(idxMax)))
		}
	}
	return b
}

// outDiff compares one output: for float the largest absolute difference
// and the reference's value range; for integers the number of differing
// values and the largest difference in steps.
type outDiff struct {
	float          bool
	maxAbs, span   float64
	differ, maxInt int
	n              int
}

func (d outDiff) String() string {
	if d.float {
		return fmt.Sprintf("max|Δ| %.3g over a range of %.3g (%.2g relative)", d.maxAbs, d.span, d.maxAbs/math.Max(d.span, 1e-30))
	}
	return fmt.Sprintf("%d of %d values differ, by at most %d", d.differ, d.n, d.maxInt)
}

func values(dt graph.DType, b []byte) []float64 {
	var v []float64
	switch dt {
	case graph.Float32:
		for i := 0; i+4 <= len(b); i += 4 {
			v = append(v, float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))))
		}
	case graph.Int8:
		for _, x := range b {
			v = append(v, float64(int8(x)))
		}
	case graph.UInt8:
		for _, x := range b {
			v = append(v, float64(x))
		}
	case graph.Int16:
		for i := 0; i+2 <= len(b); i += 2 {
			v = append(v, float64(int16(binary.LittleEndian.Uint16(b[i:]))))
		}
	case graph.Int32:
		for i := 0; i+4 <= len(b); i += 4 {
			v = append(v, float64(int32(binary.LittleEndian.Uint32(b[i:]))))
		}
	case graph.Int64:
		for i := 0; i+8 <= len(b); i += 8 {
			v = append(v, float64(int64(binary.LittleEndian.Uint64(b[i:]))))
		}
	}
	return v
}

// runBoth runs g in qbench (the TFLite runtime's arithmetic) and its export
// in ONNX Runtime on the same seeded inputs at the given batch and returns
// one comparison per output.
func runBoth(t *testing.T, ort *ortrun.Runner, g *graph.Graph, opts Options, batch int, lo, hi float32, idxMax int) []outDiff {
	t.Helper()
	model, err := ExportWith(g, opts)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	prog, err := interp.Compile(g, interp.Options{Batch: batch, Rounding: fixedpoint.RuntimeRounding})
	if err != nil {
		t.Fatalf("compile at batch %d: %v", batch, err)
	}
	ex := prog.NewExecutor()
	inNames, _ := IONames(g)
	r := rand.New(rand.NewPCG(uint64(batch), 16))
	var ins []ortrun.Tensor
	for i := range g.Inputs {
		it := prog.InputTensor(i)
		data := randomInput(r, it, it.Shape, lo, hi, idxMax)
		if err := ex.SetInputBytes(i, data); err != nil {
			t.Fatal(err)
		}
		ins = append(ins, ortrun.Tensor{Name: inNames[i], Type: ortType(it.DType), Dims: it.Shape, Data: data})
	}
	if err := ex.Run(); err != nil {
		t.Fatalf("qbench run: %v", err)
	}
	outs, err := ort.Run(model, ins)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if len(outs) != prog.NumOutputs() {
		t.Fatalf("ONNX Runtime gave %d outputs, qbench %d", len(outs), prog.NumOutputs())
	}
	var diffs []outDiff
	for i, o := range outs {
		ot := prog.OutputTensor(i)
		if o.Type != ortType(ot.DType) {
			t.Fatalf("output %d: ONNX Runtime type %s, qbench %s", i, o.Type, ot.DType)
		}
		q := values(ot.DType, ex.AppendOutputBytes(i, nil))
		x := values(ot.DType, o.Data)
		if len(q) != len(x) {
			t.Fatalf("output %d: ONNX Runtime %d values (dims %v), qbench %d (shape %v)", i, len(x), o.Dims, len(q), ot.Shape)
		}
		d := outDiff{float: ot.DType == graph.Float32, n: len(q)}
		mn, mx := math.Inf(1), math.Inf(-1)
		for j := range q {
			mn, mx = math.Min(mn, q[j]), math.Max(mx, q[j])
			a := math.Abs(q[j] - x[j])
			if math.IsNaN(x[j]) != math.IsNaN(q[j]) {
				a = math.Inf(1)
			}
			d.maxAbs = math.Max(d.maxAbs, a)
			if a != 0 {
				d.differ++
				d.maxInt = max(d.maxInt, int(a))
			}
		}
		d.span = mx - mn
		diffs = append(diffs, d)
	}
	return diffs
}
