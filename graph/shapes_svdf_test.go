package graph

import "testing"

func TestShapeSVDF(t *testing.T) {
	g := &Graph{}
	x := g.AddTensor(&Tensor{DType: Float32, Shape: []int{3, 7}})
	wf := g.AddTensor(&Tensor{DType: Float32, Shape: []int{12, 7}})
	y := g.AddTensor(&Tensor{DType: Float32, Shape: []int{1, 1}})
	op := &Op{Kind: OpSVDF, Inputs: []int{x, wf}, Outputs: []int{y}, Options: &SVDFOptions{Rank: 3}}
	s, err := shapeSVDF(g, op)
	if err != nil || len(s) != 2 || s[0] != 3 || s[1] != 4 {
		t.Fatalf("got %v, %v; want [3 4]", s, err)
	}
	op.Options = &SVDFOptions{Rank: 5}
	if _, err := shapeSVDF(g, op); err == nil {
		t.Error("rank 5 with 12 filters accepted")
	}
}
