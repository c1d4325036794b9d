package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// thenPool runs a conv kernel into mid, then a pool kernel from it.
type thenPool struct {
	conv, pool Kernel
	mid        []*Buffer
}

func (k *thenPool) Run(ins, outs []*Buffer) error {
	if err := k.conv.Run(ins, k.mid); err != nil {
		return err
	}
	return k.pool.Run(k.mid, outs)
}

// BenchmarkConvInt8WinogradPool compares seed-cnn's 3×3 layers followed
// by a 2×2 MAX_POOL_2D as two kernels (pathAuto's conv, then the pool)
// with the 2-D Winograd plan writing the pooled output itself
// (setPool2x2; only where the CPU runs its one-pass output side: AVX2
// without AVX-512), thread CPU time per image.
func BenchmarkConvInt8WinogradPool(b *testing.B) {
	type shape struct{ hw, cin, cout, batch int }
	for _, s := range []shape{{40, 16, 32, 1}, {20, 32, 64, 1}, {10, 64, 128, 1}, {40, 16, 32, 4}, {20, 32, 64, 4}, {10, 64, 128, 4}} {
		for _, name := range []string{"auto+pool", "wino2+pool", "pooled"} {
			b.Run(fmt.Sprintf("%dx%dx%dx%d/%s", s.batch, s.hw, s.cin, s.cout, name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				sc := make([]float32, s.cout)
				for i := range sc {
					sc[i] = 0.001 + 0.01*r.Float32()
				}
				in := qt("in", graph.Int8, []int{s.batch, s.hw, s.hw, s.cin}, []float32{0.05}, []int64{-128})
				mid := qt("mid", graph.Int8, []int{s.batch, s.hw, s.hw, s.cout}, []float32{0.2}, []int64{-3})
				out := qt("out", graph.Int8, []int{s.batch, s.hw / 2, s.hw / 2, s.cout}, []float32{0.2}, []int64{-3})
				op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1}}
				ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{s.cout, 3, 3, s.cin}, randI8(r, s.cout*9*s.cin, 101), sc), constI32("b", make([]int32, s.cout), nil)}
				path := pathAuto
				if name != "auto+pool" {
					path = pathWinograd2D
				}
				ck, err := prepareConv2DWith(op, ins, []*graph.Tensor{mid}, fixedpoint.RuntimeRounding, path)
				if err != nil {
					b.Fatal(err)
				}
				x := []*Buffer{{DType: graph.Int8, I8: randI8(r, s.batch*s.hw*s.hw*s.cin, 256)}}
				y := []*Buffer{{DType: graph.Int8, I8: make([]int8, s.batch*s.hw*s.hw*s.cout/4)}}
				k := ck
				if name == "pooled" {
					if !ck.(*convInt8).setPool2x2() {
						b.Skip("no pooled output side on this CPU")
					}
				} else {
					pop := &graph.Op{Kind: graph.OpMaxPool2D, Options: &graph.Pool2DOptions{Padding: graph.PaddingValid, StrideH: 2, StrideW: 2, FilterH: 2, FilterW: 2}}
					pk, err := preparePool(pop, []*graph.Tensor{mid}, []*graph.Tensor{out}, false)
					if err != nil {
						b.Fatal(err)
					}
					k = &thenPool{conv: ck, pool: pk, mid: []*Buffer{{DType: graph.Int8, I8: make([]int8, s.batch*s.hw*s.hw*s.cout)}}}
				}
				runKernelCPU(b, k, x, y, s.batch)
			})
		}
	}
}
