package explain

import (
	"context"
	"fmt"
	"slices"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/quant"
)

// candidate is a verified fix with its model.
type candidate struct {
	t Trial
	g *graph.Graph
	// all holds its predictions on every sample when it was run on all of
	// them (alternatives), nil when only on the choose part (float islands).
	all []int
}

// searchState is one fix search: the division into parts and the float
// model's predictions on each.
type searchState struct {
	*session
	ctx                 context.Context
	fix                 *Fix
	choose              []bool
	cLabels, cFloat     []int // choose part
	kLabels, kFloat     []int // confirm part
	chooseFloatAccuracy float64
}

// score fills a trial's choose-part numbers from predictions on the choose
// part.
func (ss *searchState) score(t *Trial, preds []int) {
	t.Accuracy = accuracy(preds, ss.cLabels, nil)
	t.Drop = ss.chooseFloatAccuracy - t.Accuracy
	t.Met = t.Drop <= ss.opts.TargetDrop
}

// confirmTrial runs c's model on the confirm part (or reuses its
// predictions on all samples) and records the result in c.t.Confirm.
func (ss *searchState) confirmTrial(c *candidate) error {
	if ss.fix.Parts.Confirm == 0 {
		return nil
	}
	preds := []int(nil)
	if c.all != nil {
		preds = pick(c.all, ss.choose, false)
	} else {
		keep := make([]bool, len(ss.choose))
		for i, ch := range ss.choose {
			keep[i] = !ch
		}
		var err error
		if preds, _, err = ss.runPredictions(ss.ctx, c.g, keep, "confirm"); err != nil {
			return err
		}
	}
	cf := confirm(preds, ss.kFloat, ss.kLabels, ss.opts.TargetDrop)
	c.t.Confirm = &cf
	return nil
}

// fixSearch looks for the best fix of any kind: the smallest set of float
// layers (keeping the k worst layers by isolated error in float, k = 1, 2,
// …, then dropping members the target does not need), per-channel weights,
// recalibration with each method, and 16x8. Every candidate is chosen on
// the choose part of the images; the chosen ones are confirmed on the
// other part, which no choice looks at.
func (s *session) fixSearch(ctx context.Context) error {
	r := s.res
	target := s.opts.TargetDrop
	choose := divide(s.labels, s.opts.Seed)
	ss := &searchState{session: s, ctx: ctx, choose: choose,
		cLabels: pick(s.labels, choose, true), cFloat: pick(s.fPred, choose, true),
		kLabels: pick(s.labels, choose, false), kFloat: pick(s.fPred, choose, false)}
	fix := &Fix{TargetDrop: target, Parts: newParts(s.opts.Seed, choose), FloatLayers: []string{}, FloatOps: []int{}}
	ss.fix = fix
	r.Fix = fix
	ss.chooseFloatAccuracy = accuracy(ss.cFloat, ss.cLabels, nil)
	fix.ChooseFloatAccuracy = ss.chooseFloatAccuracy
	fix.ChooseQuantAccuracy = accuracy(pick(s.qPred, choose, true), ss.cLabels, nil)
	fix.Accuracy, fix.Drop = fix.ChooseQuantAccuracy, fix.ChooseFloatAccuracy-fix.ChooseQuantAccuracy
	if fix.Parts.Confirm > 0 {
		q := confirm(pick(s.qPred, choose, false), ss.kFloat, ss.kLabels, target)
		fix.Quantized = &q
	}
	r.Notes = append(r.Notes, resolutionNotes(fix.Parts, target)...)
	if fix.Drop <= target {
		fix.Met = true
		if q := fix.Quantized; q != nil && !q.Met {
			r.Notes = append(r.Notes, fmt.Sprintf("the quantized model meets the target on the choose part but not on the confirm part (drop %.2f points, p = %.3g): run again with more images (--samples) to tell",
				q.Drop, q.McNemarP))
		}
		fix.Tradeoff = s.tradeoff(fix)
		return nil
	}
	base := s.baseOptions()
	var cands []*candidate
	if _, err := s.mixed(nil, base); err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("float-layer and per-channel candidates skipped: cannot rebuild the quantized model from the float one: %v", err))
	} else {
		island, err := ss.islands(base)
		if err != nil {
			return err
		}
		if island != nil {
			cands = append(cands, island)
			fix.Islands = island.g
		}
		if base.PerTensor {
			o := base
			o.PerTensor = false
			if g, err := s.mixed(nil, o); err == nil {
				c, err := ss.runAll(g, Trial{Kind: KindPerChannel, FloatLayers: []string{}, Variant: "per-channel weights (same activation ranges)"}, "per-channel weights")
				if err != nil {
					return err
				}
				cands = append(cands, c)
			} else {
				r.Notes = append(r.Notes, fmt.Sprintf("per-channel weights: %v", err))
			}
		}
	}
	alts, err := ss.methodAlternatives()
	if err != nil {
		return err
	}
	cands = append(cands, alts...)
	// Every finalist is confirmed, so the output can show how each holds
	// up; only the choose part decides which one is written.
	for _, c := range cands {
		if err := ss.confirmTrial(c); err != nil {
			return fmt.Errorf("fix search: confirm %s: %w", c.t.Variant, err)
		}
		if c.t.Kind != KindFloatLayers {
			fix.Alternatives = append(fix.Alternatives, c.t)
			continue
		}
		for i := range fix.Tried {
			if slices.Equal(fix.Tried[i].FloatLayers, c.t.FloatLayers) {
				fix.Tried[i].Confirm = c.t.Confirm
			}
		}
	}
	best := chooseBest(cands, fix.ChooseQuantAccuracy)
	if best != nil {
		t := best.t
		fix.Best, fix.Graph, fix.Met = &t, best.g, t.Met
		r.Notes = append(r.Notes, bestNotes(fix)...)
	}
	fix.Tradeoff = s.tradeoff(fix)
	return nil
}

// kindCost orders the kinds of fix by what they change in deployment: a
// recalibrated or per-channel model is the same int8 graph; 16x8 needs
// int16 activation kernels, which many int8 accelerators lack (and which
// run slower); float islands need a float unit and cost most latency.
func kindCost(kind string) int {
	switch kind {
	case KindPerChannel, KindRecalibration:
		return 0
	case Kind16x8:
		return 1
	}
	return 2
}

// chooseBest picks, by choose-part numbers only, the candidate to write:
// among those that meet the target, the cheapest kind (kindCost), then the
// most accurate;
// when none meets it, the most accurate one if it beats the quantized
// model's quantAcc. Ties keep the earlier candidate.
func chooseBest(cands []*candidate, quantAcc float64) *candidate {
	better := func(a, b *candidate) bool { // a strictly better than b
		if a.t.Met != b.t.Met {
			return a.t.Met
		}
		if a.t.Met {
			if ca, cb := kindCost(a.t.Kind), kindCost(b.t.Kind); ca != cb {
				return ca < cb
			}
		}
		return a.t.Accuracy > b.t.Accuracy
	}
	var best *candidate
	for _, c := range cands {
		if c.g == nil {
			continue
		}
		if best == nil || better(c, best) {
			best = c
		}
	}
	if best != nil && !best.t.Met && best.t.Accuracy <= quantAcc {
		return nil
	}
	return best
}

// bestNotes says whether the chosen fix holds up on the confirm part.
func bestNotes(fix *Fix) []string {
	b := fix.Best
	c := b.Confirm
	if c == nil {
		return nil
	}
	var notes []string
	switch {
	case b.Met && !c.Met:
		notes = append(notes, fmt.Sprintf("the chosen fix (%s) meets the target on the choose part (drop %.2f) but not on the confirm part (drop %.2f): the choice does not hold up on images it was not chosen on",
			b.Variant, b.Drop, c.Drop))
	case !b.Met:
		notes = append(notes, fmt.Sprintf("no candidate met the target on the choose part; the most accurate one (%s) is written", b.Variant))
	}
	if c.Drop > 0 && !c.Significant() {
		notes = append(notes, fmt.Sprintf("the chosen fix's drop on the confirm part (%.2f points: %d images lost, %d gained) is not significant (McNemar p = %.3g)",
			c.Drop, c.Lost, c.Gained, c.McNemarP))
	}
	if q := fix.Quantized; q != nil && q.Drop > 0 && !q.Significant() {
		notes = append(notes, fmt.Sprintf("the quantized model's own drop on the confirm part (%.2f points: %d lost, %d gained) is not significant (McNemar p = %.3g): a fix may not be needed",
			q.Drop, q.Lost, q.Gained, q.McNemarP))
	}
	return notes
}

// runAll runs g on every sample and scores it on the choose part, keeping
// the predictions for the confirm part.
func (ss *searchState) runAll(g *graph.Graph, t Trial, stage string) (*candidate, error) {
	preds, _, err := ss.runPredictions(ss.ctx, g, nil, stage)
	if err != nil {
		return nil, err
	}
	ss.score(&t, pick(preds, ss.choose, true))
	return &candidate{t: t, g: g, all: preds}, nil
}

// islands searches the smallest set of float layers that meets the target
// on the choose part; it records every set tried in fix.Tried and returns
// the set found (nil when none met the target).
func (ss *searchState) islands(base quant.Options) (*candidate, error) {
	fix := ss.fix
	// Pruning can revisit a set the prefix search verified (dropping the
	// last member of ranked[:k] gives ranked[:k-1]); such a set is neither
	// run again nor listed twice among the candidates.
	seen := map[string]*candidate{}
	verify := func(keep []Layer) (*candidate, error) {
		ops := make([]int, len(keep))
		t := Trial{Kind: KindFloatLayers, FloatLayers: []string{}}
		for i, l := range keep {
			ops[i] = l.FloatOp
			t.FloatLayers = append(t.FloatLayers, l.Name)
		}
		key := fmt.Sprint(ops)
		if c, ok := seen[key]; ok {
			return c, nil
		}
		g, err := ss.mixed(ops, base)
		if err != nil {
			return nil, err
		}
		preds, _, err := ss.runPredictions(ss.ctx, g, ss.choose, "fix search")
		if err != nil {
			return nil, err
		}
		ss.score(&t, preds)
		t.Variant = "keep " + joinNames(t.FloatLayers) + " in float"
		c := &candidate{t: t, g: g}
		seen[key] = c
		fix.Tried = append(fix.Tried, t)
		return c, nil
	}
	ranked := ss.rankedOps()
	fix.MaxLayers = min(len(ranked), ss.opts.MaxFixLayers)
	var found *candidate
	var foundSet []Layer
	_, err := smallestPrefix(fix.MaxLayers, func(k int) (bool, error) {
		c, err := verify(ranked[:k])
		if err != nil {
			return false, err
		}
		if c.t.Met && (found == nil || k < len(foundSet)) {
			found, foundSet = c, slices.Clone(ranked[:k])
		}
		return c.t.Met, nil
	})
	if err != nil {
		return nil, fmt.Errorf("fix search: %w", err)
	}
	// Prune: a member whose removal still meets the target is not needed.
	for i := len(foundSet) - 1; i >= 0 && len(foundSet) > 1; i-- {
		cand := slices.Delete(slices.Clone(foundSet), i, i+1)
		c, err := verify(cand)
		if err != nil {
			return nil, fmt.Errorf("fix search: %w", err)
		}
		if c.t.Met {
			found, foundSet = c, cand
		}
	}
	if found == nil {
		return nil, nil
	}
	for _, l := range foundSet {
		fix.FloatLayers = append(fix.FloatLayers, l.Name)
		fix.FloatOps = append(fix.FloatOps, l.FloatOp)
	}
	fix.Accuracy, fix.Drop = found.t.Accuracy, found.t.Drop
	return found, nil
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// smallestPrefix finds the smallest k in 1..kmax for which met(k) holds,
// assuming it holds from some k on (more float layers, less error), with
// few calls since each one verifies a model on the data: k = 1 first
// (the common case, one bad layer), then kmax (when even that misses, no
// smaller k is tried), then bisection between them. It returns 0 when
// met(kmax) is false. Each k is verified at most once.
func smallestPrefix(kmax int, met func(k int) (bool, error)) (int, error) {
	if kmax < 1 {
		return 0, nil
	}
	ok, err := met(1)
	switch {
	case err != nil:
		return 0, err
	case ok:
		return 1, nil
	case kmax == 1:
		return 0, nil
	}
	if ok, err = met(kmax); err != nil || !ok {
		return 0, err
	}
	lo, hi := 1, kmax // met(lo) is false, met(hi) true
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := met(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// methodAlternatives recalibrates on Options.Calib and tries every
// calibration method with per-channel weights, and 16x8, without float
// layers.
func (ss *searchState) methodAlternatives() ([]*candidate, error) {
	s := ss.session
	if s.opts.Calib == nil {
		return nil, nil
	}
	src := func(yield func([]float32) error) error {
		return s.opts.Calib(func(x []float32, _ int) error { return yield(x) })
	}
	base := quant.OptionsOf(s.q)
	cal, err := quant.Calibrate(ss.ctx, s.f, src, quant.Options{Threads: s.opts.Threads})
	if err != nil {
		return nil, fmt.Errorf("calibration for method alternatives: %w", err)
	}
	type variant struct {
		kind, name string
		o          quant.Options
	}
	var vs []variant
	for _, m := range []quant.Method{quant.MinMax, quant.Percentile, quant.MSE, quant.KL} {
		vs = append(vs, variant{KindRecalibration, fmt.Sprintf("per-channel, %s calibration (%d samples)", m, cal.Samples),
			quant.Options{Method: m, Mode: base.Mode, IO: base.IO, Threads: s.opts.Threads}})
	}
	if base.Mode == quant.ModeInt8 && base.IO == graph.Float32 {
		vs = append(vs, variant{Kind16x8, fmt.Sprintf("16x8 (int16 activations), minmax calibration (%d samples)", cal.Samples),
			quant.Options{Mode: quant.Mode16x8, Threads: s.opts.Threads}})
	}
	var out []*candidate
	for _, v := range vs {
		g, _, err := quant.Apply(s.f, cal, v.o)
		if err != nil {
			s.res.Notes = append(s.res.Notes, fmt.Sprintf("%s: %v", v.name, err))
			continue
		}
		c, err := ss.runAll(g, Trial{Kind: v.kind, FloatLayers: []string{}, Variant: v.name}, v.name)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
