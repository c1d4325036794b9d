//go:build amd64 && !noasm

package kernels

import "testing"

// TestSumPixIntAVX2Runs checks that integer average-pool sums take the
// AVX2 loop when the AVX-512 loops are off (int16 always), with the right
// sums for the first multiple of 8 channels and the rest left to Go;
// TestAvgPoolAVX2MatchesReference then runs whole pools that way.
func TestSumPixIntAVX2Runs(t *testing.T) {
	if !hasAVX2 {
		t.Skip("needs AVX2")
	}
	defer func(v bool) { poolAVX512 = v }(poolAVX512)
	poolAVX512 = false
	const C, npix = 11, 3
	check := func(name string, done int, acc []int32, at func(i int) int32) {
		t.Helper()
		if done != 8 {
			t.Fatalf("%s: the vector loop did %d channels, want 8", name, done)
		}
		for c := range C {
			want := int32(0)
			if c < 8 {
				for p := range npix {
					want += at(p*C + c)
				}
			}
			if acc[c] != want {
				t.Fatalf("%s: channel %d: %d, want %d", name, c, acc[c], want)
			}
		}
	}
	i8, u8, i16 := make([]int8, C*npix), make([]uint8, C*npix), make([]int16, C*npix)
	for i := range i8 {
		i8[i], u8[i], i16[i] = int8(-128+37*i), uint8(200+i), int16(-32768+997*i)
	}
	acc := make([]int32, C)
	check("int8", sumPixelsVec(acc, i8, npix, C), acc, func(i int) int32 { return int32(i8[i]) })
	acc = make([]int32, C)
	check("uint8", sumPixelsVec(acc, u8, npix, C), acc, func(i int) int32 { return int32(u8[i]) })
	acc = make([]int32, C)
	check("int16", sumPixelsVec(acc, i16, npix, C), acc, func(i int) int32 { return int32(i16[i]) })
}
