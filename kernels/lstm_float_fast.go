package kernels

import (
	"math"
	"sync"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/gemm"
)

// lstmFloatFast is the float LSTM (lstmFloat, its reference) with the
// gates' weights fused: the input weights of every gate are one packed
// matrix, so the input contribution (bias + W·x) of all time steps and
// batch rows is one GEMM before the recurrence; each step is then one
// packed product R·h for all gates at once, added to that row, and the
// gate activations use float32 exp (expF32). The additions are the
// reference's, (bias + W·x) + R·h; only the order inside each dot product
// (the GEMM's SIMD lanes) and the activations' last bits differ, so
// results agree with the reference and with TFLite within 1e-5 of the
// output range (TestLSTMFloatFastMatchesReference, the interp LSTM oracle
// tests). Layer-norm LSTMs, which normalise W·x + R·h before the bias,
// keep the reference.
type lstmFloatFast struct {
	ref   *lstmFloat
	ng    int    // gates present: 4, or 3 with CIFG
	off   [4]int // column of gate gi in a fused row (-1: absent)
	win   *gemm.PackedF32
	bin   []float32 // fused biases, [ng·n_cell]
	rec   *gemm.PackedF32
	tanh  bool // the cell activation is TANH (the fast form); else the reference's
	pool  sync.Pool
	inf   float32
	ninf  float32
	width int // ng·n_cell
}

// lstmFloatScratch is one Run's working memory: the input contributions
// of every step, the current step's gates and the hidden vector.
type lstmFloatScratch struct{ xp, pre, hid []float32 }

func newLSTMFloatFast(k *lstmFloat) *lstmFloatFast {
	g := &k.g
	f := &lstmFloatFast{ref: k, tanh: k.act == graph.ActTanh, inf: float32(math.Inf(1)), ninf: float32(math.Inf(-1))}
	nc := g.nCell
	for gi := range f.off {
		if gi == 0 && g.cifg {
			f.off[gi] = -1
			continue
		}
		f.off[gi] = f.ng * nc
		f.ng++
	}
	f.width = f.ng * nc
	w := make([]float32, 0, f.width*g.nInput)
	r := make([]float32, 0, f.width*g.nOutput)
	f.bin = make([]float32, 0, f.width)
	for gi := range k.gates {
		if f.off[gi] < 0 {
			continue
		}
		gt := &k.gates[gi]
		w = append(w, gt.w...)
		r = append(r, gt.r...)
		f.bin = append(f.bin, gt.bias...)
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
	return &lstmFloatScratch{
		xp:  make([]float32, g.maxTime*g.batch*f.width),
		pre: make([]float32, g.batch*f.width),
		hid: make([]float32, g.nCell),
	}
}

func (f *lstmFloatFast) Run(ins, outs []*Buffer) error {
	k := f.ref
	g := &k.g
	x, y := ins[lstmInput].F32, outs[0].F32
	hAll, cAll := ins[lstmOutputState].F32, ins[lstmCellState].F32
	s := f.scratch()
	defer f.pool.Put(s)
	rows := g.maxTime * g.batch
	f.win.MulBiasClamp(1, rows, x[:rows*g.nInput], g.nInput, f.bin, f.ninf, f.inf, s.xp, f.width)
	// Every batch row steps at once (rows are independent: each has its
	// own state row), so each step's product has batch rows. TFLite runs a
	// batch-major LSTM one row at a time; the rows' values are the same.
	stride := g.maxTime // rows of one time step: b·T + t, or t·B + b
	if g.timeMajor {
		stride = 1
	}
	for t := 0; t < g.maxTime; t++ {
		row := t
		if g.timeMajor {
			row = t * g.batch
		}
		f.step(s, row, stride, g.batch, hAll, cAll, y)
	}
	return nil
}

// step advances the n batch rows by one time step; batch row b's input and
// output row is row + b·stride.
func (f *lstmFloatFast) step(s *lstmFloatScratch, row, stride, n int, hAll, cAll, y []float32) {
	k := f.ref
	g := &k.g
	nc, no, w := g.nCell, g.nOutput, f.width
	h := hAll[:n*no]
	pre := s.pre[:n*w]
	f.rec.Mul(n, h, no, pre, w)
	for b := 0; b < n; b++ {
		r := row + b*stride
		xp, p := s.xp[r*w:(r+1)*w], pre[b*w:(b+1)*w]
		for i, v := range xp {
			p[i] = v + p[i]
		}
	}
	for b := 0; b < n; b++ {
		p := pre[b*w : (b+1)*w]
		c := cAll[b*nc : (b+1)*nc]
		var ig []float32
		if !g.cifg {
			ig = p[f.off[0] : f.off[0]+nc]
		}
		fg := p[f.off[1] : f.off[1]+nc]
		cg := p[f.off[2] : f.off[2]+nc]
		og := p[f.off[3] : f.off[3]+nc]
		if g.peephole {
			if ig != nil {
				addMulF32(ig, k.gates[0].peep, c)
			}
			addMulF32(fg, k.gates[1].peep, c)
		}
		if ig != nil {
			sigmoidGate(p[f.off[0] : f.off[1]+nc]) // i and f side by side (newLSTMFloatFast)
		} else {
			sigmoidGate(fg)
		}
		f.activation(cg)
		updateCell(c, fg, cg, ig, g.cifg, k.cellClip)
		if g.peephole {
			addMulF32(og, k.gates[3].peep, c)
		}
		sigmoidGate(og)
		// o⊙act(c); with NONE the runtime multiplies the cell gate left in
		// its scratch (see lstmFloat.Run).
		hid := s.hid
		if k.act != graph.ActNone {
			copy(hid, c)
			f.activation(hid)
		} else {
			copy(hid, cg)
		}
		for i := range hid {
			hid[i] *= og[i]
		}
		hb := h[b*no : (b+1)*no]
		if k.proj != nil {
			if k.projB != nil {
				copy(hb, k.projB)
			} else {
				clear(hb)
			}
			matVecAccF32(k.proj, no, nc, hid, 1, hb)
			if k.projClip > 0 {
				for i, v := range hb {
					hb[i] = min(max(v, -k.projClip), k.projClip)
				}
			}
		} else {
			copy(hb, hid)
		}
		r := row + b*stride
		copy(y[r*no:(r+1)*no], hb)
	}
}

func (f *lstmFloatFast) activation(v []float32) {
	if f.tanh {
		tanhGate(v)
		return
	}
	applyActivationF32(f.ref.act, v)
}

// addMulF32 adds w⊙c to dst.
func addMulF32(dst, w, c []float32) {
	for i := range dst {
		dst[i] += w[i] * c[i]
	}
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
	t := x*1.44269504088896341 + magic
	n := t - magic
	r := x - n*0.693359375 - n*-2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits((math.Float32bits(t)-0x4B400000+127)<<23)
}

// sigmoidFastF32 is 1/(1+e^-x) with expF32 (within 1e-7 of the float64
// logistic; TestExpF32).
func sigmoidFastF32(v []float32) {
	for i, x := range v {
		v[i] = 1 / (1 + expF32(-x))
	}
}

// tanhFastF32 is tanh(x) = 1 − 2/(1+e^2x) with expF32 (within 2e-7 of
// the float64 tanh, absolute).
func tanhFastF32(v []float32) {
	for i, x := range v {
		v[i] = 1 - 2/(1+expF32(2*x))
	}
}

// sigmoidGate is sigmoidFastF32, eight lanes at a time where the CPU can.
func sigmoidGate(v []float32) {
	if !sigmoidVec(v) {
		sigmoidFastF32(v)
	}
}

// tanhGate is tanhFastF32, eight lanes at a time where the CPU can.
func tanhGate(v []float32) {
	if !tanhVec(v) {
		tanhFastF32(v)
	}
}
