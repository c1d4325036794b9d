package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/kernels/gemm"
)

// segTailAvailable reports whether gemm has tail-quad kernels for
// seed-cnn's first layer on this CPU/build.
func segTailAvailable() bool {
	rq, err := gemm.NewRequantFP32(make([]int32, 16), []float32{0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01}, 0, -128, 127)
	if err != nil {
		panic(err)
	}
	return gemm.PackS8SegmentedTail(make([]int8, 16*27), 16, 27, 27, 9, 3, rq) != nil
}

// TestConv2DSegTailMatchesReference drives random first layers (1..4
// input channels, windows up to 5×5, odd sizes, SAME and VALID, batches
// 1–3, every rounding, zero points at the edges, RELU/RELU6; every other
// case seed-cnn's 3×3×3 → 16 or a multiple of 16 channels) through the
// forced segmented path and pathAuto, bit for bit against im2col and
// TFLite's reference loop (checkPath), and counts the cases that ran
// the tail-quad weights where the CPU has their kernels.
func TestConv2DSegTailMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	const iters = 300
	took := 0
	for iter := range iters {
		q := firstS8Trial(r, iter)
		if iter%2 == 1 {
			q.c.inC, q.c.fH, q.c.fW, q.c.outC = 3, 3, 3, 16*(1+r.IntN(3))
			q.ws = randI8(r, q.c.outC*27, 255)
			if len(q.wScales) > 1 {
				q.wScales = make([]float32, q.c.outC)
				for i := range q.wScales {
					q.wScales[i] = float32(0.0005 + r.Float64()*0.01)
				}
			}
			q.bias = make([]int32, q.c.outC)
			for i := range q.bias {
				q.bias[i] = int32(r.IntN(40000) - 20000)
			}
			q.xs = randI8(r, q.c.batch*(q.c.inH+2)*(q.c.inW+2)*3, 256)
			q.c.inH, q.c.inW = q.c.inH+2, q.c.inW+2
		}
		for _, path := range []convPath{pathSegmented, pathAuto} {
			k := q.checkPath(t, path)
			if k.fused != nil && k.w.TailQuad() {
				took++
			}
		}
	}
	t.Logf("%d of %d runs (pathSegmented and pathAuto) took the tail-quad path", took, 2*iters)
	if !segTailAvailable() {
		t.Skip("no tail-quad kernels on this CPU/build (the fallback paths were checked)")
	}
	if took < iters/4 {
		t.Errorf("only %d of %d runs took the tail-quad path", took, 2*iters)
	}
}
