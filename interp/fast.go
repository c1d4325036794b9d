package interp

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// The fast schedule. Six rewrites, with outputs bit-identical to the
// plain op-by-op run (float dilated convolutions and bias ADDs: see
// fuseDilated and fuseBiasAdds):
//
//   - SPACE_TO_BATCH_ND → CONV_2D → BATCH_TO_SPACE_ND chains (TensorFlow's
//     dilated convolution) become one convolution with dilation
//     (fuseDilated, rewrite_dilated.go): no phase images, and a batch
//     that stays the model's, so a tiny convolution is one GEMM.
//   - A float convolution followed by an ADD of a per-channel constant
//     becomes one convolution with that bias (fuseBiasAdds,
//     rewrite_bias.go): TensorFlow's BiasAdd after a dilated convolution.
//   - MAX_POOL_2D → RELU pairs become one pool with a fused activation
//     (fuseActivations): one pass over the tensor instead of two; an 8-bit
//     pool followed by a RELU that rescales (or RELU_N1_TO_1,
//     RELU_0_TO_1, LEAKY_RELU) becomes one pool that maps each pooled
//     image through the element-wise op's table
//     (kernels.MaxPoolMapOptions), in one vector pass where it can.
//   - An 8-bit CONV_2D whose output only a 2×2 stride-2 VALID MAX_POOL_2D
//     reads (after the step above: with its activation or map) becomes
//     one op writing the pool's output (fuseConvPools,
//     rewrite_convpool.go; kernels.ConvPoolOptions): no full-size conv
//     output in the arena, and a conv kernel that pools its own output
//     requantizes only the maxima.
//   - GATHER → MEAN/SUM pairs over the gathered positions (an embedding
//     bag) become one kernel summing table rows straight into the output
//     (fuseEmbeddingBags): no [batch, words, dim] intermediate.
//   - At batch B > 1, the longest prefix of ops that treat every image on
//     its own (perImage), up to the first FULLY_CONNECTED, runs image by
//     image (or a few images at a time when they are small, chunkImages):
//     the "pre" stage is that prefix compiled at batch 1, whose
//     intermediates (a few hundred KB for an 80×80 CNN, instead of B times
//     that) stay in cache and are reused for every image. It reads image
//     i's slice of the batch-B graph inputs and writes image i's slice of
//     the batch-B "cut" tensors the rest of the graph reads (batch is the
//     outermost dimension, so a slice is contiguous). The "post" stage,
//     the remaining ops at batch B, then runs once; FULLY_CONNECTED gains
//     most from seeing the whole batch.
//
// No rewrite applies when the Program keeps every tensor (KeepAll),
// and an Executor with an Observer runs the plain schedule instead, so
// observers and Executor.Tensor keep seeing every tensor of Graph().

// fastPlan is the rewritten schedule of a Program.
type fastPlan struct {
	batch     int
	pre, post stage
	// slices are the tensors the pre stage sees one image at a time:
	// graph inputs it reads and cut tensors it writes. elems is their
	// element count per image.
	slices  []int
	elems   []int
	fused   int
	dilated int
	bags    int
	biases  int
	pools   int
	// chunk is how many images one step of the pre stage runs (a
	// divisor of batch; see chunkImages).
	chunk int
}

// stage is an op sequence over g with its kernels and arena plan.
type stage struct {
	g       *graph.Graph
	ops     []*graph.Op
	orig    []int // index in Program.Graph().Ops of each op
	kernels []kernels.Kernel
	plan    *arenaPlan
}

// arenaSize is the bytes one Executor's fast arena holds: the pre stage
// and, after it, the post stage.
func (f *fastPlan) arenaSize() int { return f.preBytes() + f.post.plan.size }

func (f *fastPlan) preBytes() int {
	if f.pre.plan == nil {
		return 0
	}
	return (f.pre.plan.size + alignment - 1) / alignment * alignment
}

// buildFast returns the fast schedule of p, or nil when no rewrite
// applies. It places the io arena (placeIO) when it returns a schedule.
func (p *Program) buildFast(opts Options) (*fastPlan, error) {
	g := p.g
	dops, dorig, dilated := fuseDilated(g)
	dg := &graph.Graph{Tensors: g.Tensors, Ops: dops, Inputs: g.Inputs, Outputs: g.Outputs}
	bops, borig, biases := fuseBiasAdds(dg)
	bg := &graph.Graph{Tensors: g.Tensors, Ops: bops, Inputs: g.Inputs, Outputs: g.Outputs}
	aops, aorig, fused := fuseActivations(bg)
	ag := &graph.Graph{Tensors: g.Tensors, Ops: aops, Inputs: g.Inputs, Outputs: g.Outputs}
	cops, corig, pools := fuseConvPools(ag, opts.ConvPools, opts.Rounding)
	cg := &graph.Graph{Tensors: g.Tensors, Ops: cops, Inputs: g.Inputs, Outputs: g.Outputs}
	ops, orig, bags := fuseEmbeddingBags(cg)
	for i, o := range orig {
		orig[i] = dorig[borig[aorig[corig[o]]]]
	}
	f := &fastPlan{fused: fused, dilated: dilated, biases: biases, bags: bags, pools: pools}
	fg := &graph.Graph{Tensors: g.Tensors, Ops: ops, Inputs: g.Inputs, Outputs: g.Outputs}
	k := 0
	var g1 *graph.Graph
	if b := graphBatch(g); b > 1 {
		f.batch, f.chunk = b, 1
		k, g1 = splitPoint(fg, b, 1)
		if k > 0 {
			f.chunk = chunkImages(g1, ops[:k], b, opts.ChunkBytes)
			switch {
			case f.chunk == b:
				// The whole batch fits: one step, no split.
				k, g1, f.chunk = 0, nil, 1
			case f.chunk > 1:
				kc, gc := splitPoint(fg, b, f.chunk)
				if kc == k {
					g1 = gc
				} else {
					f.chunk = 1
				}
			}
		}
	}
	if fused == 0 && dilated == 0 && biases == 0 && bags == 0 && pools == 0 && k == 0 {
		return nil, nil
	}
	io := p.placeIO()
	prepare := func(sg *graph.Graph, op *graph.Op) (kernels.Kernel, error) {
		ins := make([]*graph.Tensor, len(op.Inputs))
		for j, ti := range op.Inputs {
			ins[j] = sg.Tensor(ti)
		}
		outs := make([]*graph.Tensor, len(op.Outputs))
		for j, ti := range op.Outputs {
			outs[j] = sg.Tensor(ti)
		}
		return kernels.PrepareWith(op, ins, outs, kernels.Options{Rounding: opts.Rounding, Intermediates: intermediates(sg, op), Scratch: p.scratch})
	}
	var err error
	if k > 0 {
		if f.pre, err = p.preStage(f, g1, ops[:k], orig[:k], ops[k:], io, prepare); err != nil {
			return nil, err
		}
	}
	post := stage{g: fg, ops: ops[k:], orig: orig[k:]}
	prepared := make([]kernels.Kernel, len(post.ops))
	for i, op := range post.ops {
		if op == g.Ops[post.orig[i]] {
			prepared[i] = p.prepared[post.orig[i]]
			continue
		}
		if prepared[i], err = prepare(fg, op); err != nil {
			return nil, fmt.Errorf("op %d (%s) fused: %w", post.orig[i], op.Kind, err)
		}
	}
	var carried []int
	for _, t := range f.slices {
		if !io[t] {
			carried = append(carried, t)
		}
	}
	if post.plan, err = planArena(planSpec{g: fg, ops: post.ops, consts: p.consts, external: io, fromStart: carried}); err != nil {
		return nil, err
	}
	post.kernels = stageKernels(post.ops, prepared, post.plan.alias)
	f.post = post
	return f, nil
}

// preStage builds the stage of the k prefix ops pre at batch f.chunk (g1
// holds their shapes) and records in f the tensors it sees per step.
func (p *Program) preStage(f *fastPlan, g1 *graph.Graph, pre []*graph.Op, orig []int, rest []*graph.Op, io []bool,
	prepare func(*graph.Graph, *graph.Op) (kernels.Kernel, error)) (stage, error) {
	g := p.g
	n := len(g.Tensors)
	written := make([]bool, n)
	for _, op := range pre {
		for _, t := range op.Outputs {
			written[t] = true
		}
	}
	needed := make([]bool, n) // read after the prefix, or a graph output
	for _, op := range rest {
		for _, t := range op.Inputs {
			if t >= 0 {
				needed[t] = true
			}
		}
	}
	for _, t := range g.Outputs {
		needed[t] = true
	}
	ext := make([]bool, n)
	add := func(t int) {
		if ext[t] {
			return
		}
		ext[t] = true
		f.slices = append(f.slices, t)
		f.elems = append(f.elems, g1.Tensors[t].NumElements())
	}
	for _, op := range pre {
		for _, t := range op.Inputs {
			if t >= 0 && p.consts[t] == nil && !written[t] {
				add(t) // a graph input
			}
		}
	}
	for t := range n {
		if written[t] && needed[t] {
			add(t)
		}
	}
	st := stage{g: g1, ops: pre, orig: orig}
	plan, err := planArena(planSpec{g: g1, ops: pre, consts: p.consts, external: ext})
	if err != nil {
		return st, err
	}
	st.plan = plan
	prepared := make([]kernels.Kernel, len(pre))
	for i, op := range pre {
		if prepared[i], err = prepare(g1, op); err != nil {
			return st, fmt.Errorf("op %d (%s) at batch 1: %w", orig[i], op.Kind, err)
		}
	}
	st.kernels = stageKernels(pre, prepared, plan.alias)
	return st, nil
}

// graphBatch returns dimension 0 shared by every graph input, or 0.
func graphBatch(g *graph.Graph) int {
	b := 0
	for i, t := range g.Inputs {
		s := g.Tensors[t].Shape
		if len(s) == 0 || (i > 0 && s[0] != b) {
			return 0
		}
		b = s[0]
	}
	return b
}

// DefaultChunkBytes is Options.ChunkBytes when 0. A step runs op by op
// over its images, so what must stay in cache is one op's input and
// output for them, not every activation the budget counts; and each
// op's weights serve all the step's images in a row instead of being
// fetched again for every image. At 1.5 MiB the 80×80 seed-cnn runs 4
// images per step (it ran 1 at 256 KiB): batch 64, thread CPU per image,
// medians of 6–8 alternating runs (interp benchmarks, Zen 5 under the
// CPU-variant GODEBUGs), 1 → 4 images per step: AVX2 + AVX-VNNI 140.7 →
// 134.1 µs, Skylake-SP 120.8 → 113.8, AVX2 only 172.1 → 167.7; zoo models
// at 1.5 MiB against 256 KiB: AVX2 + AVX-VNNI mlt_vww96_i8 130.2 → 121.1,
// mlt_resnet8_i8 82.7 → 78.4, mlt_kws_dscnn_i8 28.9 → 27.8; AVX2 only
// mlt_vww96_i8 163.3 → 155.2, mlt_resnet8_f32 175.5 / 175.7,
// mlt_kws_dscnn_f32 64.7 / 65.1.
const DefaultChunkBytes = 1536 << 10

// chunkImages returns how many images one step of the image-by-image
// stage runs: the largest divisor of b whose activations — the bytes of
// every activation the prefix ops of g1 (shaped at batch 1) touch, times
// the images — fit in budget (0: DefaultChunkBytes, negative: one image
// per step). Streaming one image at a time keeps a large image's
// intermediates in cache; small images gain nothing from it and lose a
// kernel call per op and image, so they go several (or all) at a time,
// and each op sees a bigger GEMM.
func chunkImages(g1 *graph.Graph, ops []*graph.Op, b, budget int) int {
	if budget < 0 {
		return 1
	}
	if budget == 0 {
		budget = DefaultChunkBytes
	}
	seen := make([]bool, len(g1.Tensors))
	per := 0
	for _, op := range ops {
		for _, t := range append(op.Inputs[:len(op.Inputs):len(op.Inputs)], op.Outputs...) {
			if t < 0 || seen[t] || g1.Tensors[t].IsConst() {
				continue
			}
			seen[t] = true
			per += g1.Tensors[t].NumElements() * g1.Tensors[t].DType.Size()
		}
		// A fused conv and pool still writes the conv's full-size output
		// (its scratch) and reads it back: count it as the unfused pair's
		// intermediate was.
		if cp, ok := op.Options.(*kernels.ConvPoolOptions); ok && cp != nil && cp.Mid != nil && len(cp.Mid.Shape) > 0 {
			per += graph.NumElements(cp.Mid.Shape[1:]) * cp.Mid.DType.Size()
		}
	}
	c := 1
	for d := 2; d <= b; d++ {
		if b%d == 0 && d*per <= budget {
			c = d
		}
	}
	return c
}

// splitPoint returns how many leading ops of g (at batch b) run c images
// at a time, and a graph holding those ops with batch-c shapes: the
// longest prefix of perImage ops whose shapes at batch c are their
// batch-b shapes with dimension 0 set to c, without trailing RESHAPEs
// (which the batch-b stage aliases for free) and short of the whole
// graph. 0 means no split.
func splitPoint(g *graph.Graph, b, c int) (int, *graph.Graph) {
	k := 0
	for k < len(g.Ops) && g.Ops[k].Kind != graph.OpFullyConnected && perImage(g, g.Ops[k], b) {
		k++
	}
	if k == len(g.Ops) {
		return 0, nil
	}
	// Shape the prefix at batch 1, op by op, and stop at the first op
	// whose batch-1 shapes are not the per-image ones.
	g1 := &graph.Graph{Tensors: make([]*graph.Tensor, len(g.Tensors)), Inputs: g.Inputs}
	for i, t := range g.Tensors {
		c := *t
		c.Shape = append([]int(nil), t.Shape...)
		g1.Tensors[i] = &c
	}
	shapes := make([][]int, len(g.Inputs))
	for i, t := range g.Inputs {
		shapes[i] = append([]int{c}, g.Tensors[t].Shape[1:]...)
	}
	if graph.InferShapes(g1, shapes) != nil {
		return 0, nil
	}
	perImageShape := func(t int) bool {
		if t < 0 || g.Tensors[t].IsConst() {
			return true
		}
		s, s1 := g.Tensors[t].Shape, g1.Tensors[t].Shape
		if len(s) != len(s1) || len(s) == 0 || s1[0] != c {
			return false
		}
		for d := 1; d < len(s); d++ {
			if s[d] != s1[d] {
				return false
			}
		}
		return true
	}
	for i := range k {
		op := g.Ops[i]
		g1.Ops = []*graph.Op{op}
		ok := graph.InferShapes(g1, nil) == nil
		for _, t := range append(append([]int(nil), op.Inputs...), op.Outputs...) {
			ok = ok && perImageShape(t)
		}
		if !ok {
			k = i
			break
		}
	}
	for k > 0 && g.Ops[k-1].Kind == graph.OpReshape {
		k--
	}
	g1.Ops = g.Ops[:k]
	if k == 0 {
		return 0, nil
	}
	return k, g1
}

// fastExec is an Executor's state for the fast schedule.
type fastExec struct {
	f                *fastPlan
	arena            []byte
	preIns, preOuts  [][]*kernels.Buffer
	postIns, postOut [][]*kernels.Buffer
	// sliceView[s] is the pre stage's buffer of f.slices[s], re-pointed
	// at image i's part of sliceFull[s] before the stage runs image i.
	sliceView, sliceFull []*kernels.Buffer
}

// newFastExec allocates the fast arena; shared holds the constants and the
// io views, which the fast schedule uses as they are.
func newFastExec(f *fastPlan, consts []*kernels.Buffer, shared []*kernels.Buffer) *fastExec {
	x := &fastExec{f: f, arena: newArena(f.arenaSize())}
	post := make([]*kernels.Buffer, len(shared))
	base := f.preBytes()
	for i, t := range f.post.g.Tensors {
		switch {
		case shared[i] != nil:
			post[i] = shared[i]
		case f.post.plan.offset[i] >= 0:
			post[i] = view(t, x.arena, base+f.post.plan.offset[i])
		}
	}
	x.postIns, x.postOut = argLists(f.post.ops, post)
	if len(f.pre.ops) == 0 {
		return x
	}
	pre := make([]*kernels.Buffer, len(shared))
	for i, t := range f.pre.g.Tensors {
		switch {
		case consts[i] != nil:
			pre[i] = consts[i]
		case f.pre.plan.offset[i] >= 0:
			pre[i] = view(t, x.arena, f.pre.plan.offset[i])
		}
	}
	for _, t := range f.slices {
		v := &kernels.Buffer{DType: f.pre.g.Tensors[t].DType, Shape: f.pre.g.Tensors[t].Shape}
		pre[t] = v
		x.sliceView = append(x.sliceView, v)
		x.sliceFull = append(x.sliceFull, post[t])
	}
	x.preIns, x.preOuts = argLists(f.pre.ops, pre)
	return x
}

// run executes the pre stage image by image, then the post stage.
func (x *fastExec) run(p *Program, hook func(op, image int)) error {
	f := x.f
	if len(f.pre.ops) > 0 {
		for b := range f.batch / f.chunk {
			for s, v := range x.sliceView {
				n := f.elems[s]
				sliceInto(v, x.sliceFull[s], b*n, n)
			}
			for i, k := range f.pre.kernels {
				if err := k.Run(x.preIns[i], x.preOuts[i]); err != nil {
					return x.err(p, f.pre.orig[i], fmt.Errorf("images %d to %d: %w", b*f.chunk, (b+1)*f.chunk-1, err))
				}
				if hook != nil {
					hook(f.pre.orig[i], b*f.chunk)
				}
			}
		}
	}
	for i, k := range f.post.kernels {
		if err := k.Run(x.postIns[i], x.postOut[i]); err != nil {
			return x.err(p, f.post.orig[i], err)
		}
		if hook != nil {
			hook(f.post.orig[i], -1)
		}
	}
	return nil
}

func (x *fastExec) err(p *Program, oi int, err error) error {
	op := p.g.Ops[oi]
	return fmt.Errorf("run: op %d (%s) -> tensor %q: %w", oi, op.Kind, tensorName(p.g, op), err)
}

// sliceInto points v at elements [off, off+n) of full (same dtype).
func sliceInto(v, full *kernels.Buffer, off, n int) {
	switch full.DType {
	case graph.Float32:
		v.F32 = full.F32[off : off+n : off+n]
	case graph.Int8, graph.Int4:
		v.I8 = full.I8[off : off+n : off+n]
	case graph.UInt8:
		v.U8 = full.U8[off : off+n : off+n]
	case graph.Int16, graph.Float16:
		v.I16 = full.I16[off : off+n : off+n]
	case graph.Int32:
		v.I32 = full.I32[off : off+n : off+n]
	case graph.Int64:
		v.I64 = full.I64[off : off+n : off+n]
	case graph.Bool:
		v.Bool = full.Bool[off : off+n : off+n]
	}
}

// Schedule describes how Run executes a Program without an Observer.
type Schedule struct {
	// Rewritten is false when Run executes Graph() op by op.
	Rewritten bool
	// Ops is the number of kernels one Run executes per image-by-image
	// step plus those run once (len(Graph().Ops) when not rewritten).
	Ops int
	// Fused is the number of RELUs folded into the MAX_POOL_2D before them.
	Fused int
	// Dilated is the number of SPACE_TO_BATCH_ND → convolution →
	// BATCH_TO_SPACE_ND chains run as one convolution with dilation.
	Dilated int
	// BiasAdds is the number of float ADDs of a per-channel constant
	// folded into the convolution before them as its bias.
	BiasAdds int
	// Bags is the number of GATHER → MEAN/SUM pairs run as one
	// embedding-bag kernel (fuseEmbeddingBags).
	Bags int
	// ConvPools is the number of 8-bit CONV_2D → 2×2 MAX_POOL_2D pairs
	// run as one op (fuseConvPools).
	ConvPools int
	// PerImageOps is the number of leading ops run image by image,
	// Batch/ImagesPerStep times per Run (0: the whole batch goes through
	// every op at once).
	PerImageOps int
	// ImagesPerStep is how many images one image-by-image step runs (see
	// Options.ChunkBytes; 0 when PerImageOps is).
	ImagesPerStep int
	Batch         int
}

// Schedule reports what the rewrites did to p.
func (p *Program) Schedule() Schedule {
	if p.fast == nil {
		return Schedule{Ops: len(p.g.Ops), Batch: graphBatch(p.g)}
	}
	f := p.fast
	s := Schedule{Rewritten: true, Ops: len(f.pre.ops) + len(f.post.ops), Fused: f.fused, Dilated: f.dilated,
		BiasAdds: f.biases, Bags: f.bags, ConvPools: f.pools, PerImageOps: len(f.pre.ops), Batch: graphBatch(p.g)}
	if s.PerImageOps > 0 {
		s.ImagesPerStep = f.chunk
	}
	return s
}
