package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BATCH_MATMUL and L2_POOL_2D (TRANSPOSE_CONV is in transpose_conv.go).

// BATCH_MATMUL multiplies the last two dimensions of its operands, the
// batch dimensions broadcast NumPy-style (rank up to 5), either operand
// optionally transposed (adj_x, adj_y). Float32; int8 and int16 with
// per-tensor quantization (TFLite's reference: exact integer sums of
// (lhs − zp)·(rhs − zp), int32 accumulators for int8 and int64 with the
// 64-bit multiplier for int16, rescaled once per output).
type batchMatMul struct {
	op                 *graph.Op
	dt                 graph.DType
	aShape, bShape     []int
	outShape           []int
	m, n, k            int
	adjX, adjY         bool
	aZP, bZP           int32
	mult               int32
	shift              int
	outZP, lo, hi      int32
	rnd                fixedpoint.Rounding
	aStrides, bStrides []int // per output batch dimension, 0 where broadcast
	batchDims          []int
}

func prepareBatchMatMul(p *prep) (Kernel, error) {
	op := p.op
	a, b, y := p.in(0), p.in(1), p.out(0)
	if a == nil || b == nil || y == nil {
		return nil, fmt.Errorf("%s: needs two inputs and an output", op.Kind)
	}
	o, ok := op.Options.(*graph.BatchMatMulOptions)
	if !ok {
		if op.Options != nil {
			return nil, fmt.Errorf("%s: options are %T", op.Kind, op.Options)
		}
		o = &graph.BatchMatMulOptions{}
	}
	if a.DType != b.DType || a.DType != y.DType {
		return nil, p.unsupported("operand and output dtypes must be equal (hybrid BATCH_MATMUL is not supported)")
	}
	switch a.DType {
	case graph.Float32, graph.Int8, graph.Int16:
	default:
		return nil, p.unsupported("dtype")
	}
	shape, err := graph.BatchMatMulShape(a.Shape, b.Shape, o.AdjX, o.AdjY)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", op.Kind, err, graph.ErrShape)
	}
	if !equalInts(shape, y.Shape) {
		return nil, fmt.Errorf("%s: output %q is %v, the operands give %v: %w", op.Kind, y.Name, y.Shape, shape, graph.ErrShape)
	}
	r := len(shape)
	k := &batchMatMul{op: op, dt: a.DType, aShape: a.Shape, bShape: b.Shape, outShape: shape,
		m: shape[r-2], n: shape[r-1], adjX: o.AdjX, adjY: o.AdjY, rnd: p.rnd}
	k.k = a.Shape[len(a.Shape)-1]
	if o.AdjX {
		k.k = a.Shape[len(a.Shape)-2]
	}
	k.batchDims = shape[:r-2]
	k.aStrides = batchStrides(a.Shape, r-2)
	k.bStrides = batchStrides(b.Shape, r-2)
	if a.DType == graph.Float32 {
		return k, nil
	}
	sA, zpA, err := tensorQuant(op, "lhs", a)
	if err != nil {
		return nil, err
	}
	sB, zpB, err := tensorQuant(op, "rhs", b)
	if err != nil {
		return nil, err
	}
	sY, zpY, err := tensorQuant(op, "output", y)
	if err != nil {
		return nil, err
	}
	if len(a.Quant.Scale) != 1 || len(b.Quant.Scale) != 1 {
		return nil, unsupportedf(op, "operands must be quantized per tensor")
	}
	if a.DType == graph.Int16 && (zpA != 0 || zpB != 0 || zpY != 0) {
		return nil, unsupportedf(op, "int16 operands and output need zero point 0 (got %d, %d, %d)", zpA, zpB, zpY)
	}
	k.aZP, k.bZP, k.outZP = zpA, zpB, zpY
	// TFLite's BATCH_MATMUL forms the real multiplier in float32 (the
	// scales' product and quotient), not in double as the convolutions
	// do: measured against the oracle on scales near powers of two.
	real := float64(float32(sA*sB) / sY)
	if a.DType == graph.Int16 {
		k.mult, k.shift = fixedpoint.QuantizeMultiplier(real)
	} else {
		k.mult, k.shift = p.rnd.Builtin().QuantizeMultiplier(real)
	}
	k.lo, k.hi = DTypeRange(y.DType)
	return k, nil
}

// batchStrides returns, for each of the r output batch dimensions, the
// element stride of shape's matrix batch along it (0 where shape has size 1
// there or does not reach it: broadcast).
func batchStrides(shape []int, r int) []int {
	s := make([]int, r)
	mat := shape[len(shape)-2] * shape[len(shape)-1]
	off := r - (len(shape) - 2)
	stride := mat
	for i := len(shape) - 3; i >= 0; i-- {
		if shape[i] != 1 {
			s[i+off] = stride
		}
		stride *= shape[i]
	}
	return s
}

// Run implements Kernel.
func (k *batchMatMul) Run(ins, outs []*Buffer) error {
	a, b, y := ins[0], ins[1], outs[0]
	if bufLen(a) != graph.NumElements(k.aShape) || bufLen(b) != graph.NumElements(k.bShape) || bufLen(y) != graph.NumElements(k.outShape) {
		return fmt.Errorf("%s: buffers hold %d, %d and %d elements, want %v, %v and %v", k.op.Kind, bufLen(a), bufLen(b), bufLen(y), k.aShape, k.bShape, k.outShape)
	}
	nb := graph.NumElements(k.batchDims)
	idx := make([]int, len(k.batchDims))
	for bi := range nb {
		aOff, bOff := 0, 0
		for d, i := range idx {
			aOff += i * k.aStrides[d]
			bOff += i * k.bStrides[d]
		}
		o := bi * k.m * k.n
		switch k.dt {
		case graph.Float32:
			k.float(a.F32[aOff:], b.F32[bOff:], y.F32[o:o+k.m*k.n])
		case graph.Int8:
			k.int8(a.I8[aOff:], b.I8[bOff:], y.I8[o:o+k.m*k.n])
		case graph.Int16:
			k.int16(a.I16[aOff:], b.I16[bOff:], y.I16[o:o+k.m*k.n])
		}
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < k.batchDims[d] {
				break
			}
			idx[d] = 0
		}
	}
	return nil
}

// at returns the offsets of element (i, kk) of the lhs and (kk, j) of the
// rhs matrix, honouring adj_x and adj_y.
func (k *batchMatMul) aAt(i, kk int) int {
	if k.adjX {
		return kk*k.m + i
	}
	return i*k.k + kk
}

func (k *batchMatMul) bAt(kk, j int) int {
	if k.adjY {
		return j*k.k + kk
	}
	return kk*k.n + j
}

func (k *batchMatMul) float(a, b, y []float32) {
	for i := range k.m {
		for j := range k.n {
			var s float32
			for kk := range k.k {
				s += a[k.aAt(i, kk)] * b[k.bAt(kk, j)]
			}
			y[i*k.n+j] = s
		}
	}
}

func (k *batchMatMul) int8(a, b, y []int8) {
	for i := range k.m {
		for j := range k.n {
			var s int32
			for kk := range k.k {
				s += (int32(a[k.aAt(i, kk)]) - k.aZP) * (int32(b[k.bAt(kk, j)]) - k.bZP)
			}
			v := k.rnd.Builtin().MultiplyByQuantizedMultiplier(s, k.mult, k.shift) + k.outZP
			y[i*k.n+j] = int8(min(max(v, k.lo), k.hi))
		}
	}
}

func (k *batchMatMul) int16(a, b, y []int16) {
	for i := range k.m {
		for j := range k.n {
			var s int64
			for kk := range k.k {
				s += int64(a[k.aAt(i, kk)]) * int64(b[k.bAt(kk, j)])
			}
			v := fixedpoint.MultiplyByQuantizedMultiplier64(s, k.mult, k.shift)
			y[i*k.n+j] = int16(min(max(v, k.lo), k.hi))
		}
	}
}

// L2_POOL_2D (float32): the square root of the mean of the squares over
// each window's in-bounds elements, then the fused activation, as TFLite's
// reference L2Pool computes it.
type l2Pool struct{ *pool }

func prepareL2Pool(p *prep) (Kernel, error) {
	x := p.in(0)
	if x == nil || x.DType != graph.Float32 {
		return nil, p.unsupported("TFLite's L2_POOL_2D is float32 only")
	}
	k, err := preparePool(p.op, p.ins, p.outs, true)
	if err != nil {
		return nil, err
	}
	return l2Pool{k.(*poolFloat).pool}, nil
}

// Run implements Kernel.
func (p l2Pool) Run(ins, outs []*Buffer) error {
	in, out, batch, err := p.buffers(ins, outs)
	if err != nil {
		return err
	}
	g := p.g
	src, dst := in.F32, out.F32
	o := 0
	for b := range batch {
		img := src[b*g.inH*g.inW*g.inC:]
		for oy := range g.outH {
			for ox := range g.outW {
				y0, y1, x0, x1 := p.window(oy, ox)
				count := max(y1-y0, 0) * max(x1-x0, 0)
				for c := range g.outC {
					var sum float32
					for y := y0; y < y1; y++ {
						for x := x0; x < x1; x++ {
							v := img[(y*g.inW+x)*g.inC+c]
							sum += float32(v * v)
						}
					}
					r := float32(math.Sqrt(float64(sum / float32(count))))
					dst[o+c] = min(max(r, p.flo), p.fhi)
				}
				o += g.outC
			}
		}
	}
	return nil
}
