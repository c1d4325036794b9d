package gemm

import (
	"math/rand/v2"
	"testing"
)

// rowSet is an int8 family with its few-row kernels.
type rowSet struct {
	*s8Set
	rows *s8RowKernels
}

// rowSets returns the int8 families with few-row kernels (the portable
// family's are the plain-Go ones).
func rowSets() []rowSet {
	var out []rowSet
	for _, s := range s8Sets() {
		if rk := s8RowsFor(s); rk != nil {
			out = append(out, rowSet{s, rk})
		}
	}
	return out
}

// TestS8RowKernelsMatchGo runs each few-row kernel on random panels
// (int16 A over its whole range, odd step counts around the unrolled
// loop) against the plain-Go kernel of the same rows.
func TestS8RowKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, s := range rowSets() {
		for h := 1; h <= s.rows.max(); h++ {
			for _, k2 := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 100, 1601} {
				a := make([]int16, 2*h*k2+1)
				for i := range a {
					a[i] = int16(r.Uint32())
				}
				b := randI8(r, 2*s.rows.nr*k2+1)
				init := make([]int32, s.rows.nr)
				for j := range init {
					init[j] = int32(r.Uint32())
				}
				ldc := s.rows.nr + 3
				got, want := make([]int32, h*ldc), make([]int32, h*ldc)
				for i := range got {
					got[i], want[i] = -7, -7
				}
				s.rows.fn[h-1](k2, &a[0], &b[0], &got[0], ldc, &init[0])
				goS8Row(h, s.rows.nr)(k2, &a[0], &b[0], &want[0], ldc, &init[0])
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s h=%d k2=%d: c[%d] = %d, Go kernel %d", s.rows.name, h, k2, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestPackS8RowsMatchesRef checks the few-row path end to end against
// GemmS8Ref: rows 1..7 (blocks of the kernels' rows and remainders),
// odd k and n, A with a row stride, and split over threads.
func TestPackS8RowsMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, s := range rowSets() {
		for _, k := range []int{1, 2, 3, 5, 7, 9, 16, 31, 64, 67, 255, 3200} {
			for _, n := range []int{1, 3, 15, 16, 17, 33, 64, 67} {
				packRows := 1 + r.IntN(s.rows.max())
				b := randI8(r, n*k)
				p := packS8With(s.s8Set, packRows, b, n, k, k)
				if s8NibFor(s.s8Set) != nil {
					// PackS8Rows packs for the nibble kernel there
					// (s8nib_test.go).
					p = packS8RowsWith(s.s8Set, s.rows, packRows, b, n, k, k)
				}
				if p.i8 == nil || p.i16 != nil || p.u8 != nil {
					t.Fatalf("%s: PackS8Rows(%d) did not pack int8 weights", s.name, packRows)
				}
				for m := 1; m <= 7; m++ {
					lda := k + r.IntN(3)
					a := randI8(r, m*lda)
					aOff := int32(r.IntN(256) - 128)
					want := make([]int32, m*n)
					GemmS8Ref(m, n, k, a, lda, aOff, b, k, want, n)
					for _, threads := range []int{1, 2} {
						got := make([]int32, m*n)
						p.MulThreads(threads, m, a, lda, aOff, got, n)
						for i := range got {
							if got[i] != want[i] {
								t.Fatalf("%s m=%d n=%d k=%d threads=%d: c[%d] = %d, reference %d", s.name, m, n, k, threads, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestPackS8RowsRequant checks MulRequant on few-row weights in every
// rounding mode against the reference accumulators requantized per
// element.
func TestPackS8RowsRequant(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, s := range rowSets() {
		for _, mode := range modes {
			for _, sh := range [][2]int{{3200, 256}, {77, 33}, {1, 5}, {128, 30}} {
				k, n := sh[0], sh[1]
				b := randI8(r, n*k)
				p := packS8With(s.s8Set, 1, b, n, k, k)
				bias, mult, shift := make([]int32, n), make([]int32, n), make([]int, n)
				for j := range n {
					bias[j] = int32(r.IntN(1<<16)) - 1<<15
					mult[j] = 1<<30 + int32(r.IntN(1<<30))
					shift[j] = -r.IntN(12)
				}
				zp := int32(r.IntN(256) - 128)
				rq, err := newTestRequant(mode, bias, mult, shift, zp, -128, 127)
				if err != nil {
					t.Fatal(err)
				}
				for m := 1; m <= 7; m++ {
					a := randI8(r, m*k)
					aOff := int32(r.IntN(256) - 128)
					acc := make([]int32, m*n)
					GemmS8Ref(m, n, k, a, k, aOff, b, k, acc, n)
					got := make([]int8, m*n)
					p.MulRequant(m, a, k, aOff, rq, got, n)
					for i := range got {
						j := i % n
						if want := refRequant(mode, acc[i], bias[j], mult[j], shift[j], zp, -128, 127); got[i] != want {
							t.Fatalf("%s %s m=%d n=%d k=%d: out[%d] = %d, reference %d", s.name, mode, m, n, k, i, got[i], want)
						}
					}
				}
			}
		}
	}
}

// TestPackS8RowsHalvesWeights checks that the few-row pack keeps the
// weights int8: its panel bytes are about half the int16 tiles'.
func TestPackS8RowsHalvesWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	const n, k = 256, 3200
	b := randI8(r, n*k)
	for _, s := range rowSets() {
		few := packS8With(s.s8Set, 1, b, n, k, k)
		tiles := packS8With(s.s8Set, 64, b, n, k, k)
		fewB := len(few.i8)
		tileB := len(tiles.i16)*2 + len(tiles.u8)
		if fewB*2 > tileB {
			t.Errorf("%s: few-row weights %d bytes, tiles %d", s.name, fewB, tileB)
		}
	}
}

// BenchmarkPackedS8Rows measures a dense layer of seed-cnn's shape (3200
// → 256) at batch 1, 2 and 4, packed for that row count ("rows": the
// few-row path or a one-row tile where the family has them) and for the
// tiles.
func BenchmarkPackedS8Rows(b *testing.B) {
	r := rand.New(rand.NewPCG(29, 30))
	const n, k = 256, 3200
	w := randI8(r, n*k)
	for _, s := range s8Sets() {
		for _, m := range []int{1, 2, 4} {
			for _, form := range []string{"rows", "tiles"} {
				pr := m
				if form == "tiles" {
					pr = 1 << 20
				}
				p := packS8With(s, pr, w, n, k, k)
				a := randI8(r, m*k)
				c := make([]int32, m*n)
				b.Run(s.name+"/"+form+"/m="+string(rune('0'+m)), func(b *testing.B) {
					b.SetBytes(int64(n * k))
					for b.Loop() {
						p.Mul(m, a, k, 3, c, n)
					}
				})
			}
		}
	}
}
