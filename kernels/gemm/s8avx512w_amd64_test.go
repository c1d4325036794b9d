//go:build !noasm

package gemm

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAVX512WDispatch checks where the zmm int16-pair family sits: after
// both VNNI families, before AVX2, and the default on an AVX-512 CPU
// without VNNI (run it under GODEBUG=cpu.avx512vnni=off,cpu.avxvnni=off).
func TestAVX512WDispatch(t *testing.T) {
	sets := s8Sets()
	i := slices.Index(sets, avx512WS8Set)
	if !avx512WOk {
		if i >= 0 {
			t.Fatal("avx512bw family listed on a CPU without AVX-512BW/DQ")
		}
		t.Skip("CPU without AVX-512F/BW/DQ")
	}
	if i < 0 {
		t.Fatal("avx512bw family missing")
	}
	if j := slices.Index(sets, avx2S8Set); j >= 0 && j < i {
		t.Errorf("avx2 family at %d before avx512bw at %d", j, i)
	}
	if !vnniOk && !avxVNNIOk && defaultS8 != avx512WS8Set {
		t.Errorf("default int8 family %s, want avx512bw", defaultS8.name)
	}
}

// TestAVX512WWideTile checks that the wide packing takes the tile the
// columns fill (a 16-channel conv must not run on 64-column slivers).
func TestAVX512WWideTile(t *testing.T) {
	if !avx512WOk {
		t.Skip("CPU without AVX-512F/BW/DQ")
	}
	w := make([]int8, 128*9)
	for _, c := range []struct{ n, nr int }{{16, 16}, {8, 16}, {32, 32}, {48, 16}, {64, 64}, {128, 64}, {96, 32}} {
		p := packS8SegWideWith(avx512WS8Set, w, c.n, 9, 9, 3)
		if p.kern.nr != c.nr {
			t.Errorf("n=%d: %s, want nr=%d", c.n, p.kern.name, c.nr)
		}
	}
}

// TestAVX512WMatchesAVX2 runs the same int8 products through the zmm
// and the AVX2 int16-pair families (same packing meaning, other slivers)
// and the reference, on shapes around every tile edge.
func TestAVX512WMatchesAVX2(t *testing.T) {
	if !avx512WOk || !avx2Ok {
		t.Skip("CPU without AVX-512F/BW/DQ and AVX2")
	}
	r := rand.New(rand.NewPCG(16, 512))
	for _, m := range []int{1, 2, 3, 5, 6, 7, 64} {
		for _, n := range []int{1, 15, 16, 17, 31, 33, 63, 64, 65, 130, 300} {
			for _, k := range []int{1, 2, 3, 9, 27, 64, 129} {
				a, b := randI8(r, m*k), randI8(r, n*k)
				off := int32(r.IntN(256) - 128)
				want, z, x := make([]int32, m*n), make([]int32, m*n), make([]int32, m*n)
				GemmS8Ref(m, n, k, a, k, off, b, k, want, n)
				gemmS8With(avx512WS8Set, 1, m, n, k, a, k, off, b, k, z, n)
				gemmS8With(avx2S8Set, 1, m, n, k, a, k, off, b, k, x, n)
				if !slices.Equal(z, want) || !slices.Equal(x, want) {
					t.Fatalf("m=%d n=%d k=%d: avx512bw ok=%v, avx2 ok=%v", m, n, k, slices.Equal(z, want), slices.Equal(x, want))
				}
			}
		}
	}
}
