// Package train trains qbench's float CNNs: forward and backward passes for
// conv2d, 2x2 max-pool, ReLU, dense and softmax cross-entropy;
// SGD-momentum and Adam(W) optimizers with learning-rate schedules; seeded
// augmentation; and export to / import from a TFLite-style graph.Graph.
//
// Every convolution and dense layer, forward and backward, runs on
// kernels/gemm: im2col + PackedF32.Mul (or, for large stride-1 layers, the
// im2col-free MulSegmented) forward, the strided Aᵀ·B Sgemm for weight
// gradients and PackedF32.Mul + col2im for input gradients. Convolutions
// work a few images at a time so their patch matrices stay in L2; the
// conv bias, 2x2 max-pool and ReLU are one fused pass per group (AVX-512
// when available) that records each window's winner, so conv outputs are
// never stored for a whole chunk. Work is split into fixed chunks of a
// batch whose gradients are summed in chunk order, so results are
// bit-identical for a given seed whatever the number of threads (they
// differ from builds before these optimizations in summation order only).
package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/qbench/qbench/graph"
)

// Model is a trainable CNN: its architecture and all parameters in one flat
// slice (so optimizers are one loop), with per-layer views into it.
type Model struct {
	Arch Arch
	// Params holds every weight and bias; layer views index into it.
	Params []float32
	// Metadata is copied into the exported graph (e.g. the preprocessing
	// spec under graph.MetadataPreprocess).
	Metadata map[string][]byte
	// Meta is the standard model metadata (ModelMeta) the exported graph
	// carries, nil for none.
	Meta *graph.ModelMeta

	convs []convLayer
	dense []denseLayer
}

type convLayer struct {
	g          convGeom
	p          poolGeom
	wOff, bOff int
}

type denseLayer struct {
	in, out    int
	wOff, bOff int
	relu       bool
}

// New builds a model for arch with He-normal weights (std √(2/fan_in)) and
// zero biases, drawn from a generator seeded with seed.
func New(arch Arch, seed int64) (*Model, error) {
	m, err := newModel(arch)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	for _, c := range m.convs {
		std := math.Sqrt(2 / float64(c.g.K()))
		for i := range m.convW(c) {
			m.Params[c.wOff+i] = float32(rng.NormFloat64() * std)
		}
	}
	for _, d := range m.dense {
		std := math.Sqrt(2 / float64(d.in))
		for i := range d.in * d.out {
			m.Params[d.wOff+i] = float32(rng.NormFloat64() * std)
		}
	}
	return m, nil
}

// newModel lays out the parameters of arch (all zero).
func newModel(arch Arch) (*Model, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Arch: arch}
	h, w, c := arch.Input[0], arch.Input[1], arch.Input[2]
	off := 0
	for i := range arch.Filters {
		g := arch.convGeom(i, h, w, c)
		p := newPoolGeom(g.OH, g.OW, g.Cout)
		m.convs = append(m.convs, convLayer{g: g, p: p, wOff: off, bOff: off + g.Cout*g.K()})
		off += g.Cout * (g.K() + 1)
		h, w, c = p.OH, p.OW, g.Cout
	}
	in := h * w * c
	outs := append(append([]int(nil), arch.Dense...), arch.Classes)
	for i, o := range outs {
		m.dense = append(m.dense, denseLayer{in: in, out: o, wOff: off, bOff: off + o*in, relu: i < len(outs)-1})
		off += o * (in + 1)
		in = o
	}
	m.Params = make([]float32, off)
	return m, nil
}

func (m *Model) convW(c convLayer) []float32 { return m.Params[c.wOff:c.bOff] }
func (m *Model) convB(c convLayer) []float32 { return m.Params[c.bOff : c.bOff+c.g.Cout] }
func (m *Model) denseW(d denseLayer) []float32 {
	return m.Params[d.wOff:d.bOff]
}
func (m *Model) denseB(d denseLayer) []float32 { return m.Params[d.bOff : d.bOff+d.out] }

// NumParams is the number of trainable parameters.
func (m *Model) NumParams() int { return len(m.Params) }

// InputSize is the number of float32 values of one input image (H·W·C).
func (m *Model) InputSize() int { return m.Arch.Input[0] * m.Arch.Input[1] * m.Arch.Input[2] }

// decayMask reports, per parameter, whether weight decay applies: weights
// yes, biases no (decaying biases only fights the data).
func (m *Model) decayMask() []bool {
	mask := make([]bool, len(m.Params))
	for _, c := range m.convs {
		for i := c.wOff; i < c.bOff; i++ {
			mask[i] = true
		}
	}
	for _, d := range m.dense {
		for i := d.wOff; i < d.bOff; i++ {
			mask[i] = true
		}
	}
	return mask
}

// workspace holds one chunk's activations and gradients. Each worker owns
// one, reused for every chunk it processes, so steps do not allocate.
type workspace struct {
	n    int // capacity in images
	x    []float32
	tmp  []float32    // one image of scratch (augmentation source)
	col  []float32    // conv patch scratch (one group of images)
	y    []float32    // conv output scratch (one group of images)
	arg  [][]uint8    // per conv: pool winners (see poolReluForward)
	p    [][]float32  // per conv: pooled, post-ReLU output
	z    [][]float32  // per dense: output (post-ReLU for hidden layers)
	dz   [][]float32  // per dense: output gradient
	dp   [][]float32  // per conv: gradient at p
	dy   []float32    // conv output gradient scratch (one group of images)
	dcol []float32    // conv patch gradient scratch
	pk   []*convPacks // per conv: packed weights
	dt   []float32    // dense transpose scratch (n·out of the widest layer)
}

func (m *Model) newWorkspace(n int) *workspace {
	ws := &workspace{n: n, x: make([]float32, n*m.InputSize()), tmp: make([]float32, m.InputSize())}
	maxCol, maxY := 0, 0
	for _, c := range m.convs {
		g, p := c.g, c.p
		ws.arg = append(ws.arg, make([]uint8, n*p.OH*p.OW*p.C))
		maxY = max(maxY, convGroup(g, n)*g.OH*g.OW*g.Cout, convSegYLen(g, n))
		ws.p = append(ws.p, make([]float32, n*p.OH*p.OW*p.C))
		ws.dp = append(ws.dp, make([]float32, n*p.OH*p.OW*p.C))
		maxCol = max(maxCol, convGroup(g, n)*g.OH*g.OW*g.K())
		ws.pk = append(ws.pk, newConvPacks(g, n, len(ws.pk) > 0))
	}
	// Convolutions work a few images at a time (convGroup), so one patch
	// buffer and one patch-gradient buffer serve every layer.
	ws.col = make([]float32, maxCol)
	ws.y = make([]float32, maxY)
	ws.dy = make([]float32, maxY)
	ws.dcol = make([]float32, maxCol)
	maxOut := 0
	for _, d := range m.dense {
		maxOut = max(maxOut, d.out)
	}
	ws.dt = make([]float32, n*maxOut)
	for _, d := range m.dense {
		ws.z = append(ws.z, make([]float32, n*d.out))
		ws.dz = append(ws.dz, make([]float32, n*d.out))
	}
	return ws
}

// flat returns the input of the first dense layer for the n images in ws.
func (m *Model) flat(ws *workspace, n int) []float32 {
	if len(m.convs) == 0 {
		return ws.x[:n*m.InputSize()]
	}
	return ws.p[len(m.convs)-1][:n*m.dense[0].in]
}

// forward runs the n images in ws.x through the network; the logits end in
// ws.z[last].
func (m *Model) forward(ws *workspace, n int) []float32 {
	x := ws.x
	for i, c := range m.convs {
		// The bias is added in the pooling pass (see poolReluForward).
		// Each group of images is pooled as soon as it is computed.
		p, arg, bias := ws.p[i], ws.arg[i], m.convB(c)
		pImg := c.p.OH * c.p.OW * c.p.C
		convForward(c.g, ws.pk[i], x, n, m.convW(c), nil, ws.col, ws.y, func(b0, nb int, yb []float32, yh, yw int) {
			q := c.p // the pool's input extent is y's, its output unchanged
			q.H, q.W = yh, yw
			poolReluForward(q, yb, bias, nb, p[b0*pImg:], arg[b0*pImg:])
		})
		x = ws.p[i]
	}
	in := m.flat(ws, n)
	for j, d := range m.dense {
		denseForward(in, n, d.in, d.out, m.denseW(d), m.denseB(d), ws.z[j], ws.dt)
		if d.relu {
			reluForward(ws.z[j][:n*d.out])
		}
		in = ws.z[j]
	}
	return ws.z[len(m.dense)-1][:n*m.Arch.Classes]
}

// backward back-propagates dlogits (in ws.dz[last]) after forward on the
// same n images, overwriting grad (aligned with Params).
func (m *Model) backward(ws *workspace, n int, grad []float32) {
	for j := len(m.dense) - 1; j >= 0; j-- {
		d := m.dense[j]
		var x, dx []float32
		if j > 0 {
			x = ws.z[j-1]
			dx = ws.dz[j-1]
		} else {
			x = m.flat(ws, n)
			if len(m.convs) > 0 {
				dx = ws.dp[len(m.convs)-1]
			}
		}
		denseBackward(x, ws.dz[j], n, d.in, d.out, m.denseW(d), grad[d.wOff:d.bOff], grad[d.bOff:d.bOff+d.out], dx, ws.dt)
		if j > 0 && m.dense[j-1].relu {
			reluBackward(ws.z[j-1][:n*d.in], dx[:n*d.in])
		}
	}
	for i := len(m.convs) - 1; i >= 0; i-- {
		c := m.convs[i]
		// The first conv needs no input gradient: its input is the data.
		x, dx := ws.x, []float32(nil)
		if i > 0 {
			x, dx = ws.p[i-1], ws.dp[i-1]
		}
		// Each group's gradient is routed through the pool (summing the
		// bias gradient on the way) just before the conv consumes it.
		p, dp, arg := ws.p[i], ws.dp[i], ws.arg[i]
		db := grad[c.bOff : c.bOff+c.g.Cout]
		clear(db)
		pImg := c.p.OH * c.p.OW * c.p.C
		convBackward(c.g, ws.pk[i], x, ws.dy, n, m.convW(c), grad[c.wOff:c.bOff], nil, ws.col, ws.dcol, dx, func(b0, nb int, dyb []float32) {
			poolReluBackward(c.p, arg[b0*pImg:], p[b0*pImg:], dp[b0*pImg:], nb, dyb, db)
		})
	}
}

// Clone returns a deep copy of the model.
func (m *Model) Clone() *Model {
	c := *m
	c.Params = append([]float32(nil), m.Params...)
	c.convs = append([]convLayer(nil), m.convs...)
	c.dense = append([]denseLayer(nil), m.dense...)
	c.Meta = m.Meta.Clone()
	if m.Metadata != nil {
		c.Metadata = make(map[string][]byte, len(m.Metadata))
		for k, v := range m.Metadata {
			c.Metadata[k] = append([]byte(nil), v...)
		}
	}
	return &c
}

// Logits computes the logits for n images stored HWC back to back in x,
// single-threaded; it is the reference the exported graph is checked against.
func (m *Model) Logits(x []float32, n int) ([]float32, error) {
	if len(x) != n*m.InputSize() {
		return nil, fmt.Errorf("logits: got %d values, %d images of %v need %d", len(x), n, m.Arch.Input, n*m.InputSize())
	}
	ws := m.newWorkspace(max(n, 1))
	copy(ws.x, x)
	return append([]float32(nil), m.forward(ws, n)...), nil
}
