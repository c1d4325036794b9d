package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// lut8Of prepares a single-input 8-bit op and returns its table (nil when
// the kernel has none).
func lut8Of(t *testing.T, op *graph.Op, in, out *graph.Tensor, rnd fixedpoint.Rounding) *[256]uint8 {
	t.Helper()
	k, err := PrepareWith(op, []*graph.Tensor{in}, []*graph.Tensor{out}, Options{Rounding: rnd})
	if err != nil {
		return nil
	}
	var l *lut8
	switch k := k.(type) {
	case *reluKernel:
		l = k.lut
	case *leakyReluKernel:
		l = k.lut
	case *unaryKernel:
		l = k.lut
	case *requantizeKernel:
		l = k.lut
	case *logisticKernel:
		l = k.lut
	}
	if l != nil {
		return &l.t
	}
	return nil
}

// TestFitAffine8 checks every form fitAffine8 returns against its table on
// all 256 inputs (eval, the Go statement of the vector loop) for the 8-bit
// rescaling ops over random and extreme quantizations in every rounding,
// and that the RELUs fit nearly always.
func TestFitAffine8(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	type opCase struct {
		kind graph.OpKind
		opts any
	}
	ops := []opCase{
		{graph.OpRelu, nil}, {graph.OpRelu6, nil}, {graph.OpReluN1To1, nil}, {graph.OpQuantize, nil},
		{graph.OpLeakyRelu, &graph.LeakyReluOptions{Alpha: 0.1}}, {graph.OpLogistic, nil},
	}
	for _, oc := range ops {
		fits, tables := 0, 0
		for _, rnd := range roundings {
			for _, din := range []graph.DType{graph.Int8, graph.UInt8} {
				for _, dout := range []graph.DType{graph.Int8, graph.UInt8} {
					if dout != din && oc.kind != graph.OpQuantize {
						continue
					}
					for trial := range 300 {
						si, so := randScale(rng), randScale(rng)
						zi, zo := randZP(rng, din), randZP(rng, dout)
						switch trial % 10 {
						case 0:
							so = si
						case 1:
							so = si * float32(math.Exp2(float64(rng.IntN(20)-10)))
						case 2:
							so = si * 1e-4
						case 3:
							so = si * 1e4
						case 4:
							zi = [2]int64{-128, 127}[rng.IntN(2)]
							if din == graph.UInt8 {
								zi = [2]int64{0, 255}[rng.IntN(2)]
							}
						}
						if oc.kind == graph.OpLogistic {
							so, zo = 1.0/256, -128
							if dout == graph.UInt8 {
								zo = 0
							}
						}
						s := []int{1, 4}
						tab := lut8Of(t, &graph.Op{Kind: oc.kind, Options: oc.opts}, qtensor("x", din, s, si, zi), qtensor("y", dout, s, so, zo), rnd)
						if tab == nil {
							continue
						}
						tables++
						a := fitAffine8(tab, din, dout)
						if !a.ok {
							continue
						}
						fits++
						for x := range 256 {
							if got := a.eval(uint8(x)); got != tab[x] {
								t.Fatalf("%v %v→%v (%v) si %g zi %d so %g zo %d: input %d: form %d, table %d (%+v)",
									oc.kind, din, dout, rnd, si, zi, so, zo, x, got, tab[x], a)
							}
						}
					}
				}
			}
		}
		t.Logf("%v: %d of %d tables fit", oc.kind, fits, tables)
	}
}
