package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestSubRowSumsVec checks the vector weight-zero-point pass against
// subRowSums on random rows, odd depths and widths, extreme offsets.
func TestSubRowSumsVec(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 400; i++ {
		n, k, rows := 1+r.Intn(70), 1+r.Intn(300), 1+r.Intn(9)
		if i%5 == 0 {
			k = 64 * (1 + r.Intn(3))
		}
		if i%7 == 0 {
			n = 16 * (1 + r.Intn(4))
		}
		aOff := []int32{128, -127, int32(r.Intn(256)) - 127}[r.Intn(3)]
		wz := []int32{-128, 127, 0, int32(r.Intn(256)) - 128}[r.Intn(4)]
		a := make([]int8, rows*k+r.Intn(5))
		for j := range a {
			a[j] = int8(r.Intn(256))
		}
		got := make([]int32, rows*n)
		for j := range got {
			got[j] = r.Int31() - 1<<30
		}
		want := append([]int32(nil), got...)
		subRowSums(want, a[:rows*k], n, k, aOff, wz)
		if !subRowSumsVec(got, a[:rows*k], n, k, aOff, wz) {
			t.Skip("no vector form on this CPU or build")
		}
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("n=%d k=%d rows=%d aOff=%d wz=%d: acc %d = %d, want %d", n, k, rows, aOff, wz, j, got[j], want[j])
			}
		}
	}
}

// TestXor80Vec checks the vector top-bit flip (toS8Shifted, flipTop)
// byte for byte on random lengths and unaligned starts, and that it
// writes nothing past the end.
func TestXor80Vec(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for i := 0; i < 300; i++ {
		n, off := r.Intn(700), r.Intn(9)
		src := make([]byte, n+off+70)
		for j := range src {
			src[j] = byte(r.Intn(256))
		}
		dst := make([]byte, len(src))
		for j := range dst {
			dst[j] = byte(r.Intn(256))
		}
		want := append([]byte(nil), dst...)
		for j := 0; j < n; j++ {
			want[off+j] = src[off+j] ^ 0x80
		}
		if !xor80Vec(dst[off:off+n], src[off:off+n]) {
			t.Skip("no vector form on this CPU or build")
		}
		for j := range want {
			if dst[j] != want[j] {
				t.Fatalf("n=%d off=%d: byte %d = %#x, want %#x", n, off, j, dst[j], want[j])
			}
		}
		// In place, as flipTop runs it.
		in := append([]byte(nil), src...)
		xor80Vec(in[off:off+n], in[off:off+n])
		for j := range in {
			w := src[j]
			if j >= off && j < off+n {
				w ^= 0x80
			}
			if in[j] != w {
				t.Fatalf("in place n=%d off=%d: byte %d = %#x, want %#x", n, off, j, in[j], w)
			}
		}
	}
}

// BenchmarkSubRowSums is the weight-zero-point pass of the uint8
// MobileNet's first layer (k 27, n 8) and first pointwise layer (k 8,
// n 16) over 4096 rows, vector and scalar.
func BenchmarkSubRowSums(b *testing.B) {
	for _, s := range [][2]int{{27, 8}, {8, 16}, {64, 128}} {
		k, n := s[0], s[1]
		a, acc := make([]int8, 4096*k), make([]int32, 4096*n)
		b.Run(fmt.Sprintf("k%d_n%d/vec", k, n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				subRowSumsVec(acc, a, n, k, 3, 5)
			}
		})
		b.Run(fmt.Sprintf("k%d_n%d/scalar", k, n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				subRowSums(acc, a, n, k, 3, 5)
			}
		})
	}
}
