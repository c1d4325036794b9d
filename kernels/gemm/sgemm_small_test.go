package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// withoutSmall returns kern with its small row-tail tiles removed: the
// path every partial row tile took before they existed.
func withoutSmall(kern *f32Kernel) *f32Kernel {
	k := *kern
	k.small = nil
	return &k
}

// packWith packs b (n rows of k) for kern, bypassing pick.
func packWith(kern *f32Kernel, b []float32, n, k int) *PackedF32 {
	return &PackedF32{pb: packBF32(kern, true, n, 0, k, b, k, nil), zeros: make([]float32, n)}
}

// padRows returns the m rows of x (row length w) followed by copies of
// its first rows up to a multiple of mr, so every row lies in a full tile.
func padRows(x []float32, m, w, mr int) ([]float32, int) {
	mp := (m + mr - 1) / mr * mr
	out := make([]float32, mp*w)
	for i := 0; i < mp; i++ {
		copy(out[i*w:(i+1)*w], x[i%m*w:(i%m+1)*w])
	}
	return out, mp
}

// sameBits reports the first element where got and want differ in any
// bit (so −0 against +0 and NaN payloads count), or −1.
func sameBits(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}

// everyF32Kernel lists the kernels of every float family this CPU runs
// (AVX-512, AVX2, Go), so the AVX2 tiles are tested on AVX-512 machines
// too.
func everyF32Kernel() []f32Kernel {
	var ks []f32Kernel
	for _, set := range f32Sets() {
		ks = append(ks, set.kernels...)
	}
	return ks
}

// smallShapesCase is one random shape of the small-tile differential test.
func smallShapesCase(r *rand.Rand) (m, n, k int) {
	m = 1 + r.IntN(7)
	n = 1 + r.IntN(200)
	if r.IntN(4) == 0 {
		n = 200 + r.IntN(200) // four or more slivers: the widest 1-row tile
	}
	k = 1 + r.IntN(5000)
	return m, n, k
}

// TestSmallTilesBitIdentical checks the short row tiles against the
// kernels they replace, bit for bit: Mul and MulBiasClamp with fewer rows
// than a tile (or a partial last tile) against the same rows computed
// inside full tiles of the plain kernel, and against the old padded
// partial tile.
func TestSmallTilesBitIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 64))
	for _, kern := range everyF32Kernel() {
		if kern.small == nil {
			continue
		}
		plain := withoutSmall(&kern)
		for iter := 0; iter < 24; iter++ {
			m, n, k := smallShapesCase(r)
			a, b, bias := randF32(r, m*k), randF32(r, n*k), randF32(r, n)
			lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
			if iter%2 == 1 {
				lo, hi = 0, 1
			}
			ap, mp := padRows(a, m, k, kern.mr)
			pSmall, pPlain := packWith(&kern, b, n, k), packWith(plain, b, n, k)
			for _, biased := range []bool{false, true} {
				got, full, old := make([]float32, m*n), make([]float32, mp*n), make([]float32, m*n)
				if biased {
					pSmall.MulBiasClamp(1, m, a, k, bias, lo, hi, got, n)
					pPlain.MulBiasClamp(1, mp, ap, k, bias, lo, hi, full, n)
					pPlain.MulBiasClamp(1, m, a, k, bias, lo, hi, old, n)
				} else {
					pSmall.Mul(m, a, k, got, n)
					pPlain.Mul(mp, ap, k, full, n)
					pPlain.Mul(m, a, k, old, n)
				}
				if i := sameBits(got, full[:m*n]); i >= 0 {
					t.Fatalf("%s m=%d n=%d k=%d bias=%v: [%d][%d] = %v, full tile gives %v", kern.name, m, n, k, biased, i/n, i%n, got[i], full[i])
				}
				if i := sameBits(got, old); i >= 0 {
					t.Fatalf("%s m=%d n=%d k=%d bias=%v: [%d][%d] = %v, padded tile gives %v", kern.name, m, n, k, biased, i/n, i%n, got[i], old[i])
				}
			}
		}
	}
}

// TestSmallTilesSgemm checks Sgemm (A row-major, so the direct path) with
// alpha ≠ 1 and both betas: rows on short tiles equal the same rows in
// full tiles bit for bit, since each accumulator ends in the same FMA.
func TestSmallTilesSgemm(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 65))
	for _, kern := range everyF32Kernel() {
		if kern.small == nil {
			continue
		}
		set := &f32Set{name: kern.name, kernels: []f32Kernel{kern}}
		for iter := 0; iter < 12; iter++ {
			m, n, k := smallShapesCase(r)
			tB := iter%2 == 0
			a, b, c0 := randF32(r, m*k), randF32(r, n*k), randF32(r, m*n)
			ldb := n
			if tB {
				ldb = k
			}
			ap, mp := padRows(a, m, k, kern.mr)
			cp, _ := padRows(c0, m, n, kern.mr)
			for _, beta := range []float32{0, 1, 0.5} {
				got, full := slices.Clone(c0), slices.Clone(cp)
				sgemmWith(set, 1, false, tB, m, n, k, 1.5, a, k, b, ldb, beta, got, n)
				sgemmWith(set, 1, false, tB, mp, n, k, 1.5, ap, k, b, ldb, beta, full, n)
				if i := sameBits(got, full[:m*n]); i >= 0 {
					t.Fatalf("%s m=%d n=%d k=%d tB=%v beta=%v: [%d][%d] = %v, full tile gives %v", kern.name, m, n, k, tB, beta, i/n, i%n, got[i], full[i])
				}
			}
		}
	}
}

// TestDenseBatchMatchesAlone is the float FULLY_CONNECTED property: a row
// computed in a batch of M (PackF32Rows(M), one MulBiasClamp) equals the
// same row computed alone at batch 1, bit for bit, whichever tiles the
// batch puts it on.
func TestDenseBatchMatchesAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 66))
	const n, k = 256, 3200 // seed-cnn's dense0
	w, bias := randF32(r, n*k), randF32(r, n)
	alone := PackF32Rows(1, w, n, k, k)
	for _, batch := range []int{16, 64, 7} {
		x := randF32(r, batch*k)
		got := make([]float32, batch*n)
		PackF32Rows(batch, w, n, k, k).MulBiasClamp(1, batch, x, k, bias, 0, float32(math.Inf(1)), got, n)
		for i := 0; i < batch; i++ {
			one := make([]float32, n)
			alone.MulBiasClamp(1, 1, x[i*k:(i+1)*k], k, bias, 0, float32(math.Inf(1)), one, n)
			if j := sameBits(one, got[i*n:(i+1)*n]); j >= 0 {
				t.Fatalf("batch %d row %d col %d: alone %v, in batch %v", batch, i, j, one[j], got[i*n+j])
			}
		}
	}
}

// TestPickDirectSmallRows checks that a product of few rows on the
// direct path picks a kernel whose short tiles cover them, when the CPU
// has one (with very few columns a narrow, tall tile may still win).
func TestPickDirectSmallRows(t *testing.T) {
	hasSmall := false
	for _, k := range defaultF32.kernels {
		hasSmall = hasSmall || k.small != nil
	}
	if !hasSmall {
		t.Skip("no short tiles on this kernel family")
	}
	for m := 1; m < 6; m++ {
		for _, n := range []int{64, 200, 256, 1000} {
			kern := defaultF32.pickDirect(m, n)
			if kern.smallFor(m%kern.mr, 1) == nil {
				t.Errorf("pickDirect(%d, %d) = %s, which has no %d-row tile", m, n, kern.name, m)
			}
		}
	}
}

// BenchmarkDenseSmallRows times a dense layer at small batch (seed-cnn's
// dense0 is 1x256x3200) on the short tiles against the same kernel
// without them, in one run so the ratio is fair.
func BenchmarkDenseSmallRows(b *testing.B) {
	for _, s := range [][3]int{{1, 256, 3200}, {1, 256, 4608}, {2, 256, 3200}, {4, 256, 3200}, {1, 10, 256}} {
		m, n, k := s[0], s[1], s[2]
		r := rand.New(rand.NewPCG(1, 1))
		a, w, bias, c := randF32(r, m*k), randF32(r, n*k), randF32(r, n), make([]float32, m*n)
		kern := defaultF32.pickDirect(m, n)
		for _, v := range []struct {
			name string
			kern *f32Kernel
		}{{"small", kern}, {"plain", withoutSmall(kern)}} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, v.name), func(b *testing.B) {
				p := packWith(v.kern, w, n, k)
				for b.Loop() {
					p.MulBiasClamp(1, m, a, k, bias, 0, 6, c, n)
				}
				reportOps(b, m, n, k, "GFLOP/s")
			})
		}
	}
}
