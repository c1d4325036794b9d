package kernels

import (
	"math"
	"sync"

	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

// lstmIntFast is the integer 8x8->16 LSTM (lstmInt, its reference) with
// the same integer arithmetic in a faster order, bit-identical:
//
//   - the input half of every gate, sat16(rescale(bias − zp·Σw + W·x)),
//     depends on the input alone, so it is computed for all time steps and
//     batch rows at once: one int8 GEMM over the gates' fused input weights
//     (accumulators are exact int32 sums, order-free), then the gate's
//     rescaling, as TFLite's first MatrixBatchVectorMultiplyAccumulate does
//     into a zeroed gate;
//   - each step's recurrent half is one int8 GEMM over the fused recurrent
//     weights for all gates, rescaled and added to the input half with the
//     same saturation;
//   - the 16-bit gemmlowp logistic and tanh are read from tables of all
//     65,536 inputs (logistic16Table, tanh16Table), built from
//     fixedpoint.Logistic16 and Tanh16 themselves.
//
// Peephole, layer norm, the cell update, the hidden rescaling and the
// projection are the reference's own code.
type lstmIntFast struct {
	ref      *lstmInt
	off      [4]int // column of gate gi in a fused row (-1: absent)
	width    int    // gates present · n_cell
	win, rec *gemm.PackedS8
	sig, tnh *[1 << 16]int16 // Logistic16(·, 3), Tanh16(·, 3)
	cellTanh *[1 << 16]int16 // Tanh16(·, cellTanhBits)
	pool     freeList
}

// lstmIntScratch is one Run's working memory: accumulators, the input
// halves of all steps, the gates of one step and the hidden vector.
type lstmIntScratch struct {
	acc   []int32
	xin   []int16
	gates [4][]int16
	hid   []int8
}

func newLSTMIntFast(k *lstmInt) *lstmIntFast {
	g := &k.g
	f := &lstmIntFast{ref: k, sig: logistic16Table(3), tnh: tanh16Table(3), cellTanh: tanh16Table(k.cellTanhBits)}
	nc := g.nCell
	var w, r []int8
	for gi := range f.off {
		if gi == 0 && g.cifg {
			f.off[gi] = -1
			continue
		}
		f.off[gi] = f.width
		f.width += nc
		w = append(w, k.gates[gi].w...)
		r = append(r, k.gates[gi].r...)
	}
	f.win = gemm.PackS8Rows(max(g.maxTime*g.batch, 1), w, f.width, g.nInput, g.nInput)
	f.rec = gemm.PackS8Rows(g.batch, r, f.width, g.nOutput, g.nOutput)
	return f
}

func (f *lstmIntFast) scratch() *lstmIntScratch {
	if s, ok := f.pool.Get().(*lstmIntScratch); ok {
		return s
	}
	g := &f.ref.g
	rows := g.maxTime * g.batch
	nb := g.batch
	s := &lstmIntScratch{
		acc: make([]int32, max(rows, nb)*f.width),
		xin: make([]int16, rows*f.width),
		hid: make([]int8, nb*g.nCell),
	}
	for gi := range s.gates {
		s.gates[gi] = make([]int16, nb*g.nCell)
	}
	return s
}

func (f *lstmIntFast) Run(ins, outs []*Buffer) error {
	k := f.ref
	g := &k.g
	x := ins[lstmInput].I8
	s := f.scratch()
	defer f.pool.Put(s)
	rows, w, nc := g.maxTime*g.batch, f.width, g.nCell
	acc := s.acc[:rows*w]
	f.win.Mul(rows, x[:rows*g.nInput], g.nInput, 0, acc, w)
	for gi, off := range f.off {
		if off < 0 {
			continue
		}
		gt := &k.gates[gi]
		for row := range rows {
			a := acc[row*w+off : row*w+off+nc]
			dst := s.xin[row*w+off : row*w+off+nc]
			for i, v := range a {
				dst[i] = sat16(fixedpoint.MultiplyByQuantizedMultiplier(gt.inBias[i]+v, gt.inM, gt.inS))
			}
		}
	}
	hAll, cAll, y := ins[lstmOutputState].I8, ins[lstmCellState].I16, outs[0].I8
	// Every batch row steps at once, as lstmFloatFast (rows independent).
	stride := g.maxTime
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

func sat16(v int32) int16 { return int16(min(max(v, math.MinInt16), math.MaxInt16)) }

// step advances the n batch rows by one time step (lstmInt.Run's step);
// batch row b's input and output row is row + b·stride.
func (f *lstmIntFast) step(s *lstmIntScratch, row, stride, n int, hAll []int8, cAll []int16, y []int8) {
	k := f.ref
	g := &k.g
	nc, no, w := g.nCell, g.nOutput, f.width
	h := hAll[:n*no]
	c := cAll[:n*nc]
	m := n * nc
	acc := s.acc[:n*w]
	f.rec.Mul(n, h, no, 0, acc, w)
	for gi, off := range f.off {
		if off < 0 {
			continue
		}
		gt := &k.gates[gi]
		dst := s.gates[gi][:m]
		for b := range n {
			a := acc[b*w+off : b*w+off+nc]
			r := row + b*stride
			xin := s.xin[r*w+off : r*w+off+nc]
			d := dst[b*nc : (b+1)*nc]
			for i, v := range a {
				d[i] = sat16(fixedpoint.MultiplyByQuantizedMultiplier(gt.recBias[i]+v, gt.recM, gt.recS) + int32(xin[i]))
			}
		}
	}
	ig, fg, cg, og := s.gates[0][:m], s.gates[1][:m], s.gates[2][:m], s.gates[3][:m]
	if !g.cifg {
		f.finish(0, c, n, ig)
	}
	f.finish(1, c, n, fg)
	f.finish(2, c, n, cg)
	k.updateCell(c, fg, cg, ig)
	f.finish(3, c, n, og)
	hid := s.hid[:m]
	for i := range m {
		t := f.cellTanh[uint16(c[i])]
		v := fixedpoint.MultiplyByQuantizedMultiplier(int32(og[i])*int32(t), k.hidM, k.hidS) + k.hidZP
		hid[i] = int8(min(max(v, math.MinInt8), math.MaxInt8))
	}
	k.project(hid, h, n)
	for b := range n {
		r := row + b*stride
		copy(y[r*no:(r+1)*no], h[b*no:(b+1)*no])
	}
}

// finish completes gate gi after its two products: peephole and layer
// norm as lstmInt.gate, then the activation from its table.
func (f *lstmIntFast) finish(gi int, c []int16, n int, dst []int16) {
	k := f.ref
	if k.g.timeMajor {
		k.gateTail(gi, c, n, dst)
	} else {
		// TFLite steps a batch-major LSTM one row at a time, and its
		// peephole loop's length (n_output per row) depends on that.
		nc := k.g.nCell
		for b := range n {
			k.gateTail(gi, c[b*nc:(b+1)*nc], 1, dst[b*nc:(b+1)*nc])
		}
	}
	t := f.sig
	if gi == 2 {
		t = f.tnh
	}
	for i, v := range dst {
		dst[i] = t[uint16(v)]
	}
}

// logistic16Table and tanh16Table hold fixedpoint.Logistic16 and Tanh16
// of every int16 (indexed by its bits as uint16) for integerBits 0…6,
// each built once on first use and read-only after.
func logistic16Table(bits int) *[1 << 16]int16 { return logistic16Tables[bits]() }

func tanh16Table(bits int) *[1 << 16]int16 { return tanh16Tables[bits]() }

var logistic16Tables, tanh16Tables = func() (l, t [7]func() *[1 << 16]int16) {
	for b := range 7 {
		l[b] = sync.OnceValue(func() *[1 << 16]int16 { return table16(func(v int16) int16 { return fixedpoint.Logistic16(v, b) }) })
		t[b] = sync.OnceValue(func() *[1 << 16]int16 { return table16(func(v int16) int16 { return fixedpoint.Tanh16(v, b) }) })
	}
	return l, t
}()

func table16(fn func(int16) int16) *[1 << 16]int16 {
	t := new([1 << 16]int16)
	for i := range t {
		t[i] = fn(int16(uint16(i)))
	}
	return t
}
