package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// A 2-D Winograd conv that writes its output 2×2 stride-2 max-pooled
// (seed-cnn's conv → MAX_POOL_2D pairs, which interp's fast schedule
// fuses into one op, kernels.ConvPoolOptions). The one-pass output side
// takes, per 2×2 window, the max of the four exact values Y = 576·(Σ x·w)
// and requantizes that one: 4 requantizations per 4×4 tile instead of
// 16, and the conv output never stored. That is the pool of the
// requantized outputs bit for bit because the requantization is
// monotone non-decreasing in Σ x·w: the exact ÷576, + k (when it cannot
// wrap in int32) and the FP32 requantization (float conversion,
// multiplication by a scale ≥ 0, the clamps and round-to-nearest are
// each monotone), so max and requantization commute.

// wino2PoolKOK reports whether every k = corr + bias keeps Σ x·w + k
// inside int32 for all |Σ x·w| < 2³¹/576, the 2-D plan's bound.
func wino2PoolKOK(corr, bias []int32) bool {
	const lim = math.MaxInt32 - (math.MaxInt32/576 + 1)
	for c := range corr {
		k := int64(corr[c]) + int64(bias[c])
		if k > lim || k < -lim {
			return false
		}
	}
	return true
}

// enablePool makes the plan write the 2×2 stride-2 max pool of its
// output, or reports false: it needs the one-pass
// output side on this CPU (the fused FP32 requantization, AVX2 without
// AVX-512), even output sizes, scales ≥ 0 and k that cannot wrap. The
// one-pass form is then taken for any output height: with 4 of 16
// values requantized its partial last tile row costs little. It must not
// run concurrently with run (kernels call it at prepare).
func (p *winoS8Plan2D) enablePool() bool {
	return p.enablePoolWith(wino2OutQFused())
}

// enablePoolWith is enablePool with the one-pass side's availability
// given (tests reach the Go loop on any CPU with the kernels).
func (p *winoS8Plan2D) enablePoolWith(onePass bool) bool {
	if !onePass || !wino2PoolOK(p.g, p.rq, p.corr, p.q) {
		return false
	}
	p.pooled, p.fused = true, true
	p.layout()
	return true
}

// wino2PoolOK is enablePool's test of a plan's parts: the fused
// requantization q, even output sizes, scales ≥ 0 and k that cannot wrap.
func wino2PoolOK(g *convGeom, rq *requant, corr []int32, q *winoOutQ) bool {
	if q == nil || g.outH%2 != 0 || g.outW%2 != 0 || !wino2PoolKOK(corr, rq.biasOr0) {
		return false
	}
	for _, s := range rq.scale {
		if !(s >= 0) || math.IsInf(float64(s), 0) {
			return false
		}
	}
	return true
}

// tileRow2DPool is tileRow2D with the 2×2 pool: one block tile row's 36
// product planes into prows ≤ 2 pooled rows of poutW pixels of N
// channels, row r at dst[r·rowStride:].
func (q *winoOutQ) tileRow2DPool(dst []int8, rowStride, prows int, src []int32, plane, tiles, poutW, N int) {
	_ = src[35*plane+tiles*N-1]
	_ = dst[(prows-1)*rowStride+poutW*N-1]
	cv := N &^ 7
	if cv > 0 {
		full := poutW / 2
		if full > 0 {
			wino2OutQPoolVec(q, dst, rowStride, prows, 2, src, plane, full, N, cv)
		}
		if full < tiles {
			wino2OutQPoolVec(q, dst[2*full*N:], rowStride, prows, 1, src[full*N:], plane, 1, N, cv)
		}
	}
	if cv < N {
		wino2OutQPoolGo(q, dst, rowStride, prows, src, plane, 0, tiles, poutW, N, cv)
	}
}

// wino2OutQPoolGo is tileRow2DPool's plain-Go loop (and the vector
// kernel's reference) for tiles t0..t1−1 and channels c0..N−1: the Y
// values as wino2OutQGo, the max of each 2×2 window, then div576, + corr
// and requant.apply32 on it.
func wino2OutQPoolGo(q *winoOutQ, dst []int8, rowStride, prows int, src []int32, plane, t0, t1, poutW, N, c0 int) {
	corr := q.corr[:N]
	for tx := t0; tx < t1; tx++ {
		pw := min(2, poutW-2*tx)
		for c := c0; c < N; c++ {
			z := wino2TileX(src, plane, tx*N+c)
			var y [4][4]int32 // y[r][i]
			for i := range 4 {
				y[0][i], y[1][i], y[2][i], y[3][i] = wino2AT24(z[0][i], z[1][i], z[2][i], z[3][i], z[4][i], z[5][i])
			}
			for pr := range prows {
				for pc := range pw {
					m := max(y[2*pr][2*pc], y[2*pr][2*pc+1], y[2*pr+1][2*pc], y[2*pr+1][2*pc+1])
					dst[pr*rowStride+(2*tx+pc)*N+c] = int8(q.rq.apply32(div576(m)+corr[c], c))
				}
			}
		}
	}
}

// wino2PoolCandidate reports whether a layer could run as a pooled 2-D
// Winograd plan: the one-pass output side on this CPU and winoS8Shape's
// layers (16 channels each way or more). There the pooled plan beats the
// conv followed by the pool even where pathAuto runs the conv directly:
// thread CPU per image, BenchmarkConvInt8WinogradPool (AVX2 + AVX-VNNI
// GODEBUG, Zen 5, medians of 3 runs), auto conv + pool → pooled plan:
// 40×40×16→32 38.8 → 31.7 µs (direct VPDPBUSD conv there), 20×20×32→64
// 27.3 → 23.9, 10×10×64→128 31.9 → 30.4; AVX2 only 40.9 → 36.6, 31.5 →
// 27.8, 38.9 → 37.2 (batch 4 alike).
func wino2PoolCandidate(g *convGeom, rq *requant) bool {
	return wino2OutQFused() && wino2S8Applies(g) && winoS8Shape(g, rq) && g.outH%2 == 0 && g.outW%2 == 0
}

// setPool2x2 makes the conv write the 2×2 stride-2 max pool of its int8
// output (kernels.ConvPoolOptions' native path) through the pooled
// AVX-VNNI first-layer kernels or on a pooled 2-D Winograd plan — its
// own, or one built for it when wino2PoolCandidate kept the weights —
// or reports false (the conv is unchanged). It must not run
// concurrently with Run (kernels call it at prepare).
func (c *convInt8) setPool2x2() bool {
	if c.q8 == nil && c.poolW != nil && firstQ8PoolCandidate(c.g, c.rq) {
		_, wide := firstQ8Pooled()
		c.q8, c.poolW = buildFirstQ8(c.g, c.poolW, c.inZP, c.rq, wide), nil
	}
	if c.q8 != nil {
		if !firstQ8PoolOK(c.g) {
			return false
		}
		c.q8.pooled, c.pooled = true, true
		return true
	}
	p := c.wino2
	if p == nil && c.poolW != nil {
		p = newWinoS8Plan2D(c.g, c.poolW, c.inZP, c.rq, c.batch)
	}
	if p == nil || !p.enablePool() {
		return false
	}
	c.wino2, c.pooled, c.poolW = p, true, nil
	return true
}

// runPooled is Run when pooled: the output buffer holds the pooled
// images.
func (c *convInt8) runPooled(ins, outs []*Buffer) error {
	g := c.g
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return fmt.Errorf("%s: missing input or output buffer", c.op.Kind)
	}
	in, out := ins[0], outs[0]
	perIn := g.inH * g.inW * g.inC
	nIn := typedLen(in, g.inD)
	if perIn == 0 || nIn%perIn != 0 {
		return fmt.Errorf("%s: input buffer of %d elements is not a whole number of %d×%d×%d images", c.op.Kind, nIn, g.inH, g.inW, g.inC)
	}
	batch := nIn / perIn
	if err := checkLen(c.op, "pooled output", typedLen(out, g.outD), batch*(g.outH/2)*(g.outW/2)*g.outC); err != nil {
		return err
	}
	if c.q8 != nil {
		c.q8.run(g, batch, in.I8, out.I8, convFirstQ8Tile)
		return nil
	}
	c.wino2.run(batch, in.I8, out.I8)
	return nil
}

// ConvPoolNative reports whether the CONV_2D op from ins (input, filter,
// bias) to mid, prepared under rnd on this CPU, writes its output 2×2
// max-pooled itself once fused with the MAX_POOL_2D after it (a
// ConvPoolOptions op whose conv accepts setPool2x2): the test by which
// interp's fast schedule fuses such a pair. Without the native path the
// fused op would run the pair's two kernels through a scratch, no
// faster than two ops. It follows prepare's choices without packing the
// weights.
func ConvPoolNative(op *graph.Op, ins []*graph.Tensor, mid *graph.Tensor, rnd fixedpoint.Rounding) bool {
	if !wino2OutQFused() || op == nil || op.Kind != graph.OpConv2D || len(ins) < 2 || ins[0] == nil || ins[1] == nil || mid == nil {
		return false
	}
	opts, ok := op.Options.(*graph.Conv2DOptions)
	in, w := ins[0], ins[1]
	if !ok || opts == nil || in.DType != graph.Int8 || mid.DType != graph.Int8 || len(w.Shape) != 4 {
		return false
	}
	var bias *graph.Tensor
	if len(ins) > 2 {
		bias = ins[2]
	}
	g, err := newConvGeom(op, in, mid, w.Shape[1], w.Shape[2], opts.StrideH, opts.StrideW, opts.DilationH, opts.DilationW, opts.Padding)
	if err != nil || w.Shape[0] != g.outC || w.Shape[3] != g.inC {
		return false
	}
	g, w = pruneTaps(g, w)
	zpIn, wv, rq, err := convInt8Params(rnd, op, g, in, w, bias, mid, opts.Activation)
	if err != nil {
		return false
	}
	if firstQ8PoolCandidate(g, rq) {
		return true
	}
	if !wino2PoolCandidate(g, rq) {
		return false
	}
	corr := winoS8Corr(g, wv, zpIn, winoS8MaxAbsSum2D)
	return corr != nil && wino2PoolOK(g, rq, corr, newWinoOutQ(rq, corr, true))
}
