//go:build !noasm

package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestDepthwiseF32AVX2MatchesReference runs random float depthwise layers
// (odd sizes, 1 to 150 channels: 64-lane blocks and masked blocks of 1 to
// 16, any window, stride, dilation and multiplier, batch 1 to 3) through
// the AVX2 interior loops, forced on an AVX-512 machine too, and wants the
// plain loops' values (a padded tap adds w·0, so −0 may become +0, as on
// AVX-512), plus the AVX-512 loops' bits where the CPU has them.
func TestDepthwiseF32AVX2MatchesReference(t *testing.T) {
	if !hasAVX2 {
		t.Skip("needs AVX2 and FMA")
	}
	defer func(v bool) { dwF32AVX512 = v }(dwF32AVX512)
	rng := rand.New(rand.NewPCG(71, 72))
	iters := 300
	if testing.Short() {
		iters = 80
	}
	for iter := 0; iter < iters; iter++ {
		tc := newDwVecCase(rng, graph.Float32)
		if iter%5 == 0 {
			tc = newDwVecCaseWide(rng, graph.Float32, 40)
		}
		if iter%7 == 0 {
			// batch 3: the input buffer holds three images
			per := len(tc.x.F32) / tc.batch
			x := refBuffer(graph.Float32, []int{3, len(tc.x.F32) / tc.batch}, nil)
			for i := range x.F32 {
				x.F32[i] = tc.x.F32[i%per] * float32(1+i/per)
			}
			tc.x, tc.batch = x, 3
		}
		run := func(avx512, ref bool) []float32 {
			dwF32AVX512 = avx512
			k, err := prepareDepthwiseConv2DWith(tc.op, tc.ins, []*graph.Tensor{tc.out}, fixedpoint.RuntimeRounding, ref)
			if err != nil {
				t.Fatalf("iter %d %s: %v", iter, tc.desc, err)
			}
			if !ref {
				if d, ok := k.(*depthwiseFloat); !ok || d.vec == nil {
					t.Fatalf("iter %d %s: no vector plan", iter, tc.desc)
				}
			}
			y := refBuffer(graph.Float32, []int{tc.batch, tc.outH, tc.outW, tc.outC}, nil)
			if err := k.Run([]*Buffer{tc.x}, []*Buffer{y}); err != nil {
				t.Fatal(err)
			}
			return y.F32
		}
		got, want := run(false, false), run(false, true)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("iter %d %s batch %d: AVX2 out[%d] = %v, want %v", iter, tc.desc, tc.batch, i, got[i], want[i])
			}
		}
		if hasAVX512 {
			z := run(true, false)
			for i := range got {
				if got[i] != z[i] {
					t.Fatalf("iter %d %s: AVX2 out[%d] = %v, AVX-512 %v", iter, tc.desc, i, got[i], z[i])
				}
			}
		}
	}
}

// TestAvgPoolAVX2MatchesReference runs TestAvgPoolMatchesReference (float
// sums bit for bit against the scalar loop) with the AVX-512 loops off,
// so float32 windows take the AVX2 sum loop on an AVX-512 machine too.
func TestAvgPoolAVX2MatchesReference(t *testing.T) {
	if !hasAVX2 {
		t.Skip("needs AVX2 and FMA")
	}
	defer func(v bool) { poolAVX512 = v }(poolAVX512)
	poolAVX512 = false
	acc, px := make([]float32, 9), []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	if sumPixelsVec(acc, px, 1, 9) != 8 || acc[7] != 8 || acc[8] != 0 {
		t.Fatalf("the AVX2 sum loop did not run: %v", acc)
	}
	TestAvgPoolMatchesReference(t)
}
