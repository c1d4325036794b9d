//go:build amd64 && !noasm

package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestWino2YForms checks every y-transform kernel this CPU has, whether or
// not the wrappers select it here, against the Go loops: whole vectors of
// n up to 16 registers, inputs over all of int16 and int32, strides with
// slack that must stay untouched.
func TestWino2YForms(t *testing.T) {
	r := rand.New(rand.NewPCG(101, 102))
	inY := []struct {
		name  string
		ok    bool
		lanes int
		f     func(dst *int16, dstStride int, src *int16, srcStride int, n int)
	}{{"avx2", hasAVX2, 16, wino2InYAVX2}, {"avx512", hasAVX512BW, 32, wino2InYAVX512}}
	outY := []struct {
		name  string
		ok    bool
		lanes int
		f     func(dst *int32, dstStride int, src *int32, srcStride int, n int)
	}{{"avx2", hasAVX2, 8, wino2OutYAVX2}, {"avx512", hasAVX512BW, 16, wino2OutYAVX512}}
	for iter := range 200 {
		for _, k := range inY {
			if !k.ok {
				continue
			}
			n := k.lanes * (1 + r.IntN(16))
			ds, ss := n+r.IntN(40), n+r.IntN(40)
			src := randI16(r, 5*ss+n+5, 0)
			got := randI16(r, 5*ds+n+5, 0)
			want := append([]int16(nil), got...)
			k.f(&got[0], ds, &src[0], ss, n)
			wino2InYGo(want, ds, src, ss, 0, n)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("wino2InY %s iter %d (n=%d strides %d, %d): element %d = %d, want %d", k.name, iter, n, ds, ss, i, got[i], want[i])
				}
			}
		}
		for _, k := range outY {
			if !k.ok {
				continue
			}
			n := k.lanes * (1 + r.IntN(16))
			ds, ss := n+r.IntN(40), n+r.IntN(40)
			src := randI32(r, 5*ss+n+5, 0)
			got := randI32(r, 3*ds+n+5, 0)
			want := append([]int32(nil), got...)
			k.f(&got[0], ds, &src[0], ss, n)
			wino2OutYGo(want, ds, src, ss, 0, n)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("wino2OutY %s iter %d (n=%d strides %d, %d): element %d = %d, want %d", k.name, iter, n, ds, ss, i, got[i], want[i])
				}
			}
		}
	}
}
