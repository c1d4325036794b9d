package kernels

import (
	"errors"
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// MaxPoolMapOptions are the options of the op interp's fast schedule makes
// of an 8-bit MAX_POOL_2D whose output only a single-input element-wise op
// reads — in a CNN, the RELU that rescales to its own quantization, which
// a fused activation (a clamp in the pool's quantization) cannot express.
// The op has kind MAX_POOL_2D, the pool's input and the element-wise op's
// output; its kernel pools an image, then maps that image's output in
// place through the element-wise op's 256-entry table (lut8: its affine
// form on AVX2), while it is still in cache: one kernel and one trip over
// the intermediate instead of two. The result is the pair's bit for bit —
// it is the pair's computation, the table being the element-wise kernel's
// own output for every input value.
type MaxPoolMapOptions struct {
	Pool graph.Pool2DOptions // the pool's options
	Map  *graph.Op           // the element-wise op reading the pool's output
	// Mid is the pool's output tensor, the map's input: its dtype and
	// quantization are used (not its shape, which may be another batch's).
	Mid *graph.Tensor
}

// Pool2D returns the pool's options (graph.InferShapes shapes the op by
// them).
func (o *MaxPoolMapOptions) Pool2D() *graph.Pool2DOptions { return &o.Pool }

// MaxPoolMapFits reports why an 8-bit MAX_POOL_2D writing mid followed by
// the element-wise op mapOp from mid to out cannot become one
// MaxPoolMapOptions op (nil: it can).
func MaxPoolMapFits(mapOp *graph.Op, mid, out *graph.Tensor) error {
	_, err := mapTable(mapOp, mid, out, Options{})
	return err
}

// mapTable is the element-wise op's output for every value of its 8-bit
// input dtype: its kernel prepared for 256 elements and run once on all
// of them, so whatever arithmetic the kernel does is what the table holds.
func mapTable(mapOp *graph.Op, mid, out *graph.Tensor, o Options) (*lut8, error) {
	if mapOp == nil || mid == nil || out == nil {
		return nil, errors.New("MAX_POOL_2D map: missing op or tensor")
	}
	if !is8Bit(mid.DType) || out.DType != mid.DType {
		return nil, fmt.Errorf("MAX_POOL_2D map: %s → %s, want the same 8-bit dtype", mid.DType, out.DType)
	}
	switch mapOp.Kind {
	case graph.OpRelu, graph.OpRelu6, graph.OpReluN1To1, graph.OpRelu0To1, graph.OpLeakyRelu:
	default:
		return nil, fmt.Errorf("MAX_POOL_2D map: %s is not an element-wise activation", mapOp.Kind)
	}
	shape := []int{256}
	in := &graph.Tensor{Name: mid.Name, DType: mid.DType, Shape: shape, Quant: mid.Quant}
	res := &graph.Tensor{Name: out.Name, DType: out.DType, Shape: shape, Quant: out.Quant}
	k, err := PrepareWith(mapOp, []*graph.Tensor{in}, []*graph.Tensor{res}, Options{Rounding: o.Rounding, reference: o.reference})
	if err != nil {
		return nil, err
	}
	x, y := &Buffer{DType: in.DType, Shape: shape}, &Buffer{DType: res.DType, Shape: shape}
	if in.DType == graph.Int8 {
		x.I8, y.I8 = make([]int8, 256), make([]int8, 256)
	} else {
		x.U8, y.U8 = make([]uint8, 256), make([]uint8, 256)
	}
	for v := range 256 {
		if in.DType == graph.Int8 {
			x.I8[v] = int8(uint8(v))
		} else {
			x.U8[v] = uint8(v)
		}
	}
	if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
		return nil, err
	}
	l := &lut8{}
	for v := range 256 {
		if y.DType == graph.Int8 {
			l.t[v] = uint8(y.I8[v])
		} else {
			l.t[v] = y.U8[v]
		}
	}
	if useAffine8 && !o.reference {
		l.aff = fitAffine8(&l.t, in.DType, res.DType)
	}
	return l, nil
}

// poolMap is a MaxPoolMapOptions kernel: the pool, then the table.
type poolMap struct {
	p   *pool
	lut *lut8
	// fused2x2: an int8 2×2 stride-2 pool with no padding before the
	// window and no clamp, whose table has an affine form that runs
	// (useAffine8), with C = 16 or a multiple of 32: the windows inside
	// the image take max2x2Affine8Vec, max and map in one pass.
	fused2x2 bool
}

func prepareMaxPoolMap(op *graph.Op, ins, outs []*graph.Tensor, mo *MaxPoolMapOptions, o Options) (Kernel, error) {
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil || mo.Mid == nil {
		return nil, fmt.Errorf("%s: needs input, output and intermediate tensors", op.Kind)
	}
	if ins[0].DType != mo.Mid.DType {
		return nil, unsupported(op, ins, outs, "input and pool output dtypes differ")
	}
	lut, err := mapTable(mo.Map, mo.Mid, outs[0], o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.Kind, err)
	}
	// The pool alone, writing a tensor of the output's shape and the
	// intermediate's dtype and quantization (its clamp range).
	mid := &graph.Tensor{Name: mo.Mid.Name, DType: mo.Mid.DType, Shape: outs[0].Shape, Quant: mo.Mid.Quant}
	pk, err := preparePool(&graph.Op{Kind: graph.OpMaxPool2D, Options: &mo.Pool}, ins, []*graph.Tensor{mid}, false)
	if err != nil {
		return nil, err
	}
	p := pool8Of(pk)
	if p == nil {
		return nil, unsupported(op, ins, outs, "not an 8-bit pool")
	}
	p.op = op
	k := &poolMap{p: p, lut: lut}
	g := p.g
	k.fused2x2 = useAffine8 && lut.aff.ok && ins[0].DType == graph.Int8 && g.fH == 2 && g.fW == 2 &&
		g.strideH == 2 && g.strideW == 2 && g.padT == 0 && g.padL == 0 && p.lo == math.MinInt8 && p.hi == math.MaxInt8 &&
		(g.inC == 16 || g.inC%32 == 0)
	return k, nil
}

// Run implements Kernel: each image is pooled into its output slice, which
// is then mapped in place (still in cache).
func (k *poolMap) Run(ins, outs []*Buffer) error {
	in, out, batch, err := k.p.buffers(ins, outs)
	if err != nil {
		return err
	}
	g := k.p.g
	perIn, perOut := g.inH*g.inW*g.inC, g.outH*g.outW*g.outC
	for b := range batch {
		if g.inD == graph.Int8 {
			if err := poolMapImage(k, in.I8[b*perIn:(b+1)*perIn], out.I8[b*perOut:(b+1)*perOut]); err != nil {
				return err
			}
			continue
		}
		if err := poolMapImage(k, in.U8[b*perIn:(b+1)*perIn], out.U8[b*perOut:(b+1)*perOut]); err != nil {
			return err
		}
	}
	return nil
}

func poolMapImage[T int8 | uint8](k *poolMap, src, dst []T) error {
	if s8, ok := any(src).([]int8); ok && k.fused2x2 {
		poolMap2x2(k, s8, any(dst).([]int8))
		return nil
	}
	if err := poolInt(k.p, src, dst, 1); err != nil {
		return err
	}
	mapLUT8(k.lut, dst, dst)
	return nil
}

// poolMap2x2 is one image of a fused2x2 kernel: each output row's windows
// inside the image in one vector pass, the rest (an odd last pixel of
// C = 16, SAME's clipped windows at the right and bottom edges) pooled
// pixel by pixel and mapped through the table.
func poolMap2x2(k *poolMap, src, dst []int8) {
	g := k.p.g
	C := g.inC
	inRow, outRow := g.inW*C, g.outW*C
	for oy := range g.outH {
		orow := dst[oy*outRow : (oy+1)*outRow]
		y0 := 2 * oy
		y1 := min(y0+2, g.inH)
		ox := 0
		if y1-y0 == 2 {
			full := min(g.outW, g.inW/2)
			ox = max2x2Affine8Vec(&k.lut.aff, orow[:full*C], src[y0*inRow:y0*inRow+2*full*C], src[y1*inRow-inRow:y1*inRow-inRow+2*full*C], C)
		}
		for ; ox < g.outW; ox++ {
			px := orow[ox*C : (ox+1)*C]
			maxWindow(px, src, inRow, C, y0, y1, 2*ox, min(2*ox+2, g.inW), math.MinInt8, math.MaxInt8)
			mapLUT8(k.lut, px, px)
		}
	}
}

// pool8Of is the pool of an 8-bit pool kernel (the plain ones and a
// poolMap's), nil for any other kernel.
func pool8Of(k Kernel) *pool {
	switch k := k.(type) {
	case *poolInt8:
		return k.pool
	case *poolUint8:
		return k.pool
	case *poolMap:
		return k.p
	}
	return nil
}
