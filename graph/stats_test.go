package graph

import "testing"

func TestOpStats(t *testing.T) {
	g := &Graph{}
	in := g.AddTensor(&Tensor{Name: "in", Shape: []int{1, 80, 80, 3}, DType: Float32})
	w := g.AddTensor(&Tensor{Name: "w", Shape: []int{16, 3, 3, 3}, DType: Float32, Data: make([]byte, 16*27*4)})
	b := g.AddTensor(&Tensor{Name: "b", Shape: []int{16}, DType: Float32, Data: make([]byte, 64)})
	c := g.AddTensor(&Tensor{Name: "c", Shape: []int{1, 80, 80, 16}, DType: Float32})
	conv := g.AddOp(OpConv2D, []int{in, w, b}, []int{c}, &Conv2DOptions{StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
	// 80·80·16 outputs × 3·3·3 = 2,764,800 MACs; 16·27 + 16 = 448 params.
	if p, m := OpStats(g, conv); p != 448 || m != 2764800 {
		t.Errorf("conv: %d params %d MACs, want 448 2764800", p, m)
	}
	dw := g.AddTensor(&Tensor{Name: "dw", Shape: []int{1, 3, 3, 16}, DType: Int8, Data: make([]byte, 144)})
	d := g.AddTensor(&Tensor{Name: "d", Shape: []int{1, 40, 40, 16}, DType: Float32})
	dop := g.AddOp(OpDepthwiseConv2D, []int{c, dw, -1}, []int{d}, &DepthwiseConv2DOptions{StrideW: 2, StrideH: 2, DilationW: 1, DilationH: 1})
	// 40·40·16 × 9 = 230,400 MACs; 144 params, the omitted bias adds none.
	if p, m := OpStats(g, dop); p != 144 || m != 230400 {
		t.Errorf("depthwise: %d params %d MACs, want 144 230400", p, m)
	}
	shape := g.AddTensor(&Tensor{Name: "shape", Shape: []int{2}, DType: Int32, Data: make([]byte, 8)})
	r := g.AddTensor(&Tensor{Name: "r", Shape: []int{1, 25600}, DType: Float32})
	rop := g.AddOp(OpReshape, []int{d, shape}, []int{r}, &ReshapeOptions{})
	if p, m := OpStats(g, rop); p != 0 || m != 0 {
		t.Errorf("reshape: %d params %d MACs, want 0 0 (shape is structural)", p, m)
	}
	fw := g.AddTensor(&Tensor{Name: "fw", Shape: []int{10, 25600}, DType: Int4, Data: make([]byte, 256000)})
	fo := g.AddTensor(&Tensor{Name: "fo", Shape: []int{1, 10}, DType: Float32})
	fop := g.AddOp(OpFullyConnected, []int{r, fw}, []int{fo}, &FullyConnectedOptions{})
	if p, m := OpStats(g, fop); p != 256000 || m != 256000 {
		t.Errorf("fc: %d params %d MACs, want 256000 256000", p, m)
	}
	po := g.AddTensor(&Tensor{Name: "po", Shape: []int{1, 40, 40, 16}, DType: Float32})
	pop := g.AddOp(OpMaxPool2D, []int{c}, []int{po}, &Pool2DOptions{StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
	if p, m := OpStats(g, pop); p != 0 || m != 0 {
		t.Errorf("pool: %d params %d MACs, want 0 0", p, m)
	}
	// A second conv sharing w and b: totals count the shared params once.
	c2 := g.AddTensor(&Tensor{Name: "c2", Shape: []int{1, 80, 80, 16}, DType: Float32})
	g.AddOp(OpConv2D, []int{in, w, b}, []int{c2}, &Conv2DOptions{StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
	p, m := TotalStats(g)
	if wantP, wantM := int64(448+144+256000), int64(2*2764800+230400+256000); p != wantP || m != wantM {
		t.Errorf("totals: %d params %d MACs, want %d %d", p, m, wantP, wantM)
	}
}

func TestOpStatsMalformed(t *testing.T) {
	g := &Graph{}
	x := g.AddTensor(&Tensor{Name: "x", Shape: []int{2}, DType: Float32})
	w := g.AddTensor(&Tensor{Name: "w", Shape: []int{2}, DType: Float32, Data: make([]byte, 8)})
	op := g.AddOp(OpConv2D, []int{x, w}, []int{x}, nil)
	if p, m := OpStats(g, op); p != 2 || m != 0 {
		t.Errorf("rank-1 filter: %d %d, want 2 0", p, m)
	}
	if p, m := OpStats(g, &Op{Kind: OpConv2D, Inputs: []int{5, 7}, Outputs: []int{9}}); p != 0 || m != 0 {
		t.Errorf("out-of-range indices: %d %d, want 0 0", p, m)
	}
}
