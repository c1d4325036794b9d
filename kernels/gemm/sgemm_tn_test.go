package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"testing"
)

// TestSgemmTN covers the strided weight-gradient path (tA && !tB) on the
// shapes training produces — long k, widths below, at and above every
// tile size, both orientations — against SgemmRef, and checks that the
// thread count does not change a single bit.
func TestSgemmTN(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	shapes := [][3]int{
		{16, 27, 3000}, {16, 27, 7000}, {27, 16, 700}, {32, 144, 600}, {128, 576, 300}, {256, 3200, 16},
		{1, 1, 1}, {3, 1, 40}, {1, 17, 513}, {29, 15, 257}, {30, 33, 255}, {65, 7, 1},
	}
	for _, set := range allF32Kernels() {
		if set.kernels[0].tn == nil {
			continue
		}
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			runSgemmCase(t, set, 1, r, true, false, m, n, k, 1, 0)
			runSgemmCase(t, set, 3, r, true, false, m, n, k, -0.5, 1)
			// Bit-identical for any thread count; no padding, so the last
			// tile's over-reads end exactly at the slices' ends.
			a, b := randF32(r, k*m), randF32(r, k*n)
			c1, c2 := make([]float32, m*n), make([]float32, m*n)
			sgemmWith(set, 1, true, false, m, n, k, 1, a, m, b, n, 0, c1, n)
			sgemmWith(set, 2, true, false, m, n, k, 1, a, m, b, n, 0, c2, n)
			if !slices.Equal(c1, c2) {
				t.Fatalf("%s m=%d n=%d k=%d: 1 and 2 threads differ", set.name, m, n, k)
			}
			want := make([]float32, m*n)
			SgemmRef(true, false, m, n, k, 1, a, m, b, n, 0, want, n)
			f32Close(t, set.name, true, false, m, n, k, 1, a, m, b, n, 0, make([]float32, m*n), c1, want, n)
		}
	}
}

// TestPlanTNOrientation: a 16-channel gradient of 27 patch values is
// computed swapped (27×16 fills a 28×16 tile), a 28×32 one directly, and
// nothing is swapped when k is short.
func TestPlanTNOrientation(t *testing.T) {
	set := &f32Set{name: "fake", kernels: []f32Kernel{{name: "t28x16", mr: 28, nr: 16, weight: 1, tn: func(int, *float32, int, *float32, int, *float32, int, float32) {}}}}
	if pl, _ := planTN(set, 16, 27, 1000, 1, nil, 16, nil, 27, nil, 27); !pl.swap || pl.pw != 27 || pl.qw != 16 {
		t.Errorf("16x27: swap=%v pw=%d qw=%d, want swapped 27x16", pl.swap, pl.pw, pl.qw)
	}
	if pl, _ := planTN(set, 28, 32, 1000, 1, nil, 28, nil, 32, nil, 32); pl.swap {
		t.Errorf("28x32: swapped, want direct")
	}
	// Few k-steps (a dense layer's batch): never swapped.
	if pl, _ := planTN(set, 16, 27, 16, 1, nil, 16, nil, 27, nil, 27); pl.swap {
		t.Errorf("16x27, k=16: swapped, want direct")
	}
	if _, ok := planTN(goF32Set, 4, 4, 1, 1, nil, 4, nil, 4, nil, 4); ok {
		t.Errorf("go family has no strided kernels but planTN accepted it")
	}
}

// TestSgemmOverwrite: with beta = 0 the first k block stores its tiles
// (C starts as NaN and must not be read); later k blocks and later packed
// B chunks add to them.
func TestSgemmOverwrite(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, set := range allF32Kernels() {
		for _, tB := range []bool{false, true} {
			runSgemmCase(t, set, 1, r, false, tB, 5, 16, maxPackedB/16+300, 1, 0)
			runSgemmCase(t, set, 2, r, false, tB, 61, 37, 600, 1, 0)
			runSgemmCase(t, set, 1, r, false, tB, 29, 17, 3, -2, 0)
		}
	}
}

// TestPackedF32Repack: Mul after Repack equals a fresh pack of the new
// weights (plain and segmented), and Repack does not allocate.
func TestPackedF32Repack(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	r := rand.New(rand.NewPCG(11, 12))
	const n, k, m = 37, 48, 61
	a := randF32(r, m*k)
	w1, w2 := randF32(r, n*k), randF32(r, n*(k+3))
	for _, seg := range []int{0, 16} {
		p := PackF32(w1, n, k, k)
		if seg > 0 {
			p = PackF32Segmented(w1, n, k, k, seg)
		}
		p.Repack(w2, k+3)
		got, want := make([]float32, m*n), make([]float32, m*n)
		for i := range got {
			got[i] = float32(i) // overwritten by Mul
		}
		p.Mul(m, a, k, got, n)
		SgemmRef(false, true, m, n, k, 1, a, k, w2, k+3, 0, want, n)
		f32Close(t, "repack", false, true, m, n, k, 1, a, k, w2, k+3, 0, make([]float32, m*n), got, want, n)
		if !raceEnabled {
			if allocs := testing.AllocsPerRun(5, func() { p.Repack(w1, k) }); allocs > 0 {
				t.Errorf("seg=%d: Repack allocates %v times", seg, allocs)
			}
		}
	}
}

// BenchmarkSgemmWeightGrad measures the weight-gradient products of
// seed-cnn's layers (dW[Cout,K] = dYᵀ·col over one 16-image chunk's
// pixels, and the first dense layer's) through Sgemm's strided path
// ("tn") and through the packed path it replaced ("packed").
func BenchmarkSgemmWeightGrad(b *testing.B) {
	noTN := &f32Set{name: defaultF32.name}
	for _, k := range defaultF32.kernels {
		k.tn = nil
		noTN.kernels = append(noTN.kernels, k)
	}
	for _, s := range [][3]int{{16, 27, 102400}, {32, 144, 25600}, {64, 288, 6400}, {128, 576, 1600}, {256, 3200, 16}} {
		m, n, k := s[0], s[1], s[2]
		r := rand.New(rand.NewPCG(1, 1))
		a, bb, c := randF32(r, k*m), randF32(r, k*n), make([]float32, m*n)
		for _, set := range []*f32Set{defaultF32, noTN} {
			name := "tn"
			if set == noTN {
				name = "packed"
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, name), func(b *testing.B) {
				for b.Loop() {
					sgemmWith(set, 1, true, false, m, n, k, 1, a, m, bb, n, 0, c, n)
				}
				reportOps(b, m, n, k, "GFLOP/s")
			})
		}
	}
}
