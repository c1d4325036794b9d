package explain

import (
	"context"
	"fmt"
	"math"

	"github.com/qbench/qbench/interp"
)

// shiftCol is one split's column of the data-shift table.
type shiftCol struct {
	name             string
	samples          int
	outside          []float64
	mean, peak       []float64
	worstT, meanDifT int
}

// dataShift measures, for the main data (from the main pass) and every
// Options.Shift split, each matched activation's fraction of values outside
// its calibrated range, its mean and its peak relative to the range, and
// adds a note saying what the comparison found.
func (s *session) dataShift(ctx context.Context) error {
	nm := len(s.matches)
	main := shiftCol{name: s.opts.Split, samples: s.res.LayerSamples, outside: make([]float64, nm),
		mean: make([]float64, nm), peak: make([]float64, nm)}
	if main.name == "" {
		main.name = "data"
	}
	for i, l := range s.res.Layers {
		main.outside[i], main.mean[i] = l.OutsideRange, l.FloatMean
		main.peak[i] = peakOfRange(l.FloatMin, l.FloatMax, l.RangeMin, l.RangeMax)
	}
	cols := []shiftCol{main}
	if len(s.opts.Shift) > 0 {
		prog, err := interp.Compile(s.f, s.iopts(interp.Options{KeepAll: true}))
		if err != nil {
			return fmt.Errorf("float model: %w", err)
		}
		for _, nd := range s.opts.Shift {
			c, err := s.shiftSplit(ctx, prog, nd)
			if err != nil {
				return fmt.Errorf("data shift on %s: %w", nd.Name, err)
			}
			cols = append(cols, c)
		}
	}
	ds := &DataShift{}
	for _, c := range cols {
		ds.Splits = append(ds.Splits, c.name)
		ds.Samples = append(ds.Samples, c.samples)
	}
	for i, m := range s.matches {
		row := ShiftRow{Name: m.Name}
		for _, c := range cols {
			row.Outside = append(row.Outside, c.outside[i])
			row.Mean = append(row.Mean, c.mean[i])
			row.Peak = append(row.Peak, c.peak[i])
		}
		ds.Tensors = append(ds.Tensors, row)
	}
	s.res.DataShift = ds
	if len(cols) > 1 {
		s.res.Notes = append(s.res.Notes, shiftNote(ds, s.res.Layers))
	}
	return nil
}

// shiftSplit runs the float model on every sample of one Shift split.
func (s *session) shiftSplit(ctx context.Context, prog *interp.Program, nd NamedData) (shiftCol, error) {
	nm := len(s.matches)
	col := shiftCol{name: nd.Name, outside: make([]float64, nm), mean: make([]float64, nm), peak: make([]float64, nm)}
	type acc struct {
		outside, total int64
		sum            float64
		min, max       float64
	}
	tot := make([]acc, nm)
	for i := range tot {
		tot[i].min, tot[i].max = math.Inf(1), math.Inf(-1)
	}
	n, err := forEach(ctx, nd.Data, s.opts.Threads,
		func() (*interp.Executor, error) { return prog.NewExecutor(), nil },
		func(ex *interp.Executor, _ int, x []float32, _ int) ([]acc, error) {
			if err := ex.SetInputFloat(0, x); err != nil {
				return nil, err
			}
			if err := ex.Run(); err != nil {
				return nil, err
			}
			c := make([]acc, nm)
			for i, m := range s.matches {
				qt := s.q.Tensors[m.Quant]
				lo, hi := representable(qt)
				b := ex.Tensor(m.Float)
				if b == nil || len(b.F32) == 0 {
					continue
				}
				out, sum, mn, mx := rangeStats(b.F32, lo, hi, float64(qt.Quant.Scale[0])/2)
				c[i] = acc{out, int64(len(b.F32)), sum, float64(mn), float64(mx)}
			}
			return c, nil
		},
		func(idx int, c []acc) {
			for i, a := range c {
				if a.total == 0 {
					continue
				}
				t := &tot[i]
				t.outside += a.outside
				t.total += a.total
				t.sum += a.sum
				t.min, t.max = math.Min(t.min, a.min), math.Max(t.max, a.max)
			}
			if s.opts.Progress != nil {
				s.opts.Progress("data shift "+nd.Name, idx+1)
			}
		})
	if err != nil {
		return col, err
	}
	col.samples = n
	for i, t := range tot {
		if t.total == 0 {
			continue
		}
		col.outside[i] = float64(t.outside) / float64(t.total)
		col.mean[i] = t.sum / float64(t.total)
		lo, hi := representable(s.q.Tensors[s.matches[i].Quant])
		col.peak[i] = peakOfRange(t.min, t.max, lo, hi)
	}
	return col, nil
}

// peakOfRange is how far values [mn, mx] reach towards the calibrated
// interval [lo, hi]: the larger of mx/hi (hi > 0) and mn/lo (lo < 0).
func peakOfRange(mn, mx, lo, hi float64) float64 {
	p := 0.0
	if hi > 0 && mx > 0 {
		p = mx / hi
	}
	if lo < 0 && mn < 0 {
		p = math.Max(p, mn/lo)
	}
	return p
}

// shiftNote says whether values leave the calibrated ranges on any split
// (data shift as a cause of clipping confirmed or ruled out), and where the
// splits' activations differ most even inside the ranges.
func shiftNote(ds *DataShift, layers []Layer) string {
	// clipLimit is the fraction of values outside a range above which
	// clipping is worth a user's attention (one value in a thousand).
	const clipLimit = 1e-3
	// SOFTMAX and LOGISTIC outputs have ranges the op fixes (TFLite's
	// [0, 255/256] for int8): probabilities near 1 saturate there by
	// design, whatever data arrives, so they say nothing about data shift.
	fixedRange := func(i int) bool {
		return i < len(layers) && (layers[i].Op == "SOFTMAX" || layers[i].Op == "LOGISTIC")
	}
	worst := make([]int, len(ds.Splits))
	for j := range ds.Splits {
		worst[j] = -1
		for i, row := range ds.Tensors {
			if fixedRange(i) {
				continue
			}
			if worst[j] < 0 || row.Outside[j] > ds.Tensors[worst[j]].Outside[j] {
				worst[j] = i
			}
		}
	}
	var parts []string
	clipped := false
	for j, name := range ds.Splits {
		if worst[j] < 0 {
			parts = append(parts, "0% on "+name)
			continue
		}
		r := ds.Tensors[worst[j]]
		if r.Outside[j] == 0 {
			parts = append(parts, "0% on "+name)
		} else {
			parts = append(parts, fmt.Sprintf("%.3f%% on %s (%s)", 100*r.Outside[j], name, r.Name))
		}
		clipped = clipped || r.Outside[j] > clipLimit
	}
	msg := "data shift: at most " + joinAnd(parts) + " of values fall outside the calibrated ranges (outputs with op-fixed ranges, softmax and logistic, left out)"
	if clipped {
		msg += "; values do leave the calibrated ranges, so clipping from data shift is a likely cause of error there (calibrate on data like that split, or use a calibration with headroom)"
	} else {
		msg += "; clipping from data shift is ruled out"
	}
	// Mean differences normalised by the calibrated range width, so
	// tensors of different scales compare.
	bi, bd := -1, 0.0
	for i, row := range ds.Tensors {
		if i >= len(layers) {
			break
		}
		w := layers[i].RangeMax - layers[i].RangeMin
		if !(w > 0) {
			continue
		}
		lo, hi := row.Mean[0], row.Mean[0]
		for _, m := range row.Mean {
			lo, hi = math.Min(lo, m), math.Max(hi, m)
		}
		if d := (hi - lo) / w; d > bd {
			bi, bd = i, d
		}
	}
	if bi >= 0 {
		row := ds.Tensors[bi]
		var ms, ps []string
		for j, name := range ds.Splits {
			ms = append(ms, fmt.Sprintf("%.4g on %s", row.Mean[j], name))
			ps = append(ps, fmt.Sprintf("%.0f%% on %s", 100*row.Peak[j], name))
		}
		msg += fmt.Sprintf("; the splits' activations differ most at %s: mean %s (%.2f%% of its calibrated range), peak %s of the calibrated limit",
			row.Name, joinAnd(ms), 100*bd, joinAnd(ps))
	}
	// Under-use: the main split reaching much less of the calibrated range
	// than another split means fewer integer levels carry its values, so
	// its rounding error is relatively larger even with no clipping.
	ui, uj, ur := -1, 0, 0.75
	for i, row := range ds.Tensors {
		for j := 1; j < len(ds.Splits); j++ {
			if row.Peak[j] > 0 && row.Peak[0]/row.Peak[j] < ur {
				ui, uj, ur = i, j, row.Peak[0]/row.Peak[j]
			}
		}
	}
	if ui >= 0 {
		row := ds.Tensors[ui]
		msg += fmt.Sprintf("; %s uses much less of the calibrated ranges than %s (at %s its values reach %.0f%% of the limit vs %.0f%%): fewer int8 levels carry them, so their relative rounding error is larger",
			ds.Splits[0], ds.Splits[uj], row.Name, 100*row.Peak[0], 100*row.Peak[uj])
	}
	return msg
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " and " + s[len(s)-1]
}
