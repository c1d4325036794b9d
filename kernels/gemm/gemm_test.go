package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// singleF32 returns one-kernel families so every tile shape is tested,
// not only the one pick would choose.
func allF32Kernels() []*f32Set {
	var out []*f32Set
	for _, s := range f32Sets() {
		for _, k := range s.kernels {
			out = append(out, &f32Set{name: s.name + "/" + k.name, kernels: []f32Kernel{k}})
		}
	}
	return out
}

func allS8Kernels() []*s8Set {
	var out []*s8Set
	for _, s := range s8Sets() {
		for _, k := range s.kernels {
			out = append(out, &s8Set{name: s.name + "/" + k.name, format: s.format, kernels: []s8Kernel{k}})
			if k.direct != nil {
				// Also the packed-A path the direct kernel replaces.
				k.direct = nil
				out = append(out, &s8Set{name: s.name + "/" + k.name + "/packed", format: s.format, kernels: []s8Kernel{k}})
			}
		}
	}
	return out
}

func randF32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func randI8(r *rand.Rand, n int) []int8 {
	x := make([]int8, n)
	for i := range x {
		x[i] = int8(r.IntN(256) - 128)
	}
	return x
}

// sizes are the dimensions the differential tests sweep: tails around
// every tile width, primes, and 1.
var sizes = []int{1, 2, 3, 5, 7, 13, 16, 17, 28, 31, 32, 33, 47, 61, 64, 67}

// f32Close checks got against the reference with a bound derived from
// the magnitudes summed (float32 error grows with k·Σ|a·b|).
func f32Close(t *testing.T, label string, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c0 []float32, got, want []float32, ldc int) {
	t.Helper()
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var mag float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				mag += math.Abs(float64(av) * float64(bv))
			}
			bound := 1e-6*float64(k+4)*(mag*math.Abs(float64(alpha))) + 1e-6*math.Abs(float64(beta*c0[i*ldc+j])) + 1e-30
			g, w := got[i*ldc+j], want[i*ldc+j]
			if math.Abs(float64(g-w)) > bound || math.IsNaN(float64(g)) {
				t.Fatalf("%s: tA=%v tB=%v m=%d n=%d k=%d alpha=%v beta=%v: C[%d][%d]=%v, want %v (bound %g)", label, tA, tB, m, n, k, alpha, beta, i, j, g, w, bound)
			}
		}
	}
	// Padding between rows (the stride gap) must be untouched.
	for i := 0; i < m; i++ {
		for j := n; j < ldc && i*ldc+j < len(got); j++ {
			if got[i*ldc+j] != c0[i*ldc+j] && !(math.IsNaN(float64(got[i*ldc+j])) && math.IsNaN(float64(c0[i*ldc+j]))) {
				t.Fatalf("%s: m=%d n=%d k=%d: stride gap C[%d][%d] changed", label, m, n, k, i, j)
			}
		}
	}
}

func runSgemmCase(t *testing.T, set *f32Set, threads int, r *rand.Rand, tA, tB bool, m, n, k int, alpha, beta float32) {
	t.Helper()
	pad := r.IntN(3)
	var lda, ldb int
	if tA {
		lda = m + pad
	} else {
		lda = k + pad
	}
	if tB {
		ldb = k + pad
	} else {
		ldb = n + pad
	}
	ldc := n + pad
	arows, brows := m, k
	if tA {
		arows = k
	}
	if tB {
		brows = n
	}
	a := randF32(r, arows*lda)
	b := randF32(r, brows*ldb)
	c0 := randF32(r, m*ldc)
	if beta == 0 {
		for i := range c0 {
			if i%ldc < n {
				c0[i] = float32(math.NaN()) // must vanish with beta == 0
			}
		}
	}
	want := append([]float32(nil), c0...)
	got := append([]float32(nil), c0...)
	SgemmRef(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	sgemmWith(set, threads, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
	f32Close(t, set.name, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c0, got, want, ldc)
}

func TestSgemmDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	params := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}, {0, 0.5}}
	for _, set := range allF32Kernels() {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for trial := 0; trial < 40; trial++ {
					m, n, k := sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))]
					ab := params[trial%len(params)]
					runSgemmCase(t, set, 1, r, tA, tB, m, n, k, ab[0], ab[1])
				}
			}
		}
	}
}

// TestSgemmBlocking crosses the kc and mc block boundaries and runs the
// threaded split.
func TestSgemmBlocking(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, set := range allF32Kernels() {
		runSgemmCase(t, set, 1, r, false, true, 300, 37, 600, 1, 0)
		runSgemmCase(t, set, 3, r, true, false, 257, 70, 259, 0.5, 1)
		runSgemmCase(t, set, 2, r, false, false, 61, 130, 513, 1, -1)
	}
	// Depth beyond one packed-B chunk (weight-gradient shape).
	for _, set := range f32Sets() {
		runSgemmCase(t, set, 2, r, true, false, 16, 27, maxPackedB/32+300, 1, 0)
	}
}

func TestSgemmHandComputed(t *testing.T) {
	// [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50]; alpha 2, beta 1, C0 = 1.
	a := []float32{1, 2, 3, 4}
	b := []float32{5, 6, 7, 8}
	c := []float32{1, 1, 1, 1}
	Sgemm(false, false, 2, 2, 2, 2, a, 2, b, 2, 1, c, 2)
	want := []float32{39, 45, 87, 101}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("C = %v, want %v", c, want)
		}
	}
	// Aᵀ·Bᵀ: [1 3; 2 4]·[5 7; 6 8] = [23 31; 34 46].
	Sgemm(true, true, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	want = []float32{23, 31, 34, 46}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("C = %v, want %v", c, want)
		}
	}
}

func TestSgemmDegenerate(t *testing.T) {
	c := []float32{float32(math.NaN()), 3}
	Sgemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	if c[0] != 0 || c[1] != 0 {
		t.Fatalf("k=0 beta=0: C = %v, want zeros", c)
	}
	c = []float32{1, 3}
	Sgemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 2, c, 2)
	if c[0] != 2 || c[1] != 6 {
		t.Fatalf("k=0 beta=2: C = %v, want [2 6]", c)
	}
	Sgemm(false, false, 0, 0, 5, 1, nil, 5, nil, 0, 0, nil, 0) // no-op, no panic
}

func TestSgemmShortSlicePanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "need") {
			t.Fatalf("recover() = %v, want a length panic", r)
		}
	}()
	Sgemm(false, false, 4, 4, 4, 1, make([]float32, 15), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
}

func TestPackedF32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, nk := range [][2]int{{1, 1}, {16, 27}, {33, 300}, {64, 7}, {10, 4608}} {
		n, k := nk[0], nk[1]
		m := 1 + r.IntN(40)
		b := randF32(r, n*(k+1))
		a := randF32(r, m*(k+2))
		p := PackF32(b, n, k, k+1)
		if p.N() != n || p.K() != k {
			t.Fatalf("N,K = %d,%d want %d,%d", p.N(), p.K(), n, k)
		}
		got := randF32(r, m*n)
		c0 := append([]float32(nil), got...)
		want := make([]float32, m*n)
		p.Mul(m, a, k+2, got, n)
		SgemmRef(false, true, m, n, k, 1, a, k+2, b, k+1, 0, want, n)
		f32Close(t, "packed", false, true, m, n, k, 1, a, k+2, b, k+1, 0, c0, got, want, n)
	}
}

func runS8Case(t *testing.T, set *s8Set, threads int, r *rand.Rand, m, n, k int, aOffset int32, extreme bool) {
	t.Helper()
	pad := r.IntN(3)
	lda, ldb, ldc := k+pad, k+pad, n+pad
	a := randI8(r, m*lda)
	b := randI8(r, n*ldb)
	if extreme {
		for i := range a {
			a[i] = -128
		}
		for i := range b {
			b[i] = int8(-128 + 255*(i%2))
		}
	}
	want := make([]int32, m*ldc)
	got := make([]int32, m*ldc)
	for i := range got {
		got[i], want[i] = 7, 7
	}
	GemmS8Ref(m, n, k, a, lda, aOffset, b, ldb, want, ldc)
	gemmS8With(set, threads, m, n, k, a, lda, aOffset, b, ldb, got, ldc)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: m=%d n=%d k=%d aOffset=%d: C[%d][%d]=%d, want %d", set.name, m, n, k, aOffset, i/ldc, i%ldc, got[i], want[i])
		}
	}
}

func TestGemmS8Differential(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	offsets := []int32{0, 128, -127, 5, 1 << 20, -(1 << 24)}
	for _, set := range allS8Kernels() {
		for trial := 0; trial < 150; trial++ {
			m, n, k := sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))]
			runS8Case(t, set, 1, r, m, n, k, offsets[trial%len(offsets)], trial%10 == 0)
		}
		runS8Case(t, set, 1, r, 1, 256, 4608, 128, false)
		runS8Case(t, set, 2, r, 401, 64, 288, -3, false)
		runS8Case(t, set, 3, r, 100, 33, 4099, 128, true) // wraps int32
		runS8Case(t, set, 1, r, 3, 5, 0, 9, false)
	}
}

func TestGemmS8HandComputed(t *testing.T) {
	// A = [1 -2 3], aOffset 2 → [3 0 5]; B rows [1 1 1] and [-1 2 -128].
	a := []int8{1, -2, 3}
	b := []int8{1, 1, 1, -1, 2, -128}
	c := make([]int32, 2)
	GemmS8(1, 2, 3, a, 3, 2, b, 3, c, 2)
	if c[0] != 8 || c[1] != -3-640 {
		t.Fatalf("C = %v, want [8 -643]", c)
	}
}

func TestPackedS8(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, set := range allS8Kernels() {
		for _, nk := range [][2]int{{1, 1}, {16, 27}, {32, 144}, {64, 288}, {128, 576}, {43, 5}} {
			n, k := nk[0], nk[1]
			b := randI8(r, n*k)
			p := packS8With(set, 64, b, n, k, k)
			for _, m := range []int{1, 29, 70} {
				a := randI8(r, m*k)
				off := int32(r.IntN(256) - 127)
				want := make([]int32, m*n)
				got := make([]int32, m*n)
				GemmS8Ref(m, n, k, a, k, off, b, k, want, n)
				p.Mul(m, a, k, off, got, n)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s: n=%d k=%d m=%d: C[%d]=%d, want %d", set.name, n, k, m, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestImpl(t *testing.T) {
	if Impl() == "" || !strings.Contains(Impl(), "/") {
		t.Fatalf("Impl() = %q", Impl())
	}
}

func TestPackedF32MulBiasClamp(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		m, n, k int
		lo, hi  float32
		bias    bool
	}{{100, 16, 27, 0, inf, true}, {33, 32, 144, -inf, inf, true}, {7, 64, 600, 0, 6, true}, {3, 256, 4608, 0, inf, false}, {5, 17, 0, -1, 1, true}, {61, 45, 30, -inf, 0.5, true}} {
		a, w := randF32(r, c.m*c.k), randF32(r, c.n*c.k)
		var bias []float32
		if c.bias {
			bias = randF32(r, c.n)
		}
		p := PackF32(w, c.n, c.k, c.k)
		got := randF32(r, c.m*(c.n+3))
		c0 := append([]float32(nil), got...)
		p.MulBiasClamp(1+c.m%2, c.m, a, c.k, bias, c.lo, c.hi, got, c.n+3)
		want := append([]float32(nil), c0...)
		SgemmRef(false, true, c.m, c.n, c.k, 1, a, c.k, w, c.k, 0, want, c.n+3)
		for i := 0; i < c.m; i++ {
			for j := 0; j < c.n; j++ {
				v := want[i*(c.n+3)+j]
				if bias != nil {
					v += bias[j]
				}
				v = min(max(v, c.lo), c.hi)
				g := got[i*(c.n+3)+j]
				if math.Abs(float64(g-v)) > 1e-4*float64(c.k+1) {
					t.Fatalf("%+v: C[%d][%d]=%v, want %v", c, i, j, g, v)
				}
			}
			for j := c.n; j < c.n+3; j++ {
				if got[i*(c.n+3)+j] != c0[i*(c.n+3)+j] {
					t.Fatalf("%+v: stride gap changed", c)
				}
			}
		}
	}
}

// TestMulSegmentedConv runs a 3x3 stride-1 SAME convolution as
// MulSegmented over a zero-padded NHWC input (no im2col) on every kernel,
// against a direct loop.
func TestMulSegmentedConv(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, set := range allF32Kernels() {
		for _, c := range [][4]int{{9, 7, 3, 16}, {6, 6, 16, 32}, {5, 11, 5, 70}, {3, 3, 64, 8}, {2, 4, 128, 20}, {3, 3, 160, 24}, {2, 3, 512, 8}} {
			h, w, cin, cout := c[0], c[1], c[2], c[3]
			const kh, kw = 3, 3
			hp, wp := h+2, w+2
			in := randF32(r, h*w*cin)
			pad := make([]float32, hp*wp*cin)
			for y := 0; y < h; y++ {
				copy(pad[((y+1)*wp+1)*cin:((y+1)*wp+1+w)*cin], in[y*w*cin:(y+1)*w*cin])
			}
			k := kh * kw * cin
			wt := randF32(r, cout*k) // OHWI
			bias := randF32(r, cout)
			p := &PackedF32{pb: packBF32Seg(&set.kernels[0], true, cout, 0, k, kw*cin, wt, k, nil), zeros: make([]float32, cout)}
			got := make([]float32, h*w*cout)
			for y := 0; y < h; y++ {
				// One output row: pixel x of row y is A row x, starting at
				// padded pixel (y, x); filter row ky adds ky·Wp·C.
				p.MulSegmented(1, w, pad[y*wp*cin:], cin, wp*cin, bias, 0, float32(math.Inf(1)), got[y*w*cout:], cout)
			}
			// The whole image in one call (rows y·Wp + x) must agree.
			wide := make([]float32, h*wp*cout)
			p.MulSegmented(2, (h-1)*wp+w, pad, cin, wp*cin, bias, 0, float32(math.Inf(1)), wide, cout)
			for y := 0; y < h; y++ {
				for i := 0; i < w*cout; i++ {
					if g, want := wide[y*wp*cout+i], got[y*w*cout+i]; math.Abs(float64(g-want)) > 1e-4*float64(k) {
						t.Fatalf("%s %v: whole-image out[%d][%d] = %v, per-row %v", set.name, c, y, i, g, want)
					}
				}
			}
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					for o := 0; o < cout; o++ {
						s := float64(bias[o])
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								for ci := 0; ci < cin; ci++ {
									s += float64(pad[((y+ky)*wp+x+kx)*cin+ci]) * float64(wt[((o*kh+ky)*kw+kx)*cin+ci])
								}
							}
						}
						want := max(s, 0)
						if g := float64(got[(y*w+x)*cout+o]); math.Abs(g-want) > 1e-4*float64(k) {
							t.Fatalf("%s %v: out[%d][%d][%d] = %v, want %v", set.name, c, y, x, o, g, want)
						}
					}
				}
			}
		}
	}
}

func TestMulSegmentedChecks(t *testing.T) {
	p := PackF32(make([]float32, 4), 2, 2, 2)
	for name, f := range map[string]func(){
		"not segmented": func() { p.MulSegmented(1, 1, make([]float32, 8), 2, 2, nil, 0, 1, make([]float32, 2), 2) },
		"short A": func() {
			PackF32Segmented(make([]float32, 8), 2, 4, 4, 2).MulSegmented(1, 3, make([]float32, 9), 2, 5, nil, 0, 1, make([]float32, 6), 2)
		},
		"bad seg": func() { PackF32Segmented(make([]float32, 8), 2, 4, 4, 3) },
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
}
