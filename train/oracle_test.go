package train

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/tflite"
)

// TestOracleRunsExportedModel writes exported models as .tflite and runs
// them in the real TFLite interpreter: the probabilities must match the
// training forward pass within 1e-5.
func TestOracleRunsExportedModel(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle runs take ~0.4 s each; skipped with -short")
	}
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	for _, arch := range []Arch{tinyArch.withClasses(4), SeedCNN(30)} {
		m, err := New(arch, 9)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(10, 10))
		for i := range m.Params {
			m.Params[i] += float32(rng.NormFloat64() * 0.01)
		}
		path := filepath.Join(dir, arch.Name+".tflite")
		if err := tflite.WriteFile(path, m.Graph()); err != nil {
			t.Fatal(err)
		}
		const k = 3
		x := randSlice(rng, k*m.InputSize(), 1)
		want, err := m.Logits(x, k)
		if err != nil {
			t.Fatal(err)
		}
		softmaxRows(want, k, arch.Classes)
		out, err := r.Run(path, graph.EncodeFloat32s(x))
		if err != nil {
			t.Fatalf("%s: TFLite rejected the exported model: %v", arch.Name, err)
		}
		if len(out) != 4*len(want) {
			t.Fatalf("%s: oracle returned %d bytes, want %d", arch.Name, len(out), 4*len(want))
		}
		for i := range want {
			got := math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:]))
			if d := math.Abs(float64(got - want[i])); d > 1e-5 {
				t.Fatalf("%s: prob[%d] TFLite %g, train %g (diff %g)", arch.Name, i, got, want[i], d)
			}
		}
	}
}
