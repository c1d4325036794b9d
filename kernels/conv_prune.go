package kernels

import "github.com/qbench/qbench/graph"

// Dead-tap pruning. A filter tap that reads only padding for every output
// pixel of a convolution (a 3×3 filter with dilation 2 over a 1×1 image
// has eight such taps; so does any wide SAME filter over a small image)
// contributes nothing: TFLite's reference kernels skip out-of-image taps,
// and the im2col and segmented paths multiply them by padding (0 for
// float, the input zero point for integers, where (x−zp)·w = 0). Dropping
// the leading and trailing dead rows and columns of taps at prepare time
// leaves a smaller filter over the same output positions, often the
// 1×1 pointwise form, which is one GEMM over the batch's pixels with no
// im2col. The kept taps read the same input positions as before, so:
//
//   - int8 and uint8 outputs are bit-identical (the same integer products,
//     the same requantization);
//   - float outputs are the same sum without the 0·w terms (exactly 0 for
//     finite w, so the same value up to the order of additions); a ±Inf or
//     NaN weight on a dead tap gives NaN in the unpruned im2col product
//     (0·Inf) and nothing here, as in TFLite's reference kernel.
//
// Interior dead taps (possible with a stride larger than the image) stay:
// the filter keeps a rectangular, evenly dilated window.

// liveTapRange returns the taps [lo, hi) of one window dimension between
// the first and the last that read an in-bounds input for some output
// position: tap k of output o reads o·stride − pad + k·dil, o < out, inputs
// [0, in). hi ≤ lo when no tap ever does.
func liveTapRange(in, out, f, stride, dil, pad int) (lo, hi int) {
	lo, hi = f, 0
	for k := range f {
		off := k*dil - pad // input read by output 0
		// The first output whose read is ≥ 0, and whether it is < in.
		o := 0
		if off < 0 {
			o = (-off + stride - 1) / stride
		}
		if o < out && o*stride+off < in {
			lo, hi = min(lo, k), k+1
		}
	}
	return lo, hi
}

// pruneTaps returns the geometry and OHWI filter without the leading and
// trailing dead tap rows and columns of g (see above), or g and w as they
// are when every tap is live, none is, the filter's element size is not
// one of graph's fixed ones, or the kept window would need a negative
// padding.
func pruneTaps(g *convGeom, w *graph.Tensor) (*convGeom, *graph.Tensor) {
	ylo, yhi := liveTapRange(g.inH, g.outH, g.fH, g.strideH, g.dilH, g.padT)
	xlo, xhi := liveTapRange(g.inW, g.outW, g.fW, g.strideW, g.dilW, g.padL)
	if yhi <= ylo || xhi <= xlo || (ylo == 0 && yhi == g.fH && xlo == 0 && xhi == g.fW) {
		return g, w
	}
	padT, padL := g.padT-ylo*g.dilH, g.padL-xlo*g.dilW
	es := w.DType.Size()
	if padT < 0 || padL < 0 || es == 0 || len(w.Shape) != 4 || w.Shape[1] != g.fH || w.Shape[2] != g.fW ||
		w.Shape[3] != g.inC || len(w.Data) != w.Shape[0]*g.k()*es {
		return g, w
	}
	ng := *g
	ng.fH, ng.fW, ng.padT, ng.padL = yhi-ylo, xhi-xlo, padT, padL
	nw := *w
	nw.Shape, nw.ShapeSignature = []int{w.Shape[0], ng.fH, ng.fW, g.inC}, nil
	nw.Data = make([]byte, 0, w.Shape[0]*ng.k()*es)
	run := ng.fW * g.inC * es // one kept tap row of one output channel
	for o := range w.Shape[0] {
		for ky := ylo; ky < yhi; ky++ {
			at := ((o*g.fH+ky)*g.fW + xlo) * g.inC * es
			nw.Data = append(nw.Data, w.Data[at:at+run]...)
		}
	}
	return &ng, &nw
}
