package kernels

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/qbench/qbench/graph"
)

// ConvPoolOptions are the options of the op interp's fast schedule makes of
// an 8-bit CONV_2D whose output only a 2×2 stride-2 VALID MAX_POOL_2D reads
// (seed-cnn: every conv). The op has kind CONV_2D, the conv's inputs
// (input, filter, bias) and the pool's output. Its kernel runs the conv
// and the pool as one op: when the conv kernel can write the 2×2 maxima of
// its outputs itself (setPool2x2), that, then the pool's clamp and map in
// place; otherwise the conv into a scratch image and the pool kernel on
// it, the pair's own kernels. Either way the result is the pair's bit for
// bit: the conv's requantization and clamp are monotone, so the max of the
// requantized outputs is the requantized max, and the pool's clamp and
// map come after it in both.
type ConvPoolOptions struct {
	Conv graph.Conv2DOptions // the conv's options
	// Pool is the pool op (possibly already fused by the fast schedule):
	// its Options are *graph.Pool2DOptions or *MaxPoolMapOptions.
	Pool *graph.Op
	// Mid is the conv's output tensor, the pool's input: its dtype and
	// quantization are used (not its shape, which may be another batch's).
	Mid *graph.Tensor
}

// Conv2D returns the conv's options (graph.InferShapes shapes the op by
// them, then by Pool2D).
func (o *ConvPoolOptions) Conv2D() *graph.Conv2DOptions {
	if o == nil {
		return nil
	}
	return &o.Conv
}

// Pool2D returns the pool's window options (nil without a pool op).
func (o *ConvPoolOptions) Pool2D() *graph.Pool2DOptions {
	if o == nil || o.Pool == nil {
		return nil
	}
	switch p := o.Pool.Options.(type) {
	case *graph.Pool2DOptions:
		return p
	case *MaxPoolMapOptions:
		if p != nil {
			return &p.Pool
		}
	}
	return nil
}

// ConvPoolFits reports why the CONV_2D conv from in (with filter) to mid
// followed by the MAX_POOL_2D pool from mid to out cannot become one
// ConvPoolOptions op (nil: it can). It checks the kinds, options, dtypes
// and shapes; the caller checks that pool reads mid and nothing else does.
func ConvPoolFits(conv *graph.Op, in, filter, mid *graph.Tensor, pool *graph.Op, out *graph.Tensor) error {
	if conv == nil || pool == nil || in == nil || filter == nil || mid == nil || out == nil {
		return errors.New("CONV_2D+MAX_POOL_2D: missing op or tensor")
	}
	if conv.Kind != graph.OpConv2D {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: first op is %s, not CONV_2D", conv.Kind)
	}
	if co, ok := conv.Options.(*graph.Conv2DOptions); !ok || co == nil {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: conv options are %T, not *graph.Conv2DOptions", conv.Options)
	}
	if pool.Kind != graph.OpMaxPool2D {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: second op is %s, not MAX_POOL_2D", pool.Kind)
	}
	var po *graph.Pool2DOptions
	switch o := pool.Options.(type) {
	case *graph.Pool2DOptions:
		po = o
	case *MaxPoolMapOptions:
		if o != nil {
			po = &o.Pool
		}
	}
	if po == nil {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: pool options are %T, not *graph.Pool2DOptions or *MaxPoolMapOptions", pool.Options)
	}
	if po.FilterH != 2 || po.FilterW != 2 || po.StrideH != 2 || po.StrideW != 2 || po.Padding != graph.PaddingValid {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: pool is %d×%d stride %d×%d %s, want 2×2 stride 2×2 VALID",
			po.FilterH, po.FilterW, po.StrideH, po.StrideW, po.Padding)
	}
	if in.DType != graph.Int8 && in.DType != graph.UInt8 {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: input %q is %s, want int8 or uint8", in.Name, in.DType)
	}
	if filter.DType != in.DType || mid.DType != in.DType || out.DType != in.DType {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: input %q, filter %q, conv output %q and pool output %q are %s, %s, %s, %s; want one dtype",
			in.Name, filter.Name, mid.Name, out.Name, in.DType, filter.DType, mid.DType, out.DType)
	}
	if len(mid.Shape) != 4 || len(out.Shape) != 4 {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: conv output %q shape %v and pool output %q shape %v must be 4-D", mid.Name, mid.Shape, out.Name, out.Shape)
	}
	if mid.Shape[1] < 2 || mid.Shape[2] < 2 || mid.Shape[1]%2 != 0 || mid.Shape[2]%2 != 0 {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: conv output %q is %d×%d, want even H and W", mid.Name, mid.Shape[1], mid.Shape[2])
	}
	if out.Shape[1] != mid.Shape[1]/2 || out.Shape[2] != mid.Shape[2]/2 || out.Shape[3] != mid.Shape[3] {
		return fmt.Errorf("CONV_2D+MAX_POOL_2D: pool output %q shape %v is not conv output %q shape %v pooled 2×2", out.Name, out.Shape, mid.Name, mid.Shape)
	}
	return nil
}

// pool2x2Conv is a conv kernel that can pool its own output (the native
// path). setPool2x2, called once at prepare time on a kernel prepared for
// this fused op alone, returns whether it switched: from then on its Run
// writes to outs[0], sized as the pooled output, for every pooled pixel
// and channel the max over its 2×2 window of the conv's 8-bit outputs
// (requantized and clamped to the conv's own activation range) — the
// plain pool of the conv output, before the pool's clamp and map, which
// convPool then applies in place.
type pool2x2Conv interface {
	Kernel
	setPool2x2() bool
}

// convPool is a ConvPoolOptions kernel.
type convPool struct {
	op        *graph.Op
	conv      Kernel // the conv, writing the conv output (or, native, its 2×2 maxima)
	pool      Kernel // the pool (generic path)
	native    bool
	dt        graph.DType
	inName    string
	outName   string
	midShape  []int // at batch 1
	perIn     int
	perMid    int
	perOut    int
	clamp     bool // native: the pool's clamp is not the dtype's whole range
	lo, hi    int32
	lut       *lut8 // native: the pool's map (MaxPoolMapOptions), else nil
	scratches freeList
	// shared, when set, is the program's Scratch: the conv output comes
	// from it (one block per Run, besides the conv's own), so a program
	// holds one such block per executor, not one per fused op.
	shared *Scratch
}

// convPoolScratch is one Run's conv output (generic path; its memory from
// the program's Scratch when there is one) and the buffer lists pointing
// at it, kept so a Run allocates nothing.
type convPoolScratch struct {
	mid      Buffer
	shape    []int
	i8       []int8
	u8       []uint8
	convOuts []*Buffer
	poolIns  []*Buffer
}

func prepareConvPool(op *graph.Op, ins, outs []*graph.Tensor, co *ConvPoolOptions, o Options) (Kernel, error) {
	if co.Mid == nil || co.Pool == nil {
		return nil, fmt.Errorf("%s: fused pool needs the pool op and the conv output tensor", op.Kind)
	}
	if len(ins) < 2 || ins[0] == nil || ins[1] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, fmt.Errorf("%s: needs input, filter and output tensors", op.Kind)
	}
	in, w, out := ins[0], ins[1], outs[0]
	if len(in.Shape) != 4 || len(w.Shape) != 4 || len(out.Shape) != 4 {
		return nil, fmt.Errorf("%s: input %q shape %v, filter %q shape %v and output %q shape %v must be 4-D",
			op.Kind, in.Name, in.Shape, w.Name, w.Shape, out.Name, out.Shape)
	}
	c := &co.Conv
	midShape := []int{out.Shape[0], graph.ConvOutputSize(c.Padding, in.Shape[1], w.Shape[1], c.StrideH, c.DilationH),
		graph.ConvOutputSize(c.Padding, in.Shape[2], w.Shape[2], c.StrideW, c.DilationW), w.Shape[0]}
	mid := &graph.Tensor{Name: co.Mid.Name, DType: co.Mid.DType, Shape: midShape, Quant: co.Mid.Quant}
	if err := ConvPoolFits(&graph.Op{Kind: graph.OpConv2D, Options: c}, in, w, mid, co.Pool, out); err != nil {
		return nil, err
	}
	// The pair's own kernels, prepared as the plain schedule prepares
	// them (same options, rounding and shared scratch).
	cop := *op
	cop.Options = c
	ck, err := PrepareWith(&cop, ins, []*graph.Tensor{mid}, o)
	if err != nil {
		return nil, err
	}
	pop := *co.Pool
	pk, err := PrepareWith(&pop, []*graph.Tensor{mid}, outs, o)
	if err != nil {
		return nil, err
	}
	k, err := newConvPool(op, ck, pk, in, mid, out)
	if err != nil {
		return nil, err
	}
	k.shared = o.Scratch
	return k, nil
}

// newConvPool builds the kernel from the prepared conv (writing mid) and
// pool (mid to out) kernels; a conv kernel that accepts setPool2x2 is
// switched to writing the pooled maxima and runs the native path.
func newConvPool(op *graph.Op, ck, pk Kernel, in, mid, out *graph.Tensor) (*convPool, error) {
	k := &convPool{op: op, conv: ck, pool: pk, dt: in.DType, inName: in.Name, outName: out.Name,
		midShape: append([]int{1}, mid.Shape[1:]...),
		perIn:    in.Shape[1] * in.Shape[2] * in.Shape[3],
		perMid:   mid.Shape[1] * mid.Shape[2] * mid.Shape[3],
		perOut:   out.Shape[1] * out.Shape[2] * out.Shape[3]}
	p := pool8Of(pk)
	if p == nil {
		return nil, fmt.Errorf("%s: fused pool kernel is %T, not an 8-bit max pool", op.Kind, pk)
	}
	if pm, ok := pk.(*poolMap); ok {
		k.lut = pm.lut
	}
	k.lo, k.hi = p.lo, p.hi
	qmin, qmax := DTypeRange(k.dt)
	k.clamp = k.lo != qmin || k.hi != qmax
	if s, ok := ck.(pool2x2Conv); ok {
		k.native = s.setPool2x2()
	}
	if !k.native {
		k.scratches.New = func() any {
			s := &convPoolScratch{shape: append([]int(nil), k.midShape...)}
			s.mid = Buffer{DType: k.dt, Shape: s.shape}
			s.convOuts, s.poolIns = []*Buffer{&s.mid}, []*Buffer{&s.mid}
			return s
		}
	}
	return k, nil
}

// Run implements Kernel.
func (k *convPool) Run(ins, outs []*Buffer) error {
	batch, err := k.check(ins, outs)
	if err != nil {
		return err
	}
	if k.native {
		if err := k.conv.Run(ins, outs); err != nil {
			return err
		}
		if k.dt == graph.Int8 {
			clampMap(k, outs[0].I8)
		} else {
			clampMap(k, outs[0].U8)
		}
		return nil
	}
	s := k.scratches.Get().(*convPoolScratch)
	defer k.scratches.Put(s)
	n := batch * k.perMid
	if k.shared != nil {
		b := k.shared.get(n)
		defer k.shared.put(b)
		p := unsafe.SliceData(*b)
		s.mid.I8, s.mid.U8 = nil, nil
		if k.dt == graph.Int8 {
			s.mid.I8 = unsafe.Slice((*int8)(unsafe.Pointer(p)), n)
		} else {
			s.mid.U8 = unsafe.Slice(p, n)
		}
	} else if k.dt == graph.Int8 {
		if cap(s.i8) < n {
			s.i8 = make([]int8, n)
		}
		s.mid.I8 = s.i8[:n]
	} else {
		if cap(s.u8) < n {
			s.u8 = make([]uint8, n)
		}
		s.mid.U8 = s.u8[:n]
	}
	s.shape[0] = batch
	if err := k.conv.Run(ins, s.convOuts); err != nil {
		return err
	}
	return k.pool.Run(s.poolIns, outs)
}

// check validates the run-time buffers and returns the batch.
func (k *convPool) check(ins, outs []*Buffer) (int, error) {
	name := "CONV_2D+MAX_POOL_2D"
	if len(ins) < 1 || ins[0] == nil {
		return 0, fmt.Errorf("%s: missing input %q buffer", name, k.inName)
	}
	if len(outs) < 1 || outs[0] == nil {
		return 0, fmt.Errorf("%s: missing output %q buffer", name, k.outName)
	}
	in, out := ins[0], outs[0]
	if in.DType != k.dt {
		return 0, fmt.Errorf("%s: input %q buffer is %s, want %s", name, k.inName, in.DType, k.dt)
	}
	if out.DType != k.dt {
		return 0, fmt.Errorf("%s: output %q buffer is %s, want %s", name, k.outName, out.DType, k.dt)
	}
	nIn, nOut := typedLen(in, k.dt), typedLen(out, k.dt)
	if k.perIn == 0 || nIn%k.perIn != 0 {
		return 0, fmt.Errorf("%s: input %q buffer of %d elements is not a whole number of %d-element images", name, k.inName, nIn, k.perIn)
	}
	batch := nIn / k.perIn
	if nOut != batch*k.perOut {
		return 0, fmt.Errorf("%s: output %q buffer has %d elements, want %d (%d images)", name, k.outName, nOut, batch*k.perOut, batch)
	}
	return batch, nil
}

// clampMap applies, in place on the pooled conv output, what the pool does
// after its max: its activation clamp (as poolIntRef clamps, in int32, so
// a range outside T wraps the same way) and the map table.
func clampMap[T int8 | uint8](k *convPool, v []T) {
	if k.clamp {
		lo, hi := k.lo, k.hi
		for i, x := range v {
			v[i] = T(min(max(int32(x), lo), hi))
		}
	}
	if k.lut != nil {
		mapLUT8(k.lut, v, v)
	}
}
