package gemm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWidenS8 checks WidenS8 (the AVX2 loop where it runs) against the
// plain loop on every length up to 200 at odd offsets, every byte value,
// and that nothing past len(src) is written.
func TestWidenS8(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 200 {
		for _, off := range []int{0, 1, 7} {
			src := randI8(r, n+off)[off:]
			if n >= 8 {
				src[0], src[n-1], src[n/2] = -128, 127, -1
			}
			want := make([]int16, n+3)
			got := make([]int16, n+3)
			for i := range got {
				got[i], want[i] = 12345, 12345
			}
			widenS8Go(want, src)
			WidenS8(got[:n+3], src)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d off=%d: got %v, want %v", n, off, got, want)
			}
		}
	}
}

// BenchmarkWidenS8 widens rows of a first conv's padded image (80×3
// values, 82×3 with the border) as fillWide does, one call per row.
func BenchmarkWidenS8(b *testing.B) {
	for _, n := range []int{240, 246} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src := randI8(rand.New(rand.NewPCG(1, 2)), n)
			dst := make([]int16, n)
			for b.Loop() {
				WidenS8(dst, src)
			}
		})
	}
}
