package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

// uint8 (old-style asymmetric) CONV_2D, DEPTHWISE_CONV_2D and
// FULLY_CONNECTED, as TFLite's uint8 kernels compute them: per-tensor
// weights with a zero point, acc = Σ (x + input_offset)·(w + filter_offset)
// over the taps inside the image, + int32 bias, one per-tensor multiplier,
// + output_offset, clamp.
//
// Each op has a plain direct loop (the reference, …U8Ref) and a fast form
// that reuses the int8 machinery: activations and weights shifted by 128
// are int8 values with zero points zp−128, Σ(x'+a)(w'−wz) = Σ(x'+a)·w' −
// wz·Σ(x'+a) (the second sum per im2col row, zero over padded taps, which
// hold the input zero point), and the requantized int8 result shifted back
// by 128 is the uint8 one. Integer sums wrap mod 2^32 in both forms, so
// they agree bit for bit; TestU8FastMatchesRef checks it.

// u8Params is what the uint8 kernels share: offsets and the epilogue.
type u8Params struct {
	inZP, wZP int32
	// rq writes uint8 values (output zero point and clamp as stored);
	// rqS8 is the same epilogue on the 128-shifted int8 output.
	rq, rqS8 *requant
}

// prepareU8 checks the tensors of a uint8 conv-like op (per-tensor uint8
// weights of wLen values, optional int32 bias of n values) and computes
// its epilogues.
func prepareU8(rnd fixedpoint.Rounding, op *graph.Op, in, w, bias, out *graph.Tensor, act graph.Activation, n, wLen int) (*u8Params, []uint8, error) {
	// In the runtime's arithmetic the delegate takes uint8 convolutions
	// and fully connected layers as it takes int8 ones (float32
	// requantization, ties to even; measured on tie-prone scales, where
	// the builtin kernels' rounding put a quarter of the values one step
	// off): newRequant picks XNNPACK's arithmetic for both epilogues.
	sIn, zpIn, err := tensorQuant(op, "input", in)
	if err != nil {
		return nil, nil, err
	}
	if err := checkU8ZP(op, "input", in, zpIn); err != nil {
		return nil, nil, err
	}
	_, zpOut, err := tensorQuant(op, "output", out)
	if err != nil {
		return nil, nil, err
	}
	if err := checkU8ZP(op, "output", out, zpOut); err != nil {
		return nil, nil, err
	}
	if w.DType != graph.UInt8 {
		return nil, nil, unsupportedf(op, "uint8 input %q needs uint8 weights, %q is %s", in.Name, w.Name, w.DType)
	}
	if !w.IsConst() {
		return nil, nil, unsupportedf(op, "weights tensor %q is not constant", w.Name)
	}
	if len(w.Data) != wLen {
		return nil, nil, fmt.Errorf("%s: weights tensor %q has %d values, want %d", op.Kind, w.Name, len(w.Data), wLen)
	}
	if w.Quant == nil || len(w.Quant.Scale) != 1 || len(w.Quant.ZeroPoint) > 1 {
		return nil, nil, unsupportedf(op, "uint8 weights tensor %q needs one per-tensor scale and zero point", w.Name)
	}
	sW, zpW, err := tensorQuant(op, "weights", w)
	if err != nil {
		return nil, nil, err
	}
	if err := checkU8ZP(op, "weights", w, zpW); err != nil {
		return nil, nil, err
	}
	if bias != nil && bias.DType != graph.Int32 {
		return nil, nil, unsupportedf(op, "uint8 kernels take an int32 bias, %q is %s", bias.Name, bias.DType)
	}
	bv, _, err := intBias(op, bias, n)
	if err != nil {
		return nil, nil, err
	}
	p := &u8Params{inZP: zpIn, wZP: zpW}
	if p.rq, err = newRequant(rnd, op, sIn, []float32{sW}, out, act, bv, n); err != nil {
		return nil, nil, err
	}
	if p.rqS8, err = newRequant(rnd, op, sIn, []float32{sW}, shiftedS8(out), act, bv, n); err != nil {
		return nil, nil, err
	}
	return p, w.Data, nil
}

func checkU8ZP(op *graph.Op, role string, t *graph.Tensor, zp int32) error {
	if zp < 0 || zp > math.MaxUint8 {
		return fmt.Errorf("%s: %s tensor %q zero point %d outside uint8", op.Kind, role, t.Name, zp)
	}
	return nil
}

// shiftedS8 is a uint8 tensor's int8 twin: the same scale, zero point −128
// (values x−128 then mean the same reals).
func shiftedS8(t *graph.Tensor) *graph.Tensor {
	s := *t
	s.DType = graph.Int8
	s.Data = nil
	q := t.Quant.Clone()
	for i := range q.ZeroPoint {
		q.ZeroPoint[i] -= 128
	}
	if len(q.ZeroPoint) == 0 {
		q.ZeroPoint = []int64{-128}
	}
	s.Quant = q
	if t.Data != nil && t.DType == graph.UInt8 {
		d := make([]byte, len(t.Data))
		for i, v := range t.Data {
			d[i] = v ^ 0x80
		}
		s.Data = d
	}
	return &s
}

// u8AsS8 views uint8 memory as int8 (same size and layout).
func u8AsS8(v []uint8) []int8 {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(&v[0])), len(v))
}

// toS8Shifted writes x−128 for each uint8 x (flipping the top bit).
func toS8Shifted(dst []int8, src []uint8) {
	d := bytesOf(dst[:len(src)])
	if xor80Vec(d, src) {
		return
	}
	n := len(src) &^ 7
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(d[i:], binary.LittleEndian.Uint64(src[i:])^0x8080808080808080)
	}
	for i := n; i < len(src); i++ {
		d[i] = src[i] ^ 0x80
	}
}

// flipTop adds 128 mod 256 to each byte in place: int8 x−128 back to
// uint8 x.
func flipTop(v []int8) {
	// Eight bytes per step (the flip is per byte, so word order does not
	// matter): the uint8 kernels run it over every output.
	b := bytesOf(v)
	if xor80Vec(b, b) {
		return
	}
	n := len(b) &^ 7
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^0x8080808080808080)
	}
	for i := n; i < len(b); i++ {
		b[i] ^= 0x80
	}
}

// s8Scratch hands out a growable int8 buffer per Run, a block of the
// program's Scratch when shared is set.
type s8Scratch struct {
	p      freeList
	shared *Scratch
}

func (s *s8Scratch) get(n int) *[]int8 {
	if s.shared != nil {
		// []int8 and []byte have the same header.
		return (*[]int8)(unsafe.Pointer(s.shared.get(n)))
	}
	bp, _ := s.p.Get().(*[]int8)
	if bp == nil {
		bp = new([]int8)
	}
	if cap(*bp) < n {
		*bp = make([]int8, n)
	}
	*bp = (*bp)[:n]
	return bp
}

func (s *s8Scratch) put(b *[]int8) {
	if s.shared != nil {
		s.shared.put((*[]byte)(unsafe.Pointer(b)))
		return
	}
	s.p.Put(b)
}

// convU8Ref is the plain direct-loop uint8 CONV_2D (TFLite's reference
// loop order; the sum is exact mod 2^32 in any order).
type convU8Ref struct {
	op *graph.Op
	g  *convGeom
	w  []uint8
	p  *u8Params
}

// Run implements Kernel.
func (c *convU8Ref) Run(ins, outs []*Buffer) error {
	g := c.g
	in, out, batch, err := convBuffers(c.op, g, ins, outs)
	if err != nil {
		return err
	}
	src, dst := in.U8, out.U8
	k := g.k()
	inRow := g.inW * g.inC
	o := 0
	for b := 0; b < batch; b++ {
		img := src[b*g.inH*inRow : (b+1)*g.inH*inRow]
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				for oc := 0; oc < g.outC; oc++ {
					wrow := c.w[oc*k : (oc+1)*k]
					var acc int32
					for ky := 0; ky < g.fH; ky++ {
						iy := oy*g.strideH - g.padT + ky*g.dilH
						if iy < 0 || iy >= g.inH {
							continue
						}
						for kx := 0; kx < g.fW; kx++ {
							ix := ox*g.strideW - g.padL + kx*g.dilW
							if ix < 0 || ix >= g.inW {
								continue
							}
							for ic := 0; ic < g.inC; ic++ {
								x := int32(img[iy*inRow+ix*g.inC+ic]) - c.p.inZP
								wv := int32(wrow[(ky*g.fW+kx)*g.inC+ic]) - c.p.wZP
								acc += x * wv
							}
						}
					}
					dst[o] = uint8(c.p.rq.apply32(acc, oc))
					o++
				}
			}
		}
	}
	return nil
}

// convU8 is the fast uint8 CONV_2D: im2col over the 128-shifted input,
// the packed int8 GEMM with the shifted weights, the weight zero point's
// row-sum term, the int8 epilogue, and the shift back.
type convU8 struct {
	op    *graph.Op
	g     *convGeom
	w     *gemm.PackedS8 // w − 128, OHWI
	aOff  int32          // 128 − zp_in: offset of the shifted activations
	wz    int32          // zp_w − 128: zero point of the shifted weights
	pad   int8           // zp_in − 128: padded taps
	rq    *requant       // on the shifted output
	chunk int
	x     s8Scratch // the shifted input
	pool  *scratchPool
}

func newConvU8(rnd fixedpoint.Rounding, op *graph.Op, g *convGeom, in, w, bias, out *graph.Tensor, act graph.Activation, ref bool) (Kernel, error) {
	p, wv, err := prepareU8(rnd, op, in, w, bias, out, act, g.outC, g.outC*g.k())
	if err != nil {
		return nil, err
	}
	if ref {
		return &convU8Ref{op: op, g: g, w: wv, p: p}, nil
	}
	ws := make([]int8, len(wv))
	toS8Shifted(ws, wv)
	rows := chunkRows(g.outH*g.outW, g.k(), g.outC)
	i8Len := rows * g.k()
	if g.pointwise() {
		i8Len = 0
	}
	return &convU8{op: op, g: g, w: gemm.PackS8(ws, g.outC, g.k(), g.k()), aOff: 128 - p.inZP, wz: p.wZP - 128,
		pad: int8(p.inZP - 128), rq: p.rqS8, chunk: rows, pool: newScratchPool(0, i8Len, rows*g.outC)}, nil
}

// Run implements Kernel.
func (c *convU8) Run(ins, outs []*Buffer) error {
	g := c.g
	in, out, batch, err := convBuffers(c.op, g, ins, outs)
	if err != nil {
		return err
	}
	// One image at a time: the shifted copy holds one image, not the
	// batch (a layer's scratch would otherwise grow with the batch).
	per := g.inH * g.inW * g.inC
	xp := c.x.get(per)
	defer c.x.put(xp)
	src := *xp
	s := c.pool.get()
	defer c.pool.put(s)
	m, n, k := g.outH*g.outW, g.outC, g.k()
	for b := 0; b < batch; b++ {
		toS8Shifted(src, in.U8[b*per:(b+1)*per])
		dst := u8AsS8(out.U8[b*m*n : (b+1)*m*n])
		for r0 := 0; r0 < m; r0 += c.chunk {
			rows := min(c.chunk, m-r0)
			var a []int8
			if g.pointwise() {
				a = src[r0*k : (r0+rows)*k]
			} else {
				im2col(s.i8, src, g, r0, rows, c.pad)
				a = s.i8[:rows*k]
			}
			acc := s.acc[:rows*n]
			c.w.Mul(rows, a, k, c.aOff, acc, n)
			if !subRowSumsVec(acc, a, n, k, c.aOff, c.wz) {
				subRowSums(acc, a, n, k, c.aOff, c.wz)
			}
			requantRows(dst[r0*n:(r0+rows)*n], acc, n, c.rq)
		}
		flipTop(dst)
	}
	return nil
}

// subRowSums subtracts wz·Σ_p (a[i][p] + aOff) from every accumulator of
// row i: the weight zero point's share of Σ (x + aOff)·(w − wz).
func subRowSums(acc []int32, a []int8, n, k int, aOff, wz int32) {
	if wz == 0 {
		return
	}
	for i := 0; i < len(acc)/n; i++ {
		s := aOff * int32(k)
		for _, x := range a[i*k : (i+1)*k] {
			s += int32(x)
		}
		t := wz * s
		row := acc[i*n : (i+1)*n]
		for j := range row {
			row[j] -= t
		}
	}
}

// depthwiseU8Ref is the plain direct-loop uint8 DEPTHWISE_CONV_2D.
type depthwiseU8Ref struct {
	*depthwise
	w []uint8
	p *u8Params
}

// Run implements Kernel.
func (d depthwiseU8Ref) Run(ins, outs []*Buffer) error {
	g := d.g
	in, out, batch, err := convBuffers(d.op, g, ins, outs)
	if err != nil {
		return err
	}
	o := 0
	for b := 0; b < batch; b++ {
		img := in.U8[b*g.inH*g.inW*g.inC:]
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				for oc := 0; oc < g.outC; oc++ {
					ic := oc / d.mult
					var acc int32
					for ky := 0; ky < g.fH; ky++ {
						iy := oy*g.strideH - g.padT + ky*g.dilH
						for kx := 0; kx < g.fW; kx++ {
							ix := ox*g.strideW - g.padL + kx*g.dilW
							if iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW {
								continue
							}
							x := int32(img[(iy*g.inW+ix)*g.inC+ic]) - d.p.inZP
							wv := int32(d.w[(ky*g.fW+kx)*g.outC+oc]) - d.p.wZP
							acc += x * wv
						}
					}
					out.U8[o] = uint8(d.p.rq.apply32(acc, oc))
					o++
				}
			}
		}
	}
	return nil
}

// depthwiseU8 is the fast uint8 DEPTHWISE_CONV_2D: the int8 kernel's
// loops on uint8 inputs with the weights widened with their offset
// (w32 = w − zp_w, zpTerm = −zp_in·Σ w32), the shifted epilogue.
type depthwiseU8 struct {
	*depthwise
	rq *requant // on the shifted output
}

func newDepthwiseU8(rnd fixedpoint.Rounding, d *depthwise, in, w, bias, out *graph.Tensor, act graph.Activation, ref bool) (Kernel, error) {
	g := d.g
	p, wv, err := prepareU8(rnd, d.op, in, w, bias, out, act, g.outC, g.fH*g.fW*g.outC)
	if err != nil {
		return nil, err
	}
	if ref {
		return depthwiseU8Ref{d, wv, p}, nil
	}
	d.inOff = -p.inZP
	d.w32 = make([]int32, len(wv))
	d.zpTerm = make([]int32, g.outC)
	for i, v := range wv {
		d.w32[i] = int32(v) - p.wZP
		d.zpTerm[i%g.outC] += d.inOff * d.w32[i]
	}
	if d.grp = newDwGrp(dwU8, g, d.mult, d.w32, d.zpTerm, byte(p.inZP)); d.grp != nil && !d.grp.pays(g) {
		d.grp = nil
	}
	if d.grp == nil {
		d.vec = newDwVec(dwU8, g, d.mult, d.w32, d.zpTerm, nil, byte(p.inZP), nil, 0, 0)
	}
	return depthwiseU8{d, p.rqS8}, nil
}

// Run implements Kernel.
func (d depthwiseU8) Run(ins, outs []*Buffer) error {
	g := d.g
	in, out, batch, err := convBuffers(d.op, g, ins, outs)
	if err != nil {
		return err
	}
	dst := u8AsS8(out.U8)
	if d.grp != nil {
		runDwGrp(d.depthwise, d.grp, in.U8, dst, batch, d.rq, flipTop)
		return nil
	}
	if d.vec != nil {
		runDwVecInt(d.depthwise, d.vec, in.U8, dst, batch, d.rq, flipTop)
		return nil
	}
	ap := d.acc32.Get().(*[]int32)
	defer d.acc32.Put(ap)
	acc := *ap
	o := 0
	for b := 0; b < batch; b++ {
		img := b * g.inH * g.inW * g.inC
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				iy0, ix0 := oy*g.strideH-g.padT, ox*g.strideW-g.padL
				if d.mult == 1 && d.inside(iy0, ix0) {
					copy(acc, d.zpTerm)
					dwTaps(acc, in.U8, d.w32, g, img+(iy0*g.inW+ix0)*g.inC)
				} else {
					dwPixel(acc, in.U8, d.w32, g, img, iy0, ix0, d.mult, d.inOff)
				}
				row := dst[o : o+g.outC]
				d.rq.rowInt8(row, acc)
				flipTop(row)
				o += g.outC
			}
		}
	}
	return nil
}

// fcU8Ref is the plain uint8 FULLY_CONNECTED.
type fcU8Ref struct {
	*fc
	w []uint8
	p *u8Params
}

// Run implements Kernel.
func (f fcU8Ref) Run(ins, outs []*Buffer) error {
	in, out, m, err := f.rows(ins, outs)
	if err != nil {
		return err
	}
	n, k := f.n, f.depth
	for i := 0; i < m; i++ {
		x := in.U8[i*k : (i+1)*k]
		for j := 0; j < n; j++ {
			var acc int32
			for p, xv := range x {
				acc += (int32(xv) - f.p.inZP) * (int32(f.w[j*k+p]) - f.p.wZP)
			}
			out.U8[i*n+j] = uint8(f.p.rq.apply32(acc, j))
		}
	}
	return nil
}

// fcU8 is the fast uint8 FULLY_CONNECTED: the int8 kernel (which already
// honours a per-tensor weight zero point) on the 128-shifted tensors.
type fcU8 struct {
	op    *graph.Op
	inner Kernel
	x     s8Scratch
}

func newFCU8(rnd fixedpoint.Rounding, f *fc, in, w, bias, out *graph.Tensor, act graph.Activation, ref bool) (Kernel, error) {
	p, wv, err := prepareU8(rnd, f.op, in, w, bias, out, act, f.n, f.n*f.depth)
	if err != nil {
		return nil, err
	}
	if ref {
		return fcU8Ref{f, wv, p}, nil
	}
	op := *f.op
	op.Options = &graph.FullyConnectedOptions{Activation: act}
	ins := []*graph.Tensor{shiftedS8(in), shiftedS8(w), bias}
	inner, err := prepareFullyConnectedRounding(&op, ins, []*graph.Tensor{shiftedS8(out)}, rnd)
	if err != nil {
		return nil, err
	}
	return &fcU8{op: f.op, inner: inner}, nil
}

// Run implements Kernel.
func (f *fcU8) Run(ins, outs []*Buffer) error {
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return fmt.Errorf("%s: missing input or output buffer", f.op.Kind)
	}
	xp := f.x.get(len(ins[0].U8))
	defer f.x.put(xp)
	toS8Shifted(*xp, ins[0].U8)
	dst := u8AsS8(outs[0].U8)
	err := f.inner.Run([]*Buffer{{DType: graph.Int8, Shape: ins[0].Shape, I8: *xp}}, []*Buffer{{DType: graph.Int8, Shape: outs[0].Shape, I8: dst}})
	flipTop(dst)
	return err
}

// pathReference makes prepareConv2DWith build the plain reference loop
// where a fast form exists (uint8).
const pathReference convPath = -1
