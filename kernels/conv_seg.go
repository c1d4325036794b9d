package kernels

import (
	"math"
	"slices"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/gemm"
)

// The im2col-free ("segmented") path of CONV_2D.
//
// With stride 1 and undilated columns, the fW·inC values a filter row
// reads at output pixel (y, x) are one contiguous run of a zero-padded
// NHWC image of width wp, and the runs of neighbouring pixels start inC
// values apart. gemm's segmented products (PackedF32.MulSegmented,
// PackedS8.MulRequantSegmented) read each row of the im2col matrix straight
// from that padded image as fH such runs, segStride = dilH·wp·inC apart,
// so the im2col copy (fH·fW times the input) disappears. The price is that
// one call covers whole padded rows: pixels x ≥ outW of each row are
// computed too (into a scratch) and dropped, wp/outW − 1 of the work.
// The fused float product (MulSegmentedRows) tiles each row's outW
// pixels on their own and skips those pixels, but the cost model below
// still charges them (its fit predates that).
//
// Strided float windows use whole-row blocks too: neighbouring pixels'
// A rows start strideW·inC apart, so output row y begins strideH·pitch/
// strideW A rows after row y−1, and the row-mapped product
// (MulSegmentedRows) computes only the outW mapped rows of each, never
// the ones between. Int8 strided windows (whose row-mapped kernels would
// compute the rows between) run one output row per call when forced
// (pathSegmented); the per-row calls measured no faster than im2col on
// the study's layers at stride 2.

// segPlan is the layout of a segmented convolution; nil when the path does
// not apply.
type segPlan struct {
	wp, hp int // padded image width and height
	// direct: the input needs no padding (VALID), so it is read in place.
	direct bool
	// pitch is the row length, in pixels, of the image A is read from:
	// wp for the padded copy, inW in place.
	pitch int
	// perRow: strided windows, one GEMM call per output row with
	// consecutive pixels strideW·inC apart, written straight to the
	// output. Otherwise one call covers rows whole pitch-wide rows.
	perRow         bool
	rows           int
	seg, segStride int
	// lda is the distance, in elements, between the A rows of
	// neighbouring output pixels (strideW·inC), and vpitch the number of
	// A rows from one output row to the next (strideH·pitch/strideW): a
	// whole-row block's row i is pixel i%vpitch of block row i/vpitch.
	lda, vpitch int
}

// convPath selects CONV_2D's implementation; tests and benchmarks force
// one to compare them.
type convPath int

const (
	pathAuto       convPath = iota // segmented when applicable and worthwhile
	pathIm2col                     // always im2col
	pathSegmented                  // segmented whenever applicable
	pathWinograd                   // Winograd F(4,3) whenever applicable (float: conv_wino.go, int8: conv_wino_s8.go)
	pathFirst                      // int8: the direct first-layer kernel (conv_first_s8.go); tests force it where it applies
	pathFirstF32                   // float: the direct few-channel kernel whenever applicable (conv_first_f32.go)
	pathWinograd2D                 // int8: 2-D Winograd F(4×4,3×3) whenever applicable (conv_wino2_s8.go), else as pathWinograd
	pathFirstQ8                    // int8: the AVX-VNNI first-layer kernels (conv_first_q8.go) wherever the CPU has AVX-VNNI, also with AVX-512 (tests)
)

// segWasteMax bounds pitch/outW for pathAuto: beyond it the dropped pixels
// cost more than the im2col copy saves (small images under wide SAME
// filters), whatever the cost model below says.
const segWasteMax = 1.5

// The im2col copy costs about as much per copied value as segCopyCost
// multiply-adds of the GEMM, so per output pixel im2col costs k·(outC + c)
// and the segmented product k·outC·pitch/outW. c was fitted on the
// study's four layers (3×3, Cout 16..128): int8 22..30 on AMD Zen 5
// under load (its multiply-adds are 4× cheaper); float 29..66 on an
// AVX-512 Xeon once the float product fused its epilogue and stored
// rows in place (MulSegmentedRows: segmented/im2col time 0.2, 0.55,
// 0.76, 0.8), so 32 keeps 10×10×64→128 (waste 1.2) segmented. Before
// the fusion the float fit was 11..17.
const (
	segCopyCostF32 = 32
	segCopyCostI8  = 28
)

// segWorthwhile is pathAuto's choice for a stride-1 plan of pitch pitch.
func segWorthwhile(g *convGeom, pitch int) bool {
	if float64(pitch) > segWasteMax*float64(g.outW) {
		return false
	}
	c := segCopyCostF32
	if g.inD == graph.Int8 {
		c = segCopyCostI8
	}
	return pitch*g.outC < g.outW*(g.outC+c)
}

// newSegPlan returns the segmented layout for g under path, or nil for
// the im2col path: always for pathIm2col; when g has a column dilation or
// the 1×1 pointwise form (already copy-free); and, for pathAuto, when g is
// strided or the padded rows would cost more than im2col (segWorthwhile).
func newSegPlan(g *convGeom, path convPath) *segPlan {
	if path == pathIm2col {
		return nil
	}
	strided := g.strideH != 1 || g.strideW != 1
	// Whole-row strided blocks need the row-mapped product that skips
	// the rows between output rows: float's.
	wholeStrided := strided && g.inD == graph.Float32
	if (g.dilW != 1 && g.fW != 1) || g.pointwise() || (strided && !wholeStrided && path != pathSegmented) {
		return nil
	}
	if g.padT < 0 || g.padL < 0 || g.k() == 0 {
		return nil
	}
	// Padded width/height: what the output pixels' windows span (the
	// declared output shape is iterated, as in the im2col path).
	wp := (g.outW-1)*g.strideW + g.fW
	hp := (g.outH-1)*g.strideH + (g.fH-1)*g.dilH + 1
	// A row dilation far beyond the image makes the padded copy mostly
	// zeros (every out-of-image tap reads padding) and can ask for
	// gigabytes; im2col clips those taps instead.
	if hp > 2*(g.inH+g.fH) {
		return nil
	}
	p := &segPlan{wp: wp, hp: hp, pitch: wp, perRow: strided && !wholeStrided, rows: 1, seg: g.fW * g.inC}
	if g.padT == 0 && g.padL == 0 && wp <= g.inW && hp <= g.inH {
		p.direct, p.pitch = true, g.inW
	}
	if wholeStrided && g.strideH*p.pitch%g.strideW != 0 {
		// Output rows would not start a whole number of A rows apart.
		if path != pathSegmented {
			return nil
		}
		p.perRow = true
	}
	switch {
	case path != pathAuto:
	case strided:
		// The product computes no dropped rows, so the choice is the
		// padded copy against the im2col copy (fH·fW/stride² times the
		// input): a direct plan copies nothing.
		if !p.direct && p.padLen(g) > g.outH*g.outW*g.k() {
			return nil
		}
	case !segWorthwhile(g, p.pitch):
		return nil
	}
	p.segStride = g.dilH * p.pitch * g.inC
	p.lda, p.vpitch = g.strideW*g.inC, p.pitch
	if strided {
		p.vpitch = g.strideH * p.pitch / g.strideW
	}
	if !p.perRow {
		// The wide output block (rows·pitch pixels) stays within
		// im2colBudget like the im2col path's blocks.
		p.rows = max(1, min(g.outH, im2colBudget/max(p.pitch*g.outC, 1)))
	}
	return p
}

// padLen is the padded image's element count (0 when read in place).
func (p *segPlan) padLen(g *convGeom) int {
	if p.direct {
		return 0
	}
	return p.hp * p.wp * g.inC
}

// wideLen is the wide output block's element count (0 when results land
// in the output directly: per-row calls, or rows as wide as the output).
func (p *segPlan) wideLen(g *convGeom) int {
	if p.perRow || p.pitch == g.outW {
		return 0
	}
	return p.rows * p.pitch * g.outC
}

// segScratch is one Run's padded image and wide output block.
type segScratch[T float32 | int8] struct {
	padded, wide []T
}

// newSegScratch allocates a scratch for plan p whose padding is already
// filled with pad: fillPadded only ever writes the interior, so the
// border keeps that value for the scratch's whole life.
func newSegScratch[T float32 | int8](p *segPlan, g *convGeom, pad T) *segScratch[T] {
	s := &segScratch[T]{padded: make([]T, p.padLen(g)), wide: make([]T, p.wideLen(g))}
	if pad != 0 {
		for i := range s.padded {
			s.padded[i] = pad
		}
	}
	return s
}

// fillPadded copies image img (inH×inW×inC) into the interior of the
// padded image dst, at row padT and column padL.
func fillPadded[T float32 | int8](dst, img []T, p *segPlan, g *convGeom) {
	fillInterior(dst, img, p, g, func(d, s []T) { copy(d, s) })
}

// fillInterior copies each row of image img into the padded image dst
// through cp (len(d) == len(s); cp may convert, as widen does); input
// columns or rows beyond the padded extent (a declared output smaller than
// the inferred one) are not needed and not copied.
func fillInterior[D float32 | int8 | int16, S float32 | int8](dst []D, img []S, p *segPlan, g *convGeom, cp func(d []D, s []S)) {
	c := g.inC
	n := min(g.inW, p.wp-g.padL) * c
	if n <= 0 {
		return
	}
	y1 := min(g.inH, p.hp-g.padT)
	for iy := 0; iy < y1; iy++ {
		o := ((iy+g.padT)*p.wp + g.padL) * c
		cp(dst[o:o+n], img[iy*g.inW*c:iy*g.inW*c+n])
	}
}

// input returns image img as a segmented product reads it: padded into
// s.padded, or img itself for a direct plan.
func (s *segScratch[T]) input(img []T, p *segPlan, g *convGeom) []T {
	if p.direct {
		return img
	}
	fillPadded(s.padded, img, p, g)
	return s.padded
}

// segImages runs a segmented convolution over a batch: for each image the
// padded input (or the input itself), then GEMM calls through mul, which
// computes m output pixels from A rows lda apart starting at a into c (row
// stride outC). Per-row plans call mul once per output row straight into
// dst; the others once per block of p.rows output rows into the wide
// block, whose valid outW pixels per row are then copied to dst.
func segImages[T float32 | int8](p *segPlan, g *convGeom, batch int, src, dst []T, s *segScratch[T],
	mul func(m, lda int, a []T, c []T)) {
	inImg := g.inH * g.inW * g.inC
	outRow := g.outW * g.outC
	for b := 0; b < batch; b++ {
		a := s.input(src[b*inImg:(b+1)*inImg], p, g)
		out := dst[b*g.outH*outRow : (b+1)*g.outH*outRow]
		if p.perRow {
			for y := 0; y < g.outH; y++ {
				mul(g.outW, g.strideW*g.inC, a[y*g.strideH*p.pitch*g.inC:], out[y*outRow:(y+1)*outRow])
			}
			continue
		}
		for y0 := 0; y0 < g.outH; y0 += p.rows {
			rows := min(p.rows, g.outH-y0)
			m := (rows-1)*p.pitch + g.outW
			ay := a[y0*p.pitch*g.inC:]
			if len(s.wide) == 0 {
				// pitch == outW: the wide rows are the output rows.
				mul(m, g.inC, ay, out[y0*outRow:(y0+rows)*outRow])
				continue
			}
			mul(m, g.inC, ay, s.wide[:m*g.outC])
			wideRow := p.pitch * g.outC
			for r := 0; r < rows; r++ {
				copy(out[(y0+r)*outRow:(y0+r+1)*outRow], s.wide[r*wideRow:])
			}
		}
	}
}

// segRowMap maps row i of a whole-row block (pixel i%pitch of block row
// i/pitch) to its place in the output block, or nowhere for the pitch −
// outW pixels past the row's end. One map serves every block and image:
// a shorter last block uses a prefix of it.
func segRowMap(p *segPlan, g *convGeom) *gemm.RowMap {
	offs := make([]int, (p.rows-1)*p.vpitch+g.outW)
	for i := range offs {
		offs[i] = -1
		if x := i % p.vpitch; x < g.outW {
			offs[i] = (i/p.vpitch*g.outW + x) * g.outC
		}
	}
	return gemm.NewRowMap(offs, g.outC)
}

// positiveZeros returns bias with any −0 replaced by +0 (a copy when
// there is one): the row-mapped product adds the bias to accumulators
// that may be −0 where the dense one adds it to +0-initialised C, and
// with +0 biases both give the same bits.
func positiveZeros(bias []float32) []float32 {
	for i, v := range bias {
		if v == 0 && math.Signbit(float64(v)) {
			bias = slices.Clone(bias)
			for j := i; j < len(bias); j++ {
				if bias[j] == 0 {
					bias[j] = 0
				}
			}
			break
		}
	}
	return bias
}

// segRows is the float segmented convolution over whole-row blocks: per
// image the padded input (or the input itself), then one fused product
// per block of p.rows output rows that stores bias + activation results
// straight into the output through c.rows.
func (c *convFloat) segRows(batch int, src, dst []float32, s *segScratch[float32]) {
	p, g := c.seg, c.g
	segRowBlocks(p, g, batch, src, dst, func(img []float32) []float32 { return s.input(img, p, g) },
		func(m int, a, out []float32) {
			c.w.MulSegmentedRows(1, m, a, p.lda, p.segStride, c.bias, c.lo, c.hi, out, c.rows)
		})
}

// segRowBlocks runs a fused whole-row segmented conv over a batch: per
// image its input as input returns it, then one product per block of up
// to p.rows output rows through mul, which computes the block's m A rows
// (p.lda apart; the last row's vpitch − outW dropped rows left out) from
// a, the block's first input row, into out, its first output row.
func segRowBlocks[T float32 | int8](p *segPlan, g *convGeom, batch int, src, dst []T,
	input func(img []T) []T, mul func(m int, a, out []T)) {
	inImg := g.inH * g.inW * g.inC
	outRow := g.outW * g.outC
	for b := 0; b < batch; b++ {
		a := input(src[b*inImg : (b+1)*inImg])
		out := dst[b*g.outH*outRow : (b+1)*g.outH*outRow]
		for y0 := 0; y0 < g.outH; y0 += p.rows {
			rows := min(p.rows, g.outH-y0)
			mul((rows-1)*p.vpitch+g.outW, a[y0*g.strideH*p.pitch*g.inC:], out[y0*outRow:])
		}
	}
}
