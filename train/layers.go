package train

import (
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/gemm"
)

// convGeom is the geometry of one 2-D convolution over an NHWC batch.
// Weights are OHWI ([Cout, KH, KW, Cin]), which is both TFLite's layout and
// the row-major [Cout, K] matrix the GEMMs want (K = KH·KW·Cin).
type convGeom struct {
	H, W, Cin    int // input extent
	KH, KW, Cout int
	Stride       int
	Pad          graph.Padding
	OH, OW       int // output extent
	PadT, PadL   int // padding before the first row/column
}

func newConvGeom(h, w, cin, kh, kw, cout, stride int, pad graph.Padding) convGeom {
	g := convGeom{H: h, W: w, Cin: cin, KH: kh, KW: kw, Cout: cout, Stride: stride, Pad: pad}
	g.OH = graph.ConvOutputSize(pad, h, kh, stride, 1)
	g.OW = graph.ConvOutputSize(pad, w, kw, stride, 1)
	g.PadT = graph.ConvPadding(pad, h, kh, stride, 1, g.OH)
	g.PadL = graph.ConvPadding(pad, w, kw, stride, 1, g.OW)
	return g
}

// K is the patch length, the inner dimension of the convolution GEMMs.
func (g convGeom) K() int { return g.KH * g.KW * g.Cin }

// im2col writes one row per output pixel of the n images in x: the KH·KW·Cin
// input values under the filter, zeros where the filter hangs over the
// border. col must hold n·OH·OW·K values. It works one filter row (ky) of
// one output row at a time, so the pixels whose filter row lies wholly
// inside the image are a tight loop of contiguous copies.
func im2col(g convGeom, x []float32, n int, col []float32) {
	k := g.K()
	rowLen := g.KW * g.Cin
	// Output columns [oxLo, oxHi) read whole filter rows inside the image.
	oxLo := min((g.PadL+g.Stride-1)/g.Stride, g.OW)
	oxHi := oxLo
	if last := g.W - g.KW + g.PadL; last >= 0 {
		oxHi = max(oxLo, min(last/g.Stride+1, g.OW))
	}
	for b := 0; b < n; b++ {
		img := x[b*g.H*g.W*g.Cin : (b+1)*g.H*g.W*g.Cin]
		for oy := 0; oy < g.OH; oy++ {
			out := col[(b*g.OH+oy)*g.OW*k:][:g.OW*k]
			for ky := 0; ky < g.KH; ky++ {
				iy := oy*g.Stride - g.PadT + ky
				if iy < 0 || iy >= g.H {
					for ox := 0; ox < g.OW; ox++ {
						clear(out[ox*k+ky*rowLen:][:rowLen])
					}
					continue
				}
				src := img[iy*g.W*g.Cin : (iy+1)*g.W*g.Cin]
				for ox := 0; ox < oxLo; ox++ {
					im2colEdge(g, src, ox, out[ox*k+ky*rowLen:][:rowLen])
				}
				if rowLen == 9 {
					// 3x3 over RGB: fixed-size moves (a few vector
					// stores) instead of a memmove call per 36 bytes.
					for ox := oxLo; ox < oxHi; ox++ {
						s := src[(ox*g.Stride-g.PadL)*g.Cin:]
						*(*[9]float32)(out[ox*k+ky*rowLen:]) = *(*[9]float32)(s)
					}
				} else {
					for ox := oxLo; ox < oxHi; ox++ {
						copy(out[ox*k+ky*rowLen:][:rowLen], src[(ox*g.Stride-g.PadL)*g.Cin:][:rowLen])
					}
				}
				for ox := oxHi; ox < g.OW; ox++ {
					im2colEdge(g, src, ox, out[ox*k+ky*rowLen:][:rowLen])
				}
			}
		}
	}
}

// im2colEdge fills one filter row d (KW·Cin values) of output column ox
// from input row src, with zeros where the filter leaves the image.
func im2colEdge(g convGeom, src []float32, ox int, d []float32) {
	ix0 := ox*g.Stride - g.PadL
	for kx := 0; kx < g.KW; kx++ {
		ix := ix0 + kx
		dd := d[kx*g.Cin : (kx+1)*g.Cin]
		if ix < 0 || ix >= g.W {
			clear(dd)
		} else {
			copy(dd, src[ix*g.Cin:][:g.Cin])
		}
	}
}

// col2im is im2col's adjoint: it sums every patch gradient back into the
// input positions it was read from. dx (n·H·W·Cin values) is overwritten.
func col2im(g convGeom, dcol []float32, n int, dx []float32) {
	clear(dx[:n*g.H*g.W*g.Cin])
	k := g.K()
	// Patch rows of a multiple of 16 floats (seed-cnn's layers after the
	// first) are added with AVX-512 when available.
	vec := avx512Asm && g.KW*g.Cin%16 == 0
	for b := 0; b < n; b++ {
		img := dx[b*g.H*g.W*g.Cin : (b+1)*g.H*g.W*g.Cin]
		for oy := 0; oy < g.OH; oy++ {
			for ox := 0; ox < g.OW; ox++ {
				src := dcol[((b*g.OH+oy)*g.OW+ox)*k:][:k]
				iy0 := oy*g.Stride - g.PadT
				ix0 := ox*g.Stride - g.PadL
				rowLen := g.KW * g.Cin
				for ky := 0; ky < g.KH; ky++ {
					iy := iy0 + ky
					if iy < 0 || iy >= g.H {
						continue
					}
					if ix0 >= 0 && ix0+g.KW <= g.W {
						// The filter row lies inside the image: one contiguous run.
						s := src[ky*rowLen:][:rowLen]
						d := img[(iy*g.W+ix0)*g.Cin:][:rowLen]
						if vec {
							addRowsAVX512(rowLen/16, &d[0], &s[0])
							continue
						}
						for c, v := range s {
							d[c] += v
						}
						continue
					}
					for kx := 0; kx < g.KW; kx++ {
						ix := ix0 + kx
						if ix < 0 || ix >= g.W {
							continue
						}
						s := src[(ky*g.KW+kx)*g.Cin:][:g.Cin]
						d := img[(iy*g.W+ix)*g.Cin:][:g.Cin]
						for c, v := range s {
							d[c] += v
						}
					}
				}
			}
		}
	}
}

// colBudget bounds the patch matrix of one group of images (floats,
// 1 MiB): the convolutions run a few images at a time so that their
// patches are written, multiplied and (in backward) re-read while they are
// still in L2, instead of streaming a whole chunk's patch matrix (up to
// 15 MB for seed-cnn) through memory three times.
const colBudget = 1 << 18

// convGroup is how many images of a batch of n one convolution processes
// at a time: as many as fit colBudget, at least one.
func convGroup(g convGeom, n int) int {
	per := g.OH * g.OW * g.K()
	return max(1, min(n, colBudget/max(per, 1)))
}

// convPacks holds one conv layer's weights packed for the GEMM core, per
// worker: packed once per chunk (not once per group of images) into
// storage reused across steps.
type convPacks struct {
	fwd *gemm.PackedF32 // W as Cout rows of K: y = col·Wᵀ
	// seg, when set, runs the forward pass without im2col (stride 1):
	// W packed in segments of KW·Cin for MulSegmented over pad, a group
	// of zero-padded images (hp×wp each).
	seg    *gemm.PackedF32
	pad    []float32
	hp, wp int
	bwd    *gemm.PackedF32 // Wᵀ as K rows of Cout: dcol = dY·W (nil for the first layer)
	wt     []float32       // Wᵀ scratch
}

// newConvPacks sizes the packs of a layer that processes up to n images
// per call; withDX is false for a layer whose input gradient is never
// needed (the first).
func newConvPacks(g convGeom, n int, withDX bool) *convPacks {
	k := g.K()
	rows := convGroup(g, n) * g.OH * g.OW
	pk := &convPacks{fwd: gemm.PackF32Rows(rows, make([]float32, g.Cout*k), g.Cout, k, k)}
	// The segmented pass also computes the padding's rows and columns;
	// it pays off when they add at most 1/8 (measured for seed-cnn at
	// 80x80: the 80x80 and 40x40 layers gain, 20x20 and 10x10 lose).
	if hp, wp := g.OH-1+g.KH, g.OW-1+g.KW; g.Stride == 1 && 8*hp*wp <= 9*g.OH*g.OW {
		pk.hp, pk.wp = hp, wp
		pk.seg = gemm.PackF32Segmented(make([]float32, g.Cout*k), g.Cout, k, k, g.KW*g.Cin)
		pk.pad = make([]float32, convGroup(g, n)*pk.hp*pk.wp*g.Cin)
	}
	if withDX {
		pk.wt = make([]float32, k*g.Cout)
		pk.bwd = gemm.PackF32Rows(rows, pk.wt, k, g.Cout, g.Cout)
	}
	return pk
}

// convForward computes y = conv(x, w) + bias for n images (NHWC; y holds
// n·OH·OW·Cout values), a group of images at a time with col (at least
// convGroup(g, n)·OH·OW·K values) as patch scratch. It packs w into pk.
// With bias nil the bias is left out (the model adds it in the pooling
// pass instead, saving a pass over y). With post non-nil, y is scratch
// for one group (convGroup(g, n)·OH·OW·Cout values, or convSegYLen when
// pk.seg is set): post receives each group of nb images from b0 as soon
// as it is computed, while it is still in cache (the model pools it
// there), with each image's extent hs×ws in y (rows beyond OH and columns
// beyond OW are not output pixels); the output is not kept.
func convForward(g convGeom, pk *convPacks, x []float32, n int, w, bias, col, y []float32, post func(b0, nb int, yb []float32, hs, ws int)) {
	k, in, out := g.K(), g.H*g.W*g.Cin, g.OH*g.OW*g.Cout
	step := convGroup(g, n)
	if post != nil && pk.seg != nil {
		convForwardSeg(g, pk, x, n, w, bias, y, post)
		return
	}
	pk.fwd.Repack(w, k)
	for b0 := 0; b0 < n; b0 += step {
		nb := min(step, n-b0)
		m := nb * g.OH * g.OW
		im2col(g, x[b0*in:], nb, col)
		yb := y[:nb*out]
		if post == nil {
			yb = y[b0*out : (b0+nb)*out]
		}
		pk.fwd.Mul(m, col, k, yb, g.Cout)
		if bias != nil {
			addBias(yb, bias)
		}
		if post != nil {
			post(b0, nb, yb, g.OH, g.OW)
		}
	}
}

// convSegYLen is the y scratch convForward needs per group of images
// when pk.seg is set: images of hp×wp output rows (the padding's rows and
// columns are computed too, and skipped by the pool).
func convSegYLen(g convGeom, n int) int {
	return convGroup(g, n) * (g.OH - 1 + g.KH) * (g.OW - 1 + g.KW) * g.Cout
}

// convForwardSeg is convForward for stride 1 without im2col: each group
// of images is copied into zero-padded hp×wp frames, and output pixel
// (y, x) of an image is row y·wp + x of one MulSegmented call over the
// whole group (see gemm.PackedF32.MulSegmented). y then holds, per
// image, hp×wp rows of which the first OW of the first OH are valid;
// post receives it with that extent.
func convForwardSeg(g convGeom, pk *convPacks, x []float32, n int, w, bias, y []float32, post func(b0, nb int, yb []float32, hs, ws int)) {
	k, in := g.K(), g.H*g.W*g.Cin
	hp, wp := pk.hp, pk.wp
	frame := hp * wp * g.Cin
	rowLen := g.W * g.Cin
	pk.seg.Repack(w, k)
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	step := convGroup(g, n)
	for b0 := 0; b0 < n; b0 += step {
		nb := min(step, n-b0)
		for i := 0; i < nb; i++ {
			// Only the interior is written: the border stays zero.
			src, dst := x[(b0+i)*in:], pk.pad[i*frame:]
			for iy := 0; iy < g.H; iy++ {
				copy(dst[((iy+g.PadT)*wp+g.PadL)*g.Cin:][:rowLen], src[iy*rowLen:][:rowLen])
			}
		}
		m := (nb-1)*hp*wp + (g.OH-1)*wp + g.OW
		yb := y[:nb*hp*wp*g.Cout]
		pk.seg.MulSegmented(1, m, pk.pad, g.Cin, wp*g.Cin, bias, lo, hi, yb, g.Cout)
		post(b0, nb, yb, hp, wp)
	}
}

// convBackward turns dy (the loss gradient at the conv output of the n
// images x) into the weight and bias gradients (dw, db overwritten) and,
// when dx is non-nil (pk must then have been made withDX), the input
// gradient. It works a group of images at a time (see convForward),
// rebuilding each group's patches in col — cheaper than keeping a whole
// chunk's patches from the forward pass, which would come back from
// memory — with dcol as the patch-gradient scratch (both at least
// convGroup(g, n)·OH·OW·K values). With db nil the bias gradient is
// skipped (poolReluBackward computed it). With pre non-nil, dy is scratch
// for one group: pre fills it with the gradient of the nb images from b0
// just before they are used (the model routes the pool's gradient there,
// so dy is consumed while in cache and never stored whole). dW sums the groups in order, so the result does not depend on
// how the batch is split across threads.
func convBackward(g convGeom, pk *convPacks, x, dy []float32, n int, w, dw, db, col, dcol, dx []float32, pre func(b0, nb int, dyb []float32)) {
	k, in, out := g.K(), g.H*g.W*g.Cin, g.OH*g.OW*g.Cout
	if db != nil {
		clear(db[:g.Cout])
	}
	if dx != nil {
		for co := 0; co < g.Cout; co++ {
			for j, v := range w[co*k : (co+1)*k] {
				pk.wt[j*g.Cout+co] = v
			}
		}
		pk.bwd.Repack(pk.wt, g.Cout)
	}
	step := convGroup(g, n)
	for b0 := 0; b0 < n; b0 += step {
		nb := min(step, n-b0)
		m := nb * g.OH * g.OW
		dyb := dy[:nb*out]
		if pre != nil {
			pre(b0, nb, dyb)
		} else {
			dyb = dy[b0*out : (b0+nb)*out]
		}
		im2col(g, x[b0*in:], nb, col)
		if db != nil {
			addColumnSums(dyb, g.Cout, db)
		}
		beta := float32(1)
		if b0 == 0 {
			beta = 0
		}
		// dW[Cout,K] += dYᵀ[Cout,M] · col[M,K]
		gemm.Sgemm(true, false, g.Cout, k, m, 1, dyb, g.Cout, col, k, beta, dw, k)
		if dx == nil {
			continue
		}
		// dcol[M,K] = dY[M,Cout] · W[Cout,K]
		pk.bwd.Mul(m, dyb, g.Cout, dcol, k)
		col2im(g, dcol, nb, dx[b0*in:])
	}
}

// addBias adds bias to every row of the row-major matrix y.
func addBias(y, bias []float32) {
	c := len(bias)
	for i := 0; i+c <= len(y); i += c {
		row := y[i : i+c]
		for j, b := range bias {
			row[j] += b
		}
	}
}

// addColumnSums adds the column sums of the row-major matrix dy (c
// columns) to db.
func addColumnSums(dy []float32, c int, db []float32) {
	for i := 0; i+c <= len(dy); i += c {
		row := dy[i : i+c]
		for j, v := range row {
			db[j] += v
		}
	}
}

// sumRows writes the column sums of the row-major matrix dy (c columns) to db.
func sumRows(dy []float32, c int, db []float32) {
	clear(db[:c])
	for i := 0; i+c <= len(dy); i += c {
		row := dy[i : i+c]
		for j, v := range row {
			db[j] += v
		}
	}
}

// poolGeom is a 2x2 stride-2 max-pool over an NHWC batch, VALID padding
// (an odd last row or column is dropped, as TFLite does).
type poolGeom struct{ H, W, C, OH, OW int }

func newPoolGeom(h, w, c int) poolGeom {
	return poolGeom{H: h, W: w, C: c, OH: h / 2, OW: w / 2}
}

// poolReluForward computes y = ReLU(max-pool 2x2/2 of x + bias), bias
// per channel (nil: none). The three are fused because ReLU, max and a
// per-channel bias commute (rounding is monotonic, so max(a+b, c+b) is
// exactly max(a, c)+b) and one pass over the large first feature map is
// much cheaper than three. When arg is non-nil (n·OH·OW·C bytes) it
// records each window's winner, the first (row-major) input equal to the
// maximum, 0..3: backward then reads one byte per output instead of the
// four inputs, so the conv output need not be kept at all.
func poolReluForward(p poolGeom, x, bias []float32, n int, y []float32, arg []uint8) {
	rowIn := p.W * p.C
	if bias == nil {
		bias = make([]float32, p.C)
	}
	bias = bias[:p.C]
	asm := avx512Asm && p.C%16 == 0 && arg != nil
	if asm && n*p.OH*p.OW > 0 {
		_ = arg[n*p.OH*p.OW*p.C-1] // the rows below write within arg
	}
	for b := 0; b < n; b++ {
		for oy := 0; oy < p.OH; oy++ {
			r0 := x[(b*p.H+2*oy)*rowIn:][:rowIn]
			r1 := x[(b*p.H+2*oy+1)*rowIn:][:rowIn]
			o := (b*p.OH + oy) * p.OW * p.C
			out := y[o:][:p.OW*p.C]
			if asm && p.OW > 0 {
				poolFwdRowAVX512(p.OW, p.C/16, &r0[0], &r1[0], &bias[0], &out[0], &arg[o])
				continue
			}
			for ox := 0; ox < p.OW; ox++ {
				a0, a1 := r0[2*ox*p.C:][:2*p.C], r1[2*ox*p.C:][:2*p.C]
				yo := out[ox*p.C:][:p.C]
				if arg == nil {
					for c := range yo {
						m := max(max(a0[c], a0[p.C+c]), max(a1[c], a1[p.C+c]))
						yo[c] = max(m+bias[c], 0)
					}
					continue
				}
				ao := arg[o+ox*p.C:][:p.C]
				for c := range yo {
					v00, v01, v10, v11 := a0[c], a0[p.C+c], a1[c], a1[p.C+c]
					m := max(max(v00, v01), max(v10, v11))
					yo[c] = max(m+bias[c], 0)
					// Branch-free (the winner is random): start from the
					// last input and let each earlier match override.
					w := uint8(3)
					w ^= (w ^ 2) & uint8(mask(v10 == m))
					w ^= (w ^ 1) & uint8(mask(v01 == m))
					w &^= uint8(mask(v00 == m))
					ao[c] = w
				}
			}
		}
	}
}

// poolReluBackward routes dy back through ReLU and the max-pool: each
// window's gradient goes to its recorded winner arg (see poolReluForward),
// and only where the window's output y was positive. dx (n·H·W·C) is
// overwritten entirely. When db is non-nil the bias gradient, the
// per-channel sum of dx, is added to it on the way.
func poolReluBackward(p poolGeom, arg []uint8, y, dy []float32, n int, dx, db []float32) {
	rowIn := p.W * p.C
	if p.H%2 != 0 || p.W%2 != 0 {
		// Odd trailing rows/columns belong to no window.
		clear(dx[:n*p.H*rowIn])
	}
	sum := db
	if sum == nil {
		sum = make([]float32, p.C)
	}
	sum = sum[:p.C]
	asm := avx512Asm && p.C%16 == 0 && p.OW > 0
	for b := 0; b < n; b++ {
		for oy := 0; oy < p.OH; oy++ {
			i0 := (b*p.H + 2*oy) * rowIn
			d0, d1 := dx[i0:][:rowIn], dx[i0+rowIn:][:rowIn]
			o := (b*p.OH + oy) * p.OW * p.C
			yo, go_, ao := y[o:][:p.OW*p.C], dy[o:][:p.OW*p.C], arg[o:][:p.OW*p.C]
			if asm {
				poolBwdRowAVX512(p.OW, p.C/16, &ao[0], &yo[0], &go_[0], &d0[0], &d1[0], &sum[0])
				continue
			}
			for ox := 0; ox < p.OW; ox++ {
				j := 2 * ox * p.C
				b00, b01 := d0[j:][:p.C], d0[j+p.C:][:p.C]
				b10, b11 := d1[j:][:p.C], d1[j+p.C:][:p.C]
				k := ox * p.C
				yv, gv, av := yo[k:][:p.C], go_[k:][:p.C], ao[k:][:p.C]
				for c := range yv {
					// Branch-free: the winner is data-dependent and random,
					// so branches would mispredict about half the time.
					g := math.Float32bits(gv[c]) & mask(yv[c] > 0)
					w := av[c]
					b00[c] = math.Float32frombits(g & mask(w == 0))
					b01[c] = math.Float32frombits(g & mask(w == 1))
					b10[c] = math.Float32frombits(g & mask(w == 2))
					b11[c] = math.Float32frombits(g & mask(w == 3))
					sum[c] += math.Float32frombits(g)
				}
			}
		}
	}
}

// mask is all ones when b is true, else zero.
func mask(b bool) uint32 {
	var m uint32
	if b {
		m = 1
	}
	return -m
}

// reluForward applies max(0, x) in place.
func reluForward(x []float32) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// reluBackward zeroes the gradient where the (post-ReLU) output y was not
// positive. It works in place on dy.
func reluBackward(y, dy []float32) {
	for i, v := range y[:len(dy)] {
		if v <= 0 {
			dy[i] = 0
		}
	}
}

// denseForward computes y[n,out] = x[n,in]·Wᵀ + bias with W as [out,in]
// (TFLite's FULLY_CONNECTED layout), using tmp (n·out values) as scratch.
// It computes yᵀ = W·xᵀ: W, the large operand (seed-cnn's first dense
// layer is 256×3200), is then read in place by the GEMM's direct kernels
// and only the small batch x is packed, instead of packing all of W.
func denseForward(x []float32, n, in, out int, w, bias, y, tmp []float32) {
	yt := tmp[:n*out]
	gemm.Sgemm(false, true, out, n, in, 1, w, in, x, in, 0, yt, n)
	for i := 0; i < n; i++ {
		row := y[i*out : (i+1)*out]
		for j := range row {
			row[j] = yt[j*n+i] + bias[j]
		}
	}
}

// denseBackward writes dW, db and (when dx is non-nil) dx from dy, using
// tmp (n·out values) as scratch. Both products read W and the batch in
// place (Sgemm's strided Aᵀ·B path): dW = dYᵀ·x directly, dx = (dYᵀ)ᵀ·W
// after transposing the small dY.
func denseBackward(x, dy []float32, n, in, out int, w, dw, db, dx, tmp []float32) {
	gemm.Sgemm(true, false, out, in, n, 1, dy, out, x, in, 0, dw, in)
	sumRows(dy[:n*out], out, db)
	if dx == nil {
		return
	}
	dyt := tmp[:n*out]
	for i := 0; i < n; i++ {
		for j, v := range dy[i*out : (i+1)*out] {
			dyt[j*n+i] = v
		}
	}
	gemm.Sgemm(true, false, n, in, out, 1, dyt, n, w, in, 0, dx, in)
}

// softmaxCrossEntropy computes, for n rows of k logits, the summed
// cross-entropy against labels and overwrites logits' gradient into dlogits
// as (softmax − onehot)·scale. scale is 1/(full batch size), so gradients
// summed over chunks of the batch give the gradient of the batch-mean loss.
// It returns the summed loss (float64) and the number of rows whose argmax
// equals the label. The max is subtracted first so exp never overflows.
func softmaxCrossEntropy(logits []float32, labels []int, n, k int, scale float32, dlogits []float32) (loss float64, correct int) {
	for i := 0; i < n; i++ {
		row := logits[i*k : (i+1)*k]
		mx := row[0]
		am := 0
		for j, v := range row {
			if v > mx {
				mx, am = v, j
			}
		}
		if am == labels[i] {
			correct++
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - mx))
		}
		lse := math.Log(sum) + float64(mx)
		loss += lse - float64(row[labels[i]])
		if dlogits != nil {
			d := dlogits[i*k : (i+1)*k]
			for j, v := range row {
				p := math.Exp(float64(v) - lse)
				if j == labels[i] {
					p -= 1
				}
				d[j] = float32(p) * scale
			}
		}
	}
	return loss, correct
}

// softmaxRows overwrites each row of k logits with its softmax probabilities.
func softmaxRows(x []float32, n, k int) {
	for i := 0; i < n; i++ {
		row := x[i*k : (i+1)*k]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v - mx))
			row[j] = float32(e)
			sum += e
		}
		inv := float32(1 / sum)
		for j := range row {
			row[j] *= inv
		}
	}
}
