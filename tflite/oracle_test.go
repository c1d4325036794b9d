package tflite

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/internal/testshared"
)

// randomInput returns k seeded random samples for tensor t in its raw
// little-endian layout; floats are uniform in [-2, 2) so no NaNs appear.
func randomInput(t *graph.Tensor, k int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	n := t.NumElements() * k
	switch t.DType {
	case graph.Float32:
		b := make([]byte, 4*n)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(rng.Float32()*4-2))
		}
		return b
	default:
		b := make([]byte, n*t.DType.Size())
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
}

// oracleModels is the set the oracle round trip checks: by default one model
// per group (each oracle run costs ~0.3 s), every model with
// QBENCH_ORACLE_ALL=1.
func oracleModels(t *testing.T) []string {
	all := referenceModels(t)
	if os.Getenv("QBENCH_ORACLE_ALL") == "1" {
		return all
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range all {
		dir := filepath.Dir(p)
		key := dir
		if strings.HasSuffix(dir, "hello_world") {
			key = p // both the float and the int8 model
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	return out
}

// TestOracleRoundTrip proves the writer: every reference model, read and
// written again by qbench, loads in real TFLite and gives the same output
// bytes as the original file on the same random input.
func TestOracleRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle runs take ~0.4 s each; skipped with -short")
	}
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	tmp := t.TempDir()
	for i, path := range oracleModels(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".tflite")
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each run is one single-threaded node process
			g, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(tmp, name+".tflite")
			if err := WriteFile(out, g); err != nil {
				t.Fatal(err)
			}
			in := randomInput(g.Tensors[g.Inputs[0]], 3, uint64(i+1))
			want, err := r.Run(path, in)
			if err != nil {
				t.Fatalf("original: %v", err)
			}
			got, err := r.Run(out, in)
			if err != nil {
				t.Fatalf("rewritten: %v", err)
			}
			if len(want) == 0 || !bytes.Equal(got, want) {
				t.Fatalf("rewritten model output differs from the original (%d vs %d bytes)", len(got), len(want))
			}
		})
	}
}

// TestOracleHandGraphs checks that the writer's op codes, versions and
// options for hand-built single-op graphs are accepted by real TFLite.
func TestOracleHandGraphs(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle runs take ~0.4 s each; skipped with -short")
	}
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	tmp := t.TempDir()
	for name, g := range handGraphs() {
		if len(g.Inputs) != 1 {
			continue // the oracle feeds files to the first input only
		}
		if name == "depthwise_int4" {
			continue // int4 kernels postdate the oracle's TFLite build
		}
		if g.Tensors[g.Inputs[0]].DType == graph.Float16 {
			continue // the oracle's JavaScript runner cannot fill a float16 input
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(tmp, name+".tflite")
			if err := WriteFile(p, g); err != nil {
				t.Fatal(err)
			}
			out, err := r.Run(p, randomInput(g.Tensors[g.Inputs[0]], 1, 7))
			if err != nil {
				t.Fatal(err)
			}
			o := g.Tensors[g.Outputs[0]]
			if len(out) != o.ByteSize() {
				t.Fatalf("%d output bytes, want %d", len(out), o.ByteSize())
			}
		})
	}
}

// TestOracleMetadataModels: files carrying Model Metadata and an appended
// label archive — one qbench encodes, the Coral model rewritten — load in
// real TFLite and compute what the metadata-free graph computes.
func TestOracleMetadataModels(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle runs take ~0.4 s each; skipped with -short")
	}
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	tmp := t.TempDir()
	check := func(t *testing.T, g *graph.Graph, reference string) {
		withMeta := filepath.Join(tmp, t.Name()+"-meta.tflite")
		if err := os.MkdirAll(filepath.Dir(withMeta), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(withMeta, g); err != nil {
			t.Fatal(err)
		}
		if reference == "" {
			plain := g.Clone()
			plain.Meta, plain.Metadata = nil, nil
			reference = filepath.Join(tmp, t.Name()+"-plain.tflite")
			if err := WriteFile(reference, plain); err != nil {
				t.Fatal(err)
			}
		}
		in := randomInput(g.Tensors[g.Inputs[0]], 2, 11)
		want, err := r.Run(reference, in)
		if err != nil {
			t.Fatalf("reference: %v", err)
		}
		got, err := r.Run(withMeta, in)
		if err != nil {
			t.Fatalf("with metadata: %v", err)
		}
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Fatalf("outputs differ (%d vs %d bytes)", len(got), len(want))
		}
	}
	t.Run("encoded", func(t *testing.T) {
		g := metaGraph()
		w := g.Tensors[2]
		vals := make([]float32, 36)
		for i := range vals {
			vals[i] = float32(i%7) - 3
		}
		w.Data = graph.EncodeFloat32s(vals)
		check(t, g, "")
	})
	t.Run("coral", func(t *testing.T) {
		dir := testshared.Dir(t, "models", "zoo")
		path := filepath.Join(dir, "coral_mnv1_025_128_u8.tflite")
		g, err := ReadFile(path)
		if err != nil {
			t.Skipf("the reader does not take this model yet: %v", err)
		}
		check(t, g, path)
	})
}
