package kernels

import (
	"math"
	"unsafe"

	"github.com/qbench/qbench/kernels/gemm"
)

// 1-D Winograd F(4,3) for float 3×3 stride-1 convolutions.
//
// Along each row a 3-tap filter over 4 neighbouring outputs is computed
// from 6 transformed inputs with 6 multiplies instead of 12 (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2015):
// y = Aᵀ[(G·g) ⊙ (Bᵀ·d)] per channel pair. Summed over input channels and
// the 3 filter rows, each of the 6 products ξ is one GEMM: its A row for
// output tile (y, tx) is the ξ-th transformed input of tile tx on input
// rows y, y+1, y+2 — three segments of inC values, one transformed row
// apart, which is exactly gemm's segmented layout (MulSegmentedRows with
// seg = inC, K = 3·inC) — and its B the transformed filters. The
// transformed rows hold only whole tiles, so the GEMM computes no dropped
// pixels; a partial last tile (outW not a multiple of 4) costs up to 3
// pixels of work per row. Half the multiply-adds of the direct product
// plus two cheap transforms: on seed-cnn's 40×40×16→32, 20×20×32→64 and
// 10×10×64→128 layers the direct fused kernel already runs near the
// core's FMA peak, so only fewer multiplies make them faster.
//
// Precision: the transforms multiply by 4, 5 and 8 and the filter
// transform by 1/6 and 1/24, so results differ from the direct sum by
// more than reordering would: TestWinogradMatchesDirect bounds the
// difference at winoTol of the largest |x|·|w| sum of the layer (measured
// ≈ 1e-6 on random layers). Non-finite values (NaN, ±Inf, overflow) are
// where the two disagree in kind — a NaN input would spread over its
// whole tile — so an image whose sums are not all finite is computed
// again with the direct path, which gives TFLite's behaviour.

// winoTol is the tested bound on |winograd − direct| relative to the
// layer's largest Σ|x·w| (TestWinogradMatchesDirect).
const winoTol = 2e-6

// winoG is the filter transform G (6×3) of F(4,3).
var winoG = [6][3]float64{
	{1.0 / 4, 0, 0},
	{-1.0 / 6, -1.0 / 6, -1.0 / 6},
	{-1.0 / 6, 1.0 / 6, -1.0 / 6},
	{1.0 / 24, 1.0 / 12, 1.0 / 6},
	{1.0 / 24, -1.0 / 12, 1.0 / 6},
	{0, 0, 1},
}

// winoBlockBytes bounds the transformed input and product planes of one
// block of output rows: within L2 while the six GEMMs pass over it, and
// small beside the model (seed-cnn's layers measured no faster with 512
// KiB or 2 MiB; 10–11 rows of 10, 5 and 3 tiles there).
const winoBlockBytes = 128 << 10

// winoPlan is the Winograd form of one float convolution.
type winoPlan struct {
	g      *convGeom
	tiles  int // output tiles per row, ⌈outW/4⌉
	wp, hp int // padded input width 4·tiles+2 and height outH+2
	rows   int // output rows per block
	planeV int // elements of one transformed-input plane (rows+2 rows)
	planeM int // elements of one product plane (rows output rows)
	u      [6]*gemm.PackedF32
	rm     *gemm.RowMap // identity map of rows·tiles product rows
	bias   []float32
	lo, hi float32
	pool   freeList // *winoScratch
	// shared, when set (shareScratch), is the program's Scratch: each
	// run's memory is a block of it, which the program's other
	// convolutions use in turn, instead of memory of this layer's own.
	// Seed-cnn float's three Winograd layers held 0.6 MB per executor.
	shared *Scratch
}

// winoScratch is one Run's padded image, transformed input and products.
type winoScratch struct {
	padded, v, m, tail []float32
	blk                *[]byte // the shared Scratch block they are views of
}

// scratchFloats are the lengths of a winoScratch's slices.
func (p *winoPlan) scratchFloats() (padded, v, m, tail int) {
	return p.hp * p.wp * p.g.inC, 6 * p.planeV, 6 * p.planeM, 4 * p.g.outC
}

// getScratch returns a run's scratch. A shared block holds another layer's
// data, so the padded image's border (run writes only its interior) is
// cleared first.
func (p *winoPlan) getScratch() *winoScratch {
	s := p.pool.Get().(*winoScratch)
	if p.shared == nil {
		return s
	}
	np, nv, nm, nt := p.scratchFloats()
	s.blk = p.shared.get(4*(np+nv+nm+nt) + scratchAlign)
	b := *s.blk
	o := int(-uintptr(unsafe.Pointer(&b[0])) & (scratchAlign - 1))
	f := unsafe.Slice((*float32)(unsafe.Pointer(&b[o])), np+nv+nm+nt)
	s.padded, s.v, s.m, s.tail = f[:np:np], f[np:np+nv:np+nv], f[np+nv:np+nv+nm:np+nv+nm], f[np+nv+nm:]
	p.zeroBorder(s.padded)
	return s
}

// putScratch gives back getScratch's scratch.
func (p *winoPlan) putScratch(s *winoScratch) {
	if s.blk != nil {
		p.shared.put(s.blk)
		s.blk, s.padded, s.v, s.m, s.tail = nil, nil, nil, nil, nil
	}
	p.pool.Put(s)
}

// zeroBorder clears the pixels of the padded image that run does not
// write: padT rows on top, the rows below the input, and the columns left
// and right of each input row.
func (p *winoPlan) zeroBorder(padded []float32) {
	g := p.g
	c := g.inC
	rows, cols := min(g.inH, p.hp-g.padT), min(g.inW, p.wp-g.padL)
	row := p.wp * c
	clear(padded[:g.padT*row])
	clear(padded[(g.padT+rows)*row:])
	for y := g.padT; y < g.padT+rows; y++ {
		r := padded[y*row : (y+1)*row]
		clear(r[:g.padL*c])
		clear(r[(g.padL+cols)*c:])
	}
}

// winoApplies reports whether g can run as F(4,3): a 3×3 (or 1-row ×3)
// stride-1 undilated float window whose padding the padded image covers.
func winoApplies(g *convGeom) bool {
	return g.fW == 3 && g.fH == 3 && g.strideH == 1 && g.strideW == 1 && g.dilH == 1 && g.dilW == 1 &&
		g.padT >= 0 && g.padL >= 0 && g.padT <= 2 && g.padL <= 2 && g.outW >= 4
}

// winoWorthwhile is pathAuto's choice: the vector transforms cover the
// channels, and the partial last tile wastes little. The padded product
// does 6·⌈outW/4⌉ multiplies per row where the direct one does 3·outW.
func winoWorthwhile(g *convGeom) bool {
	w := winoVecWidth()
	if w == 0 || g.inC%w != 0 || g.outC%w != 0 {
		return false
	}
	tiles := (g.outW + 3) / 4
	return 6*tiles*10 <= 3*g.outW*8 // at most 80% of the direct multiplies
}

// newWinoPlan transforms and packs the weights wv (OHWI) of g.
func newWinoPlan(g *convGeom, wv, bias []float32, lo, hi float32) *winoPlan {
	p := &winoPlan{g: g, tiles: (g.outW + 3) / 4, hp: g.outH + 2, bias: bias, lo: lo, hi: hi}
	p.wp = 4*p.tiles + 2
	perRow := 6 * 4 * p.tiles * (g.inC + g.outC)
	p.rows = max(1, min(g.outH, winoBlockBytes/perRow))
	p.planeV = (p.rows + 2) * p.tiles * g.inC
	p.planeM = p.rows * p.tiles * g.outC
	offs := make([]int, p.rows*p.tiles)
	for i := range offs {
		offs[i] = i * g.outC
	}
	p.rm = gemm.NewRowMap(offs, g.outC)
	k := 3 * g.inC
	u := make([]float32, g.outC*k)
	for xi := 0; xi < 6; xi++ {
		for o := 0; o < g.outC; o++ {
			for ky := 0; ky < 3; ky++ {
				for c := 0; c < g.inC; c++ {
					var s float64
					for kx := 0; kx < 3; kx++ {
						s += winoG[xi][kx] * float64(wv[((o*3+ky)*3+kx)*g.inC+c])
					}
					u[o*k+ky*g.inC+c] = float32(s)
				}
			}
		}
		p.u[xi] = gemm.PackF32SegmentedMap(p.rm, u, g.outC, k, k, g.inC)
	}
	p.pool.New = func() any {
		if p.shared != nil {
			return new(winoScratch)
		}
		np, nv, nm, nt := p.scratchFloats()
		return &winoScratch{padded: make([]float32, np), v: make([]float32, nv), m: make([]float32, nm), tail: make([]float32, nt)}
	}
	return p
}

// run convolves one image src into dst and reports whether every sum was
// finite; when not, dst holds garbage and the caller recomputes it.
func (p *winoPlan) run(src, dst []float32) bool {
	g := p.g
	s := p.getScratch()
	defer p.putScratch(s)
	// The border of s.padded is zero: only the interior is written.
	c := g.inC
	n := min(g.inW, p.wp-g.padL) * c
	for iy := 0; iy < min(g.inH, p.hp-g.padT); iy++ {
		o := ((iy+g.padT)*p.wp + g.padL) * c
		copy(s.padded[o:o+n], src[iy*g.inW*c:])
	}
	ok := true
	inf := float32(math.Inf(1))
	rowV, rowM := p.tiles*c, p.tiles*g.outC
	full := g.outW / 4
	outRow := g.outW * g.outC
	for y0 := 0; y0 < g.outH; y0 += p.rows {
		rows := min(p.rows, g.outH-y0)
		for r := 0; r < rows+2; r++ {
			winoIn(s.v[r*rowV:], p.planeV, s.padded[(y0+r)*p.wp*c:], p.tiles, c)
		}
		m := rows * p.tiles
		for xi := range p.u {
			p.u[xi].MulSegmentedRows(1, m, s.v[xi*p.planeV:], c, rowV, nil, -inf, inf, s.m[xi*p.planeM:], p.rm)
		}
		for r := 0; r < rows; r++ {
			out := dst[(y0+r)*outRow : (y0+r+1)*outRow]
			mr := s.m[r*rowM:]
			if full > 0 && !winoOut(out, mr, p.planeM, full, g.outC, p.bias, p.lo, p.hi) {
				ok = false
			}
			if full < p.tiles {
				if !winoOut(s.tail, mr[full*g.outC:], p.planeM, 1, g.outC, p.bias, p.lo, p.hi) {
					ok = false
				}
				copy(out[4*full*g.outC:], s.tail)
			}
		}
	}
	return ok
}

// winoIn transforms tiles tiles of one padded input row src (C channels
// per pixel, tile tx at pixel 4·tx) into plane ξ of dst at tile tx's row:
// dst[ξ·plane + tx·C + c].
func winoIn(dst []float32, plane int, src []float32, tiles, C int) {
	_ = dst[5*plane+tiles*C-1]
	_ = src[(4*tiles+2)*C-1]
	cv := winoInVec(dst, plane, src, tiles, C)
	if cv < C {
		winoInF32Go(dst, plane, src, tiles, C, cv)
	}
}

// winoInF32Go is winoIn's plain-Go loop for channels c0..C−1.
func winoInF32Go(dst []float32, plane int, src []float32, tiles, C, c0 int) {
	for tx := 0; tx < tiles; tx++ {
		s := src[4*tx*C:]
		d := dst[tx*C:]
		for c := c0; c < C; c++ {
			d0, d1, d2, d3, d4, d5 := s[c], s[C+c], s[2*C+c], s[3*C+c], s[4*C+c], s[5*C+c]
			d[c] = 4*d0 + (d4 - 5*d2)
			d[5*plane+c] = 4*d1 + (d5 - 5*d3)
			t0, t1 := d4-4*d2, d3-4*d1
			d[plane+c] = t0 + t1
			d[2*plane+c] = t0 - t1
			t2, t3 := d4-d2, d3-d1
			d[3*plane+c] = t2 + 2*t3
			d[4*plane+c] = t2 - 2*t3
		}
	}
}

// winoOut turns tiles tiles of products (tile tx's product ξ at
// src[ξ·plane + tx·N + c]) into 4·tiles output pixels of N channels at
// dst, adding bias and clamping to [lo, hi]; it reports whether every
// sum was finite.
func winoOut(dst, src []float32, plane, tiles, N int, bias []float32, lo, hi float32) bool {
	_ = dst[4*tiles*N-1]
	_ = src[5*plane+tiles*N-1]
	cv, bad := winoOutVec(dst, src, plane, tiles, N, bias, lo, hi)
	if cv < N && !winoOutF32Go(dst, src, plane, tiles, N, bias, lo, hi, cv) {
		bad = true
	}
	return !bad
}

// winoOutF32Go is winoOut's plain-Go loop for channels c0..N−1; it
// returns false when a sum was not finite.
func winoOutF32Go(dst, src []float32, plane, tiles, N int, bias []float32, lo, hi float32, c0 int) bool {
	ok := true
	for tx := 0; tx < tiles; tx++ {
		s := src[tx*N:]
		d := dst[4*tx*N:]
		for c := c0; c < N; c++ {
			m0, m1, m2, m3, m4, m5 := s[c], s[plane+c], s[2*plane+c], s[3*plane+c], s[4*plane+c], s[5*plane+c]
			a, b, cc, dd := m1+m2, m1-m2, m3+m4, m3-m4
			y0 := m0 + a + cc
			y3 := m5 + b + 8*dd
			if z := y0 + y3; z-z != 0 {
				ok = false
			}
			b0 := bias[c]
			d[c] = min(max(y0+b0, lo), hi)
			d[N+c] = min(max(b+2*dd+b0, lo), hi)
			d[2*N+c] = min(max(a+4*cc+b0, lo), hi)
			d[3*N+c] = min(max(y3+b0, lo), hi)
		}
	}
	return ok
}
