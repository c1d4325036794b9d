package kernels

import (
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
)

// BenchmarkAdd16 times the general int16 ADD over 64×32×32×16 values
// (resnet8's first residual ADD at batch 64), fast loop and reference.
func BenchmarkAdd16(b *testing.B) {
	shape := []int{64, 32, 32, 16}
	x := qt("x", graph.Int16, shape, []float32{3.1e-4}, []int64{0})
	y := qt("y", graph.Int16, shape, []float32{2.3e-4}, []int64{0})
	out := qt("out", graph.Int16, shape, []float32{4.2e-4}, []int64{0})
	op := &graph.Op{Kind: graph.OpAdd, Options: &graph.AddOptions{Activation: graph.ActRelu}}
	rng := rand.New(rand.NewSource(1))
	xb, yb, zb := allocBuf(x), allocBuf(y), allocBuf(out)
	for i := range xb.I16 {
		xb.I16[i], yb.I16[i] = int16(rng.Intn(65536)-32768), int16(rng.Intn(65536)-32768)
	}
	for _, ref := range []bool{false, true} {
		name := "fast"
		if ref {
			name = "reference"
		}
		b.Run(name, func(b *testing.B) {
			k, err := PrepareWith(op, []*graph.Tensor{x, y}, []*graph.Tensor{out}, Options{reference: ref})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(6 * len(xb.I16)))
			for b.Loop() {
				if err := k.Run([]*Buffer{xb, yb}, []*Buffer{zb}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
