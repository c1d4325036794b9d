package interp_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// sharedDir finds ../shared (see package testshared) or skips the test.
func sharedDir(t testing.TB) string { return testshared.Dir(t) }

// randomInput makes k samples of raw input for t: uniform over the whole
// range for integer inputs, uniform in [lo, hi) for float inputs.
func randomInput(rng *rand.Rand, t *graph.Tensor, k int, lo, hi float64) []byte {
	n := t.NumElements() * k
	var b []byte
	for range n {
		switch t.DType {
		case graph.Float32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(lo+(hi-lo)*rng.Float64())))
		case graph.Int8, graph.UInt8:
			b = append(b, byte(rng.UintN(256)))
		case graph.Int16:
			b = binary.LittleEndian.AppendUint16(b, uint16(rng.UintN(65536)))
		case graph.Int32:
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(rng.IntN(1<<20)-1<<19)))
		}
	}
	return b
}

// TestRunMatchesTFLite runs every single-input int8 and float model of the
// reference set through Executor.RunRaw (what `qbench run --input
// --rounding single` does) and through the real TFLite interpreter on the
// same random inputs: integer outputs must be identical, float outputs
// within 1e-5. (The real TFLite runtime rescales int8 convolution and fully
// connected accumulators with one rounding; TFLite Micro and the reference
// kernels round twice, which the conformance cases check.) Of the
// int16 seanet models one per op runs by default, all with
// QBENCH_ORACLE_ALL=1 (about a minute).
func TestRunMatchesTFLite(t *testing.T) {
	models := filepath.Join(sharedDir(t), "reference", "tflite-micro", "models")
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	paths, _ := filepath.Glob(filepath.Join(models, "*", "*.tflite"))
	seanet, _ := filepath.Glob(filepath.Join(models, "seanet", "*", "*.tflite"))
	all := os.Getenv("QBENCH_ORACLE_ALL") == "1"
	for _, p := range seanet {
		if all || strings.HasSuffix(p, "0.tflite") && !strings.HasSuffix(p, "10.tflite") {
			paths = append(paths, p)
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	checked, identical := 0, 0
	for _, p := range paths {
		name, _ := filepath.Rel(models, p)
		g, err := tflite.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(g.Inputs) != 1 {
			t.Logf("%s: %d inputs; the oracle takes single-input models, skipped", name, len(g.Inputs))
			continue
		}
		prog, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		const k = 16
		in := randomInput(rng, prog.InputTensor(0), k, 0, 2*math.Pi)
		got, err := prog.NewExecutor().RunRaw(in)
		if err != nil {
			t.Errorf("%s: qbench: %v", name, err)
			continue
		}
		want, err := or.Run(p, in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d output bytes, TFLite gave %d", name, len(got), len(want))
			continue
		}
		checked++
		out := prog.OutputTensor(0)
		if out.DType != graph.Float32 {
			bad, worst := compareInts(out.DType, got, want)
			if bad == 0 {
				identical++
			} else {
				t.Errorf("%s (%s): %d values differ from TFLite, by up to %d", name, out.DType, bad, worst)
			}
			continue
		}
		for i := 0; i < len(got); i += 4 {
			a := math.Float32frombits(binary.LittleEndian.Uint32(got[i:]))
			b := math.Float32frombits(binary.LittleEndian.Uint32(want[i:]))
			if d := math.Abs(float64(a - b)); !(d <= 1e-5*max(1, math.Abs(float64(b)))) {
				t.Errorf("%s: output %d: got %g, TFLite %g", name, i/4, a, b)
				break
			}
		}
		identical++
	}
	t.Logf("%d models checked on 16 random samples each, %d identical to TFLite", checked, identical)
	if checked == 0 {
		t.Error("no model was checked")
	}
}

// compareInts counts differing integer outputs and the largest difference.
func compareInts(dt graph.DType, got, want []byte) (bad int, worst int64) {
	size := dt.Size()
	for i := 0; i+size <= len(got); i += size {
		var a, b int64
		switch dt {
		case graph.Int8:
			a, b = int64(int8(got[i])), int64(int8(want[i]))
		case graph.UInt8:
			a, b = int64(got[i]), int64(want[i])
		case graph.Int16:
			a, b = int64(int16(binary.LittleEndian.Uint16(got[i:]))), int64(int16(binary.LittleEndian.Uint16(want[i:])))
		case graph.Int32:
			a, b = int64(int32(binary.LittleEndian.Uint32(got[i:]))), int64(int32(binary.LittleEndian.Uint32(want[i:])))
		}
		if a != b {
			bad++
			worst = max(worst, a-b, b-a)
		}
	}
	return bad, worst
}

// compareFloats counts float32 outputs differing by more than 1e-5
// (relative above 1) and the worst difference.
func compareFloats(got, want []byte) (bad int, worst float64) {
	for i := 0; i+4 <= len(got) && i+4 <= len(want); i += 4 {
		a := float64(math.Float32frombits(binary.LittleEndian.Uint32(got[i:])))
		b := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[i:])))
		if d := math.Abs(a - b); !(d <= 1e-5*max(1, math.Abs(b))) {
			bad++
			worst = max(worst, d)
		}
	}
	return bad, worst
}
