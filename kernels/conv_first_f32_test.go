package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// firstCase is one random few-channel float convolution.
type firstCase struct {
	batch, h, w, inC, outC, fH, fW, sH, sW, dH, dW int
	pad                                            graph.Padding
	act                                            graph.Activation
}

func (c firstCase) String() string {
	return fmt.Sprintf("%dx%dx%dx%d→%d %dx%d s%dx%d d%dx%d %v %v", c.batch, c.h, c.w, c.inC, c.outC, c.fH, c.fW, c.sH, c.sW, c.dH, c.dW, c.pad, c.act)
}

func (c firstCase) outSize() (int, int) {
	return graph.ConvOutputSize(c.pad, c.h, c.fH, c.sH, c.dH), graph.ConvOutputSize(c.pad, c.w, c.fW, c.sW, c.dW)
}

// prepare builds c's conv on path with weights ws and bias bs.
func (c firstCase) prepare(t testing.TB, ws, bs []float32, path convPath) Kernel {
	t.Helper()
	outH, outW := c.outSize()
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{c.batch, c.h, c.w, c.inC}}
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{c.batch, outH, outW, c.outC}}
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: c.sH, StrideW: c.sW,
		DilationH: c.dH, DilationW: c.dW, Activation: c.act}}
	k, err := prepareConv2DWith(op, []*graph.Tensor{in, constF32("w", []int{c.outC, c.fH, c.fW, c.inC}, ws), constF32("b", []int{c.outC}, bs)},
		[]*graph.Tensor{out}, fixedpoint.SingleRounding, path)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	return k
}

func randomFirstCase(r *rand.Rand) firstCase {
	c := firstCase{
		batch: 1 + r.IntN(2)*r.IntN(3), h: 1 + r.IntN(12), w: 1 + r.IntN(40),
		inC: 1 + r.IntN(4), outC: []int{16, 32, 48, 16, 5, 13, 24, 37}[r.IntN(8)],
		fH: 1 + r.IntN(4), fW: 1 + r.IntN(4), sH: 1 + r.IntN(3), sW: 1 + r.IntN(2), dH: 1 + r.IntN(2)*r.IntN(2), dW: 1 + r.IntN(2)*r.IntN(2),
		pad: graph.Padding(r.IntN(2)), act: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.IntN(3)],
	}
	return c
}

// TestConvFirstF32MatchesIm2col compares the direct few-channel kernel
// (the AVX-512 rows where this CPU has them, and the Go row loop) with
// the im2col GEMM on random layers: odd widths (every pixel group and
// tail), strides, dilations, both paddings, channel counts the vector
// blocks cover and ones only the Go loop takes; each output within
// firstF32Tol of its own Σ|x·w| + |b|.
func TestConvFirstF32MatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 3))
	worst := 0.0
	runs := map[string]int{}
	for iter := 0; iter < 300; iter++ {
		c := randomFirstCase(r)
		outH, outW := c.outSize()
		if outH < 1 || outW < 1 {
			continue
		}
		xs := make([]float32, c.batch*c.h*c.w*c.inC)
		for i := range xs {
			xs[i] = float32(r.NormFloat64())
		}
		ws := make([]float32, c.outC*c.fH*c.fW*c.inC)
		for i := range ws {
			ws[i] = float32(r.NormFloat64())
		}
		bs := make([]float32, c.outC)
		for i := range bs {
			bs[i] = float32(r.NormFloat64())
		}
		n := c.batch * outH * outW * c.outC
		ref := runF32(t, c.prepare(t, ws, bs, pathIm2col), xs, n)
		abs := func(v []float32) []float32 {
			a := make([]float32, len(v))
			for i, x := range v {
				a[i] = float32(math.Abs(float64(x)))
			}
			return a
		}
		ca := c
		ca.act = graph.ActNone
		scale := runF32(t, ca.prepare(t, abs(ws), abs(bs), pathIm2col), abs(xs), n)
		for _, form := range firstF32Forms(t) {
			k, ok := form.prepare(t, c, ws, bs)
			if !ok {
				continue
			}
			runs[form.name]++
			got := runF32(t, k, xs, n)
			got2 := runF32(t, k, xs, n) // the pooled padded image, second use
			for i := range got {
				if got[i] != got2[i] {
					t.Fatalf("%v %s: output %d differs between runs: %v, %v", c, form.name, i, got[i], got2[i])
				}
				d := math.Abs(float64(got[i]) - float64(ref[i]))
				if d == 0 {
					continue
				}
				rel := d / float64(scale[i])
				worst = max(worst, rel)
				if !(rel <= firstF32Tol) {
					t.Fatalf("%v %s: output %d = %v, im2col %v (|Δ|/scale %.3g > %g)", c, form.name, i, got[i], ref[i], rel, firstF32Tol)
				}
			}
		}
	}
	t.Logf("largest |direct − im2col| / (Σ|x·w| + |b|): %.3g; layers per form %v", worst, runs)
	for _, form := range firstF32Forms(t) {
		if runs[form.name] < 50 {
			t.Errorf("form %s ran only %d layers", form.name, runs[form.name])
		}
	}
}

// firstF32Form is one way to build the direct kernel.
type firstF32Form struct {
	name    string
	prepare func(t *testing.T, c firstCase, ws, bs []float32) (Kernel, bool)
}

// firstF32Forms lists the Go row loop and, where this CPU has it, the
// AVX-512 one.
func firstF32Forms(t *testing.T) []firstF32Form {
	build := func(t *testing.T, c firstCase, ws, bs []float32) (*convFirstF32, bool) {
		k, ok := c.prepare(t, ws, bs, pathFirstF32).(*convFirstF32)
		return k, ok
	}
	forms := []firstF32Form{{"go", func(t *testing.T, c firstCase, ws, bs []float32) (Kernel, bool) {
		k, ok := build(t, c, ws, bs)
		if ok {
			k.row = convFirstF32Go
		}
		return k, ok
	}}}
	if firstF32AVX512 {
		forms = append(forms, firstF32Form{"avx512", func(t *testing.T, c firstCase, ws, bs []float32) (Kernel, bool) {
			k, ok := build(t, c, ws, bs)
			return k, ok && k.vw == 16
		}})
	}
	return forms
}

// TestConvFirstF32NaN checks that a NaN input reaches exactly the outputs
// whose window holds it, through the clamp, in every form: a 37-wide row
// runs every pixel group (24, 8, 4, 1) and each holds a NaN.
func TestConvFirstF32NaN(t *testing.T) {
	nan := float32(math.NaN())
	nans := [][2]int{{4, 5}, {2, 27}, {6, 33}, {7, 36}, {0, 0}}
	for _, outC := range []int{16, 32, 37} {
		for _, act := range []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6} {
			c := firstCase{batch: 1, h: 9, w: 37, inC: 3, outC: outC, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame, act: act}
			xs := make([]float32, c.h*c.w*c.inC)
			for i := range xs {
				xs[i] = float32(i%7) - 3
			}
			for i, p := range nans {
				xs[(p[0]*c.w+p[1])*c.inC+i%3] = nan
			}
			ws := make([]float32, outC*9*c.inC)
			for i := range ws {
				ws[i] = float32(i%5) - 2
			}
			bs := make([]float32, outC)
			for _, form := range firstF32Forms(t) {
				k, ok := form.prepare(t, c, ws, bs)
				if !ok {
					continue
				}
				y := runF32(t, k, xs, c.h*c.w*outC)
				for oy := 0; oy < c.h; oy++ {
					for ox := 0; ox < c.w; ox++ {
						hit := false
						for _, p := range nans {
							hit = hit || (oy-p[0] <= 1 && p[0]-oy <= 1 && ox-p[1] <= 1 && p[1]-ox <= 1)
						}
						for o := 0; o < outC; o++ {
							if v := y[(oy*c.w+ox)*outC+o]; (v != v) != hit {
								t.Fatalf("%v %s: output (%d,%d,%d) = %v, want NaN: %v", c, form.name, oy, ox, o, v, hit)
							}
						}
					}
				}
			}
		}
	}
}

// TestConvFirstF32AutoChoice checks pathAuto's choice on seed-cnn's first
// layer and a stride-2 RGB stem (direct when the AVX-512 kernels run),
// that wider inputs and odd channel counts keep the GEMM paths, and that
// without AVX-512 the first layer stays on them too.
func TestConvFirstF32AutoChoice(t *testing.T) {
	cases := []struct {
		c    firstCase
		want bool
	}{
		{firstCase{batch: 1, h: 80, w: 80, inC: 3, outC: 16, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}, true},
		{firstCase{batch: 1, h: 33, w: 33, inC: 3, outC: 32, fH: 3, fW: 3, sH: 2, sW: 2, dH: 1, dW: 1, pad: graph.PaddingSame}, true},
		{firstCase{batch: 1, h: 20, w: 20, inC: 16, outC: 32, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}, false},
		{firstCase{batch: 1, h: 20, w: 20, inC: 3, outC: 24, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}, false},
	}
	check := func(avx512 bool) {
		saved := firstF32AVX512
		firstF32AVX512 = avx512
		defer func() { firstF32AVX512 = saved }()
		for _, tc := range cases {
			c := tc.c
			ws := make([]float32, c.outC*c.fH*c.fW*c.inC)
			_, got := c.prepare(t, ws, make([]float32, c.outC), pathAuto).(*convFirstF32)
			if want := tc.want && avx512; got != want {
				t.Errorf("%v (AVX-512 %v): direct few-channel kernel chosen %v, want %v", c, avx512, got, want)
			}
		}
	}
	check(false)
	if firstF32AVX512 {
		check(true)
	}
}

// TestConvFirstF32AllocFree checks that Run allocates nothing once its
// padded image is pooled.
func TestConvFirstF32AllocFree(t *testing.T) {
	c := firstCase{batch: 2, h: 20, w: 20, inC: 3, outC: 16, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}
	k := c.prepare(t, make([]float32, 16*27), make([]float32, 16), pathFirstF32)
	ins := []*Buffer{{DType: graph.Float32, F32: make([]float32, 2*20*20*3)}}
	outs := []*Buffer{{DType: graph.Float32, F32: make([]float32, 2*20*20*16)}}
	if err := k.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { _ = k.Run(ins, outs) }); n > 0 {
		t.Errorf("Run allocates %v times", n)
	}
}

// BenchmarkConvFirstF32 compares the direct kernel with the GEMM paths
// pathAuto took before it, on seed-cnn's first layer (batch 8) and an RGB
// stride-2 stem; cpu-ns/op is the figure to compare on a shared machine
// (GMAC/s is wall-clock).
func BenchmarkConvFirstF32(b *testing.B) {
	for _, c := range []firstCase{
		{batch: 8, h: 80, w: 80, inC: 3, outC: 16, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame},
		{batch: 1, h: 224, w: 224, inC: 3, outC: 32, fH: 3, fW: 3, sH: 2, sW: 2, dH: 1, dW: 1, pad: graph.PaddingSame},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		ws := make([]float32, c.outC*c.fH*c.fW*c.inC)
		for i := range ws {
			ws[i] = float32(r.NormFloat64())
		}
		outH, outW := c.outSize()
		ins := []*Buffer{{DType: graph.Float32, F32: make([]float32, c.batch*c.h*c.w*c.inC)}}
		outs := []*Buffer{{DType: graph.Float32, F32: make([]float32, c.batch*outH*outW*c.outC)}}
		for _, p := range []struct {
			name string
			path convPath
		}{{"direct", pathFirstF32}, {"segmented", pathSegmented}, {"im2col", pathIm2col}} {
			k := c.prepare(b, ws, make([]float32, c.outC), p.path)
			b.Run(fmt.Sprintf("%dx%dx%d-s%d/%s", c.h, c.w, c.outC, c.sW, p.name), func(b *testing.B) {
				macs := c.batch * outH * outW * c.outC * c.fH * c.fW * c.inC
				runCPU(b, func() { _ = k.Run(ins, outs) })
				b.ReportMetric(float64(macs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}
