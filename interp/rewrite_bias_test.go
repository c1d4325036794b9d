package interp_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// biasCase is a float convolution followed by an ADD of a constant, with
// changes that keep or break the folding.
type biasCase struct {
	depthwise    bool
	n, h, w, c   int
	oc           int
	convBias     string // "none", "zero" or "random"
	convAct      graph.Activation
	addAct       graph.Activation
	biasShape    []int // nil: [oc]
	swap         bool  // the constant is the ADD's first input
	convIsOutput bool
	wantFolded   bool
	secondReader bool // another op reads the convolution's output
}

func biasGraph(t *testing.T, c biasCase, rng *rand.Rand) *graph.Graph {
	t.Helper()
	g := &graph.Graph{}
	floats := func(name string, shape []int, zero bool) int {
		v := make([]float32, graph.NumElements(shape))
		for i := range v {
			if !zero {
				v[i] = float32(rng.NormFloat64())
			}
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)})
	}
	oc := c.oc
	if c.depthwise {
		oc = c.c
	}
	act := func(name string) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: []int{c.n, 1, 1, 1}})
	}
	x, y, z := act("x"), act("conv"), act("z")
	ins := []int{x}
	if c.depthwise {
		ins = append(ins, floats("w", []int{1, 3, 3, oc}, false))
	} else {
		ins = append(ins, floats("w", []int{oc, 3, 3, c.c}, false))
	}
	switch c.convBias {
	case "zero":
		ins = append(ins, floats("b0", []int{oc}, true))
	case "random":
		ins = append(ins, floats("b0", []int{oc}, false))
	}
	if c.depthwise {
		g.AddOp(graph.OpDepthwiseConv2D, ins, []int{y}, &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1,
			DilationH: 2, DilationW: 1, DepthMultiplier: 1, Activation: c.convAct})
	} else {
		g.AddOp(graph.OpConv2D, ins, []int{y}, &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1,
			DilationH: 1, DilationW: 2, Activation: c.convAct})
	}
	shape := c.biasShape
	if shape == nil {
		shape = []int{oc}
	}
	b := floats("bias", shape, false)
	addIns := []int{y, b}
	if c.swap {
		addIns = []int{b, y}
	}
	g.AddOp(graph.OpAdd, addIns, []int{z}, &graph.AddOptions{Activation: c.addAct})
	g.Inputs, g.Outputs = []int{x}, []int{z}
	if c.convIsOutput {
		g.Outputs = append(g.Outputs, y)
	}
	if c.secondReader {
		r := act("relu")
		g.AddOp(graph.OpRelu, []int{y}, []int{r}, nil)
		g.Outputs = append(g.Outputs, r)
	}
	if err := graph.InferShapes(g, [][]int{{c.n, c.h, c.w, c.c}}); err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	return g
}

// TestBiasAddFolded: a float convolution whose bias is absent or zero,
// followed by an ADD of a per-channel constant, runs as one convolution
// with that bias and the ADD's activation, within dilatedTol of the pair
// (random shapes, CONV_2D and depthwise, at batch 1 and 3); pairs that are
// not equivalent, or whose intermediate is needed, stay.
func TestBiasAddFolded(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	var cases []biasCase
	for i := range 24 {
		cases = append(cases, biasCase{
			depthwise: i%3 == 2, n: 1 + 2*rng.IntN(2), h: 1 + rng.IntN(7), w: 1 + rng.IntN(7), c: 1 + rng.IntN(5), oc: 1 + rng.IntN(9),
			convBias: []string{"none", "zero"}[i%2], addAct: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}[i%4],
			swap: i%5 == 1, wantFolded: true,
		})
		if i%6 == 3 {
			cases[i].biasShape = []int{1, 1, 1, cases[i].oc}
			if cases[i].depthwise {
				cases[i].biasShape[3] = cases[i].c
			}
		}
	}
	base := biasCase{n: 2, h: 5, w: 4, c: 3, oc: 6, convBias: "zero"}
	for _, mod := range []func(*biasCase){
		func(c *biasCase) { c.convBias = "random" },           // two biases to add
		func(c *biasCase) { c.convAct = graph.ActRelu },       // clamp between the two
		func(c *biasCase) { c.convIsOutput = true },           // the conv output is needed
		func(c *biasCase) { c.secondReader = true },           // ... by another op
		func(c *biasCase) { c.biasShape = []int{1, 5, 4, 6} }, // not per channel
		func(c *biasCase) { c.biasShape = []int{1} },          // broadcast scalar
	} {
		c := base
		mod(&c)
		cases = append(cases, c)
	}
	for i, c := range cases {
		name := fmt.Sprintf("%d/dw=%v/%dx%dx%dx%d/oc%d/%s/%s", i, c.depthwise, c.n, c.h, c.w, c.c, c.oc, c.convBias, c.addAct)
		t.Run(name, func(t *testing.T) {
			checkRewrite(t, biasGraph(t, c, rng), "bias ADDs folded", func(s interp.Schedule) int { return s.BiasAdds }, c.wantFolded, true, rng)
		})
	}
}
