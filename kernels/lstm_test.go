package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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

// TestLSTMProberMatchesKernel: the calibration prober computes what the
// float reference kernel computes (same output and state, bit for bit; the
// fused kernel Prepare gives agrees with that reference within 1e-5,
// TestLSTMFloatFastMatchesReference) and reports
// the hidden state at every step (without projection it is the output)
// and the gate sums only with layer norm.
func TestLSTMProberMatchesKernel(t *testing.T) {
	for _, layerNorm := range []bool{false, true} {
		g := probeLSTMGraph(layerNorm)
		op := g.Ops[0]
		ins := make([]*graph.Tensor, len(op.Inputs))
		for i, k := range op.Inputs {
			ins[i] = g.Tensor(k)
		}
		outs := []*graph.Tensor{g.Tensors[op.Outputs[0]]}
		k, err := prepareSequenceLSTM(&prep{op: op, ins: ins, outs: outs, ref: true})
		if err != nil {
			t.Fatal(err)
		}
		pr, err := NewLSTMProber(op, ins, outs)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 3))
		x := make([]float32, ins[0].NumElements())
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		bufs := make([]*Buffer, len(ins))
		for i, tt := range ins {
			if tt != nil {
				bufs[i] = &Buffer{DType: graph.Float32, F32: make([]float32, tt.NumElements())}
				if tt.IsConst() {
					bufs[i].F32 = tt.Float32s()
				}
			}
		}
		copy(bufs[0].F32, x)
		want := &Buffer{DType: graph.Float32, F32: make([]float32, outs[0].NumElements())}
		if err := k.Run(bufs, []*Buffer{want}); err != nil {
			t.Fatal(err)
		}
		h, c := make([]float32, ins[18].NumElements()), make([]float32, ins[19].NumElements())
		y := make([]float32, len(want.F32))
		var seen [5][]float32
		if err := pr.Run(x, h, c, y, func(p LSTMPoint, v []float32) { seen[p] = append(seen[p], v...) }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(y, want.F32) || !slices.Equal(c, bufs[19].F32) || !slices.Equal(h, bufs[18].F32) {
			t.Errorf("layerNorm=%v: the prober's output or state differs from the kernel's", layerNorm)
		}
		if !slices.Equal(seen[LSTMHidden], y) {
			t.Errorf("layerNorm=%v: hidden values %d, want the %d outputs", layerNorm, len(seen[LSTMHidden]), len(y))
		}
		for gi := LSTMInputGate; gi <= LSTMOutputGate; gi++ {
			if n := len(seen[gi]); (n == len(y)) != layerNorm || (n != 0) != layerNorm {
				t.Errorf("layerNorm=%v: gate %d reported %d values", layerNorm, gi, n)
			}
		}
	}
}

// probeLSTMGraph is a one-op float LSTM (batch 1, 5 steps, 3 inputs, 4
// cells, no projection), with layer norm or without.
func probeLSTMGraph(layerNorm bool) *graph.Graph {
	rng := rand.New(rand.NewPCG(1, 1))
	g := &graph.Graph{}
	c := func(shape ...int) int {
		v := make([]float32, graph.NumElements(shape))
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.5)
		}
		return g.AddTensor(&graph.Tensor{DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)})
	}
	n := 20
	if layerNorm {
		n = 24
	}
	ins := make([]int, n)
	for i := range ins {
		ins[i] = -1
	}
	ins[0] = g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 5, 3}})
	for gi := range 4 {
		ins[1+gi], ins[5+gi], ins[12+gi] = c(4, 3), c(4, 4), c(4)
		if layerNorm {
			ins[20+gi] = c(4)
		}
	}
	ins[18] = g.AddTensor(&graph.Tensor{Name: "h", DType: graph.Float32, Shape: []int{1, 4}, Variable: true})
	ins[19] = g.AddTensor(&graph.Tensor{Name: "c", DType: graph.Float32, Shape: []int{1, 4}, Variable: true})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 5, 4}})
	g.AddOp(graph.OpUnidirectionalSequenceLSTM, ins, []int{y}, &graph.SequenceLSTMOptions{Activation: graph.ActTanh})
	return g
}
