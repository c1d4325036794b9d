package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// fusedF32Kernels is allF32Kernels plus, for each kernel whose tiles
// run across dropped rows (segFP), a copy without them, so the per-run
// tiling of its segF kernels is tested too.
func fusedF32Kernels() []*f32Set {
	sets := allF32Kernels()
	for _, s := range sets {
		if k := s.kernels[0]; k.segFP != nil {
			k.segFP = nil
			sets = append(sets, &f32Set{name: s.name + "/runs", kernels: []f32Kernel{k}})
		}
	}
	return sets
}

// TestMulSegmentedRowsMatchesMulSegmented checks the fused, row-mapped
// product on every float kernel over random odd shapes: bit-identical to
// MulSegmented into a dense scratch plus the copy it replaces, close to
// a float64 loop, and C untouched outside the mapped rows.
func TestMulSegmentedRowsMatchesMulSegmented(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	inf := float32(math.Inf(1))
	clamps := [][2]float32{{-inf, inf}, {0, inf}, {0, 6}, {-1, 1}}
	for _, set := range fusedF32Kernels() {
		for iter := 0; iter < 60; iter++ {
			seg, nseg := 1+r.IntN(40), 1+r.IntN(5)
			if iter%15 == 0 {
				seg = 300 + r.IntN(200) // k beyond one block: the dense fallback
			}
			k := seg * nseg
			n := 1 + r.IntN(70)
			m := 1 + r.IntN(100)
			lda := 1 + r.IntN(seg+3)
			segStride := seg + r.IntN(20)
			a := randF32(r, (m-1)*lda+(nseg-1)*segStride+seg)
			w := randF32(r, n*k)
			var bias []float32
			if r.IntN(4) > 0 {
				bias = randF32(r, n)
			}
			cl := clamps[r.IntN(len(clamps))]
			threads := 1 + r.IntN(3)
			// Rows land in a larger C at row stride ldc, in shuffled
			// order, some dropped.
			ldc := n + r.IntN(5)
			offs := randRowOffsets(r, m, ldc)
			rm := NewRowMap(offs, n)
			p := &PackedF32{pb: packBF32Seg(&set.kernels[0], true, n, 0, k, seg, w, k, nil), zeros: make([]float32, n)}
			const fill = float32(-12345)
			got := make([]float32, (m+3)*ldc)
			for i := range got {
				got[i] = fill
			}
			p.MulSegmentedRows(threads, m, a, lda, segStride, bias, cl[0], cl[1], got, rm)

			dense := make([]float32, m*n)
			p.MulSegmented(threads, m, a, lda, segStride, bias, cl[0], cl[1], dense, n)
			want := make([]float32, len(got))
			for i := range want {
				want[i] = fill
			}
			for i := 0; i < m; i++ {
				if offs[i] >= 0 {
					copy(want[offs[i]:offs[i]+n], dense[i*n:(i+1)*n])
				}
			}
			if !slices.Equal(got, want) {
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s seg=%d nseg=%d n=%d m=%d lda=%d threads=%d: C[%d] = %v, MulSegmented+copy %v",
							set.name, seg, nseg, n, m, lda, threads, i, got[i], want[i])
					}
				}
			}
			for i := 0; i < m; i++ {
				if offs[i] < 0 {
					continue
				}
				for j := 0; j < n; j++ {
					s, mag := 0.0, 0.0
					if bias != nil {
						s = float64(bias[j])
					}
					for q := 0; q < k; q++ {
						x := float64(a[i*lda+q/seg*segStride+q%seg]) * float64(w[j*k+q])
						s += x
						mag += math.Abs(x)
					}
					ref := min(max(s, float64(cl[0])), float64(cl[1]))
					if g := float64(got[offs[i]+j]); math.Abs(g-ref) > 1e-6*float64(k)*(mag+1) {
						t.Fatalf("%s seg=%d nseg=%d n=%d m=%d: row %d col %d = %v, reference %v", set.name, seg, nseg, n, m, i, j, g, ref)
					}
				}
			}
		}
	}
}

func TestMulSegmentedRowsChecks(t *testing.T) {
	p := PackF32Segmented(make([]float32, 8), 2, 4, 4, 2)
	rm := NewRowMap([]int{0, -1, 2}, 2)
	for name, f := range map[string]func(){
		"not segmented": func() {
			PackF32(make([]float32, 4), 2, 2, 2).MulSegmentedRows(1, 1, make([]float32, 8), 2, 2, nil, 0, 1, make([]float32, 4), rm)
		},
		"short A":      func() { p.MulSegmentedRows(1, 3, make([]float32, 9), 2, 5, nil, 0, 1, make([]float32, 4), rm) },
		"short C":      func() { p.MulSegmentedRows(1, 3, make([]float32, 20), 2, 5, nil, 0, 1, make([]float32, 3), rm) },
		"m beyond map": func() { p.MulSegmentedRows(1, 4, make([]float32, 20), 2, 5, nil, 0, 1, make([]float32, 4), rm) },
		"map width": func() {
			p.MulSegmentedRows(1, 1, make([]float32, 20), 2, 5, nil, 0, 1, make([]float32, 4), NewRowMap([]int{0}, 3))
		},
		"bias length": func() {
			p.MulSegmentedRows(1, 1, make([]float32, 20), 2, 5, make([]float32, 3), 0, 1, make([]float32, 4), rm)
		},
		"negative cols": func() { NewRowMap([]int{0}, -1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: want a panic", name)
				}
			}()
			f()
		}()
	}
	// Only dropped rows: nothing to do, C may be empty.
	p.MulSegmentedRows(1, 1, make([]float32, 20), 2, 5, nil, 0, 1, nil, NewRowMap([]int{-1}, 2))
}

// BenchmarkConvSegmentedRows is BenchmarkConvSegmented through
// MulSegmentedRows (no wide block, no copy-out) on each float kernel
// with a fused tile, so the tile shapes can be compared per layer.
func BenchmarkConvSegmentedRows(b *testing.B) {
	for _, s := range convShapes {
		hw, cin, cout := s[0], s[1], s[2]
		for _, set := range allF32Kernels() {
			kern := &set.kernels[0]
			if kern.segF == nil {
				continue
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%s", hw, cin, cout, kern.name), func(b *testing.B) {
				benchConvSegRows(b, kern, hw, cin, cout)
			})
		}
	}
}

// benchConvSegRows times one 3x3 same-padded float conv (hw×hw×cin to
// cout channels) through MulSegmentedRows with weights packed for kern,
// the padded image refilled every time as the conv does.
func benchConvSegRows(b *testing.B, kern *f32Kernel, hw, cin, cout int) {
	r := rand.New(rand.NewPCG(1, 1))
	in, w, bias := randF32(r, hw*hw*cin), randF32(r, cout*9*cin), randF32(r, cout)
	p := &PackedF32{pb: packBF32Seg(kern, true, cout, 0, 9*cin, 3*cin, w, 9*cin, nil), zeros: make([]float32, cout)}
	wp := hw + 2
	pad := make([]float32, (hw+2)*wp*cin)
	out := make([]float32, hw*hw*cout)
	m := hw*wp - 2
	rm := NewRowMap(convRowOffsets(m, wp, hw, cout), cout)
	for b.Loop() {
		for y := 0; y < hw; y++ {
			copy(pad[((y+1)*wp+1)*cin:((y+1)*wp+1+hw)*cin], in[y*hw*cin:(y+1)*hw*cin])
		}
		p.MulSegmentedRows(1, m, pad, cin, wp*cin, bias, 0, 1e30, out, rm)
	}
	reportOps(b, hw*hw, cout, 9*cin, "GFLOP/s")
}

// convRowOffsets maps the m rows of a whole-row conv block (pixel
// i%pitch of block row i/pitch) to their offsets in an outW-wide output
// of n channels, the pitch − outW pixels past each row's end to -1.
func convRowOffsets(m, pitch, outW, n int) []int {
	offs := make([]int, m)
	for i := range offs {
		offs[i] = -1
		if x := i % pitch; x < outW {
			offs[i] = (i/pitch*outW + x) * n
		}
	}
	return offs
}

// randRowOffsets maps m rows to shuffled rows of a C with row stride
// ldc (m + 3 rows), about a fifth dropped, plus up to 4 unused entries.
func randRowOffsets(r *rand.Rand, m, ldc int) []int {
	slots := r.Perm(m + 3)
	offs := make([]int, m+r.IntN(5))
	for i := range offs {
		offs[i] = -1
		if i < m && r.IntN(5) > 0 {
			offs[i] = slots[i] * ldc
		}
	}
	return offs
}

// BenchmarkSegFusedPeak runs each fused segmented kernel alone on
// L1-resident data (3 segments of 48 floats, the shape of seed-cnn's
// 40x40x16 layer), next to BenchmarkKernelPeak's packed kernels.
func BenchmarkSegFusedPeak(b *testing.B) {
	const nseg, kSeg = 3, 48
	for _, set := range f32Sets() {
		for _, kern := range set.kernels {
			if kern.segF == nil {
				continue
			}
			b.Run(kern.name, func(b *testing.B) {
				lda := 16
				a := make([]float32, (kern.mr-1)*lda+nseg*kSeg)
				w := make([]float32, nseg*kSeg*kern.nr)
				c := make([]float32, kern.mr*kern.nr)
				bias := make([]float32, kern.nr)
				rows := make([]int, kern.mr)
				for i := range rows {
					rows[i] = 4 * i * kern.nr
				}
				for b.Loop() {
					kern.segF(nseg, kSeg, &a[0], lda, 0, &w[0], &c[0], &rows[0], &bias[0], 0, 6, ^uint64(0))
				}
				reportOps(b, kern.mr, kern.nr, nseg*kSeg, "GFLOP/s")
			})
		}
	}
}

// TestMulSegmentedRowsConvRuns runs conv-shaped row maps (runs of outW
// mapped rows, pitch − outW dropped ones between them, odd widths whose
// last tile overshoots its run) on every float kernel, at 1 to 3 threads:
// bit-identical to MulSegmented plus the copy, C untouched elsewhere.
func TestMulSegmentedRowsConvRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, set := range fusedF32Kernels() {
		for _, outW := range []int{1, 2, 3, 5, 7, 10, 13, 20, 25, 31} {
			pitch, rows, cin := outW+2, 1+r.IntN(4), 1+r.IntN(9)
			n := 1 + r.IntN(40)
			seg := 3 * cin
			k := 3 * seg
			m := (rows-1)*pitch + outW
			segStride := pitch * cin
			a := randF32(r, (m-1)*cin+2*segStride+seg)
			w, bias := randF32(r, n*k), randF32(r, n)
			offs := convRowOffsets(m, pitch, outW, n)
			rm := NewRowMap(offs, n)
			p := &PackedF32{pb: packBF32Seg(&set.kernels[0], true, n, 0, k, seg, w, k, nil), zeros: make([]float32, n)}
			dense := make([]float32, m*n)
			p.MulSegmented(1, m, a, cin, segStride, bias, 0, 6, dense, n)
			want := make([]float32, rows*outW*n+3)
			for i := range want {
				want[i] = -7
			}
			for i, o := range offs {
				if o >= 0 {
					copy(want[o:o+n], dense[i*n:(i+1)*n])
				}
			}
			for threads := 1; threads <= 3; threads++ {
				got := make([]float32, len(want))
				for i := range got {
					got[i] = -7
				}
				p.MulSegmentedRows(threads, m, a, cin, segStride, bias, 0, 6, got, rm)
				if !slices.Equal(got, want) {
					t.Fatalf("%s outW=%d rows=%d cin=%d n=%d threads=%d: differs from MulSegmented+copy", set.name, outW, rows, cin, n, threads)
				}
			}
			// A prefix of the map (a conv's shorter last block): rows
			// mapped past m must stay untouched.
			pm := (rows-2)*pitch + outW
			if rows < 2 {
				continue
			}
			got := make([]float32, len(want))
			for i := range got {
				got[i] = -7
			}
			p.MulSegmentedRows(2, pm, a, cin, segStride, bias, 0, 6, got, rm)
			for i := range want {
				if i >= (rows-1)*outW*n && i < rows*outW*n {
					want[i] = -7
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s outW=%d rows=%d of %d: prefix differs", set.name, outW, rows-1, rows)
			}
		}
	}
}

// TestNewRowMapRuns checks the runs of mapped rows a RowMap records.
func TestNewRowMapRuns(t *testing.T) {
	rm := NewRowMap([]int{-1, 0, 4, -1, -1, 8, -1, 12, 16, 20}, 4)
	want := []rowRun{{1, 3}, {5, 6}, {7, 10}}
	if !slices.Equal(rm.runs, want) {
		t.Fatalf("runs %v, want %v", rm.runs, want)
	}
	if rm := NewRowMap([]int{-1, -1}, 4); len(rm.runs) != 0 {
		t.Fatalf("runs %v for no mapped row", rm.runs)
	}
}

// TestRunTiles checks how a run is cut into tiles: as even as the row
// step allows, each at most mr rows, covering the run with less than one
// step to spare.
func TestRunTiles(t *testing.T) {
	kern := &f32Kernel{mr: 14, nr: 32, tailStep: 2, segFTail: make([]segFusedFn, 6)}
	for _, c := range []struct{ L, units, tiles int }{{10, 5, 1}, {20, 10, 2}, {40, 20, 3}, {14, 7, 1}, {15, 8, 2}, {1, 1, 1}} {
		step, units, tiles := kern.runTiles(c.L)
		if step != 2 || units != c.units || tiles != c.tiles {
			t.Errorf("L=%d: step %d units %d tiles %d, want 2 %d %d", c.L, step, units, tiles, c.units, c.tiles)
		}
	}
	plain := &f32Kernel{mr: 6, nr: 16}
	if step, units, tiles := plain.runTiles(13); step != 6 || units != 3 || tiles != 3 {
		t.Errorf("no short kernels: step %d units %d tiles %d, want 6 3 3", step, units, tiles)
	}
}

// TestPickRuns checks the fused tile choice on seed-cnn's layers (runs
// of outW rows, pitch outW + 2): 6x64 tiles across the runs for 64
// columns and up (measured 4% faster than 10x32 tiles per run at
// 10x10x64->128, even at 20x20x32->64), 14x32 for 32 columns, the
// 16-wide one for 16 columns.
func TestPickRuns(t *testing.T) {
	set := f32Sets()[0]
	if set.kernels[0].segF == nil {
		t.Skip("no fused kernels on this CPU")
	}
	if !strings.HasPrefix(set.kernels[0].name, "avx512") {
		t.Skipf("the expected tiles are AVX-512's; this CPU runs %s", set.kernels[0].name)
	}
	convMap := func(outW, rows, n int) *RowMap {
		offs := make([]int, (rows-1)*(outW+2)+outW)
		for i := range offs {
			offs[i] = -1
			if i%(outW+2) < outW {
				offs[i] = 0
			}
		}
		return NewRowMap(offs, n)
	}
	for _, c := range []struct {
		outW, n int
		want    string
	}{{80, 16, "avx512x28x16"}, {40, 32, "avx512x14x32"}, {20, 64, "avx512x6x64"}, {10, 128, "avx512x6x64"}} {
		if got := set.pickRuns(convMap(c.outW, c.outW, c.n), c.n).name; got != c.want {
			t.Errorf("outW=%d n=%d: picked %s, want %s", c.outW, c.n, got, c.want)
		}
	}
	if got := goF32Set.pickRuns(convMap(10, 10, 8), 8); got != &goF32Set.kernels[0] {
		t.Errorf("no fused kernels: picked %s", got.name)
	}
}
