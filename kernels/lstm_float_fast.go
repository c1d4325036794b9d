package kernels

import (
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/gemm"
)

// lstmFloatFast is the float LSTM (lstmFloat, its reference) with the
// gates' weights fused: the input weights of every gate are one packed
// matrix, so the input products W·x of all time steps and batch rows are
// one GEMM before the recurrence; each step is then one packed product
// R·h for all gates and batch rows at once, and one pass (lstmRows) that
// adds bias, W·x and R·h and does the gate activations (float32 exp,
// expF32), the cell update and o⊙act(c) for every batch row. The
// additions are the reference's, (bias + W·x) + R·h; only the order inside
// each dot product (the GEMM's SIMD lanes) and the activations' last bits
// differ, so results agree with the reference and with TFLite within 1e-5
// of the output range (TestLSTMFloatFastMatchesReference, the interp LSTM
// oracle tests). Layer-norm LSTMs, which normalise W·x + R·h before the
// bias, keep the reference.
type lstmFloatFast struct {
	ref   *lstmFloat
	off   [4]int // column of gate gi in a fused row (-1: absent)
	win   *gemm.PackedF32
	bias  []float32 // fused biases, width values and 16 of slack (lstmRows)
	peep  []float32 // nil, or the i, f and o peephole weights, ncp each, zero padded
	rec   *gemm.PackedF32
	pool  freeList
	width int // gates present (4, or 3 with CIFG) · n_cell
	ncp   int // n_cell rounded up to 8: the stride of the cell state copy
	clip  float32
	cols  []float32 // lstmRows.cols: nil, or with a TANH LSTM without peephole
	cstr  int
}

// lstmFloatScratch is one Run's working memory: the input products of
// every step, the current step's recurrent products, the cell state
// (rows of ncp) and, with a projection, the hidden vectors o⊙act(c).
type lstmFloatScratch struct{ xp, pre, c, hid, gates []float32 }

func newLSTMFloatFast(k *lstmFloat) *lstmFloatFast {
	g := &k.g
	nc := g.nCell
	f := &lstmFloatFast{ref: k, ncp: (nc + 7) &^ 7, clip: float32(math.Inf(1))}
	if k.cellClip > 0 {
		f.clip = k.cellClip
	}
	ng := 0
	for gi := range f.off {
		if gi == 0 && g.cifg {
			f.off[gi] = -1
			continue
		}
		f.off[gi] = ng * nc
		ng++
	}
	f.width = ng * nc
	w := make([]float32, 0, f.width*g.nInput)
	r := make([]float32, 0, f.width*g.nOutput)
	f.bias = make([]float32, 0, f.width+16)
	for gi := range k.gates {
		if f.off[gi] < 0 {
			continue
		}
		gt := &k.gates[gi]
		w = append(w, gt.w...)
		r = append(r, gt.r...)
		f.bias = append(f.bias, gt.bias...)
	}
	f.bias = f.bias[:f.width+16]
	if g.peephole {
		f.peep = make([]float32, 3*f.ncp)
		for i, gi := range []int{0, 1, 3} {
			copy(f.peep[i*f.ncp:], k.gates[gi].peep) // nil (CIFG's input gate): zeros
		}
	}
	if k.act == graph.ActTanh && !g.peephole {
		f.cols, f.cstr = lstmActCols(f.off, nc, f.width)
	}
	f.win = gemm.PackF32Rows(max(g.maxTime*g.batch, 1), w, f.width, g.nInput, g.nInput)
	f.rec = gemm.PackF32Rows(g.batch, r, f.width, g.nOutput, g.nOutput)
	return f
}

func (f *lstmFloatFast) scratch() *lstmFloatScratch {
	if s, ok := f.pool.Get().(*lstmFloatScratch); ok {
		return s
	}
	g := &f.ref.g
	s := &lstmFloatScratch{
		xp:  make([]float32, g.maxTime*g.batch*f.width+16),
		pre: make([]float32, g.batch*f.width+16),
		c:   make([]float32, g.batch*f.ncp),
	}
	if f.ref.proj != nil {
		s.hid = make([]float32, g.batch*g.nCell)
	}
	if f.cols != nil {
		s.gates = make([]float32, g.batch*f.cstr+16)
	}
	return s
}

func (f *lstmFloatFast) Run(ins, outs []*Buffer) error {
	k := f.ref
	g := &k.g
	if g.maxTime == 0 || g.batch == 0 {
		return nil
	}
	x, y := ins[lstmInput].F32, outs[0].F32
	hAll, cAll := ins[lstmOutputState].F32, ins[lstmCellState].F32
	nc, no, w, nb := g.nCell, g.nOutput, f.width, g.batch
	s := f.scratch()
	defer f.pool.Put(s)
	rows := g.maxTime * nb
	f.win.Mul(rows, x[:rows*g.nInput], g.nInput, s.xp[:rows*w], w)
	for b := 0; b < nb; b++ {
		copy(s.c[b*f.ncp:b*f.ncp+nc], cAll[b*nc:(b+1)*nc])
	}
	// Every batch row steps at once (rows are independent: each has its
	// own state row), so each step's product has batch rows. TFLite runs a
	// batch-major LSTM one row at a time; the rows' values are the same.
	// The hidden state h is the previous step's output rows.
	stride := g.maxTime // rows of one time step: b·T + t, or t·B + b
	if g.timeMajor {
		stride = 1
	}
	h, ldh := hAll[:nb*no], no
	row := 0
	for t := 0; t < g.maxTime; t++ {
		row = t
		if g.timeMajor {
			row = t * nb
		}
		f.rec.Mul(nb, h, ldh, s.pre[:nb*w], w)
		rs := lstmRows{xp: s.xp[row*w:], xstride: stride * w, pre: s.pre, bias: f.bias, peep: f.peep,
			c: s.c, cstride: f.ncp, out: y[row*no:], ostride: stride * no,
			n: nb, w: w, nc: nc, ncp: f.ncp, off: f.off, clip: f.clip, act: k.act,
			gates: s.gates, gstride: f.cstr, cols: f.cols, colStride: f.cstr}
		if k.proj != nil {
			rs.out, rs.ostride = s.hid, nc
		}
		rs.run()
		if k.proj != nil {
			f.project(s.hid, y, row, stride)
		}
		h, ldh = y[row*no:], stride*no
	}
	for b := 0; b < nb; b++ {
		copy(cAll[b*nc:(b+1)*nc], s.c[b*f.ncp:])
		r := row + b*stride
		copy(hAll[b*no:(b+1)*no], y[r*no:(r+1)*no])
	}
	return nil
}

// project writes each batch row's projection proj·hid + projB (clipped)
// to its output row row + b·stride.
func (f *lstmFloatFast) project(hid, y []float32, row, stride int) {
	k := f.ref
	nc, no := k.g.nCell, k.g.nOutput
	for b := 0; b < k.g.batch; b++ {
		r := row + b*stride
		hb := y[r*no : (r+1)*no]
		if k.projB != nil {
			copy(hb, k.projB)
		} else {
			clear(hb)
		}
		matVecAccF32(k.proj, no, nc, hid[b*nc:(b+1)*nc], 1, hb)
		if k.projClip > 0 {
			for i, v := range hb {
				hb[i] = min(max(v, -k.projClip), k.projClip)
			}
		}
	}
}

// lstmRows is one time step of lstmFloatFast for n batch rows: for each
// row and cell, the gates (bias + W·x) + R·h (+ the peephole term),
// their activations, the cell update c·f + g·i (clipped) and the hidden
// value o⊙act(c). Gate gi's n_cell columns start at off[gi] in a row of
// w; off[0] < 0 is CIFG (i = 1 − f). The vector form (lstmRowsVec) reads
// up to 15 values past a row's last gate (in xp, pre, bias, cols and
// gates: callers leave 16 of slack) and whole rows of ncp in c and peep.
type lstmRows struct {
	xp      []float32 // W·x, batch row b's at b·xstride
	xstride int
	pre     []float32 // R·h, row b's at b·w
	bias    []float32
	peep    []float32 // nil, or the i, f and o peephole weights (ncp each)
	c       []float32 // cell state, row b's at b·cstride
	cstride int
	out     []float32 // o⊙act(c), row b's nc values at b·ostride
	ostride int
	n       int
	w       int
	nc      int
	ncp     int
	off     [4]int
	clip    float32 // cell clip; +Inf: none
	act     graph.Activation
	// The vector form's two-pass variant (no peephole) activates every
	// gate column into gates (rows of gstride ≥ w rounded up to 8, and 16
	// of slack) with the per-column parameters cols (lstmActCols), then
	// updates the cells from there. nil cols: one pass.
	gates     []float32
	gstride   int
	cols      []float32
	colStride int
}

// lstmActCols returns, for a fused row of w gate columns (the cell gate's
// nc from off[2], TANH; the others sigmoid), four rows of colStride (w
// rounded up to 8) parameters s, k, b, a with which a + b·(k/(1 + e^(s·v)))
// is sigmoidFast (−1, 1, 1, 0) or tanhFast (2, 2, −1, 1).
func lstmActCols(off [4]int, nc, w int) (cols []float32, colStride int) {
	cs := (w + 7) &^ 7
	cols = make([]float32, 4*cs+16) // 16 of slack: see lstmRows
	for i := 0; i < cs; i++ {
		p := [4]float32{-1, 1, 1, 0}
		if i >= off[2] && i < off[2]+nc {
			p = [4]float32{2, 2, -1, 1}
		}
		for r, v := range p {
			cols[r*cs+i] = v
		}
	}
	return cols, cs
}

func (a *lstmRows) run() {
	if a.act == graph.ActTanh && lstmRowsVec(a) {
		return
	}
	a.runGo()
}

// runGo is lstmRows in Go: the vector form's operations in its order,
// except that the vector exp fuses its multiply-adds (the float32
// conversions here keep the compiler from fusing any), so the two agree
// within 1e-6 relative (TestLSTMRowsVecMatchesGo).
func (a *lstmRows) runGo() {
	nc, ncp := a.nc, a.ncp
	cifg, peep := a.off[0] < 0, a.peep != nil
	for b := 0; b < a.n; b++ {
		x, p := a.xp[b*a.xstride:], a.pre[b*a.w:]
		c := a.c[b*a.cstride : b*a.cstride+nc]
		h := a.out[b*a.ostride : b*a.ostride+nc]
		for j, ct := range c {
			k := a.off[1] + j
			f := (x[k] + a.bias[k]) + p[k]
			if peep {
				f += float32(ct * a.peep[ncp+j])
			}
			f = sigmoidFast(f)
			var i float32
			if cifg {
				i = 1 - f
			} else {
				k = a.off[0] + j
				i = (x[k] + a.bias[k]) + p[k]
				if peep {
					i += float32(ct * a.peep[j])
				}
				i = sigmoidFast(i)
			}
			k = a.off[2] + j
			g := lstmActFast(a.act, (x[k]+a.bias[k])+p[k])
			ct = float32(ct*f) + float32(g*i)
			ct = min(max(ct, -a.clip), a.clip)
			c[j] = ct
			k = a.off[3] + j
			o := (x[k] + a.bias[k]) + p[k]
			if peep {
				o += float32(ct * a.peep[2*ncp+j])
			}
			o = sigmoidFast(o)
			// o⊙act(c); with NONE the runtime multiplies the cell gate
			// left in its scratch (see lstmFloat.Run).
			hv := g
			if a.act != graph.ActNone {
				hv = lstmActFast(a.act, ct)
			}
			h[j] = hv * o
		}
	}
}

// lstmActFast is applyActivationF32 for one value, with tanh as tanhFast.
func lstmActFast(act graph.Activation, v float32) float32 {
	switch act {
	case graph.ActTanh:
		return tanhFast(v)
	case graph.ActRelu:
		return max(v, 0)
	case graph.ActReluN1To1:
		return min(max(v, -1), 1)
	case graph.ActRelu6:
		return min(max(v, 0), 6)
	case graph.ActSigmoid:
		return sigmoidFast(v)
	}
	return v
}

// expF32 is e^x in float32 within 2 ulp (Cephes' expf: x = n·ln 2 + r with
// |r| ≤ ln 2 / 2, a degree-6 polynomial for e^r, and 2^n from the exponent
// bits). x is clamped to [-87.3, 88.3], where e^x stays a normal float32:
// below it the exact value is under 1.2e-38, above it near overflow, which
// the LSTM's sigmoid and tanh turn into 0, 1 or ±1 all the same. NaN stays
// NaN.
func expF32(x float32) float32 {
	x = min(max(x, -87.3), 88.3)
	// n = round(x·log2 e): adding 1.5·2^23 leaves n in the low mantissa
	// bits (float32 arithmetic rounds to nearest), read back as an integer.
	const magic = 12582912
	t := float32(x*1.44269504088896341) + magic
	n := t - magic
	r := (x - float32(n*0.693359375)) - float32(n*-2.12194440e-4)
	p := float32(1.9875691500e-4)
	p = float32(p*r) + 1.3981999507e-3
	p = float32(p*r) + 8.3334519073e-3
	p = float32(p*r) + 4.1665795894e-2
	p = float32(p*r) + 1.6666665459e-1
	p = float32(p*r) + 5.0000001201e-1
	p = (float32(float32(p*r)*r) + r) + 1
	return p * math.Float32frombits((math.Float32bits(t)-0x4B400000+127)<<23)
}

// sigmoidFast is 1/(1+e^-x) with expF32 (within 3e-7 of the float64
// logistic; TestExpF32).
func sigmoidFast(x float32) float32 { return 1 / (1 + expF32(-x)) }

// tanhFast is tanh(x) = 1 − 2/(1+e^2x) with expF32 (within 3e-7 of the
// float64 tanh, absolute).
func tanhFast(x float32) float32 { return 1 - 2/(1+expF32(2*x)) }
