// Package opcases builds random one-op graphs for tests: kernels tests run
// them against each other, interp tests against the TFLite oracle. Each
// graph has one activation input (the rest are constants, so the oracle,
// which feeds one input, can run it) and every output a graph output.
package opcases

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/qbench/qbench/graph"
)

// LayoutKinds are the layout, indexing and shape ops.
var LayoutKinds = []graph.OpKind{
	graph.OpSqueeze, graph.OpExpandDims, graph.OpTranspose, graph.OpSplit, graph.OpSplitV, graph.OpPack,
	graph.OpUnpack, graph.OpSlice, graph.OpStridedSlice, graph.OpTile, graph.OpGather, graph.OpGatherND,
	graph.OpShape, graph.OpRank, graph.OpFill, graph.OpRange, graph.OpBroadcastTo, graph.OpMirrorPad,
	graph.OpReverseV2, graph.OpSpaceToBatchND, graph.OpBatchToSpaceND, graph.OpSpaceToDepth,
	graph.OpDepthToSpace,
}

// DataTypes are the dtypes the TFLite runtime's layout kernels move.
var DataTypes = []graph.DType{graph.Float32, graph.Int8, graph.UInt8, graph.Int16, graph.Int32, graph.Int64, graph.Bool}

// LayoutDTypes returns the data dtypes qbench runs kind with (the dtype
// Layout's dt means: the moved values', RANGE's and FILL's output, SHAPE's
// and RANK's input).
func LayoutDTypes(kind graph.OpKind) []graph.DType {
	switch kind {
	case graph.OpRange:
		return []graph.DType{graph.Float32, graph.Int32, graph.Int64}
	case graph.OpFill: // TFLite's FILL has no uint8 kernel
		return []graph.DType{graph.Float32, graph.Int8, graph.Int16, graph.Int32, graph.Int64, graph.Bool}
	case graph.OpSplit, graph.OpSplitV, graph.OpPack, graph.OpGatherND, graph.OpMirrorPad, graph.OpSpaceToBatchND,
		graph.OpBatchToSpaceND, graph.OpSpaceToDepth, graph.OpDepthToSpace: // no bool in TFLite
		return DataTypes[:len(DataTypes)-1]
	}
	return DataTypes
}

// Quant gives int8, uint8 and int16 tensors random per-tensor parameters;
// Same reuses one for input and output.
func Quant(dt graph.DType, rng *rand.Rand) *graph.Quantization {
	switch dt {
	case graph.Int8:
		return &graph.Quantization{Scale: []float32{float32(0.01 + rng.Float64())}, ZeroPoint: []int64{int64(rng.IntN(256) - 128)}}
	case graph.UInt8:
		return &graph.Quantization{Scale: []float32{float32(0.01 + rng.Float64())}, ZeroPoint: []int64{int64(rng.IntN(256))}}
	case graph.Int16:
		return &graph.Quantization{Scale: []float32{float32(0.001 + rng.Float64()/100)}, ZeroPoint: []int64{0}}
	}
	return nil
}

// Ints is a constant int32 tensor of the given shape (nil: 1-D).
func Ints(name string, shape []int, v ...int) *graph.Tensor {
	if shape == nil {
		shape = []int{len(v)}
	}
	w := make([]int32, len(v))
	for i, x := range v {
		w[i] = int32(x)
	}
	return &graph.Tensor{Name: name, DType: graph.Int32, Shape: shape, Data: graph.EncodeInt32s(w)}
}

// RandomShape has rank lo..hi and dimensions 1..maxDim.
func RandomShape(rng *rand.Rand, lo, hi, maxDim int) []int {
	s := make([]int, lo+rng.IntN(hi-lo+1))
	for i := range s {
		s[i] = 1 + rng.IntN(maxDim)
	}
	return s
}

// Layout builds a random one-op graph of kind for data dtype dt, output
// shapes inferred. Quantized data tensors share one random quantization.
// Data tensors are named x (the input), y0, y1, ... (outputs) and c1, c2,
// ... (PACK's constant inputs); parameters have other names.
func Layout(kind graph.OpKind, dt graph.DType, rng *rand.Rand) (*graph.Graph, error) {
	q := Quant(dt, rng)
	g := &graph.Graph{}
	act := func(name string, d graph.DType, shape []int) int {
		t := &graph.Tensor{Name: name, DType: d, Shape: shape}
		if d == dt {
			t.Quant = q.Clone()
		}
		return g.AddTensor(t)
	}
	c := func(t *graph.Tensor) int { return g.AddTensor(t) }
	out := func(n int) []int {
		var o []int
		for i := range n {
			o = append(o, act(fmt.Sprintf("y%d", i), dt, []int{-1})) // -1: inferred below
		}
		return o
	}
	var x int
	var ins, outs []int
	var opts any
	switch kind {
	case graph.OpSqueeze:
		s := RandomShape(rng, 1, 4, 4)
		s[rng.IntN(len(s))] = 1
		x = act("x", dt, s)
		var dims []int
		if rng.IntN(2) == 0 {
			for i, d := range s {
				if d == 1 && rng.IntN(2) == 0 {
					dims = append(dims, i-len(s)*rng.IntN(2))
				}
			}
		}
		ins, outs, opts = []int{x}, out(1), &graph.SqueezeOptions{Dims: dims}
	case graph.OpExpandDims:
		s := RandomShape(rng, 0, 4, 4)
		x = act("x", dt, s)
		ins, outs = []int{x, c(Ints("axis", []int{}, rng.IntN(2*len(s)+2)-len(s)-1))}, out(1)
	case graph.OpTranspose:
		s := RandomShape(rng, 1, 5, 4)
		x = act("x", dt, s)
		perm := rng.Perm(len(s))
		ins, outs = []int{x, c(Ints("perm", nil, perm...))}, out(1)
	case graph.OpSplit, graph.OpSplitV:
		s := RandomShape(rng, 1, 4, 4)
		a := rng.IntN(len(s))
		n := 1 + rng.IntN(3)
		s[a] = n * (1 + rng.IntN(3))
		x = act("x", dt, s)
		axis := a - len(s)*rng.IntN(2)
		if kind == graph.OpSplit {
			ins = []int{c(Ints("axis", []int{}, axis)), x}
		} else {
			sizes := make([]int, n)
			left := s[a]
			for i := range n - 1 {
				sizes[i] = rng.IntN(left + 1)
				left -= sizes[i]
			}
			sizes[n-1] = left
			if rng.IntN(2) == 0 {
				sizes[rng.IntN(n)] = -1
			}
			ins = []int{x, c(Ints("size_splits", nil, sizes...)), c(Ints("axis", []int{}, axis))}
		}
		outs, opts = out(n), &graph.SplitOptions{NumSplits: n}
	case graph.OpPack:
		s := RandomShape(rng, 0, 3, 4)
		n := 1 + rng.IntN(3)
		x = act("x", dt, s)
		ins = []int{x}
		for i := 1; i < n; i++ {
			t := &graph.Tensor{Name: fmt.Sprintf("c%d", i), DType: dt, Shape: s, Quant: q.Clone()}
			t.Data = randomData(rng, dt, graph.NumElements(s))
			ins = append(ins, c(t))
		}
		if rng.IntN(2) == 0 {
			ins[0], ins[n-1] = ins[n-1], ins[0]
		}
		outs, opts = out(1), &graph.PackOptions{ValuesCount: n, Axis: rng.IntN(2*len(s)+2) - len(s) - 1}
	case graph.OpUnpack:
		s := RandomShape(rng, 1, 4, 4)
		a := rng.IntN(len(s))
		x = act("x", dt, s)
		ins, outs, opts = []int{x}, out(s[a]), &graph.UnpackOptions{Num: s[a], Axis: a - len(s)*rng.IntN(2)}
	case graph.OpSlice:
		s := RandomShape(rng, 1, 4, 5)
		x = act("x", dt, s)
		b, z := make([]int, len(s)), make([]int, len(s))
		for i, d := range s {
			b[i] = rng.IntN(d)
			z[i] = rng.IntN(d - b[i] + 1)
			if rng.IntN(4) == 0 {
				z[i] = -1
			}
		}
		ins, outs = []int{x, c(Ints("begin", nil, b...)), c(Ints("size", nil, z...))}, out(1)
	case graph.OpStridedSlice:
		s := RandomShape(rng, 1, 4, 6)
		x = act("x", dt, s)
		o := &graph.StridedSliceOptions{}
		n := len(s)
		ell := -1
		if n > 1 && rng.IntN(3) == 0 {
			n = len(s) - rng.IntN(len(s)) // the ellipsis covers the rest
			ell = rng.IntN(n)
			o.EllipsisMask = 1 << ell
		}
		b, e, st := make([]int, n), make([]int, n), make([]int, n)
		added := 0
		for i := range n {
			d := 6
			if ell < 0 && i < len(s) {
				d = s[i]
			}
			b[i] = rng.IntN(2*d+1) - d
			e[i] = rng.IntN(2*d+3) - d - 1
			st[i] = 1 + rng.IntN(3)
			if rng.IntN(3) == 0 {
				st[i] = -st[i]
			}
			switch rng.IntN(6) {
			case 0:
				o.BeginMask |= 1 << i
			case 1:
				o.EndMask |= 1 << i
			case 2:
				if i != ell {
					// 0 and -1 are in range whichever input dimension
					// this index meets after new axes.
					o.ShrinkAxisMask |= 1 << i
					b[i] = -rng.IntN(2)
				}
			case 3:
				if i != ell && len(s)+added < 5 {
					o.NewAxisMask |= 1 << i
					added++
				}
			}
		}
		ins, outs, opts = []int{x, c(Ints("begin", nil, b...)), c(Ints("end", nil, e...)), c(Ints("strides", nil, st...))}, out(1), o
	case graph.OpTile:
		s := RandomShape(rng, 1, 4, 3)
		x = act("x", dt, s)
		m := make([]int, len(s))
		for i := range m {
			m[i] = 1 + rng.IntN(3)
		}
		ins, outs = []int{x, c(Ints("multiples", nil, m...))}, out(1)
	case graph.OpGather:
		s := RandomShape(rng, 1, 4, 5)
		x = act("x", dt, s)
		axis := rng.IntN(len(s))
		bd := 0
		if axis > 0 && rng.IntN(2) == 0 {
			bd = 1 + rng.IntN(axis)
		}
		is := append(append([]int{}, s[:bd]...), RandomShape(rng, 0, 2, 4)...)
		v := make([]int, graph.NumElements(is))
		for i := range v {
			v[i] = rng.IntN(s[axis])
		}
		ins = []int{x, c(Ints("positions", is, v...))}
		outs, opts = out(1), &graph.GatherOptions{Axis: axis - len(s)*rng.IntN(2), BatchDims: bd}
	case graph.OpGatherND:
		s := RandomShape(rng, 1, 4, 5)
		x = act("x", dt, s)
		k := 1 + rng.IntN(len(s))
		is := append(RandomShape(rng, 1, 2, 3), k)
		v := make([]int, graph.NumElements(is))
		for i := range v {
			v[i] = rng.IntN(s[i%k])
		}
		ins, outs = []int{x, c(Ints("indices", is, v...))}, out(1)
	case graph.OpShape, graph.OpRank:
		x = act("x", dt, RandomShape(rng, 0, 5, 4))
		od := graph.Int32
		if kind == graph.OpShape && rng.IntN(2) == 0 {
			od = graph.Int64
		}
		ins, outs = []int{x}, []int{g.AddTensor(&graph.Tensor{Name: "y0", DType: od, Shape: []int{-1}})}
		if kind == graph.OpShape {
			opts = &graph.ShapeOptions{OutType: od}
		}
	case graph.OpFill:
		x = act("x", dt, []int{})
		// Rank 1 up: an empty dims tensor has no data in a .tflite file,
		// so TFLite would treat it (and the output) as dynamic.
		ins, outs = []int{c(Ints("dims", nil, RandomShape(rng, 1, 4, 4)...)), x}, out(1)
	case graph.OpRange:
		// All three inputs are constants: with a start fed at run time
		// TFLite makes the output dynamic. x is an unused graph input.
		x = act("x", dt, []int{})
		var start, lim, d *graph.Tensor
		switch dt {
		case graph.Float32:
			f := func(name string, v float64) *graph.Tensor {
				return &graph.Tensor{Name: name, DType: dt, Shape: []int{}, Data: graph.EncodeFloat32s([]float32{float32(v)})}
			}
			start, lim, d = f("start", rng.Float64()*20-10), f("limit", 10+rng.Float64()*40), f("delta", 0.3+rng.Float64()*3)
			if rng.IntN(2) == 0 {
				start, lim, d = f("start", 10+rng.Float64()*40), f("limit", rng.Float64()*20-10), f("delta", -0.3-rng.Float64()*3)
			}
		default:
			s0, l, dl := rng.IntN(20)-10, 60, 1+rng.IntN(7)
			if rng.IntN(2) == 0 {
				s0, l, dl = 60, rng.IntN(20)-10, -1-rng.IntN(7)
			}
			start, lim, d = Ints("start", []int{}, s0), Ints("limit", []int{}, l), Ints("delta", []int{}, dl)
			if dt != graph.Int32 {
				for _, t := range []*graph.Tensor{start, lim, d} {
					v := int64(t.Int32s()[0])
					t.DType = dt
					t.Data = make([]byte, dt.Size())
					for i := range t.Data {
						t.Data[i] = byte(v >> (8 * i))
					}
				}
			}
		}
		ins, outs = []int{c(start), c(lim), c(d)}, out(1)
	case graph.OpBroadcastTo:
		s := RandomShape(rng, 1, 3, 4)
		x = act("x", dt, s)
		tgt := RandomShape(rng, 0, 2, 3)
		for _, d := range s {
			if d == 1 {
				d = 1 + rng.IntN(3)
			}
			tgt = append(tgt, d)
		}
		for i := range s {
			if rng.IntN(3) == 0 {
				s[i] = 1
			}
		}
		ins, outs = []int{x, c(Ints("shape", nil, tgt...))}, out(1)
	case graph.OpMirrorPad:
		s := RandomShape(rng, 1, 4, 5)
		sym := rng.IntN(2) == 0
		x = act("x", dt, s)
		p := make([]int, 2*len(s))
		for i, d := range s {
			lim := d - 1
			if sym {
				lim = d
			}
			p[2*i], p[2*i+1] = rng.IntN(lim+1), rng.IntN(lim+1)
		}
		ins, outs, opts = []int{x, c(Ints("paddings", []int{len(s), 2}, p...))}, out(1), &graph.MirrorPadOptions{Symmetric: sym}
	case graph.OpReverseV2:
		s := RandomShape(rng, 1, 5, 4)
		x = act("x", dt, s)
		ins, outs = []int{x, c(Ints("axis", nil, rng.IntN(len(s))))}, out(1)
	case graph.OpSpaceToBatchND, graph.OpBatchToSpaceND:
		rank := 3 + rng.IntN(2)
		m := rank - 2
		blk := make([]int, m)
		pads := make([]int, 2*m)
		s := make([]int, rank)
		s[0] = 1 + rng.IntN(2)
		s[rank-1] = 1 + rng.IntN(3)
		for i := range m {
			blk[i] = 1 + rng.IntN(3)
			if kind == graph.OpSpaceToBatchND {
				pads[2*i], pads[2*i+1] = rng.IntN(3), 0
				s[i+1] = 1 + rng.IntN(5)
				pads[2*i+1] = (blk[i] - (s[i+1]+pads[2*i])%blk[i]) % blk[i]
			} else {
				s[i+1] = 1 + rng.IntN(3)
				full := s[i+1] * blk[i]
				pads[2*i] = rng.IntN(full)
				pads[2*i+1] = rng.IntN(full - pads[2*i])
			}
		}
		if kind == graph.OpBatchToSpaceND {
			s[0] *= graph.NumElements(blk)
		}
		x = act("x", dt, s)
		ins, outs = []int{x, c(Ints("block_shape", nil, blk...)), c(Ints("paddings", []int{m, 2}, pads...))}, out(1)
	case graph.OpSpaceToDepth, graph.OpDepthToSpace:
		b := 1 + rng.IntN(3)
		s := []int{1 + rng.IntN(2), 1 + rng.IntN(3), 1 + rng.IntN(3), 1 + rng.IntN(3)}
		if kind == graph.OpSpaceToDepth {
			s[1], s[2] = s[1]*b, s[2]*b
		} else {
			s[3] *= b * b
		}
		x = act("x", dt, s)
		ins, outs, opts = []int{x}, out(1), &graph.BlockOptions{BlockSize: b}
	default:
		return nil, fmt.Errorf("no case for %s", kind)
	}
	g.AddOp(kind, ins, outs, opts)
	g.Inputs, g.Outputs = []int{x}, outs
	if err := graph.InferShapes(g, nil); err != nil {
		return nil, err
	}
	for _, o := range outs {
		if slices.Contains(g.Tensors[o].Shape, -1) {
			return nil, fmt.Errorf("%s: output shape not inferred", kind)
		}
	}
	return g, nil
}

func randomData(rng *rand.Rand, dt graph.DType, n int) []byte {
	b := make([]byte, n*dt.Size())
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	switch dt {
	case graph.Bool:
		for i := range b {
			b[i] &= 1
		}
	case graph.Float32:
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		b = graph.EncodeFloat32s(v)
	}
	return b
}

// RandomData is n random values of dt as raw little-endian bytes (bools 0
// or 1, floats normally distributed).
func RandomData(rng *rand.Rand, dt graph.DType, n int) []byte { return randomData(rng, dt, n) }

// Input is a random input for g's graph input: raw values of its dtype.
func Input(g *graph.Graph, rng *rand.Rand) []byte {
	t := g.Tensors[g.Inputs[0]]
	return randomData(rng, t.DType, t.NumElements())
}
