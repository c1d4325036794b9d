package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
)

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

// dot64 is Σ a·b accumulated in float64: the scalar "loss" L = ⟨y, r⟩ whose
// gradient with respect to y is r, used to probe each layer's backward pass.
func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkGrad compares analytic gradients with central finite differences of
// f at every index of p (or a strided subset when p is large).
func checkGrad(t *testing.T, name string, p []float32, analytic []float32, f func() float64, eps float32, tol float64) {
	t.Helper()
	step := 1
	if len(p) > 200 {
		step = len(p)/200 + 1
	}
	bad := 0
	for i := 0; i < len(p); i += step {
		old := p[i]
		p[i] = old + eps
		lp := f()
		p[i] = old - eps
		lm := f()
		p[i] = old
		num := (lp - lm) / (2 * float64(eps))
		a := float64(analytic[i])
		if math.Abs(num-a) > tol*math.Max(1, math.Max(math.Abs(num), math.Abs(a))) {
			if bad < 5 {
				t.Errorf("%s[%d]: analytic %.6g, finite difference %.6g", name, i, a, num)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d mismatches", name, bad)
	}
}

// naiveConv is the textbook definition of a cross-correlation with TFLite's
// padding rules, written independently of im2col.
func naiveConv(g convGeom, x []float32, n int, w, b []float32) []float32 {
	y := make([]float32, n*g.OH*g.OW*g.Cout)
	for bi := 0; bi < n; bi++ {
		for oy := 0; oy < g.OH; oy++ {
			for ox := 0; ox < g.OW; ox++ {
				for o := 0; o < g.Cout; o++ {
					s := float64(b[o])
					for ky := 0; ky < g.KH; ky++ {
						for kx := 0; kx < g.KW; kx++ {
							iy, ix := oy*g.Stride-g.PadT+ky, ox*g.Stride-g.PadL+kx
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							for c := 0; c < g.Cin; c++ {
								s += float64(x[((bi*g.H+iy)*g.W+ix)*g.Cin+c]) * float64(w[((o*g.KH+ky)*g.KW+kx)*g.Cin+c])
							}
						}
					}
					y[((bi*g.OH+oy)*g.OW+ox)*g.Cout+o] = float32(s)
				}
			}
		}
	}
	return y
}

func TestIm2colHand(t *testing.T) {
	// 3x3 single-channel image 1..9, 3x3 SAME: the corner patch at (0,0)
	// is zero on the top row and left column.
	g := newConvGeom(3, 3, 1, 3, 3, 1, 1, graph.PaddingSame)
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	col := make([]float32, 9*9)
	im2col(g, x, 1, col)
	want0 := []float32{0, 0, 0, 0, 1, 2, 0, 4, 5}
	want4 := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	for i := range 9 {
		if col[i] != want0[i] || col[4*9+i] != want4[i] {
			t.Fatalf("im2col patch 0 = %v, patch 4 = %v", col[:9], col[36:45])
		}
	}
	// col2im of all-ones patches counts how many patches read each pixel.
	ones := make([]float32, 81)
	for i := range ones {
		ones[i] = 1
	}
	dx := make([]float32, 9)
	col2im(g, ones, 1, dx)
	want := []float32{4, 6, 4, 6, 9, 6, 4, 6, 4}
	for i := range want {
		if dx[i] != want[i] {
			t.Fatalf("col2im counts = %v, want %v", dx, want)
		}
	}
}

func TestConvForwardMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []convGeom{
		newConvGeom(7, 6, 3, 3, 3, 4, 1, graph.PaddingSame),
		newConvGeom(7, 6, 3, 3, 3, 4, 1, graph.PaddingValid),
		newConvGeom(8, 5, 2, 3, 2, 3, 1, graph.PaddingSame),
		newConvGeom(9, 9, 2, 3, 3, 5, 2, graph.PaddingSame),
		newConvGeom(5, 5, 1, 5, 5, 2, 1, graph.PaddingSame),
		newConvGeom(6, 7, 3, 3, 3, 4, 1, graph.PaddingSame), // RGB: 9-float rows
		newConvGeom(7, 6, 3, 3, 3, 2, 2, graph.PaddingValid),
		newConvGeom(2, 3, 2, 5, 5, 3, 2, graph.PaddingSame), // filter wider than the image
		newConvGeom(1, 1, 3, 3, 3, 2, 1, graph.PaddingSame),
	}
	for ci, g := range cases {
		n := 2
		x := randSlice(rng, n*g.H*g.W*g.Cin, 1)
		w := randSlice(rng, g.Cout*g.K(), 1)
		b := randSlice(rng, g.Cout, 1)
		col := make([]float32, n*g.OH*g.OW*g.K())
		y := make([]float32, n*g.OH*g.OW*g.Cout)
		convForward(g, newConvPacks(g, n, false), x, n, w, b, col, y, nil)
		want := naiveConv(g, x, n, w, b)
		for i := range want {
			if math.Abs(float64(y[i]-want[i])) > 1e-4 {
				t.Fatalf("case %d: y[%d] = %g, want %g", ci, i, y[i], want[i])
			}
		}
	}
}

func TestConvGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for ci, g := range []convGeom{
		newConvGeom(5, 4, 2, 3, 3, 3, 1, graph.PaddingSame),
		newConvGeom(6, 5, 2, 3, 2, 2, 1, graph.PaddingValid),
		newConvGeom(7, 7, 1, 3, 3, 2, 2, graph.PaddingSame),
	} {
		n := 2
		x := randSlice(rng, n*g.H*g.W*g.Cin, 1)
		w := randSlice(rng, g.Cout*g.K(), 1)
		b := randSlice(rng, g.Cout, 1)
		r := randSlice(rng, n*g.OH*g.OW*g.Cout, 1)
		col := make([]float32, n*g.OH*g.OW*g.K())
		y := make([]float32, len(r))
		pk := newConvPacks(g, n, true)
		loss := func() float64 {
			convForward(g, pk, x, n, w, b, col, y, nil)
			return dot64(y, r)
		}
		loss()
		dw := make([]float32, len(w))
		db := make([]float32, len(b))
		dx := make([]float32, len(x))
		dcol := make([]float32, len(col))
		convBackward(g, pk, x, r, n, w, dw, db, col, dcol, dx, nil)
		name := []string{"same", "valid", "stride2"}[ci]
		checkGrad(t, name+" dW", w, dw, loss, 1e-2, 2e-3)
		checkGrad(t, name+" db", b, db, loss, 1e-2, 2e-3)
		checkGrad(t, name+" dX", x, dx, loss, 1e-2, 2e-3)
	}
}

func TestPoolReluHandAndGradient(t *testing.T) {
	// One 4x4 channel: ReLU of the window maxima, and where gradients go.
	p := newPoolGeom(4, 4, 1)
	x := []float32{
		1, 5, 2, 0,
		3, 4, 8, 8,
		-1, -2, 0, 0,
		-3, -4, 7, 6,
	}
	y := make([]float32, 4)
	arg := make([]uint8, 4)
	poolReluForward(p, x, nil, 1, y, arg)
	wantY := []float32{5, 8, 0, 7}
	for i := range wantY {
		if y[i] != wantY[i] {
			t.Fatalf("pool+relu y=%v, want %v", y, wantY)
		}
	}
	dx := make([]float32, 16)
	for i := range dx {
		dx[i] = 99 // must be overwritten
	}
	db := []float32{0.5}
	if want := []uint8{1, 2, 0, 2}; !slices.Equal(arg, want) {
		t.Fatalf("pool winners %v, want %v", arg, want)
	}
	poolReluBackward(p, arg, y, []float32{1, 2, 3, 4}, 1, dx, db)
	if db[0] != 7.5 { // 0.5 + 1 + 2 + 4: window 2 is blocked by ReLU
		t.Fatalf("pool+relu db=%v, want [7.5] (added to)", db)
	}
	// Window 1 has a tie (8, 8): the first in row-major order wins. Window 2's
	// max is negative, so ReLU blocks its gradient.
	wantDX := []float32{
		0, 1, 0, 0,
		0, 0, 2, 0,
		0, 0, 0, 0,
		0, 0, 4, 0,
	}
	for i := range wantDX {
		if dx[i] != wantDX[i] {
			t.Fatalf("pool+relu dx=%v, want %v", dx, wantDX)
		}
	}
	// Odd extent: the last row/column is dropped (VALID).
	if q := newPoolGeom(5, 3, 2); q.OH != 2 || q.OW != 1 {
		t.Fatalf("pool 5x3 -> %dx%d, want 2x1", q.OH, q.OW)
	}
	// Gradient on a shuffled grid 0.05 apart, offset from 0, so a 1e-3 nudge
	// never flips a max or crosses ReLU's kink. Odd sizes exercise the
	// uncovered border.
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range []poolGeom{newPoolGeom(6, 4, 3), newPoolGeom(7, 5, 2)} {
		n := 2
		x = make([]float32, n*p.H*p.W*p.C)
		for i, j := range rng.Perm(len(x)) {
			x[i] = float32(j)*0.05 - 2.025
		}
		// Biases on the same grid keep x+bias 0.025 away from ReLU's kink.
		bias := make([]float32, p.C)
		for c := range bias {
			bias[c] = 0.1 * float32(c-1)
		}
		r := randSlice(rng, n*p.OH*p.OW*p.C, 1)
		y = make([]float32, len(r))
		arg := make([]uint8, len(y))
		loss := func() float64 { poolReluForward(p, x, bias, n, y, arg); return dot64(y, r) }
		loss()
		dx = make([]float32, len(x))
		for i := range dx {
			dx[i] = float32(math.NaN())
		}
		db := make([]float32, p.C)
		poolReluBackward(p, arg, y, r, n, dx, db)
		checkGrad(t, "pool+relu dX", x, dx, loss, 1e-3, 1e-3)
		checkGrad(t, "pool+relu db", bias, db, loss, 1e-3, 1e-3)
	}
}

func TestDenseGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n, in, out := 3, 7, 5
	x := randSlice(rng, n*in, 1)
	w := randSlice(rng, out*in, 1)
	b := randSlice(rng, out, 1)
	r := randSlice(rng, n*out, 1)
	y := make([]float32, n*out)
	loss := func() float64 { denseForward(x, n, in, out, w, b, y, make([]float32, n*out)); return dot64(y, r) }
	loss()
	// y[0][0] by hand.
	var s float64 = float64(b[0])
	for p := 0; p < in; p++ {
		s += float64(x[p]) * float64(w[p])
	}
	if math.Abs(s-float64(y[0])) > 1e-5 {
		t.Fatalf("dense y[0] = %g, want %g", y[0], s)
	}
	dw, db, dx := make([]float32, len(w)), make([]float32, len(b)), make([]float32, len(x))
	denseBackward(x, r, n, in, out, w, dw, db, dx, make([]float32, n*out))
	checkGrad(t, "dense dW", w, dw, loss, 1e-2, 1e-3)
	checkGrad(t, "dense db", b, db, loss, 1e-2, 1e-3)
	checkGrad(t, "dense dX", x, dx, loss, 1e-2, 1e-3)
}

func TestReluGradient(t *testing.T) {
	x := []float32{-2, -0.5, 0.5, 3}
	y := append([]float32(nil), x...)
	reluForward(y)
	dy := []float32{1, 2, 3, 4}
	reluBackward(y, dy)
	want := []float32{0, 0, 3, 4}
	for i := range want {
		if dy[i] != want[i] || y[i] != max(x[i], 0) {
			t.Fatalf("relu y=%v dy=%v", y, dy)
		}
	}
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	// Two equal logits: loss ln 2, gradient ±1/2 (scaled by 1/2 for a batch of 2).
	logits := []float32{0, 0, 1000, 0}
	d := make([]float32, 4)
	loss, correct := softmaxCrossEntropy(logits, []int{1, 0}, 2, 2, 0.5, d)
	if math.Abs(loss-math.Ln2) > 1e-9 || correct != 1 {
		t.Fatalf("loss %g correct %d, want ln2 and 1 (ties go to the first class)", loss, correct)
	}
	// The huge logit must not overflow: its row's loss is 0.
	want := []float32{0.25, -0.25, 0, 0}
	for i := range want {
		if math.Abs(float64(d[i]-want[i])) > 1e-7 {
			t.Fatalf("dlogits = %v, want %v", d, want)
		}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	n, k := 4, 6
	z := randSlice(rng, n*k, 2)
	labels := []int{0, 5, 2, 2}
	d = make([]float32, n*k)
	softmaxCrossEntropy(z, labels, n, k, 1, d)
	f := func() float64 { l, _ := softmaxCrossEntropy(z, labels, n, k, 1, nil); return l }
	checkGrad(t, "xent dlogits", z, d, f, 1e-3, 1e-3)

	p := []float32{1, 2, 3}
	softmaxRows(p, 1, 3)
	e := []float64{math.Exp(-2), math.Exp(-1), 1}
	sum := e[0] + e[1] + e[2]
	for i := range p {
		if math.Abs(float64(p[i])-e[i]/sum) > 1e-6 {
			t.Fatalf("softmax = %v", p)
		}
	}
}

func TestWholeNetworkGradient(t *testing.T) {
	arch := Arch{Name: "tiny", Input: [3]int{8, 6, 2}, Filters: []int{3, 4}, Kernel: 3, Padding: "SAME", Dense: []int{5}, Classes: 3}
	m, err := New(arch, 11)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(12, 13))
	for i := range m.Params {
		// Non-zero biases so ReLUs and pools are not at kinks by construction.
		m.Params[i] += float32(rng.NormFloat64() * 0.1)
	}
	n := 3
	ws := m.newWorkspace(n)
	x := randSlice(rng, n*m.InputSize(), 1)
	labels := []int{0, 2, 1}
	loss := func() float64 {
		copy(ws.x, x)
		logits := m.forward(ws, n)
		l, _ := softmaxCrossEntropy(logits, labels, n, 3, 1, ws.dz[len(m.dense)-1])
		return l / float64(n)
	}
	loss()
	grad := make([]float32, len(m.Params))
	_, _ = softmaxCrossEntropy(m.forward(ws, n), labels, n, 3, 1/float32(n), ws.dz[len(m.dense)-1])
	m.backward(ws, n, grad)
	checkGrad(t, "network", m.Params, grad, loss, 1e-3, 2e-2)
}

// TestConvGrouped: a layer whose patches exceed colBudget runs one image
// at a time; the result must equal the per-image passes (dW summed).
func TestConvGrouped(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	g := newConvGeom(64, 64, 8, 3, 3, 4, 1, graph.PaddingSame)
	n := 3
	if convGroup(g, n) != 1 {
		t.Fatalf("convGroup = %d, want 1 for %d patch values per image", convGroup(g, n), g.OH*g.OW*g.K())
	}
	in, out := g.H*g.W*g.Cin, g.OH*g.OW*g.Cout
	x := randSlice(rng, n*in, 1)
	w := randSlice(rng, g.Cout*g.K(), 1)
	b := randSlice(rng, g.Cout, 1)
	dy := randSlice(rng, n*out, 1)
	col := make([]float32, g.OH*g.OW*g.K())
	dcol := make([]float32, len(col))
	y := make([]float32, n*out)
	pk := newConvPacks(g, n, true)
	convForward(g, pk, x, n, w, b, col, y, nil)
	want := naiveConv(g, x, n, w, b)
	for i := range want {
		if math.Abs(float64(y[i]-want[i])) > 1e-3 {
			t.Fatalf("y[%d] = %g, want %g", i, y[i], want[i])
		}
	}
	dw, db, dx := make([]float32, len(w)), make([]float32, len(b)), make([]float32, len(x))
	convBackward(g, pk, x, dy, n, w, dw, db, col, dcol, dx, nil)
	sumW := make([]float64, len(w))
	for i := 0; i < n; i++ {
		dwi, dbi, dxi := make([]float32, len(w)), make([]float32, len(b)), make([]float32, in)
		convBackward(g, pk, x[i*in:(i+1)*in], dy[i*out:(i+1)*out], 1, w, dwi, dbi, col, dcol, dxi, nil)
		for j, v := range dwi {
			sumW[j] += float64(v)
		}
		for j, v := range dxi {
			if dx[i*in+j] != v {
				t.Fatalf("image %d: dx[%d] = %g, want %g", i, j, dx[i*in+j], v)
			}
		}
	}
	for j, v := range sumW {
		if math.Abs(float64(dw[j])-v) > 1e-3*math.Max(1, math.Abs(v)) {
			t.Fatalf("dw[%d] = %g, want %g", j, dw[j], v)
		}
	}
}

// TestModelGroupedMatchesPerImage: with a first layer too large for one
// patch group (so conv and pool run image by image inside a chunk), the
// chunk's logits and gradient equal those of separate one-image passes.
func TestModelGroupedMatchesPerImage(t *testing.T) {
	arch := Arch{Name: "wide", Input: [3]int{64, 64, 8}, Filters: []int{4, 6}, Kernel: 3, Padding: "SAME", Dense: []int{5}, Classes: 3}
	m, err := New(arch, 3)
	if err != nil {
		t.Fatal(err)
	}
	if g := convGroup(m.convs[0].g, 2); g != 1 {
		t.Fatalf("first layer group = %d, want 1", g)
	}
	rng := rand.New(rand.NewPCG(14, 15))
	for i := range m.Params {
		m.Params[i] += float32(rng.NormFloat64() * 0.1)
	}
	n, sz := 2, m.InputSize()
	x := randSlice(rng, n*sz, 1)
	labels := []int{2, 0}
	run := func(x []float32, labels []int) ([]float32, []float32) {
		k := len(labels)
		ws := m.newWorkspace(k)
		copy(ws.x, x)
		logits := append([]float32(nil), m.forward(ws, k)...)
		softmaxCrossEntropy(logits, labels, k, 3, 1, ws.dz[len(m.dense)-1])
		grad := make([]float32, len(m.Params))
		m.backward(ws, k, grad)
		return logits, grad
	}
	logits, grad := run(x, labels)
	sum := make([]float64, len(grad))
	for i := 0; i < n; i++ {
		li, gi := run(x[i*sz:(i+1)*sz], labels[i:i+1])
		for j, v := range li {
			if logits[i*3+j] != v {
				t.Fatalf("image %d logit %d = %g, per-image %g", i, j, logits[i*3+j], v)
			}
		}
		for j, v := range gi {
			sum[j] += float64(v)
		}
	}
	for j, v := range sum {
		if math.Abs(float64(grad[j])-v) > 1e-4*math.Max(1, math.Abs(v)) {
			t.Fatalf("grad[%d] = %g, sum of per-image gradients %g", j, grad[j], v)
		}
	}
}

// TestPoolWinnerTies: the recorded winner is the first maximal input in
// row-major order for every pattern of ties in a window.
func TestPoolWinnerTies(t *testing.T) {
	p := newPoolGeom(2, 2, 1)
	for bits := 0; bits < 16; bits++ {
		x := make([]float32, 4)
		want := uint8(255)
		for i := range x {
			if bits>>i&1 == 1 {
				x[i] = 2
			}
		}
		mx := max(max(x[0], x[1]), max(x[2], x[3]))
		for i, v := range x {
			if v == mx {
				want = uint8(i)
				break
			}
		}
		y, arg := make([]float32, 1), make([]uint8, 1)
		poolReluForward(p, x, nil, 1, y, arg)
		if arg[0] != want {
			t.Errorf("window %v: winner %d, want %d", x, arg[0], want)
		}
	}
}

// TestPoolWideChannels checks the pool passes on channel counts the
// AVX-512 rows handle (multiples of 16), with many ties and odd extents,
// against a direct evaluation of the definition.
func TestPoolWideChannels(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	for _, p := range []poolGeom{newPoolGeom(6, 4, 16), newPoolGeom(5, 7, 32), newPoolGeom(2, 2, 48)} {
		n := 2
		x := make([]float32, n*p.H*p.W*p.C)
		for i := range x {
			x[i] = float32(rng.IntN(5) - 2) // small integers: frequent ties, zeros
		}
		bias := make([]float32, p.C)
		for c := range bias {
			bias[c] = float32(rng.IntN(3)-1) * 0.5
		}
		out := n * p.OH * p.OW * p.C
		y, arg, dy := make([]float32, out), make([]uint8, out), randSlice(rng, out, 1)
		poolReluForward(p, x, bias, n, y, arg)
		dx, db := make([]float32, len(x)), make([]float32, p.C)
		for i := range dx {
			dx[i] = 99
		}
		poolReluBackward(p, arg, y, dy, n, dx, db)
		wantDX, wantDB := make([]float32, len(x)), make([]float32, p.C)
		for b := 0; b < n; b++ {
			for oy := 0; oy < p.OH; oy++ {
				for ox := 0; ox < p.OW; ox++ {
					for c := 0; c < p.C; c++ {
						var idx [4]int
						for k := range idx {
							idx[k] = ((b*p.H+2*oy+k/2)*p.W+2*ox+k%2)*p.C + c
						}
						best := 0
						for k := 1; k < 4; k++ {
							if x[idx[k]] > x[idx[best]] {
								best = k
							}
						}
						o := ((b*p.OH+oy)*p.OW+ox)*p.C + c
						wy := max(x[idx[best]]+bias[c], 0)
						if y[o] != wy || arg[o] != uint8(best) {
							t.Fatalf("%+v: output %d: y=%g arg=%d, want %g, %d", p, o, y[o], arg[o], wy, best)
						}
						if wy > 0 {
							wantDX[idx[best]] = dy[o]
							wantDB[c] += dy[o]
						}
					}
				}
			}
		}
		if !slices.Equal(dx, wantDX) {
			t.Fatalf("%+v: dx differs from the definition", p)
		}
		if !slices.Equal(db, wantDB) {
			t.Fatalf("%+v: db = %v, want %v", p, db, wantDB)
		}
	}
}

// TestCol2imWide checks col2im on patch rows of multiples of 16 floats
// (the vector path) against the definition, summed in the same order.
func TestCol2imWide(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 19))
	for _, g := range []convGeom{
		newConvGeom(5, 6, 16, 3, 3, 4, 1, graph.PaddingSame),
		newConvGeom(7, 5, 32, 3, 3, 2, 2, graph.PaddingSame),
		newConvGeom(6, 6, 16, 3, 3, 2, 1, graph.PaddingValid),
	} {
		n, k := 2, g.K()
		dcol := randSlice(rng, n*g.OH*g.OW*k, 1)
		dx := randSlice(rng, n*g.H*g.W*g.Cin, 1) // overwritten
		col2im(g, dcol, n, dx)
		want := make([]float32, len(dx))
		for b := 0; b < n; b++ {
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					for ky := 0; ky < g.KH; ky++ {
						for kx := 0; kx < g.KW; kx++ {
							iy, ix := oy*g.Stride-g.PadT+ky, ox*g.Stride-g.PadL+kx
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							for c := 0; c < g.Cin; c++ {
								want[((b*g.H+iy)*g.W+ix)*g.Cin+c] += dcol[((b*g.OH+oy)*g.OW+ox)*k+(ky*g.KW+kx)*g.Cin+c]
							}
						}
					}
				}
			}
		}
		if !slices.Equal(dx, want) {
			t.Fatalf("%+v: col2im differs from the definition", g)
		}
	}
}

// TestIm2colWide checks im2col on patch rows of multiples of 16 floats
// (the vector path) against the definition.
func TestIm2colWide(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 21))
	for _, g := range []convGeom{
		newConvGeom(5, 6, 16, 3, 3, 4, 1, graph.PaddingSame),
		newConvGeom(7, 5, 32, 3, 3, 2, 2, graph.PaddingSame),
		newConvGeom(6, 6, 16, 3, 3, 2, 1, graph.PaddingValid),
	} {
		n, k := 2, g.K()
		x := randSlice(rng, n*g.H*g.W*g.Cin, 1)
		col := randSlice(rng, n*g.OH*g.OW*k, 1) // overwritten
		im2col(g, x, n, col)
		for b := 0; b < n; b++ {
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					for ky := 0; ky < g.KH; ky++ {
						for kx := 0; kx < g.KW; kx++ {
							iy, ix := oy*g.Stride-g.PadT+ky, ox*g.Stride-g.PadL+kx
							for c := 0; c < g.Cin; c++ {
								var want float32
								if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
									want = x[((b*g.H+iy)*g.W+ix)*g.Cin+c]
								}
								if got := col[((b*g.OH+oy)*g.OW+ox)*k+(ky*g.KW+kx)*g.Cin+c]; got != want {
									t.Fatalf("%+v: patch (%d,%d,%d) [%d,%d,%d] = %g, want %g", g, b, oy, ox, ky, kx, c, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestConvForwardSegmented: the im2col-free forward pass (stride 1, one
// MulSegmented call per group of padded images) matches the definition,
// read through the extent it reports. Small layers keep im2col.
func TestConvForwardSegmented(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 23))
	for _, g := range []convGeom{
		newConvGeom(40, 38, 3, 3, 3, 4, 1, graph.PaddingSame),
		newConvGeom(34, 34, 4, 3, 3, 32, 1, graph.PaddingSame), // groups of several images
		newConvGeom(36, 34, 2, 3, 3, 5, 1, graph.PaddingValid),
		newConvGeom(64, 64, 8, 3, 3, 4, 1, graph.PaddingSame), // one image per group
	} {
		n := 3
		pk := newConvPacks(g, n, false)
		if pk.seg == nil {
			t.Fatalf("%+v: no segmented pack for a large stride-1 layer", g)
		}
		x := randSlice(rng, n*g.H*g.W*g.Cin, 1)
		w := randSlice(rng, g.Cout*g.K(), 1)
		b := randSlice(rng, g.Cout, 1)
		want := naiveConv(g, x, n, w, b)
		y := make([]float32, convSegYLen(g, n))
		seen := 0
		convForward(g, pk, x, n, w, b, nil, y, func(b0, nb int, yb []float32, yh, yw int) {
			for i := 0; i < nb; i++ {
				for oy := 0; oy < g.OH; oy++ {
					for ox := 0; ox < g.OW; ox++ {
						for c := 0; c < g.Cout; c++ {
							got := yb[((i*yh+oy)*yw+ox)*g.Cout+c]
							wv := want[(((b0+i)*g.OH+oy)*g.OW+ox)*g.Cout+c]
							if math.Abs(float64(got-wv)) > 1e-3 {
								t.Fatalf("%+v: image %d (%d,%d,%d) = %g, want %g", g, b0+i, oy, ox, c, got, wv)
							}
						}
					}
				}
			}
			seen += nb
		})
		if seen != n {
			t.Fatalf("%+v: post saw %d images, want %d", g, seen, n)
		}
	}
	if pk := newConvPacks(newConvGeom(10, 10, 64, 3, 3, 128, 1, graph.PaddingSame), 16, true); pk.seg != nil {
		t.Errorf("10x10 layer (44%% padding work) uses the segmented pass")
	}
}
