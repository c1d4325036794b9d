package interp_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/tflite"
)

// TestZooLayoutModelsMatchTFLite runs the zoo models that need the layout
// and shape ops in qbench and in the TFLite oracle on random inputs: every
// output bit-identical for integers, floats within 1e-5 of the output's
// range. The oracle feeds only input 0, so the other inputs of
// coral_split_concat are zeros on both sides.
func TestZooLayoutModelsMatchTFLite(t *testing.T) {
	zoo := filepath.Join(sharedDir(t), "models", "zoo")
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	or = freshOutputs(t, or) // tfls_dilated_conv's output is dynamic in TFLite
	rng := rand.New(rand.NewPCG(13, 5))
	for _, tc := range []struct {
		file   string
		folded int // ops Compile folds
	}{
		{"tfls_dilated_conv.tflite", 21},
		{"coral_split_concat.tflite", 0},
		{"tfls_movie_review.tflite", 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(zoo, tc.file)
			g, err := tflite.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var ins [][]byte
			for i, ti := range g.Inputs {
				in := g.Tensors[ti]
				b := make([]byte, in.ByteSize())
				if i == 0 {
					switch {
					case in.DType == graph.Int32: // token ids: in the embedding's range
						vocab := g.Tensors[g.Ops[0].Inputs[0]].Shape[0]
						for j := 0; j < len(b); j += 4 {
							binary.LittleEndian.PutUint32(b[j:], uint32(rng.IntN(vocab)))
						}
					case in.DType == graph.Float32:
						for j := 0; j < len(b); j += 4 {
							binary.LittleEndian.PutUint32(b[j:], math.Float32bits(float32(rng.NormFloat64())))
						}
					default:
						for j := range b {
							b[j] = byte(rng.IntN(256))
						}
					}
				}
				ins = append(ins, b)
			}
			got, p, err := qbenchOutputs(g, ins...)
			if errors.Is(err, kernels.ErrUnsupported) {
				t.Skipf("an op of another family has no kernel yet: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(p.Folded().Ops); n != tc.folded {
				t.Errorf("folded %d ops (%s), want %d", n, p.Folded(), tc.folded)
			}
			want, err := oracleOutputs(or, path, ins[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != len(got) {
				t.Fatalf("%d outputs from TFLite, %d from qbench", len(want), len(got))
			}
			for o := range want {
				out := p.OutputTensor(o)
				if out.DType != graph.Float32 {
					if bad, worst := compareInts(out.DType, got[o], want[o]); bad > 0 || len(got[o]) != len(want[o]) {
						t.Errorf("output %d %q: %d values differ, by up to %d", o, out.Name, bad, worst)
					}
					continue
				}
				lo, hi := math.Inf(1), math.Inf(-1)
				for j := 0; j+4 <= len(want[o]); j += 4 {
					v := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[o][j:])))
					lo, hi = min(lo, v), max(hi, v)
				}
				tol := 1e-5 * max(hi-lo, 1e-30)
				worst := 0.0
				for j := 0; j+4 <= len(want[o]) && j+4 <= len(got[o]); j += 4 {
					a := float64(math.Float32frombits(binary.LittleEndian.Uint32(got[o][j:])))
					b := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[o][j:])))
					worst = max(worst, math.Abs(a-b))
				}
				t.Logf("output %d %q: max |qbench - TFLite| = %.3g (range %.3g)", o, out.Name, worst, hi-lo)
				if worst > tol || len(got[o]) != len(want[o]) {
					t.Errorf("output %d %q: differs from TFLite by %g, more than 1e-5 of the range %g", o, out.Name, worst, hi-lo)
				}
			}
		})
	}
}
