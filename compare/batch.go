package compare

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// Batching. A dense layer run for one image streams its whole weight
// matrix (3 MB for an 80×80 CNN) to do a matrix-vector product; the
// interpreter runs a batch-B program's convolutions image by image in
// cache and then its dense layers as one GEMM, so each worker feeds its
// executors up to B images at a time. Every output must stay bit-identical
// to a batch-1 run, which loadModel checks (checkBatch) before a model
// uses its batch program.

// defaultBatch is Config.Batch's default: past 16 images the dense
// layers' weight traffic is already small next to the convolutions.
const defaultBatch = 16

// maxBatchInputBytes bounds one batch's float input (the batch program's
// activations grow with it, and each worker holds a batch in flight), so
// large inputs get smaller batches.
const maxBatchInputBytes = 4 << 20

// batchSize returns the batch for a model whose input has elems values
// per image when Config.Batch is want (> 0).
func batchSize(want, elems int) int {
	return max(1, min(want, maxBatchInputBytes/max(1, 4*elems)))
}

// compileBatch compiles g at batch b and checks it against the batch-1
// program p1. It returns nil when b < 2 or when g does not batch cleanly
// (shapes that do not scale with the batch, or outputs that differ from
// batch 1): the model then runs image by image, as it always could.
func compileBatch(g *graph.Graph, opts interp.Options, p1 *interp.Program, b int) *interp.Program {
	if b < 2 {
		return nil
	}
	opts.Batch = b
	pb, err := interp.Compile(g, opts)
	if err != nil {
		return nil
	}
	in1, out1 := p1.InputTensor(0), p1.OutputTensor(0)
	inB, outB := pb.InputTensor(0), pb.OutputTensor(0)
	if len(inB.Shape) == 0 || inB.Shape[0] != b || inB.NumElements() != b*in1.NumElements() ||
		len(outB.Shape) == 0 || outB.Shape[0] != b || outB.NumElements() != b*out1.NumElements() ||
		inB.DType != in1.DType || outB.DType != out1.DType {
		return nil
	}
	if err := checkBatch(p1, pb, b); err != nil {
		return nil
	}
	return pb
}

// checkBatch runs b pseudo-random images through pb at once and one by
// one through p1 and requires bit-identical outputs. Integer models are
// exact either way; for float models this catches a dense kernel whose
// summation order depends on the number of rows (a GEMV for one row,
// a GEMM for many), which would change the written outputs.
func checkBatch(p1, pb *interp.Program, b int) error {
	e1, eb := p1.NewExecutor(), pb.NewExecutor()
	n := p1.InputTensor(0).NumElements()
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, b*n)
	for i := range x {
		// Values in [-0.5, 1.5) cover the usual [0,1] and [-1,1] inputs
		// and some clamping of quantized inputs.
		x[i] = rng.Float32()*2 - 0.5
	}
	if err := eb.SetInputFloat(0, x); err != nil {
		return err
	}
	if err := eb.Run(); err != nil {
		return err
	}
	yb := eb.OutputFloat(0, nil)
	k := len(yb) / b
	var y1 []float32
	for i := range b {
		if err := e1.SetInputFloat(0, x[i*n:(i+1)*n]); err != nil {
			return err
		}
		if err := e1.Run(); err != nil {
			return err
		}
		y1 = e1.OutputFloat(0, y1)
		for c, v := range y1 {
			if math.Float32bits(v) != math.Float32bits(yb[i*k+c]) {
				return fmt.Errorf("image %d output %d: batch %d gives %v, batch 1 %v", i, c, b, yb[i*k+c], v)
			}
		}
	}
	return nil
}
