package explain

import (
	"context"
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// TestMixedModelInOracle: the mixed model the fix search writes runs in the
// real TFLite interpreter and agrees with qbench's: same top-1 on every
// sample, outputs within one output quantization step.
func TestMixedModelInOracle(t *testing.T) {
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	f, q, eval, labels := outlierCase(t)
	res, err := Explain(context.Background(), f, q, SliceData(eval, labels), Options{TargetDrop: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fix == nil || res.Fix.Islands == nil {
		t.Fatal("no mixed model")
	}
	path := filepath.Join(t.TempDir(), "mixed.tflite")
	if err := tflite.WriteFile(path, res.Fix.Islands); err != nil {
		t.Fatal(err)
	}
	g, err := tflite.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, x := range eval {
		raw = append(raw, graph.EncodeFloat32s(x)...)
	}
	got, err := r.Run(path, raw)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding})
	if err != nil {
		t.Fatal(err)
	}
	ex := prog.NewExecutor()
	k := g.Tensors[g.Outputs[0]].NumElements()
	if len(got) != 4*k*len(eval) {
		t.Fatalf("oracle returned %d bytes", len(got))
	}
	step := 1.0 / 256
	var out []float32
	for i, x := range eval {
		if err := ex.SetInputFloat(0, x); err != nil {
			t.Fatal(err)
		}
		if err := ex.Run(); err != nil {
			t.Fatal(err)
		}
		out = ex.OutputFloat(0, out)
		o := make([]float32, k)
		for j := range o {
			o[j] = math.Float32frombits(binary.LittleEndian.Uint32(got[4*(i*k+j):]))
			if d := math.Abs(float64(o[j] - out[j])); d > step+1e-6 {
				t.Fatalf("sample %d output %d: oracle %g qbench %g", i, j, o[j], out[j])
			}
		}
		if argmax(o) != argmax(out) {
			t.Fatalf("sample %d: top-1 oracle %d, qbench %d", i, argmax(o), argmax(out))
		}
	}
}
