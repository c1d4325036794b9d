package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// nibSets returns the int8 families with a one-row nibble kernel, plus
// the portable family with the plain-Go form of the kernel (which no
// family picks, so the driver is tested under -tags noasm too).
func nibSets() []struct {
	*s8Set
	nib *s8NibKernel
} {
	out := []struct {
		*s8Set
		nib *s8NibKernel
	}{{goS8Set, &s8NibKernel{name: "gonib", nr: 16, fn: goS8Nib(16)}}}
	for _, s := range s8Sets() {
		if nk := s8NibFor(s); nk != nil {
			out = append(out, struct {
				*s8Set
				nib *s8NibKernel
			}{s, nk})
		}
	}
	return out
}

// TestS8NibKernelsMatchGo runs each assembly nibble kernel on random
// panels and on the extremes (nibbles 15 against weights −128 or 127,
// the largest int16 block sums) against the plain-Go kernel, with quad
// counts around the int16 block (8).
func TestS8NibKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, s := range nibSets()[1:] {
		nr := s.nib.nr
		for _, k4 := range []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 23, 100, 801} {
			for _, fill := range []string{"random", "max-", "max+"} {
				lo, hi := make([]uint8, 4*k4+1), make([]uint8, 4*k4+1)
				b := randI8(r, 4*nr*k4+1)
				for i := range lo {
					lo[i], hi[i] = uint8(r.IntN(16)), uint8(r.IntN(16))
					if fill != "random" {
						lo[i], hi[i] = 15, 15
					}
				}
				for i := range b {
					switch fill {
					case "max-":
						b[i] = -128
					case "max+":
						b[i] = 127
					}
				}
				init := make([]int32, nr)
				for j := range init {
					init[j] = int32(r.Uint32())
				}
				got, want := make([]int32, nr), make([]int32, nr)
				s.nib.fn(k4, &lo[0], &hi[0], &b[0], &got[0], &init[0])
				goS8Nib(nr)(k4, &lo[0], &hi[0], &b[0], &want[0], &init[0])
				for j := range got {
					if got[j] != want[j] {
						t.Fatalf("%s k4=%d %s: c[%d] = %d, Go kernel %d", s.nib.name, k4, fill, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestSplitNibbles checks splitNibbles (vector loop, 8-byte words and
// single bytes) against the definition x+128 = 16·hi + lo, with zeros
// past the input.
func TestSplitNibbles(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for n := 0; n <= 100; n++ {
		src := randI8(r, n)
		pad := r.IntN(5)
		lo, hi := make([]uint8, n+pad), make([]uint8, n+pad)
		for i := range lo {
			lo[i], hi[i] = 99, 99
		}
		splitNibbles(lo, hi, src)
		for i := range lo {
			wl, wh := uint8(0), uint8(0)
			if i < n {
				u := int(src[i]) + 128
				wl, wh = uint8(u&15), uint8(u>>4)
			}
			if lo[i] != wl || hi[i] != wh {
				t.Fatalf("n=%d: byte %d: lo %d hi %d, want %d %d", n, i, lo[i], hi[i], wl, wh)
			}
		}
	}
}

// TestPackS8NibMatchesRef checks the nibble path end to end against
// GemmS8Ref: k not a multiple of 2, 4 or 16, n not a multiple of 8 or
// 16, rows 1..9 (each row a kernel pass), A with a row stride and at its
// extremes, input offsets at the ends of their range (−zero point: −127
// and 128), 1 and 2 threads.
func TestPackS8NibMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	for _, s := range nibSets() {
		for _, k := range []int{1, 2, 3, 5, 7, 9, 15, 16, 17, 31, 32, 33, 63, 65, 67, 255, 3200} {
			for _, n := range []int{1, 3, 7, 15, 16, 17, 30, 33, 67} {
				ldb := k + r.IntN(3)
				b := randI8(r, n*ldb)
				p := packS8NibWith(s.s8Set, s.nib, b, n, k, ldb)
				for m := 1; m <= 9; m++ {
					lda := k + r.IntN(3)
					a := randI8(r, m*lda)
					switch m {
					case 2:
						for i := range a {
							a[i] = -128
						}
					case 3:
						for i := range a {
							a[i] = 127
						}
					}
					for _, aOff := range []int32{-127, 128, int32(r.IntN(256) - 127)} {
						want := make([]int32, m*n)
						GemmS8Ref(m, n, k, a, lda, aOff, b, ldb, want, n)
						for _, threads := range []int{1, 2} {
							got := make([]int32, m*n)
							p.MulThreads(threads, m, a, lda, aOff, got, n)
							for i := range got {
								if got[i] != want[i] {
									t.Fatalf("%s m=%d n=%d k=%d aOff=%d threads=%d: c[%d] = %d, reference %d", s.nib.name, m, n, k, aOff, threads, i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestPackS8RowsPicksNib checks which products pack for the nibble
// kernel where the family has one (nibRows), and that its weights stay
// bytes.
func TestPackS8RowsPicksNib(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	for _, s := range s8Sets() {
		nk := s8NibFor(s)
		if nk == nil {
			continue
		}
		for _, c := range []struct {
			m, n, k int
			nib     bool
		}{{1, 256, 3200, true}, {4, 30, 64, true}, {5, 30, 64, false}, {8, 256, 3200, true}, {9, 30, 128, true}, {11, 30, 128, false}, {64, 256, 3200, false}, {8, 16, 127, false}, {1 << 20, 256, 3200, false}} {
			b := randI8(r, c.n*c.k)
			p := packS8With(s, c.m, b, c.n, c.k, c.k)
			if got := p.nib == nk && p.u8 != nil && p.i16 == nil && p.i8 == nil; got != c.nib {
				t.Errorf("%s: PackS8Rows(%d) of %d×%d: nibble pack %v, want %v", s.name, c.m, c.n, c.k, got, c.nib)
			}
			if c.nib && len(p.u8) > (c.n+15)*(c.k+3) {
				t.Errorf("%s: %d weight bytes for %d×%d", s.name, len(p.u8), c.n, c.k)
			}
		}
	}
}

// BenchmarkS8Nib compares the nibble kernel (one row per pass) with the
// family's other packs (few-row kernels up to 4 rows, else the tiles)
// on dense shapes (seed-cnn's 3200→256 and 256→30 among them) at 1 to
// 64 rows, in thread CPU time.
func BenchmarkS8Nib(b *testing.B) {
	r := rand.New(rand.NewPCG(49, 50))
	for _, sh := range [][2]int{{256, 30}, {64, 16}, {100, 128}, {3200, 256}} {
		k, n := sh[0], sh[1]
		w := randI8(r, n*k)
		for _, m := range []int{1, 2, 4, 8, 64} {
			a := randI8(r, m*k)
			c := make([]int32, m*n)
			for _, s := range nibSets()[1:] {
				for _, form := range []string{"nib", "tiles"} {
					p := packS8NibWith(s.s8Set, s.nib, w, n, k, k)
					if form == "tiles" {
						p = packS8Tiles(s.s8Set, m, w, n, k, k)
					}
					b.Run(fmt.Sprintf("%s/k%dn%d/m%d/%s", s.name, k, n, m, form), func(b *testing.B) {
						loopCPU(b, float64(m*n*k), func() { p.Mul(m, a, k, 3, c, n) })
					})
				}
			}
		}
	}
}
