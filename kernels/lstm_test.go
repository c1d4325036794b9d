package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// lstmTestOp builds the tensors of a float LSTM with random weights; the
// flags pick the variant. Weight slices are returned by input index.
type lstmTestCase struct {
	cifg, peephole, projection, layerNorm, timeMajor bool
	batch, time, nIn, nCell, nOut                    int
	cellClip, projClip                               float32
}

func lstmTestTensors(rng *rand.Rand, c lstmTestCase) (ins []*graph.Tensor, out *graph.Tensor, w map[int][]float32) {
	w = map[int][]float32{}
	ins = make([]*graph.Tensor, 24)
	add := func(k int, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.4)
		}
		w[k] = v
		ins[k] = &graph.Tensor{DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)}
	}
	xs := []int{c.batch, c.time, c.nIn}
	if c.timeMajor {
		xs = []int{c.time, c.batch, c.nIn}
	}
	ins[0] = &graph.Tensor{DType: graph.Float32, Shape: xs}
	for gi, idx := range lstmGates {
		if gi == 0 && c.cifg {
			continue
		}
		add(idx.in, c.nCell, c.nIn)
		add(idx.rec, c.nCell, c.nOut)
		add(idx.bias, c.nCell)
		if c.peephole && idx.peep >= 0 {
			add(idx.peep, c.nCell)
		}
		if c.layerNorm {
			add(idx.ln, c.nCell)
		}
	}
	if c.projection {
		add(lstmProjWeights, c.nOut, c.nCell)
		add(lstmProjBias, c.nOut)
	}
	ins[lstmOutputState] = &graph.Tensor{DType: graph.Float32, Shape: []int{c.batch, c.nOut}, Variable: true}
	ins[lstmCellState] = &graph.Tensor{DType: graph.Float32, Shape: []int{c.batch, c.nCell}, Variable: true}
	out = &graph.Tensor{DType: graph.Float32, Shape: []int{xs[0], xs[1], c.nOut}}
	return ins, out, w
}

// lstmReference is the textbook LSTM in float64, one batch row and one step
// at a time, written from the equations (not from the kernel's loops).
func lstmReference(c lstmTestCase, w map[int][]float32, x []float32, h, cs [][]float64) []float64 {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	y := make([]float64, c.batch*c.time*c.nOut)
	for b := range c.batch {
		for t := range c.time {
			row := b*c.time + t
			if c.timeMajor {
				row = t*c.batch + b
			}
			xt := x[row*c.nIn : (row+1)*c.nIn]
			pre := func(gi int, withPeep bool) []float64 {
				idx := lstmGates[gi]
				v := make([]float64, c.nCell)
				for i := range v {
					for j, xv := range xt {
						v[i] += float64(w[idx.in][i*c.nIn+j]) * float64(xv)
					}
					for j, hv := range h[b] {
						v[i] += float64(w[idx.rec][i*c.nOut+j]) * hv
					}
					if withPeep && c.peephole {
						v[i] += float64(w[idx.peep][i]) * cs[b][i]
					}
				}
				if c.layerNorm {
					var mean, sq float64
					for _, e := range v {
						mean += e
					}
					mean /= float64(len(v))
					for _, e := range v {
						sq += (e - mean) * (e - mean)
					}
					inv := 1 / math.Sqrt(sq/float64(len(v))+1e-8)
					for i := range v {
						v[i] = (v[i]-mean)*inv*float64(w[idx.ln][i]) + float64(w[idx.bias][i])
					}
				} else {
					for i := range v {
						v[i] += float64(w[idx.bias][i])
					}
				}
				return v
			}
			f, g := pre(1, true), pre(2, false)
			var in []float64
			if !c.cifg {
				in = pre(0, true)
			}
			for i := range c.nCell {
				ig := 0.0
				if c.cifg {
					ig = 1 - sig(f[i])
				} else {
					ig = sig(in[i])
				}
				cs[b][i] = sig(f[i])*cs[b][i] + ig*math.Tanh(g[i])
				if c.cellClip > 0 {
					cs[b][i] = math.Max(-float64(c.cellClip), math.Min(float64(c.cellClip), cs[b][i]))
				}
			}
			o := pre(3, true)
			hid := make([]float64, c.nCell)
			for i := range hid {
				hid[i] = sig(o[i]) * math.Tanh(cs[b][i])
			}
			if c.projection {
				for r := range c.nOut {
					s := float64(w[lstmProjBias][r])
					for i, v := range hid {
						s += float64(w[lstmProjWeights][r*c.nCell+i]) * v
					}
					if c.projClip > 0 {
						s = math.Max(-float64(c.projClip), math.Min(float64(c.projClip), s))
					}
					h[b][r] = s
				}
			} else {
				copy(h[b], hid)
			}
			copy(y[row*c.nOut:(row+1)*c.nOut], h[b])
		}
	}
	return y
}

// TestLSTMFloatMatchesReference runs float LSTMs of every variant over
// three invocations (state carried) against the float64 textbook
// reference: within 1e-4 relative.
func TestLSTMFloatMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 5))
	for trial := range 40 {
		c := lstmTestCase{cifg: trial%2 == 1, peephole: trial/2%2 == 1, projection: trial/4%2 == 1,
			layerNorm: trial/8%2 == 1, timeMajor: trial/16%2 == 1,
			batch: 1 + rng.IntN(3), time: 1 + rng.IntN(4), nIn: 1 + rng.IntN(7), nCell: 1 + rng.IntN(9)}
		c.nOut = c.nCell
		if c.projection {
			c.nOut = 1 + rng.IntN(6)
			if rng.IntN(2) == 0 {
				c.projClip = 0.3
			}
		}
		if rng.IntN(2) == 0 {
			c.cellClip = 0.8
		}
		name := fmt.Sprintf("%d %+v", trial, c)
		ins, out, w := lstmTestTensors(rng, c)
		op := &graph.Op{Kind: graph.OpUnidirectionalSequenceLSTM, Options: &graph.SequenceLSTMOptions{
			Activation: graph.ActTanh, CellClip: c.cellClip, ProjClip: c.projClip, TimeMajor: c.timeMajor}}
		k, err := Prepare(op, ins, []*graph.Tensor{out})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hb := &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*c.nOut)}
		cb := &Buffer{DType: graph.Float32, F32: make([]float32, c.batch*c.nCell)}
		h, cs := make([][]float64, c.batch), make([][]float64, c.batch)
		for b := range c.batch {
			h[b], cs[b] = make([]float64, c.nOut), make([]float64, c.nCell)
		}
		for step := range 3 {
			x := make([]float32, ins[0].NumElements())
			for i := range x {
				x[i] = float32(rng.Float64()*4 - 2)
			}
			bufs := make([]*Buffer, 24)
			bufs[0] = &Buffer{DType: graph.Float32, F32: x}
			bufs[lstmOutputState], bufs[lstmCellState] = hb, cb
			y := &Buffer{DType: graph.Float32, F32: make([]float32, out.NumElements())}
			if err := k.Run(bufs, []*Buffer{y}); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := lstmReference(c, w, x, h, cs)
			for i, v := range want {
				if d := math.Abs(float64(y.F32[i]) - v); d > 1e-4*(1+math.Abs(v)) {
					t.Fatalf("%s step %d: y[%d] = %g, reference %g", name, step, i, y.F32[i], v)
				}
			}
		}
	}
}

// TestLSTMRefusals: inconsistent variants and shapes are refused naming
// the op, never run.
func TestLSTMRefusals(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 6))
	base := lstmTestCase{peephole: true, projection: true, layerNorm: true, batch: 2, time: 3, nIn: 4, nCell: 5, nOut: 3}
	op := &graph.Op{Kind: graph.OpUnidirectionalSequenceLSTM, Options: &graph.SequenceLSTMOptions{Activation: graph.ActTanh}}
	for _, c := range []struct {
		name   string
		break_ func(ins []*graph.Tensor)
	}{
		{"half CIFG", func(ins []*graph.Tensor) { ins[lstmRecToInput] = nil }},
		{"half peephole", func(ins []*graph.Tensor) { ins[lstmCellToForget] = nil }},
		{"input bias with CIFG", func(ins []*graph.Tensor) { ins[lstmInToInput], ins[lstmRecToInput] = nil, nil }},
		{"half layer norm", func(ins []*graph.Tensor) { ins[lstmCellLN] = nil }},
		{"wrong weight shape", func(ins []*graph.Tensor) { ins[lstmRecToCell].Shape = []int{5, 4} }},
		{"state not variable", func(ins []*graph.Tensor) { ins[lstmCellState].Variable = false }},
		{"state size", func(ins []*graph.Tensor) { ins[lstmOutputState].Shape = []int{1, 3} }},
		{"weights not constant", func(ins []*graph.Tensor) { ins[lstmInToCell].Data = nil }},
		{"no projection, n_output != n_cell", func(ins []*graph.Tensor) { ins[lstmProjWeights], ins[lstmProjBias] = nil, nil }},
		{"input rank", func(ins []*graph.Tensor) { ins[0].Shape = []int{6, 4} }},
	} {
		ins, out, _ := lstmTestTensors(rng, base)
		c.break_(ins)
		if _, err := Prepare(op, ins, []*graph.Tensor{out}); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	ins, out, _ := lstmTestTensors(rng, base)
	bad := &graph.Op{Kind: graph.OpUnidirectionalSequenceLSTM, Options: &graph.SequenceLSTMOptions{Activation: graph.ActSignBit}}
	if _, err := Prepare(bad, ins, []*graph.Tensor{out}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SIGN_BIT activation: err = %v, want ErrUnsupported", err)
	}
}
