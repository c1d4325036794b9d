package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestMulRequantSegmentedRows checks the fused int8 segmented product
// against MulRequantSegmented on the un-offset input followed by the row
// copies and against the plain-Go reference product and requantization,
// on random odd shapes, row maps with dropped and reordered rows, both
// roundings (out-of-range shifts take the unfused path), clamped and
// unclamped ranges and extreme zero points; bytes the map does not cover
// must stay untouched. It runs every int8 tile of the CPU (allS8Kernels:
// both u8-quad families' fused kernels, the gather path of the others)
// and the default family.
func TestMulRequantSegmentedRows(t *testing.T) {
	sets := []*s8Set{defaultS8}
	for _, s := range allS8Kernels() {
		if !strings.HasSuffix(s.name, "/packed") {
			sets = append(sets, s)
		}
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) { testMulRequantSegmentedRows(t, set) })
	}
}

func testMulRequantSegmentedRows(t *testing.T, set *s8Set) {
	r := rand.New(rand.NewPCG(71, 72))
	fused := map[fixedpoint.Rounding]int{}
	exact := map[bool]int{} // fused fp32 cases by PackedS8.fp32Exact
	for it := range 300 {
		n := 1 + r.IntN(70)
		seg := 1 + r.IntN(19)
		nseg := 1 + r.IntN(5)
		k := seg * nseg
		lda := 1 + r.IntN(20)
		segStride := seg + r.IntN(40)
		m := 1 + r.IntN(90)
		w := randI8(r, n*k)
		if it%7 == 0 {
			for i := range w {
				w[i] = []int8{-128, 127}[i%2]
			}
		}
		p := packS8SegWith(set, w, n, k, k, seg)
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
				shift[j] = 2 // outside it: unfused
			}
			if it%13 == 5 && j == n/3 {
				// Scales up to 2^20: fp32 accumulators may overflow
				// (the AVX-VNNI kernels then keep the float clamps).
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
		plain := randI8(r, (m-1)*lda+(nseg-1)*segStride+seg+r.IntN(4))
		flip := make([]int8, len(plain))
		for i, v := range plain {
			flip[i] = v ^ -128
		}
		want := make([]int8, m*n)
		p.MulRequantSegmented(1, m, plain, lda, segStride, aOff, rq, want, n)
		for i := range m {
			for j := range n {
				var acc int32
				for sg := range nseg {
					for q := range seg {
						acc += (int32(plain[i*lda+sg*segStride+q]) + aOff) * int32(w[j*k+sg*seg+q])
					}
				}
				if v := refRequant(mode, acc, bias[j], mult[j], shift[j], zp, lo, hi); want[i*n+j] != v {
					t.Fatalf("it %d (%v): MulRequantSegmented [%d][%d] = %d, reference %d", it, mode, i, j, want[i*n+j], v)
				}
			}
		}
		if p.FusesRequant(rq) {
			fused[mode]++
			if mode == fixedpoint.RuntimeRounding {
				exact[p.fp32Exact(rq)]++
			}
		}
		checkRowMapped(t, r, m, n, want, func(threads int, got []int8, rm *RowMap) {
			p.MulRequantSegmentedRows(threads, m, flip, lda, segStride, aOff, rq, got, rm)
		}, "it %d (%v fused=%v n=%d seg=%d nseg=%d m=%d)", it, mode, p.FusesRequant(rq), n, seg, nseg, m)
	}
	// The AVX-512 fused kernels need the fast layout (AVX-512; double
	// rounding also AVX512DQ), the AVX-VNNI ones only parameters in its
	// range; with them every arithmetic must mostly run fused.
	for _, mode := range modes {
		asm := requantFastAsm(mode == fixedpoint.SingleRounding, false) != nil
		if mode == fixedpoint.RuntimeRounding {
			asm = requantFP32Asm(false) != nil
		}
		k := set.kernels[0]
		if (k.segF[0] != nil && asm || k.segFT != nil) && fused[mode] < 40 {
			t.Fatalf("%s: only %d of 100 cases ran fused", mode, fused[mode])
		}
	}
	if set.kernels[0].segFT != nil && (exact[true] < 20 || exact[false] < 3) {
		t.Fatalf("fused fp32 cases with and without the float clamps: %d, %d", exact[true], exact[false])
	}
}

// BenchmarkConvS8SegmentedRows is BenchmarkConvS8Segmented through the
// fused product (u8-offset padded input, rows stored in place), in both
// roundings.
func BenchmarkConvS8SegmentedRows(b *testing.B) {
	for _, mode := range modes {
		for _, s := range convShapes {
			hw, cin, cout := s[0], s[1], s[2]
			b.Run(fmt.Sprintf("%s/%dx%dx%d", mode, hw, cin, cout), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1))
				in, w := randI8(r, hw*hw*cin), randI8(r, cout*9*cin)
				mult, shift := make([]int32, cout), make([]int, cout)
				for j := range cout {
					mult[j], shift[j] = 1<<30+int32(j)*4567, -9
				}
				rq, err := newTestRequant(mode, make([]int32, cout), mult, shift, -128, -128, 127)
				if err != nil {
					b.Fatal(err)
				}
				p := PackS8Segmented(w, cout, 9*cin, 9*cin, 3*cin)
				wp := hw + 2
				pad := make([]int8, (hw+2)*wp*cin)
				for i := range pad {
					pad[i] = -128
				}
				out := make([]int8, hw*hw*cout)
				m := (hw-1)*wp + hw
				rm := NewRowMap(convRowOffsets(m, wp, hw, cout), cout)
				for b.Loop() {
					for y := 0; y < hw; y++ {
						d, s := pad[((y+1)*wp+1)*cin:((y+1)*wp+1+hw)*cin], in[y*hw*cin:(y+1)*hw*cin]
						for i, v := range s {
							d[i] = v ^ -128
						}
					}
					p.MulRequantSegmentedRows(1, m, pad, cin, wp*cin, 0, rq, out, rm)
				}
				reportOps(b, hw*hw, cout, 9*cin, "GOP/s")
			})
		}
	}
}

// checkRowMapped runs run through a random row map (a permutation of m to
// m+4 output slots of n bytes, about a third of the rows dropped) at 1 and
// 2 threads, and checks that row i lands at its slot equal to want[i*n:],
// and that slots no row maps to keep their guard bytes. what and args name
// the case in failures.
func checkRowMapped(t *testing.T, r *rand.Rand, m, n int, want []int8, run func(threads int, got []int8, rm *RowMap), what string, args ...any) {
	t.Helper()
	rows := m + r.IntN(5)
	slots := r.Perm(rows)
	offs := make([]int, rows)
	for i := range offs {
		offs[i] = slots[i] * n
		if r.IntN(3) == 0 {
			offs[i] = -1
		}
	}
	rm := NewRowMap(offs, n)
	const guard = 91
	for _, threads := range []int{1, 2} {
		got := make([]int8, rows*n)
		for i := range got {
			got[i] = guard
		}
		run(threads, got, rm)
		written := make([]bool, rows)
		for i := range m {
			if o := offs[i]; o >= 0 {
				written[o/n] = true
				for j := range n {
					if got[o+j] != want[i*n+j] {
						t.Fatalf("%s threads=%d: row %d col %d = %d, want %d", fmt.Sprintf(what, args...), threads, i, j, got[o+j], want[i*n+j])
					}
				}
			}
		}
		for s, wr := range written {
			for j := 0; !wr && j < n; j++ {
				if got[s*n+j] != guard {
					t.Fatalf("%s threads=%d: unmapped slot %d overwritten", fmt.Sprintf(what, args...), threads, s)
				}
			}
		}
	}
}
