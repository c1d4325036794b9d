package kernels

import (
	"math"
)

// The 16x8 (int16 activations, int8 weights) CONV_2D and FULLY_CONNECTED
// fast paths share one product: rows of int16 inputs (im2col rows or FC
// rows) times the layer's weights widened to int16 and packed in pairs
// of k-steps, so each step is one pair product per output (VPMADDWD /
// VPDPWSSD in the vector tiles, gemm16x8_amd64.s). A pair sum is at most
// 2·2^22 in magnitude, so the int32 tile sums are exact until they wrap.
//
// TFLite accumulates these layers in int32 (wrapping) when the bias is
// int32 and in int64 when it is int64. Wrapping int32 sums are the int64
// sum truncated either way, so the int32 mode runs the whole depth in one
// tile call. So does the int64 mode when no sum can wrap: when every
// output's Σ|w|·2^15 stays below 2^31 (most layers, whatever the input);
// otherwise it splits the depth into calls of at most x16MaxPairs pairs,
// whose int32 sums cannot wrap (510 products of at most 2^22 each stay
// below 2^31), and adds them up in int64.

// x16MaxPairs is the most k-step pairs one tile call sums when the sums
// must not wrap (int64 accumulation).
const x16MaxPairs = 255

// x16Level names a family of tiles; tests force each one.
type x16Level int

const (
	x16Go x16Level = iota
	x16AVX2
	x16AVX512
	x16VNNI
)

// x16TileFunc is the signature of the vector tiles (see x16Tile).
type x16TileFunc func(kp int, a *int16, lda int, b *int16, c *int32)

// x16Tile is one tile shape: mr rows by nr outputs, fn its vector form
// (nil: the Go loop x16TileGo).
type x16Tile struct {
	mr, nr int
	fn     x16TileFunc
}

// pack16x8 is a 16x8 layer's weights, widened and packed for the tiles.
type pack16x8 struct {
	n, k, kp int // outputs, depth, depth pairs ⌈k/2⌉
	lv       x16Level
	// exact reports that no output's int32 sum can wrap: max_j Σ_p
	// |w[j][p]| · 2^15 < 2^31.
	exact bool
	tile  x16Tile
	// b holds ⌈n/nr⌉ panels, panel q being kp steps of nr pairs:
	// b[((q·kp+p)·nr+j)·2+e] = w[q·nr+j][2p+e], zero past n or k.
	b       []int16
	scratch freeList // *x16Scratch
}

// x16Scratch is one Run's working memory.
type x16Scratch struct {
	src []int16 // the Run's input, for x16Rows.fill
	a   []int16 // mr rows of 2·kp
	c   []int32 // mr×nr tile
	c64 []int64 // mr×nr, int64 sums of split depths
}

// newPack16x8 packs w (n rows of k int8 weights) for the tiles of level lv.
func newPack16x8(w []int8, n, k int, lv x16Level) *pack16x8 {
	t := x16TileFor(n, lv)
	kp := (k + 1) / 2
	nb := (n + t.nr - 1) / t.nr
	p := &pack16x8{n: n, k: k, kp: kp, lv: lv, tile: t, b: make([]int16, nb*kp*t.nr*2), exact: true}
	for j := 0; j < n; j++ {
		var abs int64
		for _, v := range w[j*k : (j+1)*k] {
			abs += max(int64(v), -int64(v))
		}
		if abs<<15 > math.MaxInt32 {
			p.exact = false
		}
		q, jj := j/t.nr, j%t.nr
		for i, v := range w[j*k : (j+1)*k] {
			p.b[((q*kp+i/2)*t.nr+jj)*2+i%2] = int16(v)
		}
	}
	p.scratch.New = func() any {
		return &x16Scratch{a: make([]int16, t.mr*2*kp), c: make([]int32, t.mr*t.nr), c64: make([]int64, t.mr*t.nr)}
	}
	return p
}

// x16Rows is the left operand of a 16x8 product (a layer's kernel; an
// interface so that a Run passes it without allocating).
type x16Rows interface {
	// fill writes rows r0 … r0+cnt−1 (2·kp int16 each, zero past k) of
	// the operand read from s.src into s.a (mr rows, row i at i·2·kp) and
	// returns where the tile reads them: s.a, or the rows in place (lda
	// apart) when they need no copy and all mr rows exist.
	fill(s *x16Scratch, r0, cnt int) (a []int16, lda int)
}

// run computes rows output rows of src's operand into dst (rows×n int16)
// through rq, the layer's epilogue (int64 accumulation when rq.acc64).
func (p *pack16x8) run(rows int, op x16Rows, src []int16, rq *requant, epi *x16Epi, dst []int16) {
	s := p.scratch.Get().(*x16Scratch)
	defer func() { s.src = nil; p.scratch.Put(s) }()
	s.src = src
	mr, nr, kp, n := p.tile.mr, p.tile.nr, p.kp, p.n
	split := rq.acc64 && !p.exact && kp > x16MaxPairs
	for r0 := 0; r0 < rows; r0 += mr {
		cnt := min(mr, rows-r0)
		a, lda := op.fill(s, r0, cnt)
		for j0 := 0; j0 < n; j0 += nr {
			panel := p.b[(j0/nr)*kp*nr*2 : (j0/nr+1)*kp*nr*2]
			w := min(nr, n-j0)
			if !split {
				p.mul(kp, a, lda, panel, s.c)
				for i := 0; i < cnt; i++ {
					out := dst[(r0+i)*n+j0 : (r0+i)*n+j0+w]
					ct := s.c[i*nr : i*nr+w]
					if rq.acc64 {
						epi.row(out, ct, j0, p.lv)
					} else {
						for j, v := range ct {
							out[j] = int16(rq.apply32(v, j0+j))
						}
					}
				}
				continue
			}
			clear(s.c64)
			for p0 := 0; p0 < kp; p0 += x16MaxPairs {
				np := min(x16MaxPairs, kp-p0)
				p.mul(np, a[2*p0:], lda, panel[p0*nr*2:], s.c)
				for i, v := range s.c {
					s.c64[i] += int64(v)
				}
			}
			for i := 0; i < cnt; i++ {
				out := dst[(r0+i)*n+j0 : (r0+i)*n+j0+w]
				for j, v := range s.c64[i*nr : i*nr+w] {
					out[j] = int16(rq.apply64(v, j0+j))
				}
			}
		}
	}
}

// mul runs one tile over np pairs: c = a (mr rows, lda apart) × b.
func (p *pack16x8) mul(np int, a []int16, lda int, b []int16, c []int32) {
	mr, nr := p.tile.mr, p.tile.nr
	// The tile reads mr rows of 2·np values and np·nr pairs.
	_, _ = a[(mr-1)*lda+2*np-1], b[np*nr*2-1]
	if p.tile.fn != nil {
		p.tile.fn(np, &a[0], lda, &b[0], &c[0])
		return
	}
	x16TileGo(np, a, lda, b, c[:mr*nr], mr, nr)
}

// x16TileGo is the tiles' plain-Go form (and the reference their tests
// compare against): c[i][j] = Σ_p a[i][2p]·b[p][j][0] + a[i][2p+1]·b[p][j][1]
// in wrapping int32.
func x16TileGo(np int, a []int16, lda int, b []int16, c []int32, mr, nr int) {
	clear(c)
	for i := 0; i < mr; i++ {
		row := a[i*lda : i*lda+2*np]
		ci := c[i*nr : (i+1)*nr]
		for q := 0; q < np; q++ {
			x0, x1 := int32(row[2*q]), int32(row[2*q+1])
			bq := b[q*nr*2 : (q+1)*nr*2]
			for j := range ci {
				ci[j] += x0*int32(bq[2*j]) + x1*int32(bq[2*j+1])
			}
		}
	}
}

// x16GoTile is the plain-Go tile shape.
func x16GoTile() x16Tile { return x16Tile{mr: 4, nr: 16} }

// x16Epi is a 16x8 layer's int64 epilogue (requant.apply64) per output
// channel in a branch-free form: MultiplyByQuantizedMultiplier's int64
// version multiplies by the multiplier reduced to 16 bits and shifts
// right once, rounding half up, by tot = 15 − shift (kept in 1…63).
type x16Epi struct {
	bias, red, half, tot, itot []int64 // itot = 64 − tot (the AVX2 form's sign fill)
	zp, lo, hi                 int32
}

// newX16Epi precomputes rq's int64 epilogue.
func newX16Epi(rq *requant) *x16Epi {
	n := rq.channels
	e := &x16Epi{bias: make([]int64, n), red: make([]int64, n), half: make([]int64, n), tot: make([]int64, n), itot: make([]int64, n),
		zp: rq.outZP, lo: rq.lo, hi: rq.hi}
	copy(e.bias, rq.bias64)
	for c := range n {
		m := rq.mult[c]
		e.red[c] = 0x7FFF
		if m < 0x7FFF0000 {
			e.red[c] = int64((m + 1<<15) >> 16)
		}
		t := min(max(15-rq.shift[c], 1), 63)
		e.tot[c], e.itot[c], e.half[c] = int64(t), int64(64-t), int64(1)<<(t-1)
	}
	return e
}

// row requantizes one row of int32 sums of channels j0 … into dst, the
// vector loop of level lv taking what it can.
func (e *x16Epi) row(dst []int16, acc []int32, j0 int, lv x16Level) {
	d := x16Requant64Vec(e, dst, acc, j0, lv)
	e.rowGo(dst[d:], acc[d:], j0+d)
}

// rowGo is row's plain-Go form; TestX16EpiMatchesApply64 checks it (and
// the vector forms) against requant.apply64.
func (e *x16Epi) rowGo(dst []int16, acc []int32, j0 int) {
	n := len(acc)
	bias, red, half, tot := e.bias[j0:j0+n], e.red[j0:j0+n], e.half[j0:j0+n], e.tot[j0:j0+n]
	dst = dst[:n]
	for j, a := range acc {
		v := int32(((int64(a)+bias[j])*red[j]+half[j])>>uint(tot[j])) + e.zp
		dst[j] = int16(min(max(v, e.lo), e.hi))
	}
}
