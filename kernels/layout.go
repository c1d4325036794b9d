package kernels

import (
	"fmt"
	"unsafe"

	"github.com/qbench/qbench/graph"
)

// Layout, indexing and shape ops. They move elements without arithmetic, so
// they work by element width (1, 2, 4 or 8 bytes), not by dtype: float32,
// int8, uint8, int16, int32, int64 and bool share every loop.
//
// Most of them are an index map: output element i of output o is input
// element src[o][i] (or the pad value where src is -1). The map is built in
// prepare when the op's parameter inputs (perm, begin/end, paddings, ...)
// are constants, and per Run from their values otherwise; either way the
// parameters are resolved by the same graph functions the shape rules use,
// and a dynamic result must match the output's planned shape.

// layoutDTypes are the dtypes the TFLite runtime's layout kernels move.
func layoutDType(d graph.DType) bool {
	switch d {
	case graph.Float32, graph.Int8, graph.UInt8, graph.Int16, graph.Int32, graph.Int64, graph.Bool:
		return true
	}
	return false
}

// noBoolKinds are the layout ops whose TFLite kernels refuse bool
// (checked against the TFLite interpreter); qbench refuses it too.
var noBoolKinds = map[graph.OpKind]bool{
	graph.OpSplit: true, graph.OpSplitV: true, graph.OpPack: true, graph.OpGatherND: true,
	graph.OpMirrorPad: true, graph.OpSpaceToBatchND: true, graph.OpBatchToSpaceND: true,
	graph.OpSpaceToDepth: true, graph.OpDepthToSpace: true,
}

// rawBytes views a buffer's elements as bytes (no copy).
func rawBytes(b *Buffer) []byte {
	var p unsafe.Pointer
	n := 0
	switch b.DType {
	case graph.Float32:
		if len(b.F32) > 0 {
			p, n = unsafe.Pointer(&b.F32[0]), 4*len(b.F32)
		}
	case graph.Int8, graph.Int4:
		if len(b.I8) > 0 {
			p, n = unsafe.Pointer(&b.I8[0]), len(b.I8)
		}
	case graph.UInt8:
		return b.U8
	case graph.Int16:
		if len(b.I16) > 0 {
			p, n = unsafe.Pointer(&b.I16[0]), 2*len(b.I16)
		}
	case graph.Int32:
		if len(b.I32) > 0 {
			p, n = unsafe.Pointer(&b.I32[0]), 4*len(b.I32)
		}
	case graph.Int64:
		if len(b.I64) > 0 {
			p, n = unsafe.Pointer(&b.I64[0]), 8*len(b.I64)
		}
	case graph.Bool:
		if len(b.Bool) > 0 {
			p, n = unsafe.Pointer(&b.Bool[0]), len(b.Bool)
		}
	}
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}

// raw views a buffer's elements as T, which must have the dtype's width.
// Buffers are element-aligned (arena views, decoded constants), so the view
// is aligned too.
func raw[T uint8 | uint16 | uint32 | uint64](b *Buffer) []T {
	bs := rawBytes(b)
	var z T
	w := int(unsafe.Sizeof(z))
	if len(bs) < w {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&bs[0])), len(bs)/w)
}

// bufInts reads an int32 or int64 parameter buffer.
func bufInts(b *Buffer) ([]int, error) {
	if b == nil {
		return nil, fmt.Errorf("missing parameter input")
	}
	var v []int
	switch b.DType {
	case graph.Int32:
		for _, x := range b.I32 {
			v = append(v, int(x))
		}
	case graph.Int64:
		for _, x := range b.I64 {
			v = append(v, int(x))
		}
	default:
		return nil, fmt.Errorf("parameter is %s, want int32 or int64", b.DType)
	}
	if v == nil {
		v = []int{}
	}
	return v, nil
}

// tensorInts reads a constant int32/int64 tensor; nil when not constant.
func tensorInts(t *graph.Tensor) []int {
	if t == nil || !t.IsConst() {
		return nil
	}
	var v []int
	switch t.DType {
	case graph.Int32:
		for _, x := range t.Int32s() {
			v = append(v, int(x))
		}
	case graph.Int64:
		for _, x := range t.Int64s() {
			v = append(v, int(x))
		}
	default:
		return nil
	}
	if v == nil {
		v = []int{}
	}
	return v
}

// sameData checks that out can hold in's elements unchanged: same dtype,
// one the layout kernels move, and (quantized) the same scale and zero
// point, since these kernels copy and never rescale.
func (p *prep) sameData(in, out *graph.Tensor) error {
	if in.DType != out.DType {
		return p.unsupported(fmt.Sprintf("input %q and output %q dtypes differ", in.Name, out.Name))
	}
	if !layoutDType(out.DType) || (out.DType == graph.Bool && noBoolKinds[p.op.Kind]) {
		return p.unsupported("dtype")
	}
	si, zi, iq := QuantParams(in)
	so, zo, oq := QuantParams(out)
	if iq && oq && out.DType != graph.Float32 && (si != so || zi != zo) {
		return fmt.Errorf("%s: input %q and output %q quantization differ (%g, %d vs %g, %d); this op copies values and cannot rescale",
			p.op.Kind, in.Name, out.Name, si, zi, so, zo)
	}
	return nil
}

// mapBuild resolves parameter values (one []int per parameter input) into
// output shapes and index maps.
type mapBuild func(vals [][]int) (shapes [][]int, src [][]int32, err error)

// mapKernel moves elements of input from into each output along an index
// map; -1 in a map writes pad.
type mapKernel struct {
	op     graph.OpKind
	width  int
	from   int
	params []int     // parameter input positions (read per Run when src is nil)
	src    [][]int32 // static maps, or nil
	build  mapBuild
	pad    uint64 // raw bits of the pad value
}

func (k *mapKernel) Run(ins, outs []*Buffer) error {
	src := k.src
	if src == nil {
		vals := make([][]int, len(k.params))
		for i, pi := range k.params {
			v, err := bufInts(ins[pi])
			if err != nil {
				return fmt.Errorf("%s: input %d: %w", k.op, pi, err)
			}
			vals[i] = v
		}
		shapes, s, err := k.build(vals)
		if err != nil {
			return fmt.Errorf("%s: %w", k.op, err)
		}
		for o, sh := range shapes {
			if o < len(outs) && !equalInts(sh, outs[o].Shape) {
				return fmt.Errorf("%s: output %d would have shape %v, planned %v: %w", k.op, o, sh, outs[o].Shape, graph.ErrShape)
			}
		}
		src = s
	}
	x := ins[k.from]
	for o, m := range src {
		if o >= len(outs) {
			break
		}
		y := outs[o]
		switch k.width {
		case 1:
			applyMap(raw[uint8](x), raw[uint8](y), m, uint8(k.pad))
		case 2:
			applyMap(raw[uint16](x), raw[uint16](y), m, uint16(k.pad))
		case 4:
			applyMap(raw[uint32](x), raw[uint32](y), m, uint32(k.pad))
		case 8:
			applyMap(raw[uint64](x), raw[uint64](y), m, k.pad)
		}
	}
	return nil
}

func applyMap[T uint8 | uint16 | uint32 | uint64](x, y []T, src []int32, pad T) {
	y = y[:len(src)]
	for i, s := range src {
		if s < 0 {
			y[i] = pad
		} else {
			y[i] = x[s]
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// newMap prepares a mapKernel over input from with parameter inputs params:
// it checks dtypes and quantization of every output against the input,
// and builds the maps now when every parameter is constant.
func (p *prep) newMap(from int, params []int, build mapBuild) (Kernel, error) {
	x := p.in(from)
	if x == nil {
		return nil, fmt.Errorf("%s: input %d is missing", p.op.Kind, from)
	}
	for _, o := range p.outs {
		if err := p.sameData(x, o); err != nil {
			return nil, err
		}
	}
	k := &mapKernel{op: p.op.Kind, width: x.DType.Size(), from: from, params: params, build: build}
	vals := make([][]int, len(params))
	for i, pi := range params {
		t := p.in(pi)
		if t == nil {
			return nil, fmt.Errorf("%s: input %d is missing", p.op.Kind, pi)
		}
		if t.DType != graph.Int32 && t.DType != graph.Int64 {
			return nil, p.unsupported(fmt.Sprintf("input %d %q is %s, want int32 or int64", pi, t.Name, t.DType))
		}
		vals[i] = tensorInts(t)
		if vals[i] == nil {
			return k, nil // dynamic: built per Run
		}
	}
	shapes, src, err := build(vals)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
	}
	if len(shapes) != len(p.outs) {
		return nil, fmt.Errorf("%s: %d outputs, op makes %d", p.op.Kind, len(p.outs), len(shapes))
	}
	for o, sh := range shapes {
		if !equalInts(sh, p.outs[o].Shape) {
			return nil, fmt.Errorf("%s: output %q has shape %v, op makes %v: %w", p.op.Kind, p.outs[o].Name, p.outs[o].Shape, sh, graph.ErrShape)
		}
	}
	k.src = src
	return k, nil
}

// strides returns row-major element strides of shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	n := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = n
		n *= shape[i]
	}
	return s
}

// affine lists base + Σ coord[i]·step[i] over every coordinate of shape in
// row-major order.
func affine(shape []int, base int, step []int) []int32 {
	n := graph.NumElements(shape)
	src := make([]int32, 0, n)
	if n == 0 {
		return src
	}
	coord := make([]int, len(shape))
	off := base
	for range n {
		src = append(src, int32(off))
		for d := len(shape) - 1; d >= 0; d-- {
			coord[d]++
			off += step[d]
			if coord[d] < shape[d] {
				break
			}
			off -= step[d] * coord[d]
			coord[d] = 0
		}
	}
	return src
}

// separable lists Σ lists[d][coord[d]]·stride[d] over every output
// coordinate, where lists[d] holds the source coordinate in dimension d of
// each output coordinate (-1: padding, the whole element is pad).
func separable(inShape []int, lists [][]int) []int32 {
	st := strides(inShape)
	shape := make([]int, len(lists))
	for d, l := range lists {
		shape[d] = len(l)
	}
	n := graph.NumElements(shape)
	src := make([]int32, 0, n)
	if n == 0 {
		return src
	}
	coord := make([]int, len(shape))
	for range n {
		off := 0
		for d, c := range coord {
			v := lists[d][c]
			if v < 0 {
				off = -1
				break
			}
			off += v * st[d]
		}
		src = append(src, int32(off))
		for d := len(shape) - 1; d >= 0; d-- {
			coord[d]++
			if coord[d] < shape[d] {
				break
			}
			coord[d] = 0
		}
	}
	return src
}

func one(shape []int, src []int32) ([][]int, [][]int32, error) {
	return [][]int{shape}, [][]int32{src}, nil
}

func prepareReshapeLike(p *prep) (Kernel, error) {
	x, y := p.in(0), p.out(0)
	var want []int
	var err error
	if p.op.Kind == graph.OpSqueeze {
		o, _ := p.op.Options.(*graph.SqueezeOptions)
		var dims []int
		if o != nil {
			dims = o.Dims
		}
		want, err = graph.SqueezeShape(x.Shape, dims)
	} else {
		a := p.in(1)
		if a == nil || (a.DType != graph.Int32 && a.DType != graph.Int64) || a.NumElements() != 1 {
			return nil, p.unsupported("axis must be one int32 or int64 value")
		}
		if v := tensorInts(a); v != nil {
			want, err = graph.ExpandDimsShape(x.Shape, v[0])
		} else {
			want = y.Shape // dynamic axis: the element order is the same whatever it is
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
	}
	if !equalInts(want, y.Shape) {
		return nil, fmt.Errorf("%s: output %q has shape %v, op makes %v: %w", p.op.Kind, y.Name, y.Shape, want, graph.ErrShape)
	}
	if err := p.sameData(x, y); err != nil {
		return nil, err
	}
	return copyKernel{}, nil
}

func prepareTranspose(p *prep) (Kernel, error) {
	x := p.in(0)
	return p.newMap(0, []int{1}, func(v [][]int) ([][]int, [][]int32, error) {
		out, err := graph.TransposeShape(x.Shape, v[0])
		if err != nil {
			return nil, nil, err
		}
		st := strides(x.Shape)
		step := make([]int, len(out))
		for i, q := range v[0] {
			step[i] = st[q]
		}
		return one(out, affine(out, 0, step))
	})
}

func prepareSplit(p *prep) (Kernel, error) {
	o, ok := p.op.Options.(*graph.SplitOptions)
	if !ok {
		return nil, fmt.Errorf("%s: options are %T", p.op.Kind, p.op.Options)
	}
	data, params := 1, []int{0}
	if p.op.Kind == graph.OpSplitV {
		data, params = 0, []int{1, 2}
	}
	x := p.in(data)
	if x == nil {
		return nil, fmt.Errorf("%s: input %d is missing", p.op.Kind, data)
	}
	k, err := p.newMap(data, params, func(v [][]int) ([][]int, [][]int32, error) {
		axisV, sizes := v[0], []int(nil)
		if p.op.Kind == graph.OpSplitV {
			sizes, axisV = v[0], v[1]
		}
		if len(axisV) != 1 {
			return nil, nil, fmt.Errorf("split axis must be one value, got %v", axisV)
		}
		parts, axis, err := graph.SplitSizes(x.Shape, axisV[0], o.NumSplits, sizes)
		if err != nil {
			return nil, nil, err
		}
		st := strides(x.Shape)
		var shapes [][]int
		var src [][]int32
		off := 0
		for _, n := range parts {
			s := append([]int{}, x.Shape...)
			s[axis] = n
			shapes = append(shapes, s)
			src = append(src, affine(s, off*st[axis], st))
			off += n
		}
		return shapes, src, nil
	})
	if err != nil || p.ref {
		return k, err
	}
	// Constant parameters (the map was built, and checked against the
	// outputs): copy blocks instead of following the map.
	if m, ok := k.(*mapKernel); ok && m.src != nil {
		axisV, sizes := tensorInts(p.in(params[0])), []int(nil)
		if p.op.Kind == graph.OpSplitV {
			sizes, axisV = axisV, tensorInts(p.in(params[1]))
		}
		if parts, axis, err := graph.SplitSizes(x.Shape, axisV[0], o.NumSplits, sizes); err == nil {
			return newSplitKernel(data, x.Shape, axis, parts, m.width), nil
		}
	}
	return k, nil
}

func prepareUnpack(p *prep) (Kernel, error) {
	o, ok := p.op.Options.(*graph.UnpackOptions)
	if !ok {
		return nil, fmt.Errorf("%s: options are %T", p.op.Kind, p.op.Options)
	}
	x := p.in(0)
	return p.newMap(0, nil, func([][]int) ([][]int, [][]int32, error) {
		a := o.Axis
		if a < 0 {
			a += len(x.Shape)
		}
		if a < 0 || a >= len(x.Shape) || x.Shape[a] != o.Num || o.Num != len(p.outs) {
			return nil, nil, fmt.Errorf("num %d, %d outputs and axis %d of %v must agree", o.Num, len(p.outs), o.Axis, x.Shape)
		}
		st := strides(x.Shape)
		s := append(append([]int{}, x.Shape[:a]...), x.Shape[a+1:]...)
		step := append(append([]int{}, st[:a]...), st[a+1:]...)
		var shapes [][]int
		var src [][]int32
		for i := range o.Num {
			shapes = append(shapes, s)
			src = append(src, affine(s, i*st[a], step))
		}
		return shapes, src, nil
	})
}

func prepareSlice(p *prep) (Kernel, error) {
	x := p.in(0)
	return p.newMap(0, []int{1, 2}, func(v [][]int) ([][]int, [][]int32, error) {
		begin, size, err := graph.SliceBounds(x.Shape, v[0], v[1])
		if err != nil {
			return nil, nil, err
		}
		st := strides(x.Shape)
		base := 0
		for i, b := range begin {
			base += b * st[i]
		}
		return one(size, affine(size, base, st))
	})
}

func prepareStridedSlice(p *prep) (Kernel, error) {
	o, ok := p.op.Options.(*graph.StridedSliceOptions)
	if !ok {
		if p.op.Options != nil {
			return nil, fmt.Errorf("%s: options are %T", p.op.Kind, p.op.Options)
		}
		o = &graph.StridedSliceOptions{}
	}
	x := p.in(0)
	return p.newMap(0, []int{1, 2, 3}, func(v [][]int) ([][]int, [][]int32, error) {
		sp, err := graph.StridedSlice(x.Shape, v[0], v[1], v[2], o)
		if err != nil {
			return nil, nil, err
		}
		st := strides(sp.Shape)
		base := 0
		step := make([]int, len(st))
		for i := range st {
			base += sp.Start[i] * st[i]
			step[i] = sp.Stride[i] * st[i]
		}
		return one(sp.Out, affine(sp.Count, base, step))
	})
}

func prepareTile(p *prep) (Kernel, error) {
	x := p.in(0)
	return p.newMap(0, []int{1}, func(v [][]int) ([][]int, [][]int32, error) {
		out, err := graph.TileShape(x.Shape, v[0])
		if err != nil {
			return nil, nil, err
		}
		lists := make([][]int, len(out))
		for d, n := range out {
			lists[d] = make([]int, n)
			for j := range n {
				lists[d][j] = j % x.Shape[d]
			}
		}
		return one(out, separable(x.Shape, lists))
	})
}

func prepareBroadcastTo(p *prep) (Kernel, error) {
	x := p.in(0)
	return p.newMap(0, []int{1}, func(v [][]int) ([][]int, [][]int32, error) {
		out, err := graph.BroadcastToShape(x.Shape, v[0])
		if err != nil {
			return nil, nil, err
		}
		st := strides(x.Shape)
		off := len(out) - len(x.Shape)
		step := make([]int, len(out))
		for d := off; d < len(out); d++ {
			if x.Shape[d-off] != 1 {
				step[d] = st[d-off]
			}
		}
		return one(out, affine(out, 0, step))
	})
}

func prepareMirrorPad(p *prep) (Kernel, error) {
	o, _ := p.op.Options.(*graph.MirrorPadOptions)
	sym := o != nil && o.Symmetric
	x := p.in(0)
	return p.newMap(0, []int{1}, func(v [][]int) ([][]int, [][]int32, error) {
		out, err := graph.MirrorPadShape(x.Shape, v[0], sym)
		if err != nil {
			return nil, nil, err
		}
		edge := 1 // REFLECT skips the border element
		if sym {
			edge = 0
		}
		lists := make([][]int, len(out))
		for d, n := range out {
			lists[d] = make([]int, n)
			before, size := v[0][2*d], x.Shape[d]
			for j := range n {
				i := j - before
				switch {
				case i < 0:
					i = -i - 1 + edge
				case i >= size:
					i = 2*size - i - 1 - edge
				}
				lists[d][j] = i
			}
		}
		return one(out, separable(x.Shape, lists))
	})
}

func prepareReverse(p *prep) (Kernel, error) {
	x := p.in(0)
	return p.newMap(0, []int{1}, func(v [][]int) ([][]int, [][]int32, error) {
		st := strides(x.Shape)
		step := append([]int{}, st...)
		base := 0
		seen := make([]bool, len(x.Shape))
		for _, a := range v[0] {
			d := a
			if d < 0 {
				d += len(x.Shape)
			}
			if d < 0 || d >= len(x.Shape) {
				return nil, nil, fmt.Errorf("axis %d out of range for rank %d", a, len(x.Shape))
			}
			if seen[d] {
				continue
			}
			seen[d] = true
			base += (x.Shape[d] - 1) * st[d]
			step[d] = -st[d]
		}
		return one(x.Shape, affine(x.Shape, base, step))
	})
}

// spatial4 views a 3-D [b, h, c] space/batch problem as 4-D [b, h, 1, c].
func spatial4(in, block, pads []int) ([]int, []int, []int) {
	if len(in) == 3 {
		return []int{in[0], in[1], 1, in[2]}, []int{block[0], 1}, []int{pads[0], pads[1], 0, 0}
	}
	return in, block, pads
}

func prepareSpaceToBatchND(p *prep) (Kernel, error) {
	x, y := p.in(0), p.out(0)
	k, err := p.newMap(0, []int{1, 2}, func(v [][]int) ([][]int, [][]int32, error) {
		out, err := graph.SpaceToBatchShape(x.Shape, v[0], v[1])
		if err != nil {
			return nil, nil, err
		}
		in, block, pads := spatial4(x.Shape, v[0], v[1])
		o4, _, _ := spatial4(out, v[0], v[1])
		st := strides(in)
		src := make([]int32, 0, graph.NumElements(out))
		for ob := range o4[0] {
			b := ob % in[0]
			blk := ob / in[0]
			dy, dx := blk/block[1], blk%block[1]
			for oh := range o4[1] {
				h := oh*block[0] + dy - pads[0]
				for ow := range o4[2] {
					w := ow*block[1] + dx - pads[2]
					for c := range o4[3] {
						if h < 0 || h >= in[1] || w < 0 || w >= in[2] {
							src = append(src, -1)
						} else {
							src = append(src, int32(b*st[0]+h*st[1]+w*st[2]+c))
						}
					}
				}
			}
		}
		return one(out, src)
	})
	if err != nil {
		return nil, err
	}
	// Padding is the real value 0: the output's zero point when quantized.
	if _, zp, ok := QuantParams(y); ok && y.DType != graph.Float32 {
		k.(*mapKernel).pad = uint64(zp)
	}
	return k, nil
}

func prepareBatchToSpaceND(p *prep) (Kernel, error) {
	x := p.in(0)
	return p.newMap(0, []int{1, 2}, func(v [][]int) ([][]int, [][]int32, error) {
		out, err := graph.BatchToSpaceShape(x.Shape, v[0], v[1])
		if err != nil {
			return nil, nil, err
		}
		in, block, crops := spatial4(x.Shape, v[0], v[1])
		o4, _, _ := spatial4(out, v[0], v[1])
		st := strides(in)
		src := make([]int32, 0, graph.NumElements(out))
		for b := range o4[0] {
			for oh := range o4[1] {
				h := oh + crops[0]
				for ow := range o4[2] {
					w := ow + crops[2]
					ib := ((h%block[0])*block[1]+w%block[1])*o4[0] + b
					base := ib*st[0] + (h/block[0])*st[1] + (w/block[1])*st[2]
					for c := range o4[3] {
						src = append(src, int32(base+c))
					}
				}
			}
		}
		return one(out, src)
	})
}

func blockSize(p *prep) (int, error) {
	o, ok := p.op.Options.(*graph.BlockOptions)
	if !ok || o.BlockSize < 1 {
		return 0, fmt.Errorf("%s: needs a positive block size (options %T)", p.op.Kind, p.op.Options)
	}
	if len(p.in(0).Shape) != 4 {
		return 0, fmt.Errorf("%s: input %q shape %v must be 4-D", p.op.Kind, p.in(0).Name, p.in(0).Shape)
	}
	return o.BlockSize, nil
}

func prepareSpaceToDepth(p *prep) (Kernel, error) {
	bs, err := blockSize(p)
	if err != nil {
		return nil, err
	}
	x := p.in(0)
	return p.newMap(0, nil, func([][]int) ([][]int, [][]int32, error) {
		s := x.Shape
		if s[1]%bs != 0 || s[2]%bs != 0 {
			return nil, nil, fmt.Errorf("height and width of %v must be multiples of block size %d", s, bs)
		}
		st := strides(s)
		// Output [b, h, w, dy, dx, c] reads input [b, h·bs+dy, w·bs+dx, c].
		view := []int{s[0], s[1] / bs, s[2] / bs, bs, bs, s[3]}
		step := []int{st[0], bs * st[1], bs * st[2], st[1], st[2], 1}
		return one([]int{s[0], s[1] / bs, s[2] / bs, s[3] * bs * bs}, affine(view, 0, step))
	})
}

func prepareDepthToSpace(p *prep) (Kernel, error) {
	bs, err := blockSize(p)
	if err != nil {
		return nil, err
	}
	x := p.in(0)
	return p.newMap(0, nil, func([][]int) ([][]int, [][]int32, error) {
		s := x.Shape
		if s[3]%(bs*bs) != 0 {
			return nil, nil, fmt.Errorf("depth of %v must be a multiple of block size %d squared", s, bs)
		}
		c := s[3] / (bs * bs)
		st := strides(s)
		// Output [b, h, dy, w, dx, c] reads input [b, h, w, (dy·bs+dx)·c' + c].
		view := []int{s[0], s[1], bs, s[2], bs, c}
		step := []int{st[0], st[1], bs * c, st[2], c, 1}
		return one([]int{s[0], s[1] * bs, s[2] * bs, c}, affine(view, 0, step))
	})
}
