package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/kernels/fixedpoint"
)

// wideSets returns the int8 families with fused wide kernels, plus one
// whose kernels are missing (its products take the plain-Go path), so
// the reference path runs on every platform and under noasm.
func wideSets() []*s8Set {
	out := []*s8Set{{name: "go-wide", format: fmtI16Pair, kernels: []s8Kernel{{name: "gowide", mr: 6, nr: 16, weight: 1, segWide: &s8SegWide{}}}}}
	for _, s := range allS8Kernels() {
		if s.format == fmtI16Pair && s.kernels[0].segWide != nil {
			out = append(out, s)
		}
	}
	return out
}

// TestMulRequantSegmentedRowsWide checks the fused int16-A segmented
// product against the plain-Go reference product and requantization, in
// every rounding, on random odd shapes (odd segments, partial row tiles
// and column slivers, A slices ending right after the last segment),
// row maps with dropped and reordered rows, clamped and unclamped ranges
// and extreme zero points, with 1 and 2 threads; bytes the map does not
// cover must stay untouched.
func TestMulRequantSegmentedRowsWide(t *testing.T) {
	for _, set := range wideSets() {
		t.Run(set.name, func(t *testing.T) { testSegRowsWide(t, set, false, false) })
	}
}

// TestMulRequantSegmentedWideAt is TestMulRequantSegmentedRowsWide for
// A rows at random start offsets (repeated, decreasing, overlapping; A
// ending right at WideAtNeed), the table kernels' driver.
func TestMulRequantSegmentedWideAt(t *testing.T) {
	for _, set := range wideSets() {
		t.Run(set.name, func(t *testing.T) { testSegRowsWide(t, set, true, false) })
	}
}

// TestMulRequantSegmentedWideAtRowCounts is TestMulRequantSegmentedWideAt
// with 1..20 rows in turn, each against every rounding: every partial
// last row tile, and products of a few whole tiles that the table
// kernels run in one call.
func TestMulRequantSegmentedWideAtRowCounts(t *testing.T) {
	for _, set := range wideSets() {
		t.Run(set.name, func(t *testing.T) { testSegRowsWide(t, set, true, true) })
	}
}

func testSegRowsWide(t *testing.T, set *s8Set, at, small bool) {
	r := rand.New(rand.NewPCG(81, 82))
	fused := map[fixedpoint.Rounding]int{}
	exact := map[bool]int{} // fused fp32 cases by PackedS8.fp32Exact
	for it := range 300 {
		n := 1 + r.IntN(70)
		if it%4 == 0 {
			n = 16 * (1 + r.IntN(4))
		}
		seg := 1 + r.IntN(19)
		nseg := 1 + r.IntN(5)
		k := seg * nseg
		lda := 1 + r.IntN(20)
		segStride := seg + r.IntN(40)
		m := 1 + r.IntN(90)
		if small {
			m = 1 + it%20
		}
		w := randI8(r, n*k)
		if it%7 == 0 {
			for i := range w {
				w[i] = []int8{-128, 127}[i%2]
			}
		}
		p := packS8SegWideWith(set, w, n, k, k, seg)
		mode := modes[it%3]
		bias, mult, shift := make([]int32, n), make([]int32, n), make([]int, n)
		for j := range n {
			bias[j] = int32(r.IntN(1<<20)) - 1<<19
			mult[j] = 1<<30 + int32(r.IntN(1<<30))
			if it%6 == 1 {
				mult[j] = []int32{0, 1 << 30, math.MaxInt32, 1<<30 + 1<<(r.IntN(30))}[j%4] // rounding ties
			}
			shift[j] = -1 - r.IntN(23) // fast range: total shift 32..54
			if it%11 == 3 && j == n/2 {
				shift[j] = 2 // outside it: plain Go
			}
			if it%13 == 5 && j == n/3 {
				// Scales up to 2^20: fp32 accumulators may overflow
				// (the exact table kernels then give way to pFP32).
				shift[j] = 20
			}
		}
		zp := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}[it%4]
		lo, hi := int32(-128), int32(127)
		if it%3 == 1 {
			lo, hi = zp, 127 // RELU
		} else if it%3 == 2 {
			lo, hi = max(zp, -128), min(zp+40, 127)
		}
		rq, err := newTestRequant(mode, bias, mult, shift, zp, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		aOff := []int32{128, -127, 0, int32(r.IntN(256) - 128)}[(it/4)%4]
		starts := make([]int, m)
		for i := range starts {
			starts[i] = i * lda
			if at {
				starts[i] = r.IntN(m*lda + 1)
			}
		}
		alen := (m-1)*lda + (nseg-1)*segStride + seg + r.IntN(2)
		if at {
			alen = p.WideAtNeed(slices.Max(starts), segStride)
		}
		plain := randI8(r, alen)
		if it%5 == 0 {
			for i := range plain {
				plain[i] = []int8{-128, 127}[(i/3)%2]
			}
		}
		wide := make([]int16, len(plain))
		for i, v := range plain {
			wide[i] = int16(v)
		}
		want := make([]int8, m*n)
		for i := range m {
			for j := range n {
				var acc int32
				for sg := range nseg {
					for q := range seg {
						acc += (int32(plain[starts[i]+sg*segStride+q]) + aOff) * int32(w[j*k+sg*seg+q])
					}
				}
				want[i*n+j] = refRequant(mode, acc, bias[j], mult[j], shift[j], zp, lo, hi)
			}
		}
		fuses := p.FusesRequantWide(rq)
		if at {
			fuses = p.FusesRequantWideAt(rq)
		}
		if fuses {
			fused[mode]++
			if mode == fixedpoint.RuntimeRounding {
				exact[p.fp32Exact(rq)]++
			}
		}
		rt := NewARows(starts)
		checkRowMapped(t, r, m, n, want, func(threads int, got []int8, rm *RowMap) {
			if at {
				p.MulRequantSegmentedWideAt(threads, m, wide, rt, segStride, aOff, rq, got, rm)
				return
			}
			p.MulRequantSegmentedRowsWide(threads, m, wide, lda, segStride, aOff, rq, got, rm)
		}, "it %d (%v fused=%v n=%d seg=%d nseg=%d m=%d)", it, mode, fuses, n, seg, nseg, m)
	}
	if set.kernels[0].segWide.fp32 != nil {
		for _, mode := range modes {
			if fused[mode] < 60 {
				t.Fatalf("%s: only %d of 100 cases ran fused", mode, fused[mode])
			}
		}
	}
	if at && set.kernels[0].segWide.pFP32Exact[0] != nil && (exact[true] < 20 || exact[false] < 3) {
		t.Fatalf("fused fp32 cases with and without the float clamps: %d, %d", exact[true], exact[false])
	}
}

// TestPackS8SegmentedWideFamilies checks that wide packing exists exactly
// for the families with wide kernels.
func TestPackS8SegmentedWideFamilies(t *testing.T) {
	w := make([]int8, 4*6)
	for _, s := range s8Sets() {
		got := packS8SegWideWith(s, w, 4, 6, 6, 3) != nil
		want := s.format == fmtI16Pair && s.kernels[0].segWide != nil
		if got != want {
			t.Errorf("%s: wide packing %v, want %v", s.name, got, want)
		}
	}
}

// BenchmarkConvS8SegAVX2 compares, on the int16-pair family, a 3x3 SAME
// int8 conv (fp32 requantization, the runtime's) through the unfused
// segmented product (padded int8 image, rows gathered, direct kernel,
// requantization pass, row copies: the path before the wide kernels)
// and through the wide fused one (padded int16 image), in thread CPU
// time.
func BenchmarkConvS8SegAVX2(b *testing.B) {
	var set *s8Set
	for _, s := range s8Sets() {
		if s.format == fmtI16Pair && s.kernels[0].segWide != nil {
			set = s
		}
	}
	if set == nil {
		b.Skip("no wide fused kernels on this CPU")
	}
	shapes := append([][3]int{{32, 16, 16}, {16, 32, 32}, {8, 64, 64}}, convShapes...)
	for _, s := range shapes {
		hw, cin, cout := s[0], s[1], s[2]
		r := rand.New(rand.NewPCG(1, 1))
		in, w := randI8(r, hw*hw*cin), randI8(r, cout*9*cin)
		scale := make([]float32, cout)
		for j := range scale {
			scale[j] = 1.0 / float32(1000+j)
		}
		rq, err := NewRequantFP32(make([]int32, cout), scale, -128, -128, 127)
		if err != nil {
			b.Fatal(err)
		}
		wp := hw + 2
		m := (hw-1)*wp + hw
		ops := 2 * float64(hw*hw*cout*9*cin)
		b.Run(fmt.Sprintf("unfused/%dx%dx%d", hw, cin, cout), func(b *testing.B) {
			p := packS8SegWith(set, w, cout, 9*cin, 9*cin, 3*cin)
			pad := make([]int8, (hw+2)*wp*cin)
			wide := make([]int8, m*cout)
			out := make([]int8, hw*hw*cout)
			loopCPU(b, ops, func() {
				for y := 0; y < hw; y++ {
					copy(pad[((y+1)*wp+1)*cin:((y+1)*wp+1+hw)*cin], in[y*hw*cin:(y+1)*hw*cin])
				}
				p.MulRequantSegmented(1, m, pad, cin, wp*cin, 0, rq, wide, cout)
				for y := 0; y < hw; y++ {
					copy(out[y*hw*cout:(y+1)*hw*cout], wide[y*wp*cout:])
				}
			})
		})
		b.Run(fmt.Sprintf("wide/%dx%dx%d", hw, cin, cout), func(b *testing.B) {
			p := packS8SegWideWith(set, w, cout, 9*cin, 9*cin, 3*cin)
			pad := make([]int16, (hw+2)*wp*cin)
			out := make([]int8, hw*hw*cout)
			rm := NewRowMap(convRowOffsets(m, wp, hw, cout), cout)
			loopCPU(b, ops, func() {
				for y := 0; y < hw; y++ {
					d, s := pad[((y+1)*wp+1)*cin:((y+1)*wp+1+hw)*cin], in[y*hw*cin:(y+1)*hw*cin]
					for i, v := range s {
						d[i] = int16(v)
					}
				}
				p.MulRequantSegmentedRowsWide(1, m, pad, cin, wp*cin, 0, rq, out, rm)
			})
		})
	}
}
