package train

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
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

// TestTaskLibraryReadsTrainedMetadata runs a trained model in the TFLite
// Task Library's ImageClassifier, which takes its preprocessing and class
// names only from the model's metadata: on a 16x16 image (no resize) it
// must name the same top classes with the probabilities qbench computes
// from the same pixels through the model's spec.
func TestTaskLibraryReadsTrainedMetadata(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle runs take ~1 s each; skipped with -short")
	}
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	trainSet := blobs(t, 60, 1)
	spec := DefaultSpec(tinyArch)
	meta, err := ModelMeta(spec, trainSet.Classes)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Arch: tinyArch, Epochs: 2, BatchSize: 20, Seed: 1, Meta: meta, Optim: OptimConfig{Name: OptAdam, LR: 0.01}}
	res, err := Run(context.Background(), cfg, trainSet, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.tflite")
	if err := tflite.WriteFile(path, res.Best.Graph()); err != nil {
		t.Fatal(err)
	}
	// A bright square in the top-right quadrant: class "tr".
	rgba := make([]byte, 16*16*4)
	x := make([]float32, 16*16*3)
	for y := range 16 {
		for xx := range 16 {
			v := byte(40)
			if y >= 2 && y < 6 && xx >= 10 && xx < 14 {
				v = 230
			}
			p := y*16 + xx
			rgba[4*p], rgba[4*p+1], rgba[4*p+2], rgba[4*p+3] = v, v, v, 255
			for c := range 3 {
				x[3*p+c] = float32(v)*spec.Scale + spec.Offset
			}
		}
	}
	got, err := r.ClassifyImage(path, rgba, 16, 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	want, err := res.Best.Logits(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	probs := softmax(want)
	if len(got) != 3 {
		t.Fatalf("task library gave %d classes: %+v", len(got), got)
	}
	for _, c := range got {
		k := slices.Index(trainSet.Classes, c.ClassName)
		if k < 0 {
			t.Fatalf("task library names class %q, not one of %v: label file not read", c.ClassName, trainSet.Classes)
		}
		if math.Abs(c.Probability-float64(probs[k])) > 1e-4 {
			t.Errorf("%s: task library %.6f, qbench %.6f (normalization not read?)", c.ClassName, c.Probability, probs[k])
		}
	}
	t.Logf("task library: %+v; qbench: %v", got, probs)
}

func softmax(z []float32) []float32 {
	m := slices.Max(z)
	out := make([]float32, len(z))
	var s float64
	for i, v := range z {
		e := math.Exp(float64(v - m))
		out[i] = float32(e)
		s += e
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / s)
	}
	return out
}
