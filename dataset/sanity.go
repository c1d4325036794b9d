package dataset

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// ValueRange tracks the smallest and largest value seen, to compare what
// a model receives with what it expects (CheckInputRange). The zero value
// is empty.
type ValueRange struct {
	Lo, Hi float32
	// N counts the values seen (NaNs excluded).
	N int64
}

// Add widens r by the values of x.
func (r *ValueRange) Add(x []float32) {
	lo, hi := r.Lo, r.Hi
	if r.N == 0 {
		lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	n := int64(0)
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
		if v == v {
			n++
		}
	}
	if n > 0 {
		r.Lo, r.Hi, r.N = lo, hi, r.N+n
	}
}

// Merge widens r by o.
func (r *ValueRange) Merge(o ValueRange) {
	if o.N == 0 {
		return
	}
	if r.N == 0 {
		*r = o
		return
	}
	r.Lo, r.Hi, r.N = min(r.Lo, o.Lo), max(r.Hi, o.Hi), r.N+o.N
}

// ExpectedInputRange returns the range of values g's first input is made
// for, and where that comes from: the input's quantization when it is an
// integer tensor, else the quantization of the QUANTIZE op that reads it
// (the calibration range of a model quantized with float input), else the
// TFLite metadata's value range of the input (through the metadata's own
// normalisation, when it gives one). ok is false when g says nothing.
func ExpectedInputRange(g *graph.Graph) (lo, hi float64, source string, ok bool) {
	if g == nil || len(g.Inputs) == 0 || g.Tensor(g.Inputs[0]) == nil {
		return 0, 0, "", false
	}
	in := g.Tensor(g.Inputs[0])
	if lo, hi, ok := quantCover(in); ok {
		return lo, hi, fmt.Sprintf("the %s quantization of input %q", in.DType, in.Name), true
	}
	for _, op := range g.Ops {
		if op.Kind == graph.OpQuantize && len(op.Inputs) > 0 && op.Inputs[0] == g.Inputs[0] && len(op.Outputs) > 0 {
			if t := g.Tensor(op.Outputs[0]); t != nil {
				if lo, hi, ok := quantCover(t); ok {
					return lo, hi, fmt.Sprintf("the calibrated range of %q (the model's first QUANTIZE)", t.Name), true
				}
			}
		}
	}
	if m := g.Meta.Input(0); m != nil && m.ValueRange != nil {
		lo, hi := float64(m.ValueRange[0]), float64(m.ValueRange[1])
		if len(m.Mean) > 0 && len(m.Std) > 0 && m.Std[0] > 0 {
			mean, std := float64(m.Mean[0]), float64(m.Std[0])
			lo, hi = (lo-mean)/std, (hi-mean)/std
		}
		return lo, hi, "the value range in the model's TFLite metadata", true
	}
	return 0, 0, "", false
}

// quantCover is the real range an integer tensor's per-tensor
// quantization can represent.
func quantCover(t *graph.Tensor) (lo, hi float64, ok bool) {
	q := t.Quant
	if q == nil || len(q.Scale) != 1 || len(q.ZeroPoint) != 1 || !(q.Scale[0] > 0) {
		return 0, 0, false
	}
	var qmin, qmax float64
	switch t.DType {
	case graph.Int8:
		qmin, qmax = -128, 127
	case graph.UInt8:
		qmin, qmax = 0, 255
	case graph.Int16:
		qmin, qmax = -32768, 32767
	default:
		return 0, 0, false
	}
	s, zp := float64(q.Scale[0]), float64(q.ZeroPoint[0])
	return (qmin - zp) * s, (qmax - zp) * s, true
}

// CheckInputRange compares the values a model received (seen) with the
// range it expects (ExpectedInputRange) and returns a warning naming both
// ranges when they clearly disagree — the received values spanning less
// than a fifth or more than five times the expected span, or lying mostly
// outside it (0..1 values into a 0..255 input, raw pixels into -1..1) —
// else "". Small excursions (a clipped tail) are not reported.
func CheckInputRange(g *graph.Graph, seen ValueRange) string {
	if seen.N == 0 {
		return ""
	}
	elo, ehi, src, ok := ExpectedInputRange(g)
	if !ok || !(ehi > elo) {
		return ""
	}
	lo, hi := float64(seen.Lo), float64(seen.Hi)
	span, espan := hi-lo, ehi-elo
	overlap := max(0, min(hi, ehi)-max(lo, elo))
	bad := span > 5*espan || (span > 0 && overlap < span/2)
	// A narrow range is normal for one dark image, not over a dataset.
	if seen.N >= 1000 && span < espan/5 {
		bad = true
	}
	if !bad {
		return ""
	}
	name := "the input"
	if t := g.Tensor(g.Inputs[0]); t != nil {
		name = fmt.Sprintf("input %q", t.Name)
	}
	return fmt.Sprintf("%s receives values in [%.4g, %.4g] but expects [%.4g, %.4g] (from %s): check the preprocessing (--range, --mean/--std)",
		name, lo, hi, elo, ehi, src)
}
