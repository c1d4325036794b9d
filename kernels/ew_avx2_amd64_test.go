//go:build amd64 && !noasm

package kernels

import (
	"math/rand/v2"
	"testing"
)

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

// TestLookup8AVX2MatchesTable holds the AVX2 table lookup to t[x] for
// random and structured tables, every byte value as input, odd lengths
// around the vector blocks and the minimum run, int8 and uint8 slices,
// without writing past the blocks it reports.
func TestLookup8AVX2MatchesTable(t *testing.T) {
	if !hasAVX2 {
		t.Skip("needs AVX2")
	}
	rng := rand.New(rand.NewPCG(81, 82))
	var tabs []*[256]uint8
	for k := range 12 {
		var tb [256]uint8
		for i := range tb {
			switch k {
			case 0:
				tb[i] = uint8(i)
			case 1:
				tb[i] = uint8(255 - i)
			case 2:
				tb[i] = 0x80
			default:
				tb[i] = uint8(rng.IntN(256))
			}
		}
		tabs = append(tabs, &tb)
	}
	for _, tb := range tabs {
		for _, n := range []int{0, 1, 31, 33, 127, 128, 129, 255, 256, 257, 1001, 1023, 1024, 1025, 3001} {
			xs := make([]uint8, n)
			for i := range xs {
				xs[i] = uint8(i*7 + 3)
				if i >= 256 {
					xs[i] = uint8(rng.IntN(256))
				}
			}
			ys := make([]int8, n+32)
			for i := range ys {
				ys[i] = 99
			}
			done := lookup8AVX2Vec(tb, xs, ys[:n])
			if want := n &^ 31; n >= lookup8AVX2Min && done != want {
				t.Fatalf("n %d: the AVX2 loop did %d values, want %d", n, done, want)
			}
			for i := range done {
				if uint8(ys[i]) != tb[xs[i]] {
					t.Fatalf("n %d: element %d: t[%d] = %d, loop %d", n, i, xs[i], tb[xs[i]], uint8(ys[i]))
				}
			}
			for i := done; i < len(ys); i++ {
				if ys[i] != 99 {
					t.Fatalf("n %d: element %d written past the %d the loop reported", n, i, done)
				}
			}
			// lookup8 as a whole (VBMI, AVX2 or Go, whatever runs here).
			zs := make([]uint8, n)
			lookup8(tb, xs, zs)
			for i, x := range xs {
				if zs[i] != tb[x] {
					t.Fatalf("lookup8 n %d: element %d: t[%d] = %d, got %d", n, i, x, tb[x], zs[i])
				}
			}
		}
	}
}
