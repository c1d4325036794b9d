package kernels

import (
	"math"
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// hybridVecInput draws n floats of one of several kinds: normal values of
// a random magnitude, exact halves (ties of the rounding), post-ReLU
// values, tiny and subnormal ranges, and a NaN or an infinity somewhere.
func hybridVecInput(r *rand.Rand, n, kind int) []float32 {
	x := make([]float32, n)
	scale := float32(math.Ldexp(1, r.Intn(40)-20))
	for i := range x {
		x[i] = float32(r.NormFloat64()) * scale
	}
	switch kind {
	case 1: // ties: max|x| = 127, so x·(127/max) = x, halves included
		for i := range x {
			x[i] = float32(r.Intn(255)-127) + 0.5*float32(r.Intn(2))
		}
		if n > 0 {
			x[r.Intn(n)] = 127
		}
	case 2: // post-ReLU
		for i := range x {
			x[i] = max(x[i], 0)
		}
	case 3: // subnormal range (the reciprocal scale overflows)
		for i := range x {
			x[i] = float32(r.NormFloat64()) * 1e-40
		}
	case 4: // tiny but normal range
		for i := range x {
			x[i] = float32(r.NormFloat64()) * 1e-36
		}
	case 5: // a NaN or an infinity
		if n > 0 {
			x[r.Intn(n)] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[r.Intn(3)]
		}
	case 6: // all zeros, some negative
		for i := range x {
			x[i] = float32(math.Copysign(0, float64(r.Intn(2)*2-1)))
		}
	case 7: // huge values
		for i := range x {
			x[i] = float32(r.NormFloat64()) * 1e37
		}
	}
	return x
}

// TestHybridQuantizeVecMatchesRef checks hybridSymmetric and
// hybridAsymmetric (vector loops where they apply) against their Go
// references on random lengths, odd ones included, and awkward inputs.
func TestHybridQuantizeVecMatchesRef(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 2000; i++ {
		n := r.Intn(300)
		if i%5 == 0 {
			n = 16 * r.Intn(20)
		}
		kind := i % 8
		x := hybridVecInput(r, n, kind)
		got, want := make([]int8, n), make([]int8, n)
		for j := range got {
			got[j], want[j] = 99, 99
		}
		sg, sw := hybridSymmetric(got, x), hybridSymmetricRef(want, x)
		if math.Float32bits(sg) != math.Float32bits(sw) {
			t.Fatalf("case %d (n %d kind %d): symmetric scale %g, reference %g", i, n, kind, sg, sw)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("case %d (n %d kind %d): symmetric value %d (x %g) = %d, reference %d", i, n, kind, j, x[j], got[j], want[j])
			}
		}
		ag, zg := hybridAsymmetric(got, x)
		aw, zw := hybridAsymmetricRef(want, x)
		if math.Float32bits(ag) != math.Float32bits(aw) || zg != zw {
			t.Fatalf("case %d (n %d kind %d): asymmetric scale %g zp %d, reference %g zp %d", i, n, kind, ag, zg, aw, zw)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("case %d (n %d kind %d): asymmetric value %d (x %g) = %d, reference %d", i, n, kind, j, x[j], got[j], want[j])
			}
		}
	}
}

// TestHybridEpilogueVecMatchesRef checks hybridEpilogue's vector loop
// against hybridEpilogueRef on random row counts and widths (odd ones and
// tails shorter than a vector included), extreme accumulators and zero
// point shares (the int32 difference wraps), and every clamp.
func TestHybridEpilogueVecMatchesRef(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	acts := [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, float32(math.Inf(1))}, {0, 6}, {-1, 1}}
	for i := 0; i < 500; i++ {
		rows, n := 1+r.Intn(9), 1+r.Intn(80)
		acc := make([]int32, rows*n)
		for j := range acc {
			acc[j] = int32(r.Intn(1<<20) - 1<<19)
			if r.Intn(50) == 0 {
				acc[j] = []int32{math.MinInt32, math.MaxInt32, 0}[r.Intn(3)]
			}
		}
		off, sc, bias := make([]int32, n), make([]float32, n), make([]float32, n)
		for j := range sc {
			if i%2 == 1 {
				off[j] = int32(r.Uint32())
			}
			sc[j] = float32(math.Ldexp(r.Float64()+0.5, r.Intn(30)-30))
			bias[j] = float32(r.NormFloat64())
			if r.Intn(20) == 0 {
				bias[j] = 0
			}
		}
		a := acts[r.Intn(len(acts))]
		got, want := make([]float32, rows*n), make([]float32, rows*n)
		hybridEpilogue(got, acc, rows, off, sc, bias, a[0], a[1], epilogueVecSafe(bias, a[0], a[1]))
		hybridEpilogueRef(want, acc, rows, off, sc, bias, a[0], a[1])
		for j := range got {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("case %d (rows %d n %d): output %d = %g, reference %g", i, rows, n, j, got[j], want[j])
			}
		}
	}
	if epilogueVecSafe([]float32{1, float32(math.Copysign(0, -1))}, 0, 6) {
		t.Fatal("a −0 bias must keep the epilogue on the Go loop")
	}
}

// BenchmarkHybridConvKWS runs the hybrid CONV_2D layers of
// mlt_kws_dscnn_f32 (a 10×4 stride-2 first layer over one channel, and a
// 64→64 pointwise one) on one image.
func BenchmarkHybridConvKWS(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, c := range []struct {
		name                      string
		h, w, cin, fh, fw, stride int
		cout, outH, outW          int
	}{
		{"first10x4", 49, 10, 1, 10, 4, 2, 64, 25, 5},
		{"pointwise", 25, 5, 64, 1, 1, 1, 64, 25, 5},
	} {
		b.Run(c.name, func(b *testing.B) {
			wv := make([]int8, c.cout*c.fh*c.fw*c.cin)
			for i := range wv {
				wv[i] = int8(r.Intn(255) - 127)
			}
			bv := make([]float32, c.cout)
			for i := range bv {
				bv[i] = float32(r.NormFloat64())
			}
			in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, c.h, c.w, c.cin}}
			out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, c.outH, c.outW, c.cout}}
			op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: c.stride, StrideH: c.stride,
				DilationW: 1, DilationH: 1, Activation: graph.ActRelu}}
			ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{c.cout, c.fh, c.fw, c.cin}, wv, []float32{0.01}), constF32("b", []int{c.cout}, bv)}
			k, err := heavyPrepareWith(graph.OpConv2D, fixedpoint.RuntimeRounding)(op, ins, []*graph.Tensor{out})
			if err != nil {
				b.Fatal(err)
			}
			x := randHybridInput(r, in.NumElements())
			y := refBuffer(graph.Float32, out.Shape, nil)
			xb := []*Buffer{{DType: graph.Float32, Shape: in.Shape, F32: x}}
			for b.Loop() {
				if err := k.Run(xb, []*Buffer{y}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPaddedIm2colMatchesIm2col checks the padded-copy im2col of
// few-channel hybrid convolutions against im2col on random geometries
// (odd sizes, strides 1..3, SAME and VALID, chunks starting mid-row).
func TestPaddedIm2colMatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	tested := 0
	for i := 0; i < 400; i++ {
		fh, fw, s := 1+r.Intn(10), 1+r.Intn(5), 1+r.Intn(3)
		inC := 1 + r.Intn(5)
		pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[r.Intn(2)]
		h, w := fh+r.Intn(20), fw+r.Intn(12)
		outH, outW := graph.ConvOutputSize(pad, h, fh, s, 1), graph.ConvOutputSize(pad, w, fw, s, 1)
		g := &convGeom{inH: h, inW: w, inC: inC, fH: fh, fW: fw, outH: outH, outW: outW, outC: 1, strideH: s, strideW: s, dilH: 1, dilW: 1,
			padT: graph.ConvPadding(pad, h, fh, s, 1, outH), padL: graph.ConvPadding(pad, w, fw, s, 1, outW)}
		p, ok := newPaddedIm2col(g)
		if !ok || g.pointwise() {
			continue
		}
		tested++
		img := make([]int8, h*w*inC)
		for j := range img {
			img[j] = int8(r.Intn(256) - 128)
		}
		zp := int8(r.Intn(256) - 128)
		pimg := make([]int8, p.size(g))
		p.pad(pimg, img, g, zp)
		n := outH * outW
		r0 := r.Intn(n)
		rows := 1 + r.Intn(n-r0)
		got, want := make([]int8, rows*g.k()), make([]int8, rows*g.k())
		p.rows(got, pimg, g, r0, rows)
		im2col(want, img, g, r0, rows, zp)
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("case %d (%d×%d×%d, filter %d×%d, stride %d, %v, rows %d+%d): value %d = %d, im2col %d",
					i, h, w, inC, fh, fw, s, pad, r0, rows, j, got[j], want[j])
			}
		}
	}
	if tested < 100 {
		t.Fatalf("only %d geometries suit the padded path", tested)
	}
}
