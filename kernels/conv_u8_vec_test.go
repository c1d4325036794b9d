package kernels

import (
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
