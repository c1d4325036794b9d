package kernels

import (
	"github.com/qbench/qbench/kernels/gemm"
)

// Exact integer Winograd F(4,3) for int8 3×3 stride-1 convolutions, on
// CPUs whose int8 kernels multiply int16 pairs (AVX2 without VNNI):
// there a 3×3 conv already runs at VPMADDWD's peak, and only fewer
// multiplies make it faster. It is conv_wino.go's 1-D scheme — six
// segmented GEMMs (seg = inC, K = 3·inC) over transformed rows, then the
// output transform — in integers, bit for bit the direct sum:
//
//   - the input transform Bᵀ·d runs on the raw int8 image padded with the
//     input zero point (so every tap sees x, and the zero-point term is
//     the uniform −zp·Σw); Bᵀ's rows have absolute sums ≤ 10, so
//     |v| ≤ 1280 fits int16;
//   - the filters are transformed by 24·G, which is integer: |u| ≤
//     24·127 = 3048 fits int16;
//   - the products run on the int16-pair kernels (gemm.PackedI16) and
//     everything after is int32 arithmetic that wraps: ring arithmetic
//     mod 2³², in which the output transform Aᵀ gives 24·Σ x·w exactly.
//     Whenever the true 24·Σ x·w fits int32 — checked per layer at
//     prepare: 24·128·max_o Σ|w_o| < 2³¹ — that is the int32 value, and
//     dividing it by 24 is exact (a shift by 3, then a multiply by 3's
//     inverse mod 2³²);
//   - then the direct path's epilogue: −zp·Σw, bias, requantization in
//     the layer's rounding, activation clamp (requant.rowsInt8), fused
//     into the output transform where there is a vector form (winoOutQ).
//
// conv_wino2_s8.go's 2-D F(4×4, 3×3) halves the multiplies again and is
// pathAuto's first choice where it applies (wino2S8Worthwhile); this form
// serves the rest, and layers whose Σ|w| passes this plan's bound but not
// the 2-D one's (24× smaller).

// winoS8Plan is the Winograd form of one int8 convolution.
type winoS8Plan struct {
	g      *convGeom
	tiles  int // output tiles per row, ⌈outW/4⌉
	wp, hp int // padded input width 4·tiles+2 and height outH+2
	rows   int // output rows per block
	planeV int // int16 elements of one transformed-input plane (rows+2 rows)
	planeM int // int32 elements of one product plane (rows·tiles rows)
	u      [6]*gemm.PackedI16
	corr   []int32 // −zp·Σw per output channel
	zp     int8
	rq     *requant
	q      *winoOutQ // the fused output transform and requantization, nil when unavailable
	pool   freeList  // *winoS8Scratch
}

// winoS8Scratch is one Run's padded image, transformed input, products
// and the accumulators of one block of output rows.
type winoS8Scratch struct {
	padded []int8
	v      []int16
	m, acc []int32
}

// winoG24 is 24·G, the integer filter transform of F(4,3).
var winoG24 = [6][3]int32{
	{6, 0, 0},
	{-4, -4, -4},
	{-4, 4, -4},
	{1, 2, 4},
	{1, -2, 4},
	{0, 0, 24},
}

// winoS8BlockBytes bounds the transformed input, products and
// accumulators of one block of output rows (L2-resident).
const winoS8BlockBytes = 128 << 10

// winoS8MaxAbsSum bounds Σ|w| of an output channel: the largest |24·Σ x·w|
// with |x| ≤ 128 must stay below 2³¹.
const winoS8MaxAbsSum = (1<<31 - 1) / (24 * 128)

// winoS8Applies reports whether g can run as integer F(4,3): winoApplies'
// geometry (3×3, stride 1, undilated, padding the padded image covers).
func winoS8Applies(g *convGeom) bool { return winoApplies(g) }

// winoS8Worthwhile is pathAuto's choice: the CPU's own int8 kernels are
// the int16-pair ones with a vector segmented int16 kernel, the
// requantization has its vector form, the vector transforms and the
// 16-column tiles have channels to work on (seed-cnn's 3-channel conv0
// measured 0.045 → 0.082 ms), and the padded last tile wastes
// little (6·⌈outW/4⌉ products per row and 3 input rows where the direct
// conv does 9·outW/3: at most 70% of the direct multiplies).
func winoS8Worthwhile(g *convGeom, rq *requant) bool {
	return winoS8Family() && winoS8Shape(g, rq)
}

// winoS8Shape is winoS8Worthwhile's test of the layer alone: the vector
// requantization, at least 16 channels each way, little waste in the
// padded last tile.
func winoS8Shape(g *convGeom, rq *requant) bool {
	if rq.fast == nil || g.inC < 16 || g.outC < 16 {
		return false
	}
	tiles := (g.outW + 3) / 4
	return 2*tiles*10 <= 7*g.outW
}

// winoS8Family reports whether the CPU's int8 products run on kernels
// over int16 pairs with a vector segmented int16 kernel
// (gemm.I16Native), where halving the multiplies pays: the one test of
// the CPU both Winograd forms' pathAuto rules make.
func winoS8Family() bool { return gemm.I16Native() }

// newWinoS8Plan transforms and packs the weights wv (OHWI), or returns
// nil when a channel's Σ|w| could overflow the int32 sums.
func newWinoS8Plan(g *convGeom, wv []int8, zp int32, rq *requant) *winoS8Plan {
	corr := winoS8Corr(g, wv, zp, winoS8MaxAbsSum)
	if corr == nil {
		return nil
	}
	p := &winoS8Plan{g: g, tiles: (g.outW + 3) / 4, hp: g.outH + 2, corr: corr, zp: int8(zp), rq: rq,
		q: newWinoOutQ(rq, corr, false)}
	p.wp = 4*p.tiles + 2
	// Bytes per output row: 6 planes of int16 inputs and int32 products
	// per tile, the accumulators of 4 pixels per tile.
	perRow := 6*p.tiles*(2*g.inC+4*g.outC) + 16*p.tiles*g.outC
	p.rows = max(1, min(g.outH, winoS8BlockBytes/perRow))
	p.planeV = (p.rows + 2) * p.tiles * g.inC
	p.planeM = p.rows * p.tiles * g.outC
	k := 3 * g.inC
	u := make([]int16, g.outC*k)
	for xi := range 6 {
		for o := range g.outC {
			for ky := range 3 {
				for c := range g.inC {
					var s int32
					for kx := range 3 {
						s += winoG24[xi][kx] * int32(wv[((o*3+ky)*3+kx)*g.inC+c])
					}
					u[o*k+ky*g.inC+c] = int16(s)
				}
			}
		}
		p.u[xi] = gemm.PackI16Segmented(u, g.outC, k, k, g.inC)
	}
	p.pool.New = func() any {
		s := &winoS8Scratch{
			padded: make([]int8, p.hp*p.wp*g.inC),
			v:      make([]int16, 6*p.planeV),
			m:      make([]int32, 6*p.planeM),
		}
		if p.q == nil {
			s.acc = make([]int32, p.rows*4*p.tiles*g.outC) // the unfused epilogue's
		}
		// The border keeps the zero point: run writes only the interior.
		for i := range s.padded {
			s.padded[i] = p.zp
		}
		return s
	}
	return p
}

// winoS8Corr returns −zp·Σw per output channel of the OHWI 3×3 weights
// wv, or nil when a channel's Σ|w| exceeds maxAbs (the Winograd sums
// could overflow int32).
func winoS8Corr(g *convGeom, wv []int8, zp int32, maxAbs int64) []int32 {
	k9 := 9 * g.inC
	corr := make([]int32, g.outC)
	for o := range g.outC {
		var abs, sum int64
		for _, w := range wv[o*k9 : (o+1)*k9] {
			abs += int64(max(int32(w), -int32(w)))
			sum += int64(w)
		}
		if abs > maxAbs {
			return nil
		}
		corr[o] = int32(-int64(zp) * sum)
	}
	return corr
}

// winoS8PadImage copies the image img into the interior of padded (hp
// rows of wp pixels, border already the zero point); columns and rows
// past the padded image are not needed by any output.
func winoS8PadImage(g *convGeom, padded []int8, wp, hp int, img []int8) {
	c := g.inC
	n := min(g.inW, wp-g.padL) * c
	for iy := 0; iy < min(g.inH, hp-g.padT); iy++ {
		o := ((iy+g.padT)*wp + g.padL) * c
		copy(padded[o:o+n], img[iy*g.inW*c:])
	}
}

// run convolves a batch of images src into dst.
func (p *winoS8Plan) run(batch int, src, dst []int8) {
	g := p.g
	s := p.pool.Get().(*winoS8Scratch)
	defer p.pool.Put(s)
	c := g.inC
	inImg := g.inH * g.inW * c
	outRow := g.outW * g.outC
	rowV, rowM := p.tiles*c, p.tiles*g.outC
	for b := range batch {
		winoS8PadImage(g, s.padded, p.wp, p.hp, src[b*inImg:(b+1)*inImg])
		out := dst[b*g.outH*outRow : (b+1)*g.outH*outRow]
		for y0 := 0; y0 < g.outH; y0 += p.rows {
			rows := min(p.rows, g.outH-y0)
			for r := range rows + 2 {
				winoInS8(s.v[r*rowV:], p.planeV, s.padded[(y0+r)*p.wp*c:], p.tiles, c)
			}
			m := rows * p.tiles
			for xi := range p.u {
				p.u[xi].MulSegmented(m, s.v[xi*p.planeV:], c, rowV, s.m[xi*p.planeM:], g.outC)
			}
			if p.q != nil {
				for r := range rows {
					p.q.row(out[(y0+r)*outRow:(y0+r+1)*outRow], s.m[r*rowM:], p.planeM, p.tiles, g.outW, g.outC)
				}
				continue
			}
			for r := range rows {
				winoOutS8(s.acc[r*outRow:(r+1)*outRow], s.m[r*rowM:], p.planeM, p.tiles, g.outW, g.outC, p.corr)
			}
			p.rq.rowsInt8(out[y0*outRow:(y0+rows)*outRow], s.acc[:rows*outRow], rows*g.outW)
		}
	}
}

// winoInS8 transforms tiles tiles of one padded int8 row src (C channels
// per pixel, tile tx at pixel 4·tx) into plane ξ of dst at tile tx's
// row: dst[ξ·plane + tx·C + c] = (Bᵀ·d)[ξ].
func winoInS8(dst []int16, plane int, src []int8, tiles, C int) {
	_ = dst[5*plane+tiles*C-1]
	_ = src[(4*tiles+2)*C-1]
	cv := winoInS8Vec(dst, plane, src, tiles, C)
	if cv < C {
		winoInS8Go(dst, plane, src, tiles, C, cv)
	}
}

// winoInS8Go is winoInS8's plain-Go loop for channels c0..C−1.
func winoInS8Go(dst []int16, plane int, src []int8, tiles, C, c0 int) {
	for tx := range tiles {
		s := src[4*tx*C : (4*tx+6)*C]
		d := dst[tx*C:]
		for c := c0; c < C; c++ {
			d0, d1, d2, d3, d4, d5 := int16(s[c]), int16(s[C+c]), int16(s[2*C+c]), int16(s[3*C+c]), int16(s[4*C+c]), int16(s[5*C+c])
			d[c] = 4*d0 - 5*d2 + d4
			d[5*plane+c] = 4*d1 - 5*d3 + d5
			t0, t1 := d4-4*d2, d3-4*d1
			d[plane+c] = t0 + t1
			d[2*plane+c] = t0 - t1
			t2, t3 := d4-d2, 2*(d3-d1)
			d[3*plane+c] = t2 + t3
			d[4*plane+c] = t2 - t3
		}
	}
}

// winoOutS8 turns one output row's products (tile tx's product ξ at
// src[ξ·plane + tx·N + c]) into the accumulators Σ w·(x − zp) of its
// outW pixels of N channels at dst: Aᵀ·m = 24·Σ w·x (mod 2³²), divided
// exactly by 24, plus corr = −zp·Σw.
func winoOutS8(dst, src []int32, plane, tiles, outW, N int, corr []int32) {
	winoOutRow(dst, src, plane, tiles, outW, N, corr, false)
}

// winoOutRow is winoOutS8 (by576 false) and, for the 2-D scheme, wino2OutX
// (by576: Aᵀ·t = 576·Σ w·x, divided exactly by 576): the vector kernel on
// full tiles and on a partial last one, the Go loop on the channels left.
func winoOutRow(dst, src []int32, plane, tiles, outW, N int, corr []int32, by576 bool) {
	_ = src[5*plane+tiles*N-1]
	_ = dst[outW*N-1]
	corr = corr[:N]
	full := outW / 4
	cv := 0
	if full > 0 {
		cv = winoOutI32Vec(dst, src, plane, full, N, corr, by576)
		if cv < N {
			winoOutGo(dst, src, plane, 0, full, 4, N, corr, cv, by576)
		}
	}
	if full < tiles {
		w := outW - 4*full
		cv := winoOutI32TailVec(dst[4*full*N:outW*N], src[full*N:], plane, w, N, corr, by576)
		if cv < N {
			winoOutGo(dst, src, plane, full, tiles, w, N, corr, cv, by576)
		}
	}
}

// winoOutS8Go is winoOutS8's plain-Go loop for tiles t0..t1−1 (w pixels
// each, w < 4 only for the last) and channels c0..N−1.
func winoOutS8Go(dst, src []int32, plane, t0, t1, w, N int, corr []int32, c0 int) {
	winoOutGo(dst, src, plane, t0, t1, w, N, corr, c0, false)
}

// winoOutGo is winoOutRow's plain-Go loop: Aᵀ on the six products, then
// the exact division by 24, or by 576 when by576.
func winoOutGo(dst, src []int32, plane, t0, t1, w, N int, corr []int32, c0 int, by576 bool) {
	for tx := t0; tx < t1; tx++ {
		s := src[tx*N:]
		d := dst[4*tx*N : (4*tx+w)*N]
		for c := c0; c < N; c++ {
			m0, m1, m2, m3, m4, m5 := s[c], s[plane+c], s[2*plane+c], s[3*plane+c], s[4*plane+c], s[5*plane+c]
			a, b, cc, dd := m1+m2, m1-m2, m3+m4, m3-m4
			y := [4]int32{m0 + a + cc, b + 2*dd, a + 4*cc, m5 + b + 8*dd}
			for i := range w {
				if by576 {
					d[i*N+c] = div576(y[i]) + corr[c]
				} else {
					d[i*N+c] = div24(y[i]) + corr[c]
				}
			}
		}
	}
}

// inv3 is 3's multiplicative inverse mod 2³² (3·0xAAAAAAAB = 2³³ + 1).
const inv3 = -0x55555555 // 0xAAAAAAAB as int32

// div24 divides a multiple of 24 by 24 exactly (wrapping int32).
func div24(y int32) int32 { return (y >> 3) * inv3 }
