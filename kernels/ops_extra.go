package kernels

import (
	"fmt"
	"math"
	"sort"

	"github.com/qbench/qbench/graph"
)

// Indexing, scan and segment ops: ATAN2, CUMSUM, ONE_HOT, REVERSE_SEQUENCE,
// MATRIX_DIAG, MATRIX_SET_DIAG and BUCKETIZE, with the dtypes TFLite's
// builtin kernels take. The data-moving ones work by element width like the
// layout ops (layout.go); the arithmetic ones are float32 and int32/int64.

// extraDTypes lists the dtypes TFLite's kernel of each data-moving op
// accepts (checked against the TFLite interpreter: it refuses int16
// ONE_HOT, and its bool MATRIX_DIAG and MATRIX_SET_DIAG outputs are not
// the input's values, so qbench refuses bool there too).
var extraDTypes = map[graph.OpKind][]graph.DType{
	graph.OpReverseSequence: {graph.Float32, graph.UInt8, graph.Int16, graph.Int32, graph.Int64},
	graph.OpMatrixDiag:      {graph.Float32, graph.Int8, graph.UInt8, graph.Int32, graph.Int64},
	graph.OpMatrixSetDiag:   {graph.Float32, graph.Int8, graph.UInt8, graph.Int32, graph.Int64},
	graph.OpOneHot:          {graph.Float32, graph.Int8, graph.UInt8, graph.Int32, graph.Int64, graph.Bool},
}

func (p *prep) extraDType(d graph.DType) error {
	for _, ok := range extraDTypes[p.op.Kind] {
		if d == ok {
			return nil
		}
	}
	return p.unsupported("dtype")
}

// checkOut fails when the planned output shape differs from want.
func (p *prep) checkOut(k int, want []int) error {
	if y := p.out(k); y == nil || !equalInts(y.Shape, want) {
		got := []int(nil)
		if y != nil {
			got = y.Shape
		}
		return fmt.Errorf("%s: output %d has shape %v, want %v: %w", p.op.Kind, k, got, want, graph.ErrShape)
	}
	return nil
}

// atan2Kernel: float32 atan2 rounded from float64, within one float32 ulp
// of the C library's atan2f the runtime calls.
type atan2Kernel struct{}

func (atan2Kernel) Run(ins, outs []*Buffer) error {
	y, x, o := ins[0].F32, ins[1].F32, outs[0].F32
	for i := range o {
		o[i] = float32(math.Atan2(float64(y[i]), float64(x[i])))
	}
	return nil
}

func prepareAtan2(p *prep) (Kernel, error) {
	y, x, o := p.in(0), p.in(1), p.out(0)
	if y.DType != graph.Float32 || x.DType != graph.Float32 || o.DType != graph.Float32 {
		return nil, p.unsupported("ATAN2 takes float32")
	}
	if !equalInts(y.Shape, x.Shape) {
		return nil, fmt.Errorf("%s: inputs %v and %v differ (no broadcasting): %w", p.op.Kind, y.Shape, x.Shape, graph.ErrShape)
	}
	if err := p.checkOut(0, y.Shape); err != nil {
		return nil, err
	}
	return atan2Kernel{}, nil
}

// cumsumKernel sums along one axis in axis order (reversed with Reverse),
// the order TFLite's kernel adds in, so float32 sums round the same.
type cumsumKernel struct {
	outer, depth, inner int
	exclusive, reverse  bool
	axis                int // the constant axis, or -1: read per Run
	rank                int
	shape               []int
}

func cumsum[T float32 | int32 | int64](x, y []T, outer, depth, inner int, exclusive, reverse bool) {
	for o := range outer {
		for i := range inner {
			var acc T
			for d := range depth {
				if reverse {
					d = depth - 1 - d
				}
				k := (o*depth+d)*inner + i
				if exclusive {
					y[k] = acc
					acc += x[k]
				} else {
					acc += x[k]
					y[k] = acc
				}
			}
		}
	}
}

func splitAt(shape []int, axis int) (outer, depth, inner int) {
	outer, inner = 1, 1
	for d, n := range shape {
		switch {
		case d < axis:
			outer *= n
		case d > axis:
			inner *= n
		}
	}
	return outer, shape[axis], inner
}

func (k *cumsumKernel) Run(ins, outs []*Buffer) error {
	outer, depth, inner := k.outer, k.depth, k.inner
	if k.axis < 0 {
		v, err := bufInts(ins[1])
		if err != nil || len(v) != 1 {
			return fmt.Errorf("CUMSUM: axis must be one int32 value")
		}
		a := v[0]
		if a < 0 {
			a += k.rank
		}
		if a < 0 || a >= k.rank {
			return fmt.Errorf("CUMSUM: axis %d out of range for rank %d", v[0], k.rank)
		}
		outer, depth, inner = splitAt(k.shape, a)
	}
	x, y := ins[0], outs[0]
	switch y.DType {
	case graph.Float32:
		cumsum(x.F32, y.F32, outer, depth, inner, k.exclusive, k.reverse)
	case graph.Int32:
		cumsum(x.I32, y.I32, outer, depth, inner, k.exclusive, k.reverse)
	case graph.Int64:
		cumsum(x.I64, y.I64, outer, depth, inner, k.exclusive, k.reverse)
	}
	return nil
}

func prepareCumsum(p *prep) (Kernel, error) {
	x, a, y := p.in(0), p.in(1), p.out(0)
	if x.DType != y.DType || (x.DType != graph.Float32 && x.DType != graph.Int32 && x.DType != graph.Int64) {
		return nil, p.unsupported("CUMSUM takes float32, int32 or int64")
	}
	if a == nil || a.DType != graph.Int32 || a.NumElements() != 1 {
		return nil, p.unsupported("axis must be one int32 value")
	}
	if len(x.Shape) < 1 {
		return nil, fmt.Errorf("%s: input %q must have rank at least 1: %w", p.op.Kind, x.Name, graph.ErrShape)
	}
	if err := p.checkOut(0, x.Shape); err != nil {
		return nil, err
	}
	o, _ := p.op.Options.(*graph.CumsumOptions)
	if o == nil {
		o = &graph.CumsumOptions{}
	}
	k := &cumsumKernel{exclusive: o.Exclusive, reverse: o.Reverse, axis: -1, rank: len(x.Shape), shape: x.Shape}
	if v := tensorInts(a); v != nil {
		ax := v[0]
		if ax < 0 {
			ax += len(x.Shape)
		}
		if ax < 0 || ax >= len(x.Shape) {
			return nil, fmt.Errorf("%s: axis %d out of range for rank %d", p.op.Kind, v[0], len(x.Shape))
		}
		k.axis = ax
		k.outer, k.depth, k.inner = splitAt(x.Shape, ax)
	}
	return k, nil
}

// oneHotKernel writes on where an index equals the depth position and off
// elsewhere (negative and out-of-range indices give a row of off).
type oneHotKernel struct {
	width          int
	axis           int
	on, off        []byte // raw values; nil: read from inputs 2 and 3 per Run
	prefix, suffix int
}

func (k *oneHotKernel) Run(ins, outs []*Buffer) error {
	idx, err := bufInts(ins[0])
	if err != nil {
		return fmt.Errorf("ONE_HOT: indices: %w", err)
	}
	dv, err := bufInts(ins[1])
	if err != nil || len(dv) != 1 {
		return fmt.Errorf("ONE_HOT: depth must be one int32 value")
	}
	want, err := graph.OneHotShape(ins[0].Shape, dv[0], k.axis)
	if err != nil {
		return fmt.Errorf("ONE_HOT: %w", err)
	}
	y := outs[0]
	if !equalInts(want, y.Shape) {
		return fmt.Errorf("ONE_HOT: output would have shape %v, planned %v: %w", want, y.Shape, graph.ErrShape)
	}
	on, off := k.on, k.off
	if on == nil {
		on, off = rawBytes(ins[2]), rawBytes(ins[3])
		if len(on) != k.width || len(off) != k.width {
			return fmt.Errorf("ONE_HOT: on_value and off_value must be scalars")
		}
	}
	depth, w := dv[0], k.width
	out := rawBytes(y)
	n := 0
	for i := range k.prefix {
		for j := range depth {
			for s := range k.suffix {
				v := off
				if int(int32(idx[i*k.suffix+s])) == j {
					v = on
				}
				copy(out[n:n+w], v)
				n += w
			}
		}
	}
	return nil
}

func prepareOneHot(p *prep) (Kernel, error) {
	idx, d, on, off, y := p.in(0), p.in(1), p.in(2), p.in(3), p.out(0)
	if idx.DType != graph.Int32 && idx.DType != graph.Int64 {
		return nil, p.unsupported("indices must be int32 or int64")
	}
	if d == nil || d.DType != graph.Int32 || d.NumElements() != 1 {
		return nil, p.unsupported("depth must be one int32 value")
	}
	if err := p.extraDType(y.DType); err != nil {
		return nil, err
	}
	if on == nil || off == nil || on.DType != y.DType || off.DType != y.DType || on.NumElements() != 1 || off.NumElements() != 1 {
		return nil, p.unsupported("on_value and off_value must be scalars of the output dtype")
	}
	o, _ := p.op.Options.(*graph.OneHotOptions)
	if o == nil {
		o = &graph.OneHotOptions{}
	}
	axis := o.Axis
	if axis == -1 {
		axis = len(idx.Shape)
	}
	if axis < 0 || axis > len(idx.Shape) {
		return nil, fmt.Errorf("%s: axis %d out of range for %d-D indices", p.op.Kind, o.Axis, len(idx.Shape))
	}
	if dv := tensorInts(d); dv != nil {
		want, err := graph.OneHotShape(idx.Shape, dv[0], o.Axis)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.op.Kind, err)
		}
		if err := p.checkOut(0, want); err != nil {
			return nil, err
		}
	}
	k := &oneHotKernel{width: y.DType.Size(), axis: o.Axis, prefix: 1, suffix: 1}
	for i, n := range idx.Shape {
		if i < axis {
			k.prefix *= n
		} else {
			k.suffix *= n
		}
	}
	if on.IsConst() && off.IsConst() {
		k.on, k.off = append([]byte{}, on.Data...), append([]byte{}, off.Data...)
		if len(k.on) != k.width || len(k.off) != k.width {
			return nil, fmt.Errorf("%s: on_value and off_value hold %d and %d bytes, want %d", p.op.Kind, len(k.on), len(k.off), k.width)
		}
	}
	return k, nil
}

// prepareReverseSequence reverses the first seq_lengths[b] elements along
// seq_dim of every batch b (along batch_dim).
func prepareReverseSequence(p *prep) (Kernel, error) {
	x := p.in(0)
	if err := p.extraDType(x.DType); err != nil {
		return nil, err
	}
	o, _ := p.op.Options.(*graph.ReverseSequenceOptions)
	if o == nil {
		o = &graph.ReverseSequenceOptions{}
	}
	r := len(x.Shape)
	sd, bd := o.SeqDim, o.BatchDim
	if sd < 0 || sd >= r || bd < 0 || bd >= r || sd == bd {
		return nil, fmt.Errorf("%s: seq_dim %d and batch_dim %d must be distinct axes of the %d-D input", p.op.Kind, sd, bd, r)
	}
	return p.newMap(0, []int{1}, func(v [][]int) ([][]int, [][]int32, error) {
		lens := v[0]
		if len(lens) != x.Shape[bd] {
			return nil, nil, fmt.Errorf("%d sequence lengths for batch dimension %d", len(lens), x.Shape[bd])
		}
		for _, l := range lens {
			if l < 0 || l > x.Shape[sd] {
				return nil, nil, fmt.Errorf("sequence length %d outside [0, %d]", l, x.Shape[sd])
			}
		}
		st := strides(x.Shape)
		src := make([]int32, graph.NumElements(x.Shape))
		coord := make([]int, r)
		for i := range src {
			c := coord[sd]
			if l := lens[coord[bd]]; c < l {
				c = l - 1 - c
			}
			src[i] = int32(i + (c-coord[sd])*st[sd])
			for d := r - 1; d >= 0; d-- {
				if coord[d]++; coord[d] < x.Shape[d] {
					break
				}
				coord[d] = 0
			}
		}
		return one(x.Shape, src)
	})
}

// prepareMatrixDiag puts the last dimension on the diagonal of square
// matrices; the rest is stored 0 whatever the quantization, as TFLite does.
func prepareMatrixDiag(p *prep) (Kernel, error) {
	x := p.in(0)
	if err := p.extraDType(x.DType); err != nil {
		return nil, err
	}
	if len(x.Shape) < 1 {
		return nil, fmt.Errorf("%s: input %q must have rank at least 1: %w", p.op.Kind, x.Name, graph.ErrShape)
	}
	n := x.Shape[len(x.Shape)-1]
	want := append(append([]int{}, x.Shape...), n)
	return p.newMap(0, nil, func([][]int) ([][]int, [][]int32, error) {
		src := make([]int32, graph.NumElements(want))
		for i := range src {
			m, c := i/n, i%n
			r := m % n
			if r == c {
				src[i] = int32(m/n*n + c)
			} else {
				src[i] = -1
			}
		}
		return one(want, src)
	})
}

// matrixSetDiagKernel copies the input and replaces the main diagonal of
// each innermost matrix.
type matrixSetDiagKernel struct {
	width, batches, rows, cols, diag int
}

func (k *matrixSetDiagKernel) Run(ins, outs []*Buffer) error {
	x, d, y := rawBytes(ins[0]), rawBytes(ins[1]), rawBytes(outs[0])
	copy(y, x)
	w := k.width
	for b := range k.batches {
		for i := range k.diag {
			o := ((b*k.rows+i)*k.cols + i) * w
			s := (b*k.diag + i) * w
			copy(y[o:o+w], d[s:s+w])
		}
	}
	return nil
}

func prepareMatrixSetDiag(p *prep) (Kernel, error) {
	x, d, y := p.in(0), p.in(1), p.out(0)
	if err := p.extraDType(x.DType); err != nil {
		return nil, err
	}
	if err := p.sameData(x, y); err != nil {
		return nil, err
	}
	if err := p.sameData(d, y); err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r < 2 {
		return nil, fmt.Errorf("%s: input %q must have rank at least 2: %w", p.op.Kind, x.Name, graph.ErrShape)
	}
	rows, cols := x.Shape[r-2], x.Shape[r-1]
	want := append(append([]int{}, x.Shape[:r-2]...), min(rows, cols))
	if !equalInts(d.Shape, want) {
		return nil, fmt.Errorf("%s: diagonal %q has shape %v, want %v: %w", p.op.Kind, d.Name, d.Shape, want, graph.ErrShape)
	}
	if err := p.checkOut(0, x.Shape); err != nil {
		return nil, err
	}
	return &matrixSetDiagKernel{width: x.DType.Size(), batches: graph.NumElements(x.Shape[:r-2]),
		rows: rows, cols: cols, diag: min(rows, cols)}, nil
}

// bucketizeKernel gives each value the number of boundaries not above it
// (C++'s upper_bound), comparing int inputs converted to float32 as the
// runtime's mixed comparison does.
type bucketizeKernel struct{ bounds []float32 }

func (k *bucketizeKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0].I32
	b := k.bounds
	at := func(v float32) int32 { return int32(sort.Search(len(b), func(i int) bool { return v < b[i] })) }
	switch x.DType {
	case graph.Float32:
		for i, v := range x.F32 {
			y[i] = at(v)
		}
	case graph.Int32:
		for i, v := range x.I32 {
			y[i] = at(float32(v))
		}
	case graph.Int64:
		for i, v := range x.I64 {
			y[i] = at(float32(v))
		}
	}
	return nil
}

func prepareBucketize(p *prep) (Kernel, error) {
	x, y := p.in(0), p.out(0)
	if x.DType != graph.Float32 && x.DType != graph.Int32 && x.DType != graph.Int64 {
		return nil, p.unsupported("BUCKETIZE takes float32, int32 or int64")
	}
	if y.DType != graph.Int32 {
		return nil, p.unsupported("output must be int32")
	}
	if err := p.checkOut(0, x.Shape); err != nil {
		return nil, err
	}
	o, _ := p.op.Options.(*graph.BucketizeOptions)
	if o == nil {
		o = &graph.BucketizeOptions{}
	}
	for i := 1; i < len(o.Boundaries); i++ {
		if !(o.Boundaries[i-1] <= o.Boundaries[i]) {
			return nil, fmt.Errorf("%s: boundaries must be sorted (%g before %g)", p.op.Kind, o.Boundaries[i-1], o.Boundaries[i])
		}
	}
	return &bucketizeKernel{bounds: o.Boundaries}, nil
}

// prepareDynamicUpdateSlice writes update into a copy of operand at the
// start indices, each clamped to [0, operand − update] as TFLite does.
func prepareDynamicUpdateSlice(p *prep) (Kernel, error) {
	x, u, s, y := p.in(0), p.in(1), p.in(2), p.out(0)
	switch x.DType {
	case graph.Float32, graph.Int8, graph.Int32, graph.Int64:
	default:
		return nil, p.unsupported("dtype")
	}
	if err := p.sameData(u, y); err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if len(u.Shape) != r || s == nil || len(s.Shape) != 1 || s.Shape[0] != r {
		return nil, fmt.Errorf("%s: operand %v, update %v and start indices %q must agree in rank: %w", p.op.Kind, x.Shape, u.Shape, s.Name, graph.ErrShape)
	}
	for d := range r {
		if u.Shape[d] > x.Shape[d] {
			return nil, fmt.Errorf("%s: update %v larger than operand %v: %w", p.op.Kind, u.Shape, x.Shape, graph.ErrShape)
		}
	}
	if err := p.checkOut(0, x.Shape); err != nil {
		return nil, err
	}
	// Output element i is update element (coordinate − start) inside the
	// update window, else operand element i: one map over the two inputs
	// laid end to end is built per start.
	return &dusKernel{width: x.DType.Size(), shape: x.Shape, ushape: u.Shape}, nil
}

type dusKernel struct {
	width         int
	shape, ushape []int
}

func (k *dusKernel) Run(ins, outs []*Buffer) error {
	st, err := bufInts(ins[2])
	if err != nil || len(st) != len(k.shape) {
		return fmt.Errorf("DYNAMIC_UPDATE_SLICE: start indices must be %d int32/int64 values", len(k.shape))
	}
	for d := range st {
		st[d] = min(max(st[d], 0), k.shape[d]-k.ushape[d])
	}
	x, u, y := rawBytes(ins[0]), rawBytes(ins[1]), rawBytes(outs[0])
	copy(y, x)
	xs := strides(k.shape)
	w := k.width
	n := graph.NumElements(k.ushape)
	coord := make([]int, len(k.ushape))
	for i := range n {
		o := 0
		for d, c := range coord {
			o += (c + st[d]) * xs[d]
		}
		copy(y[o*w:(o+1)*w], u[i*w:(i+1)*w])
		for d := len(coord) - 1; d >= 0; d-- {
			if coord[d]++; coord[d] < k.ushape[d] {
				break
			}
			coord[d] = 0
		}
	}
	return nil
}

// lrnKernel: float32 LOCAL_RESPONSE_NORMALIZATION over the innermost
// dimension, x · (bias + alpha · Σ x²)^−beta with the sum over channels
// c − radius … c + radius, added in channel order as TFLite does; the
// power is taken in float64 (within the test's 1e-5 tolerance of powf).
type lrnKernel struct {
	depth int
	o     graph.LRNOptions
}

func (k *lrnKernel) Run(ins, outs []*Buffer) error {
	x, y, d := ins[0].F32, outs[0].F32, k.depth
	for base := 0; base+d <= len(x); base += d {
		for c := range d {
			var acc float32
			for i := max(0, c-k.o.Radius); i < min(d, c+k.o.Radius+1); i++ {
				v := x[base+i]
				acc += v * v
			}
			m := float32(math.Pow(float64(k.o.Bias+k.o.Alpha*acc), -float64(k.o.Beta)))
			y[base+c] = x[base+c] * m
		}
	}
	return nil
}

func prepareLRN(p *prep) (Kernel, error) {
	x, y := p.in(0), p.out(0)
	if x.DType != graph.Float32 || y.DType != graph.Float32 {
		return nil, p.unsupported("LOCAL_RESPONSE_NORMALIZATION takes float32")
	}
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("%s: input %q must be 4-D: %w", p.op.Kind, x.Name, graph.ErrShape)
	}
	if err := p.checkOut(0, x.Shape); err != nil {
		return nil, err
	}
	o, _ := p.op.Options.(*graph.LRNOptions)
	if o == nil || o.Radius < 0 {
		return nil, fmt.Errorf("%s: needs options with a non-negative radius", p.op.Kind)
	}
	return &lrnKernel{depth: x.Shape[3], o: *o}, nil
}

// embeddingKernel copies one value row per id; 8-bit values with a
// float32 output are multiplied by the value's scale as TFLite's hybrid
// path does: the zero point is ignored and uint8 bytes are read as int8
// (measured against the interpreter).
type embeddingKernel struct {
	rows, row int
	scale     float32 // hybrid: the value's scale; 0 copies
}

func (k *embeddingKernel) Run(ins, outs []*Buffer) error {
	ids, err := bufInts(ins[0])
	if err != nil {
		return fmt.Errorf("EMBEDDING_LOOKUP: ids: %w", err)
	}
	v, y := ins[1], outs[0]
	for i, id := range ids {
		if id < 0 || id >= k.rows {
			return fmt.Errorf("EMBEDDING_LOOKUP: id %d outside the %d rows of value", id, k.rows)
		}
		dst := y.F32[i*k.row : (i+1)*k.row]
		switch v.DType {
		case graph.Float32:
			copy(dst, v.F32[id*k.row:(id+1)*k.row])
		case graph.Int8:
			for j, q := range v.I8[id*k.row : (id+1)*k.row] {
				dst[j] = float32(q) * k.scale
			}
		case graph.UInt8:
			for j, q := range v.U8[id*k.row : (id+1)*k.row] {
				dst[j] = float32(int8(q)) * k.scale
			}
		}
	}
	return nil
}

func prepareEmbeddingLookup(p *prep) (Kernel, error) {
	ids, v, y := p.in(0), p.in(1), p.out(0)
	if ids == nil || ids.DType != graph.Int32 || len(ids.Shape) != 1 {
		return nil, p.unsupported("ids must be 1-D int32")
	}
	if y.DType != graph.Float32 {
		return nil, p.unsupported("output must be float32")
	}
	k := &embeddingKernel{}
	switch v.DType {
	case graph.Float32:
	case graph.Int8, graph.UInt8:
		s, _, ok := QuantParams(v)
		if !ok {
			return nil, p.unsupported("8-bit value without per-tensor quantization")
		}
		k.scale = float32(s)
	default:
		return nil, p.unsupported("value must be float32, int8 or uint8")
	}
	if len(v.Shape) < 2 {
		return nil, fmt.Errorf("%s: value %q must be at least 2-D: %w", p.op.Kind, v.Name, graph.ErrShape)
	}
	if err := p.checkOut(0, append([]int{ids.Shape[0]}, v.Shape[1:]...)); err != nil {
		return nil, err
	}
	k.rows, k.row = v.Shape[0], graph.NumElements(v.Shape[1:])
	return k, nil
}
