//go:build amd64 && !noasm

package kernels

// Differential tests of lookup8AVX512W (the word-permute byte lookup for
// AVX-512BW CPUs without VBMI) against plain indexing, run whenever the
// CPU has AVX-512BW whichever lookup lookup8 would pick.

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"
)

func TestLookup8AVX512WMatchesIndexing(t *testing.T) {
	if !hasLUT8W {
		t.Skip("no AVX-512BW and BMI2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var tabs []*[256]uint8
	for k := range 10 {
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
				tb[i] = uint8(rng.Uint32())
			}
		}
		tabs = append(tabs, &tb)
	}
	sizes := []int{256, 257, 1000, 4096 + 63}
	for n := 0; n <= 200; n++ {
		sizes = append(sizes, n)
	}
	const guard = 70
	for _, tb := range tabs {
		for _, n := range sizes {
			xs := make([]uint8, n)
			for i := range xs {
				xs[i] = uint8(rng.Uint32())
				if n >= 256 && i < 256 {
					xs[i] = uint8(i*37 + 11) // all 256 values, scattered
				}
			}
			ys := make([]uint8, n+guard)
			for i := range ys {
				ys[i] = 0x5a
			}
			run := func(xs, ys []uint8) {
				if n > 0 {
					lookup8AVX512W(tb, &xs[0], &ys[0], n)
				}
			}
			run(xs, ys)
			for i, y := range ys {
				want := uint8(0x5a)
				if i < n {
					want = tb[xs[i]]
				}
				if y != want {
					t.Fatalf("n %d: byte %d: got %d, want %d", n, i, y, want)
				}
			}
			// In place: the output overwrites the input.
			zs := append([]uint8(nil), xs...)
			run(zs, zs)
			for i, x := range xs {
				if zs[i] != tb[x] {
					t.Fatalf("n %d in place: byte %d: got %d, want %d", n, i, zs[i], tb[x])
				}
			}
		}
	}
}

// BenchmarkLookup8 compares the byte lookups on a RELU-sized run: VPERMI2B
// (VBMI), VPERMI2W (AVX-512BW), the AVX2 shuffles (tables formed per
// call, as lookup8 does) and Go.
func BenchmarkLookup8(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tb [256]uint8
	for i := range tb {
		tb[i] = uint8(rng.Uint32())
	}
	for _, n := range []int{1024, 16384} {
		xs, ys := make([]uint8, n), make([]uint8, n)
		for i := range xs {
			xs[i] = uint8(rng.Uint32())
		}
		run := func(name string, ok bool, f func()) {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				if !ok {
					b.Skip("not on this CPU")
				}
				b.SetBytes(int64(n))
				for b.Loop() {
					f()
				}
			})
		}
		run("vbmi", hasVBMI, func() { lookup8AVX512(&tb, &xs[0], &ys[0], n) })
		run("bw", hasLUT8W, func() { lookup8AVX512W(&tb, &xs[0], &ys[0], n) })
		run("avx2", hasAVX2, func() {
			var p [17][32]byte
			lut8Shuffles(&p, &tb)
			lookup8AVX2(&p, (*byte)(unsafe.Pointer(&xs[0])), &ys[0], n&^31)
		})
		run("go", true, func() {
			for i, x := range xs {
				ys[i] = tb[x]
			}
		})
	}
}
