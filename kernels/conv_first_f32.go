package kernels

import (
	"github.com/qbench/qbench/graph"
)

// Float first layers (an RGB image under a 3×3 window, seed-cnn's
// 80×80×3→16) have rows of only fH·fW·inC = 27 products per output, so
// the GEMM paths spend a good part of their time outside the
// multiply-adds: the segmented product walks three 9-value segments per
// row, with a bias, clamp and store per tile of 28 pixels, and computes
// the padded columns it then drops. convFirstF32 is a direct loop
// instead: per block of 16 output channels (one zmm) and group of 24
// pixels along an output row (then 8, 4 and 1 for the rest of the row),
// each tap's weights are loaded once and each pixel's input value is
// broadcast against them, all accumulators in registers, over a
// zero-bordered copy of the image so no tap is tested for padding.
// Measured (BenchmarkConvFirstF32, thread CPU time, AVX-512): 10–15%
// less time than the segmented path on seed-cnn's first layer. There is
// no AVX2 form: its best register tile is the segmented GEMM's own 6×16,
// and the direct loop measured 2–5% slower than that path, so pathAuto
// takes the direct loop only with AVX-512.
//
// Precision: each output is Σ_t x_t·w_t in tap order with one rounding per
// fused multiply-add, then + bias, so it differs from the im2col GEMM
// (another order and blocking) only by reassociation:
// TestConvFirstF32MatchesIm2col bounds the difference at firstF32Tol of
// Σ|x·w| + |b| of the output, and the Go row loop (-tags noasm, other
// arches) is held to the same bound. Non-finite inputs behave as in the
// GEMM paths (a NaN reaches every output whose window holds it and
// survives the clamp); padded taps multiply the weights by +0 as the
// segmented path does.

// firstF32Tol is the tested bound on |direct − im2col| relative to the
// output's Σ|x·w| + |b| (27 reordered float32 sums stay near 1e-7).
const firstF32Tol = 1e-6

// firstF32MaxTaps bounds fH·fW·inC: beyond a few dozen taps the GEMM's
// larger register tiles reuse each loaded input more.
const firstF32MaxTaps = 64

// convFirstF32 is the direct float convolution of one few-channel layer.
type convFirstF32 struct {
	op     *graph.Op
	g      *convGeom
	vw     int       // output channels per block: 16 (vector kernels) or outC (Go)
	taps   int       // fH·fW·inC
	w      []float32 // [outC/vw][taps][vw]
	offs   []int     // tap t's offset in the padded image from the window origin, in floats
	offsB  []int     // the same in bytes (the assembly's form)
	bias   []float32
	lo, hi float32
	wp, hp int // padded image width and height (pixels)
	row    firstF32Row
	pool   freeList // *[]float32: one padded image
}

// firstF32Row computes the vw channels of block cb for n pixels of one
// output row: src is the padded image from the first pixel's window
// origin, dst the output from the first pixel's block.
type firstF32Row func(k *convFirstF32, dst []float32, src []float32, cb, n int)

// firstF32Applies reports whether g has the shape convFirstF32 serves: a
// float window over at most 4 channels, a pixel step the assembly has a
// kernel for, and padding inside the window (newConvGeom's SAME or VALID).
func firstF32Applies(g *convGeom) bool {
	return g.inD == graph.Float32 && g.outD == graph.Float32 && g.inC <= 4 && g.strideW <= 2 &&
		g.fH*g.fW*g.inC <= firstF32MaxTaps && g.padT >= 0 && g.padL >= 0 &&
		g.padT <= (g.fH-1)*g.dilH && g.padL <= (g.fW-1)*g.dilW
}

// firstF32Worthwhile is pathAuto's choice: the AVX-512 kernels for the
// output channels and the measured shape, three channels (RGB) at stride
// 1 or 2 under a window of at least 2×2.
func firstF32Worthwhile(g *convGeom) bool {
	return firstF32Width(g.outC) != 0 && g.inC == 3 && g.fH*g.fW >= 4
}

// newConvFirstF32 packs the weights wv (OHWI) of g for blocks of vw
// channels (16: the AVX-512 kernels; 0: the Go row loop, one block of
// all outC channels).
func newConvFirstF32(op *graph.Op, g *convGeom, wv, bias []float32, lo, hi float32, vw int) *convFirstF32 {
	k := &convFirstF32{op: op, g: g, vw: vw, taps: g.k(), bias: bias, lo: lo, hi: hi}
	k.hp = (g.outH-1)*g.strideH + (g.fH-1)*g.dilH + 1
	k.wp = (g.outW-1)*g.strideW + (g.fW-1)*g.dilW + 1
	k.row = convFirstF32Go
	if vw == 0 {
		k.vw = g.outC
	} else {
		k.row = firstF32RowVec(g.strideW*g.inC, vw)
	}
	for ky := 0; ky < g.fH; ky++ {
		for kx := 0; kx < g.fW; kx++ {
			for c := 0; c < g.inC; c++ {
				o := (ky*g.dilH*k.wp+kx*g.dilW)*g.inC + c
				k.offs = append(k.offs, o)
				k.offsB = append(k.offsB, 4*o)
			}
		}
	}
	k.w = make([]float32, g.outC*k.taps)
	for o := 0; o < g.outC; o++ {
		cb, j := o/k.vw, o%k.vw
		for t := 0; t < k.taps; t++ {
			k.w[(cb*k.taps+t)*k.vw+j] = wv[o*k.taps+t]
		}
	}
	n := k.hp * k.wp * g.inC
	k.pool.New = func() any {
		s := make([]float32, n)
		return &s
	}
	return k
}

// Run implements Kernel.
func (k *convFirstF32) Run(ins, outs []*Buffer) error {
	g := k.g
	in, out, batch, err := convBuffers(k.op, g, ins, outs)
	if err != nil {
		return err
	}
	ps := k.pool.Get().(*[]float32)
	defer k.pool.Put(ps)
	padded := *ps
	inImg, outImg := g.inH*g.inW*g.inC, g.outH*g.outW*g.outC
	c := g.inC
	// Input rows and columns past the padded extent (VALID windows that
	// do not reach them) are not copied; the border is never written, so
	// it stays zero.
	rows := min(g.inH, k.hp-g.padT)
	n := min(g.inW, k.wp-g.padL) * c
	pitch := k.wp * c
	for b := 0; b < batch; b++ {
		src := in.F32[b*inImg : (b+1)*inImg]
		dst := out.F32[b*outImg : (b+1)*outImg]
		for iy := 0; iy < rows; iy++ {
			o := (iy+g.padT)*pitch + g.padL*c
			copy(padded[o:o+n], src[iy*g.inW*c:])
		}
		for oy := 0; oy < g.outH; oy++ {
			s := padded[oy*g.strideH*pitch:]
			d := dst[oy*g.outW*g.outC:]
			for cb := 0; cb < g.outC/k.vw; cb++ {
				k.row(k, d[cb*k.vw:], s, cb, g.outW)
			}
		}
	}
	return nil
}

// convFirstF32Go is the plain-Go row loop (firstF32Row): taps in order
// from +0, then the bias and the clamp, as the vector kernels.
func convFirstF32Go(k *convFirstF32, dst []float32, src []float32, cb, n int) {
	step := k.g.strideW * k.g.inC
	w := k.w[cb*k.taps*k.vw : (cb+1)*k.taps*k.vw]
	bias := k.bias[cb*k.vw : (cb+1)*k.vw]
	for p := 0; p < n; p++ {
		x := src[p*step:]
		out := dst[p*k.g.outC : p*k.g.outC+k.vw]
		for j := range out {
			var acc float32
			for t, o := range k.offs {
				acc += x[o] * w[t*k.vw+j]
			}
			out[j] = min(max(acc+bias[j], k.lo), k.hi)
		}
	}
}
