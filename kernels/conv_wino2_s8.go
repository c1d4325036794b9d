package kernels

import (
	"github.com/qbench/qbench/kernels/gemm"
)

// Exact integer 2-D Winograd F(4×4, 3×3) for int8 3×3 stride-1
// convolutions on the int16-pair CPUs (the ones conv_wino_s8.go's 1-D
// F(4,3) serves): 36 products per 4×4 output tile and (inC, outC) pair,
// 2.25 per output where the 1-D form does 4.5 and the direct conv 9.
//
// Rows (y) transform the filters with G7 = diag(24,6,6,24,24,6)·G and
// the outputs with AT24 = 24·Aᵀ·diag(1/24,1/6,1/6,1/24,1/24,1/6) =
// Aᵀ·diag(1,4,4,1,1,4); columns (x) with 24·G and plain Aᵀ, exactly as
// the 1-D form. (G7's rows 0 and 5 carry 24/4 and 6 where diag(4,6,6,24,
// 24,1)·G, the smallest integer form, would leave AT24 the factors 6 and
// 24: |U| stays within the bound below and the output transforms save
// the multiplies.) Everything is integer:
//
//   - U[η][ξ] = G7·w·G24ᵀ per (o, c): |U| ≤ 128·(G7's row sum ≤ 7)·(G24's
//     ≤ 24) = 21504 (rows 0 and 5: 6·24·128 = 18432), int16;
//   - the input is the raw int8 image padded with the input zero point
//     (so the zero-point term is the uniform −zp·Σw): each padded row goes
//     through the 1-D x-transform (winoInS8, |·| ≤ 1280), then every 6 rows
//     4·ty .. 4·ty+5 through Bᵀ along y (wino2InY): |V| ≤ 10·1280 = 12800,
//     int16 with every intermediate below 2¹⁵;
//   - 36 GEMMs M[η][ξ] = V[η][ξ]·U[η][ξ] (rows = tiles, K = inC) on the
//     int16-pair kernels (gemm.PackedI16; a VPMADDWD pair sum is at most
//     2·12800·21504 < 2³¹), wrapping int32;
//   - the y output transform AT24 (wino2OutY) and the x one Aᵀ
//     (wino2OutX) in wrapping int32: mod 2³² the result is 576·Σ x·w.
//     That is the true value when it fits int32, which the plan checks
//     at prepare: 576·128·Σ|w_o| < 2³¹, i.e. Σ|w_o| ≤ 29127 per output
//     channel (otherwise nil, and the caller keeps the 1-D plan, whose
//     bound is 24× larger). Dividing by 576 = 64·9 is then exact: an
//     arithmetic shift by 6 and a multiply by 9's inverse mod 2³²;
//   - then −zp·Σw and the direct path's requantization (requant.rowsInt8),
//     fused into the x transform where there is a vector form (winoOutQ),
//     or into both transforms (tileRow2D, AVX2 without AVX-512).
//
// Work is done per block of tile rows (L2-sized). With the one-pass
// output side a block's 36 product planes are formed first, then turned
// into int8 tile row by tile row; otherwise the products are formed ξ by
// ξ (6 GEMMs, then wino2OutY into the block's 24 planes T[r][ξ]), so only
// 6 product planes are live.

// winoS8Plan2D is the 2-D Winograd form of one int8 convolution.
type winoS8Plan2D struct {
	g              *convGeom
	tilesX, tilesY int                 // output tiles per row ⌈outW/4⌉ and per column ⌈outH/4⌉
	wp, hp         int                 // padded input width 4·tilesX+2 and height 4·tilesY+2
	ty             int                 // tile rows of an image per block
	imgs           int                 // images per block (> 1 only when ty = tilesY)
	planeX         int                 // int16 elements of one x-transformed plane ((4·ty+2) rows)
	planeV         int                 // int16 elements of one V plane (ty·tilesX tiles)
	planeM         int                 // int32 elements of one product plane (ty·tilesX tiles)
	u              [36]*gemm.PackedI16 // plane 6η+ξ
	corr           []int32             // −zp·Σw per output channel
	zp             int8
	rq             *requant
	q              *winoOutQ // the fused x output transform and requantization, nil when unavailable
	fused          bool      // q != nil and the whole output side runs in one pass (tileRow2D)
	pooled         bool      // fused, and the output is 2×2 max-pooled (tileRow2DPool; enablePool)
	batch          int       // the input's batch (a hint for imgs)
	pool           *freeList // *winoS8Scratch2D, for the layout (a new list when it changes)
}

// winoS8Scratch2D is one Run's padded image and one block's transformed
// rows x, inputs v, products m (6 planes; 36 in the one-pass form),
// y-transformed products t (24 planes; none in the one-pass form) and,
// without the fused epilogue, accumulators.
type winoS8Scratch2D struct {
	padded []int8
	x, v   []int16
	m, t   []int32
	acc    []int32
}

// winoG7 is diag(24,6,6,24,24,6)·G, F(4,3)'s integer filter transform
// with row sums ≤ 7 (rows 0 and 5: 6); AT24 in wino2OutY undoes its
// scaling.
var winoG7 = [6][3]int32{
	{6, 0, 0},
	{-1, -1, -1},
	{-1, 1, -1},
	{1, 2, 4},
	{1, -2, 4},
	{0, 0, 6},
}

// winoS8MaxAbsSum2D bounds Σ|w| of an output channel: the largest
// |576·Σ x·w| with |x| ≤ 128 must stay below 2³¹.
const winoS8MaxAbsSum2D = (1<<31 - 1) / (576 * 128)

// wino2S8BlockBytes bounds one block's transformed rows, inputs,
// products and transformed products: about half of a 1 MiB L2 (Zen 4/5,
// Skylake-SP) and 384 KiB on Zen 2/3. Bigger blocks mean fewer, taller
// GEMMs: seed-cnn's 40×40×16→32 under the AVX2-only GODEBUG measured 56.0
// / 53.5 / 51.9 cpu-µs per image at 192 / 384 / 768 KiB (medians of 5
// alternating runs).
const wino2S8BlockBytes = 384 << 10

// wino2S8Applies reports whether g can run as integer F(4×4, 3×3): a 3×3,
// stride-1, undilated window whose padding the padded image covers. Any
// output size works (a partial tile computes outputs that are dropped).
func wino2S8Applies(g *convGeom) bool {
	return g.fW == 3 && g.fH == 3 && g.strideH == 1 && g.strideW == 1 && g.dilH == 1 && g.dilW == 1 &&
		g.padT >= 0 && g.padL >= 0 && g.padT <= 2 && g.padL <= 2
}

// newWinoS8Plan2D transforms and packs the weights wv (OHWI), or returns
// nil when a channel's Σ|w| could overflow the int32 sums. batch (the
// input's, a hint) caps the images one block takes.
//
// The one-pass output side (wino2OutQFused) is taken for images of whole
// tile rows only: it computes all 4 rows of a tile where the split path
// transforms and requantizes just the real ones, and it keeps 36 product
// planes where the split path reuses 6 (L1-sized for small images).
// Thread CPU per image, split → one pass, BenchmarkConvInt8Winograd
// (alternating runs, medians): AVX2-only 40×40×16→32 0.87–0.94,
// 20×20×32→64 0.95, 10×10×64→128 0.98–1.01; AVX-VNNI (fused products)
// 20×20 0.97–0.99, 10×10 1.05–1.08.
func newWinoS8Plan2D(g *convGeom, wv []int8, zp int32, rq *requant, batch int) *winoS8Plan2D {
	return newWinoS8Plan2DWith(g, wv, zp, rq, batch, wino2OutQFused() && g.outH%4 == 0)
}

// newWinoS8Plan2DWith is newWinoS8Plan2D with the one-pass output side
// when fused (and the fused requantization is available), so tests reach
// it on any CPU with the kernel.
func newWinoS8Plan2DWith(g *convGeom, wv []int8, zp int32, rq *requant, batch int, fused bool) *winoS8Plan2D {
	corr := winoS8Corr(g, wv, zp, winoS8MaxAbsSum2D)
	if corr == nil {
		return nil
	}
	p := &winoS8Plan2D{g: g, tilesX: (g.outW + 3) / 4, tilesY: (g.outH + 3) / 4, corr: corr, zp: int8(zp), rq: rq,
		q: newWinoOutQ(rq, corr, true)}
	p.fused = fused && p.q != nil
	p.wp, p.hp = 4*p.tilesX+2, 4*p.tilesY+2
	p.batch = batch
	p.layout()
	C, N := g.inC, g.outC
	u := make([]int16, N*C)
	for eta := range 6 {
		for xi := range 6 {
			for o := range N {
				for c := range C {
					var s int32
					for ky := range 3 {
						for kx := range 3 {
							s += winoG7[eta][ky] * winoG24[xi][kx] * int32(wv[((o*3+ky)*3+kx)*C+c])
						}
					}
					u[o*C+c] = int16(s)
				}
			}
			p.u[6*eta+xi] = gemm.PackI16Segmented(u, N, C, C, C)
		}
	}
	return p
}

// layout sizes a block (tile rows, images) and the scratch for the
// output side the plan runs (fused or not); enablePool calls it again.
func (p *winoS8Plan2D) layout() {
	g := p.g
	C, N := g.inC, g.outC
	// Bytes per tile row: 4 x-transformed rows of 6 int16 planes, 36 int16
	// V planes, 6 int32 product planes and 24 int32 T planes (36 product
	// planes in the one-pass form).
	mt := 6 + 24
	if p.fused {
		mt = 36
	}
	perTileRow := p.tilesX * (6*4*2*C + 36*2*C + mt*4*N)
	p.ty = max(1, min(p.tilesY, wino2S8BlockBytes/perTileRow))
	p.imgs = 1
	if p.ty == p.tilesY {
		// Small images: several per block, so the GEMMs get rows enough
		// for their tiles and each transformed weight serves more of them.
		p.imgs = max(1, min(p.batch, wino2S8BlockBytes/(p.tilesY*perTileRow)))
	}
	p.planeX = (4*p.ty + 2) * p.tilesX * C
	p.planeV = p.imgs * p.ty * p.tilesX * C
	p.planeM = p.imgs * p.ty * p.tilesX * N
	p.pool = &freeList{New: func() any {
		s := &winoS8Scratch2D{
			padded: make([]int8, p.hp*p.wp*C),
			x:      make([]int16, 6*p.planeX),
			v:      make([]int16, 36*p.planeV),
		}
		if p.fused {
			s.m = make([]int32, 36*p.planeM)
		} else {
			s.m = make([]int32, 6*p.planeM)
			s.t = make([]int32, 24*p.planeM)
		}
		if p.q == nil {
			s.acc = make([]int32, 4*g.outW*N) // the unfused epilogue's
		}
		// The border keeps the zero point: run writes only the interior.
		for i := range s.padded {
			s.padded[i] = p.zp
		}
		return s
	}}
}

// run convolves a batch of images src into dst.
func (p *winoS8Plan2D) run(batch int, src, dst []int8) {
	g := p.g
	s := p.pool.Get().(*winoS8Scratch2D)
	defer p.pool.Put(s)
	C, N := g.inC, g.outC
	inImg := g.inH * g.inW * C
	outRow := g.outW * N
	rowX := p.tilesX * C
	for b0 := 0; b0 < batch; b0 += p.imgs {
		nb := min(p.imgs, batch-b0)
		for ty0 := 0; ty0 < p.tilesY; ty0 += p.ty {
			nty := min(p.ty, p.tilesY-ty0)
			// Block rows: image k's tile row ty0+j is row k·nty+j.
			for k := range nb {
				if ty0 == 0 {
					b := b0 + k
					winoS8PadImage(g, s.padded, p.wp, p.hp, src[b*inImg:(b+1)*inImg])
				}
				for r := range 4*nty + 2 {
					winoInS8(s.x[r*rowX:], p.planeX, s.padded[(4*ty0+r)*p.wp*C:], p.tilesX, C)
				}
				for j := range nty {
					for xi := range 6 {
						wino2InY(s.v[xi*p.planeV+(k*nty+j)*rowX:], 6*p.planeV, s.x[xi*p.planeX+4*j*rowX:], rowX, rowX)
					}
				}
			}
			m := nb * nty * p.tilesX
			if p.fused {
				for q := range 36 {
					p.u[q].MulSegmented(m, s.v[q*p.planeV:], C, C, s.m[q*p.planeM:], N)
				}
				for k := range nb {
					if p.pooled {
						pH, pRow := g.outH/2, g.outW/2*N
						out := dst[(b0+k)*pH*pRow : (b0+k+1)*pH*pRow]
						for j := range nty {
							y0 := 2 * (ty0 + j)
							p.q.tileRow2DPool(out[y0*pRow:], pRow, min(2, pH-y0), s.m[(k*nty+j)*p.tilesX*N:], p.planeM, p.tilesX, g.outW/2, N)
						}
						continue
					}
					out := dst[(b0+k)*g.outH*outRow : (b0+k+1)*g.outH*outRow]
					for j := range nty {
						y0 := 4 * (ty0 + j)
						p.q.tileRow2D(out[y0*outRow:], outRow, min(4, g.outH-y0), s.m[(k*nty+j)*p.tilesX*N:], p.planeM, p.tilesX, g.outW, N)
					}
				}
				continue
			}
			for xi := range 6 {
				for eta := range 6 {
					q := 6*eta + xi
					p.u[q].MulSegmented(m, s.v[q*p.planeV:], C, C, s.m[eta*p.planeM:], N)
				}
				wino2OutY(s.t[xi*p.planeM:], 6*p.planeM, s.m, p.planeM, m*N)
			}
			for k := range nb {
				out := dst[(b0+k)*g.outH*outRow : (b0+k+1)*g.outH*outRow]
				for j := range nty {
					y0 := 4 * (ty0 + j)
					rows := min(4, g.outH-y0)
					t := s.t[(k*nty+j)*p.tilesX*N:]
					if p.q != nil {
						for r := range rows {
							p.q.row(out[(y0+r)*outRow:(y0+r+1)*outRow], t[6*r*p.planeM:], p.planeM, p.tilesX, g.outW, N)
						}
						continue
					}
					for r := range rows {
						wino2OutX(s.acc[r*outRow:(r+1)*outRow], t[6*r*p.planeM:], p.planeM, p.tilesX, g.outW, N, p.corr)
					}
					p.rq.rowsInt8(out[y0*outRow:(y0+rows)*outRow], s.acc[:rows*outRow], rows*g.outW)
				}
			}
		}
	}
}

// wino2S8Worthwhile is pathAuto's choice of the 2-D form over the 1-D
// one: wherever the 1-D form is worthwhile. Thread CPU per image, 1-D →
// 2-D, BenchmarkConvInt8Winograd (weights over −50..50, medians of 3
// alternating runs), AVX2-only GODEBUG: 40×40×16→32 63.3 → 54.9 µs,
// 20×20×32→64 54.4 → 41.1, 10×10×64→128 73.2 → 59.4 (batch 8: 69.0 →
// 52.0), 16×16×32→32 17.6 → 14.0, 8×8×64→64 at batch 8 17.3 → 12.2.
// The zmm family (Skylake-SP GODEBUG) took the 2-D form only with at
// least 24 tiles per batch while its GEMMs ran a Go loop of one call per
// 6-row tile and rounded 9 tiles up to 12 rows (batch 1: 10×10 40.4 →
// 43.8, 16×16 10.7 → 11.5, 8×8 14.1 → 19.9); with one call per product
// and exact row counts (segloop) the 2-D form wins there at batch 1 too:
// 10×10×64→128 32.1 → 28.5, 16×16×32→32 10.7 → 7.4, 8×8×64→64 8.5 →
// 7.2, 40×40×16→32 39.8 → 38.8 (medians of 7 runs, load ~10), 20×20
// 30.9 → 28.1, 32×32×16→16 17.8 → 17.6 (5 runs).
//
// On AVX-VNNI CPUs without AVX-512 (gemm.I16Fused: the products on the
// fused VPDPWSSD kernels) the 2-D form, never the 1-D one, beats the
// direct VPDPBUSD conv from 32 input channels on (wino2S8FusedWorthwhile).
func wino2S8Worthwhile(g *convGeom, rq *requant) bool {
	if gemm.I16Fused() {
		return wino2S8FusedWorthwhile(g, rq)
	}
	return winoS8Worthwhile(g, rq)
}

// wino2S8FusedWorthwhile is wino2S8Worthwhile on the fused int16 family:
// winoS8Shape's layers with at least 32 input channels. Thread CPU per
// image, direct → 2-D, BenchmarkConvInt8Winograd, AVX-VNNI GODEBUG
// (Zen 5), medians of 3 alternating runs: 20×20×32→64 41.4 → 30.6 µs
// (batch 8: 40.1 → 28.6), 10×10×64→128 43.0 → 35.6 (batch 8: 43.4 →
// 37.0), 16×16×32→32 13.7 → 10.0, 8×8×64→64 14.0 → 8.8; with 16 input
// channels it is a wash: 40×40×16→32 40.7 → 38.5, 32×32×16→16 13.4 →
// 13.9.
func wino2S8FusedWorthwhile(g *convGeom, rq *requant) bool {
	return g.inC >= 32 && winoS8Shape(g, rq)
}
