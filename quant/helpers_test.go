package quant

import (
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
)

// randConst returns a float32 constant with values uniform in [-amp, amp).
func randConst(rng *rand.Rand, name string, shape []int, amp float64) *graph.Tensor {
	v := make([]float32, graph.NumElements(shape))
	for i := range v {
		v[i] = float32((rng.Float64()*2 - 1) * amp)
	}
	return &graph.Tensor{Name: name, Shape: shape, DType: graph.Float32, Data: graph.EncodeFloat32s(v)}
}

func act(name string, shape ...int) *graph.Tensor {
	return &graph.Tensor{Name: name, Shape: shape, DType: graph.Float32}
}

// tinyCNN is the seed-cnn pattern in miniature: CONV_2D(RELU) → MAX_POOL_2D
// → RESHAPE → FULLY_CONNECTED → SOFTMAX on a 4x4x2 input.
func tinyCNN(seed int64) *graph.Graph {
	rng := rand.New(rand.NewSource(seed))
	g := &graph.Graph{}
	in := g.AddTensor(act("input", 1, 4, 4, 2))
	w1 := g.AddTensor(randConst(rng, "conv_w", []int{3, 3, 3, 2}, 0.5))
	b1 := g.AddTensor(randConst(rng, "conv_b", []int{3}, 0.2))
	c1 := g.AddTensor(act("conv", 1, 4, 4, 3))
	g.AddOp(graph.OpConv2D, []int{in, w1, b1}, []int{c1}, &graph.Conv2DOptions{
		Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, Activation: graph.ActRelu})
	p1 := g.AddTensor(act("pool", 1, 2, 2, 3))
	g.AddOp(graph.OpMaxPool2D, []int{c1}, []int{p1}, &graph.Pool2DOptions{
		Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
	sh := g.AddTensor(&graph.Tensor{Name: "shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, 12})})
	fl := g.AddTensor(act("flat", 1, 12))
	g.AddOp(graph.OpReshape, []int{p1, sh}, []int{fl}, &graph.ReshapeOptions{NewShape: []int{1, 12}})
	w2 := g.AddTensor(randConst(rng, "fc_w", []int{4, 12}, 0.5))
	b2 := g.AddTensor(randConst(rng, "fc_b", []int{4}, 0.2))
	lo := g.AddTensor(act("logits", 1, 4))
	g.AddOp(graph.OpFullyConnected, []int{fl, w2, b2}, []int{lo}, &graph.FullyConnectedOptions{})
	pr := g.AddTensor(act("probs", 1, 4))
	g.AddOp(graph.OpSoftmax, []int{lo}, []int{pr}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs = []int{in}
	g.Outputs = []int{pr}
	return g
}

// fakeCalibration gives every activation a histogram holding just the two
// values of its range.
func fakeCalibration(g *graph.Graph, ranges map[string]Range) *Calibration {
	cal := &Calibration{Samples: 1, Hists: make([]*Histogram, len(g.Tensors)), ChannelMeans: map[int][]float64{}}
	for i, t := range g.Tensors {
		if t.IsConst() {
			continue
		}
		r, ok := ranges[t.Name]
		if !ok {
			r = Range{-1, 1}
		}
		h := NewHistogram(0)
		h.Add([]float32{float32(r.Min), float32(r.Max)})
		cal.Hists[i] = h
	}
	return cal
}

func findTensor(t *testing.T, g *graph.Graph, name string) *graph.Tensor {
	t.Helper()
	for _, x := range g.Tensors {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no tensor %q", name)
	return nil
}

func opKinds(g *graph.Graph) []string {
	var s []string
	for _, op := range g.Ops {
		s = append(s, op.Kind.String())
	}
	return s
}

// randomSamples returns n inputs uniform in [-1, 1) for g's input.
func randomSamples(g *graph.Graph, n int, seed int64) [][]float32 {
	rng := rand.New(rand.NewSource(seed))
	size := g.Tensors[g.Inputs[0]].NumElements()
	xs := make([][]float32, n)
	for i := range xs {
		xs[i] = make([]float32, size)
		for j := range xs[i] {
			xs[i][j] = float32(rng.Float64()*2 - 1)
		}
	}
	return xs
}

// seedLike is seed-cnn's block structure at 12x12x3: CONV_2D → MAX_POOL_2D →
// RELU (a separate op with its own range) twice, then RESHAPE →
// FULLY_CONNECTED(RELU) → FULLY_CONNECTED → SOFTMAX. Large enough that
// requantization rounding differences would show.
func seedLike(seed int64) *graph.Graph {
	rng := rand.New(rand.NewSource(seed))
	g := &graph.Graph{}
	x := g.AddTensor(act("input", 1, 12, 12, 3))
	h, c := 12, 3
	for i, f := range []int{8, 16} {
		w := g.AddTensor(randConst(rng, "w"+string(rune('0'+i)), []int{f, 3, 3, c}, 0.4))
		b := g.AddTensor(randConst(rng, "b"+string(rune('0'+i)), []int{f}, 0.1))
		cv := g.AddTensor(act("conv"+string(rune('0'+i)), 1, h, h, f))
		g.AddOp(graph.OpConv2D, []int{x, w, b}, []int{cv}, &graph.Conv2DOptions{
			Padding: graph.PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
		h /= 2
		p := g.AddTensor(act("pool"+string(rune('0'+i)), 1, h, h, f))
		g.AddOp(graph.OpMaxPool2D, []int{cv}, []int{p}, &graph.Pool2DOptions{
			Padding: graph.PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
		x = g.AddTensor(act("relu"+string(rune('0'+i)), 1, h, h, f))
		g.AddOp(graph.OpRelu, []int{p}, []int{x}, nil)
		c = f
	}
	n := h * h * c
	sh := g.AddTensor(&graph.Tensor{Name: "shape", Shape: []int{2}, DType: graph.Int32, Data: graph.EncodeInt32s([]int32{1, int32(n)})})
	fl := g.AddTensor(act("flatten", 1, n))
	g.AddOp(graph.OpReshape, []int{x, sh}, []int{fl}, &graph.ReshapeOptions{NewShape: []int{1, n}})
	w := g.AddTensor(randConst(rng, "dense_w", []int{32, n}, 0.2))
	b := g.AddTensor(randConst(rng, "dense_b", []int{32}, 0.1))
	d := g.AddTensor(act("dense", 1, 32))
	g.AddOp(graph.OpFullyConnected, []int{fl, w, b}, []int{d}, &graph.FullyConnectedOptions{Activation: graph.ActRelu})
	w2 := g.AddTensor(randConst(rng, "logits_w", []int{10, 32}, 0.5))
	b2 := g.AddTensor(randConst(rng, "logits_b", []int{10}, 0.1))
	lo := g.AddTensor(act("logits", 1, 10))
	g.AddOp(graph.OpFullyConnected, []int{d, w2, b2}, []int{lo}, &graph.FullyConnectedOptions{})
	pr := g.AddTensor(act("probs", 1, 10))
	g.AddOp(graph.OpSoftmax, []int{lo}, []int{pr}, &graph.SoftmaxOptions{Beta: 1})
	g.Inputs, g.Outputs = []int{0}, []int{pr}
	return g
}
