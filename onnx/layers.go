package onnx

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// pads returns ONNX [begin, end] padding for one spatial axis the way
// TFLite pads SAME: the odd pixel goes at the end.
func pads(p graph.Padding, in, filter, stride, dilation, out int) (int, int) {
	if p == graph.PaddingValid {
		return 0, 0
	}
	dilation = max(dilation, 1)
	total := max(0, (out-1)*stride+(filter-1)*dilation+1-in)
	return total / 2, total - total/2
}

// permute reorders a constant's bytes: dst element at index d (row-major
// in dstShape) comes from src element srcIndex(d).
func permute(src []byte, es int, dstShape []int, srcIndex func(idx []int) int) []byte {
	n := graph.NumElements(dstShape)
	dst := make([]byte, n*es)
	idx := make([]int, len(dstShape))
	for d := 0; d < n; d++ {
		s := srcIndex(idx)
		copy(dst[d*es:(d+1)*es], src[s*es:(s+1)*es])
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < dstShape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}

// weights returns a conv filter as float OIHW values: TFLite's OHWI
// (conv) or 1HWC (depthwise) data reordered, dequantized per output
// channel when it is int8.
func (e *exporter) weights(wi int, depthwise bool) (string, []int, error) {
	t := e.g.Tensors[wi]
	if !t.IsConst() {
		return "", nil, fmt.Errorf("filter %q is not constant: %w", t.Name, ErrUnsupported)
	}
	if len(t.Shape) != 4 {
		return "", nil, fmt.Errorf("filter %q: shape %v, want rank 4", t.Name, t.Shape)
	}
	es := t.DType.Size()
	if es <= 0 || len(t.Data) != t.NumElements()*es {
		return "", nil, fmt.Errorf("filter %q: %d data bytes for %v %s", t.Name, len(t.Data), t.Shape, t.DType)
	}
	s := t.Shape
	var dims []int
	var raw []byte
	if depthwise {
		// [1,H,W,C] → [C,1,H,W]
		h, w, c := s[1], s[2], s[3]
		dims = []int{c, 1, h, w}
		raw = permute(t.Data, es, dims, func(i []int) int { return (i[2]*w+i[3])*c + i[0] })
	} else {
		// [O,H,W,I] → [O,I,H,W]
		h, w, ci := s[1], s[2], s[3]
		dims = []int{s[0], ci, h, w}
		raw = permute(t.Data, es, dims, func(i []int) int { return ((i[0]*h+i[2])*w+i[3])*ci + i[1] })
	}
	dt, err := onnxType(t.DType)
	if err != nil {
		return "", nil, fmt.Errorf("filter %q: %w", t.Name, err)
	}
	name := e.initializer(t.Name, dt, dims, raw)
	if t.DType == graph.Float32 {
		return name, dims, nil
	}
	if t.Quant != nil && len(t.Quant.Scale) > 1 {
		want := 0
		if depthwise {
			want = 3
		}
		if t.Quant.Axis != want {
			return "", nil, fmt.Errorf("filter %q: quantized along axis %d, want %d: %w", t.Name, t.Quant.Axis, want, ErrUnsupported)
		}
	}
	f, err := e.dequantAxis(name, t, 0)
	return f, dims, err
}

// bias returns a bias as float values: float32 as is, int32 dequantized
// with its own scales (TFLite stores input scale × filter scale).
func (e *exporter) bias(bi, xi, wi int) (string, error) {
	t := e.g.Tensors[bi]
	if !t.IsConst() {
		return "", fmt.Errorf("bias %q is not constant: %w", t.Name, ErrUnsupported)
	}
	if t.DType == graph.Float32 {
		return e.get(bi, plain)
	}
	if t.DType != graph.Int32 && t.DType != graph.Int64 {
		return "", fmt.Errorf("bias %q: dtype %s: %w", t.Name, t.DType, ErrUnsupported)
	}
	name, err := e.get(bi, plain)
	if err != nil {
		return "", err
	}
	bt := t
	if t.Quant == nil || len(t.Quant.Scale) == 0 {
		// Derive the scales the integer kernels imply.
		x, w := e.g.Tensors[xi], e.g.Tensors[wi]
		if x.Quant == nil || w.Quant == nil || len(x.Quant.Scale) == 0 || len(w.Quant.Scale) == 0 {
			return "", fmt.Errorf("bias %q: no scales to dequantize with", t.Name)
		}
		q := &graph.Quantization{}
		for _, ws := range w.Quant.Scale {
			q.Scale = append(q.Scale, x.Quant.Scale[0]*ws)
		}
		c := *t
		c.Quant = q
		bt = &c
	}
	if bt.DType == graph.Int64 {
		return "", fmt.Errorf("bias %q: int64 bias: %w", t.Name, ErrUnsupported)
	}
	return e.dequantAxis(name, bt, 0)
}

// spaceConv is a convolution whose input padding and dilation come from
// the SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND pair around it (see dilated).
type spaceConv struct {
	pads     [4]int // top, left, bottom, right
	dilation [2]int
}

func (e *exporter) conv(op *graph.Op, x, out int) error { return e.convWith(op, x, out, nil) }

// convWith exports a CONV_2D or DEPTHWISE_CONV_2D from tensor x to tensor
// out; sc, when set, replaces the op's padding and dilation.
func (e *exporter) convWith(op *graph.Op, x, out int, sc *spaceConv) error {
	depthwise := op.Kind == graph.OpDepthwiseConv2D
	var pad graph.Padding
	var sh, sw, dh, dw int
	act := graph.ActNone
	switch o := op.Options.(type) {
	case *graph.Conv2DOptions:
		pad, sh, sw, dh, dw, act = o.Padding, o.StrideH, o.StrideW, o.DilationH, o.DilationW, o.Activation
	case *graph.DepthwiseConv2DOptions:
		pad, sh, sw, dh, dw, act = o.Padding, o.StrideH, o.StrideW, o.DilationH, o.DilationW, o.Activation
	default:
		return fmt.Errorf("options %T", op.Options)
	}
	dh, dw = max(dh, 1), max(dw, 1)
	wi, err := input(op, 1)
	if err != nil {
		return err
	}
	xt, ot := e.g.Tensors[x], e.g.Tensors[out]
	if len(xt.Shape) != 4 || len(ot.Shape) != 4 {
		return fmt.Errorf("input %v / output %v: want rank 4", xt.Shape, ot.Shape)
	}
	w, dims, err := e.weights(wi, depthwise)
	if err != nil {
		return err
	}
	ins := []string{"", w}
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		b, err := e.bias(op.Inputs[2], x, wi)
		if err != nil {
			return err
		}
		ins = append(ins, b)
	}
	if ins[0], err = e.floatIn(x, nchw); err != nil {
		return err
	}
	kh, kw := dims[2], dims[3]
	t0, t1 := pads(pad, xt.Shape[1], kh, sh, dh, ot.Shape[1])
	l0, l1 := pads(pad, xt.Shape[2], kw, sw, dw, ot.Shape[2])
	if sc != nil {
		t0, l0, t1, l1 = sc.pads[0], sc.pads[1], sc.pads[2], sc.pads[3]
		dh, dw = sc.dilation[0], sc.dilation[1]
	}
	group := 1
	if depthwise {
		group = xt.Shape[3]
	}
	attrs := []*msg{attrInts("kernel_shape", kh, kw), attrInts("strides", sh, sw), attrInts("dilations", dh, dw),
		attrInts("pads", t0, l0, t1, l1), attrInt("group", group)}
	return e.result(out, nchw, act, func(dst string) { e.node("Conv", ins, []string{dst}, attrs...) })
}

func (e *exporter) pool(op *graph.Op, x, out int) error {
	o, ok := op.Options.(*graph.Pool2DOptions)
	if !ok {
		return fmt.Errorf("options %T", op.Options)
	}
	xt, ot := e.g.Tensors[x], e.g.Tensors[out]
	if len(xt.Shape) != 4 || len(ot.Shape) != 4 {
		return fmt.Errorf("input %v / output %v: want rank 4", xt.Shape, ot.Shape)
	}
	t0, t1 := pads(o.Padding, xt.Shape[1], o.FilterH, o.StrideH, 1, ot.Shape[1])
	l0, l1 := pads(o.Padding, xt.Shape[2], o.FilterW, o.StrideW, 1, ot.Shape[2])
	attrs := []*msg{attrInts("kernel_shape", o.FilterH, o.FilterW), attrInts("strides", o.StrideH, o.StrideW),
		attrInts("pads", t0, l0, t1, l1)}
	opType := "MaxPool"
	if op.Kind == graph.OpAveragePool2D {
		opType = "AveragePool" // count_include_pad=0 matches TFLite
	}
	// Max pooling commutes with a monotone requantization that keeps the
	// scale: run it on the integers directly, as TFLite does.
	if op.Kind == graph.OpMaxPool2D && o.Activation == graph.ActNone && xt.DType != graph.Float32 &&
		xt.DType == ot.DType && sameQuant(xt.Quant, ot.Quant) {
		in, err := e.get(x, nchw)
		if err != nil {
			return err
		}
		e.node(opType, []string{in}, []string{e.produce(out, nchw)}, attrs...)
		return nil
	}
	xf, err := e.floatIn(x, nchw)
	if err != nil {
		return err
	}
	return e.result(out, nchw, o.Activation, func(dst string) { e.node(opType, []string{xf}, []string{dst}, attrs...) })
}

func sameQuant(a, b *graph.Quantization) bool {
	if a == nil || b == nil || len(a.Scale) != 1 || len(b.Scale) != 1 {
		return false
	}
	za, zb := int64(0), int64(0)
	if len(a.ZeroPoint) > 0 {
		za = a.ZeroPoint[0]
	}
	if len(b.ZeroPoint) > 0 {
		zb = b.ZeroPoint[0]
	}
	return a.Scale[0] == b.Scale[0] && za == zb
}

func (e *exporter) reshape(x, out int) error {
	xt, ot := e.g.Tensors[x], e.g.Tensors[out]
	if xt.DType != ot.DType || (xt.DType != graph.Float32 && !sameQuant(xt.Quant, ot.Quant)) {
		return fmt.Errorf("RESHAPE changes dtype or quantization: %w", ErrUnsupported)
	}
	in, err := e.get(x, plain)
	if err != nil {
		return err
	}
	shape := make([]int64, len(ot.Shape))
	for i, d := range ot.Shape {
		shape[i] = int64(d)
	}
	// Keep the batch symbolic: 0 copies the input's first dimension.
	if len(shape) > 0 && len(xt.Shape) > 0 && ot.Shape[0] == xt.Shape[0] {
		shape[0] = 0
	}
	s := e.initializer(ot.Name+"_shape", dtInt64, []int{len(shape)}, i64Raw(shape...))
	e.node("Reshape", []string{in, s}, []string{e.produce(out, plain)})
	return nil
}

func (e *exporter) dense(op *graph.Op, x, out int) error {
	act := graph.ActNone
	if o, ok := op.Options.(*graph.FullyConnectedOptions); ok {
		act = o.Activation
	}
	wi, err := input(op, 1)
	if err != nil {
		return err
	}
	wt, ot := e.g.Tensors[wi], e.g.Tensors[out]
	if !wt.IsConst() || len(wt.Shape) != 2 {
		return fmt.Errorf("weights %q: want a constant [out, in] matrix: %w", wt.Name, ErrUnsupported)
	}
	if len(ot.Shape) != 2 {
		return fmt.Errorf("output shape %v: want rank 2: %w", ot.Shape, ErrUnsupported)
	}
	var w string
	if wt.DType == graph.Float32 {
		if w, err = e.get(wi, plain); err != nil {
			return err
		}
	} else {
		raw, err := e.get(wi, plain)
		if err != nil {
			return err
		}
		if wt.Quant != nil && len(wt.Quant.Scale) > 1 && wt.Quant.Axis != 0 {
			return fmt.Errorf("weights %q: quantized along axis %d: %w", wt.Name, wt.Quant.Axis, ErrUnsupported)
		}
		if w, err = e.dequantAxis(raw, wt, 0); err != nil {
			return err
		}
	}
	xf, err := e.floatIn(x, plain)
	if err != nil {
		return err
	}
	if len(e.g.Tensors[x].Shape) != 2 {
		s := e.initializer("fc_input_shape", dtInt64, []int{2}, i64Raw(-1, int64(wt.Shape[1])))
		flat := e.fresh(e.g.Tensors[x].Name + "_2d")
		e.node("Reshape", []string{xf, s}, []string{flat})
		xf = flat
	}
	ins := []string{xf, w}
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		b, err := e.bias(op.Inputs[2], x, wi)
		if err != nil {
			return err
		}
		ins = append(ins, b)
	}
	return e.result(out, plain, act, func(dst string) { e.node("Gemm", ins, []string{dst}, attrInt("transB", 1)) })
}

// dilated exports the SPACE_TO_BATCH_ND → CONV_2D or DEPTHWISE_CONV_2D
// (VALID, stride 1) → BATCH_TO_SPACE_ND chain TensorFlow's converter emits
// for a dilated convolution as one Conv with dilations = block and pads =
// paddings − crops, and marks the two later ops done. Any other use of
// SPACE_TO_BATCH_ND is refused.
func (e *exporter) dilated(stb *graph.Op) error {
	refuse := func(why string) error {
		return fmt.Errorf("SPACE_TO_BATCH_ND outside a dilated convolution (%s): %w", why, ErrUnsupported)
	}
	if len(stb.Inputs) != 3 || len(stb.Outputs) != 1 {
		return refuse("want 3 inputs and 1 output")
	}
	x, s := stb.Inputs[0], stb.Outputs[0]
	if x < 0 || len(e.g.Tensors[x].Shape) != 4 {
		return refuse("want a rank-4 input")
	}
	block, err := e.constInts(stb.Inputs[1], "block shape")
	if err != nil {
		return err
	}
	padv, err := e.constInts(stb.Inputs[2], "paddings")
	if err != nil {
		return err
	}
	conv := e.onlyConsumer(s)
	if conv == nil || (conv.Kind != graph.OpConv2D && conv.Kind != graph.OpDepthwiseConv2D) || len(conv.Inputs) < 2 ||
		conv.Inputs[0] != s || len(conv.Outputs) != 1 {
		return refuse("its output does not feed exactly one convolution")
	}
	switch o := conv.Options.(type) {
	case *graph.Conv2DOptions:
		if o.Padding != graph.PaddingValid || o.StrideH != 1 || o.StrideW != 1 || max(o.DilationH, 1) != 1 || max(o.DilationW, 1) != 1 {
			return refuse("the convolution is not VALID with stride and dilation 1")
		}
	case *graph.DepthwiseConv2DOptions:
		if o.Padding != graph.PaddingValid || o.StrideH != 1 || o.StrideW != 1 || max(o.DilationH, 1) != 1 || max(o.DilationW, 1) != 1 {
			return refuse("the convolution is not VALID with stride and dilation 1")
		}
	default:
		return refuse(fmt.Sprintf("convolution options %T", conv.Options))
	}
	c := conv.Outputs[0]
	bts := e.onlyConsumer(c)
	if bts == nil || bts.Kind != graph.OpBatchToSpaceND || len(bts.Inputs) != 3 || bts.Inputs[0] != c || len(bts.Outputs) != 1 {
		return refuse("the convolution does not feed exactly one BATCH_TO_SPACE_ND")
	}
	block2, err := e.constInts(bts.Inputs[1], "block shape")
	if err != nil {
		return err
	}
	crops, err := e.constInts(bts.Inputs[2], "crops")
	if err != nil {
		return err
	}
	if len(block) != 2 || len(block2) != 2 || block[0] != block2[0] || block[1] != block2[1] || block[0] < 1 || block[1] < 1 ||
		len(padv) != 4 || len(crops) != 4 {
		return refuse(fmt.Sprintf("block %v / %v, paddings %v, crops %v", block, block2, padv, crops))
	}
	out := bts.Outputs[0]
	xt, st, ct, ot := e.g.Tensors[x], e.g.Tensors[s], e.g.Tensors[c], e.g.Tensors[out]
	if xt.DType != graph.Float32 && (!sameQuant(xt.Quant, st.Quant) || !sameQuant(ct.Quant, ot.Quant)) {
		return refuse("the space/batch moves change quantization")
	}
	sc := &spaceConv{pads: [4]int{padv[0] - crops[0], padv[2] - crops[2], padv[1] - crops[1], padv[3] - crops[3]}, dilation: [2]int{block[0], block[1]}}
	for _, p := range sc.pads {
		if p < 0 {
			return refuse(fmt.Sprintf("crops %v exceed paddings %v", crops, padv))
		}
	}
	e.done[conv], e.done[bts] = true, true
	return e.convWith(conv, x, out, sc)
}

// onlyConsumer returns the one op reading tensor ti, or nil when there are
// none, several, or ti is a graph output.
func (e *exporter) onlyConsumer(ti int) *graph.Op {
	var found *graph.Op
	for _, o := range e.g.Outputs {
		if o == ti {
			return nil
		}
	}
	for _, op := range e.g.Ops {
		for _, in := range op.Inputs {
			if in == ti {
				if found != nil && found != op {
					return nil
				}
				found = op
			}
		}
	}
	return found
}
