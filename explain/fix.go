package explain

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/tflite"
)

// Kinds of fix.
const (
	KindFloatLayers   = "float layers"
	KindPerChannel    = "per-channel weights"
	KindRecalibration = "recalibration"
	Kind16x8          = "16x8"
)

// Trial is one verified candidate of the fix search. Accuracy, Drop and
// Met are on the choose part (see Parts); Confirm, when set, is the same
// model on the confirm part.
type Trial struct {
	Kind        string        `json:"kind,omitempty"`
	FloatLayers []string      `json:"float_layers"`
	Variant     string        `json:"variant,omitempty"`
	Accuracy    float64       `json:"accuracy"`
	Drop        float64       `json:"drop"`
	Met         bool          `json:"met"`
	Confirm     *Confirmation `json:"confirm,omitempty"`
}

// Variant is one row of the trade-off table.
type Variant struct {
	Name      string  `json:"name"`
	Accuracy  float64 `json:"accuracy"`
	Bytes     int     `json:"bytes"`
	LatencyMS float64 `json:"latency_ms"`
}

// Fix is the outcome of the fix search. Candidates are chosen on one part
// of the images and confirmed on the other (Parts): accuracies named
// Accuracy and Drop are on the choose part, Confirm ones on the confirm part.
type Fix struct {
	TargetDrop float64 `json:"target_drop"`
	Parts      Parts   `json:"parts"`
	// ChooseFloatAccuracy and ChooseQuantAccuracy are the float and
	// quantized models on the choose part; Quantized is the quantized
	// model on the confirm part.
	ChooseFloatAccuracy float64       `json:"choose_float_accuracy"`
	ChooseQuantAccuracy float64       `json:"choose_quant_accuracy"`
	Quantized           *Confirmation `json:"quantized_confirm,omitempty"`
	// FloatLayers are the layers (float tensor names) of the smallest
	// float-island set that met the target on the choose part; FloatOps
	// their op indices in the float model; Accuracy and Drop its result
	// on the choose part. Empty when none was needed or none met it.
	FloatLayers []string `json:"float_layers"`
	FloatOps    []int    `json:"float_ops"`
	Accuracy    float64  `json:"accuracy"`
	Drop        float64  `json:"drop"`
	// Met: the quantized model, or the best fix, meets the target on the
	// choose part.
	Met bool `json:"met"`
	// Best is the fix of any kind chosen on the choose part (nil when none
	// is needed or none improves on the quantized model): one that meets
	// the target, of the cheapest kind to deploy (int8 recalibration or
	// per-channel weights, then 16x8, then float layers), then the most
	// accurate; otherwise the most accurate candidate.
	Best *Trial `json:"best,omitempty"`
	// Model is where the caller wrote Best's model ("" when not written).
	Model string  `json:"model,omitempty"`
	Tried []Trial `json:"tried"`
	// MaxLayers is the most float layers the search considered.
	MaxLayers    int       `json:"max_layers"`
	Alternatives []Trial   `json:"alternatives,omitempty"`
	Tradeoff     []Variant `json:"tradeoff,omitempty"`
	// Graph is Best's model (nil without a Best); Islands the model of
	// FloatLayers (nil when empty), whichever kind is best.
	Graph   *graph.Graph `json:"-"`
	Islands *graph.Graph `json:"-"`
}

// File is the name WriteFolder gives the best fix's model: mixed.tflite
// when it keeps float layers, requantized.tflite otherwise.
func (f *Fix) File() string {
	if f.Best != nil && f.Best.Kind != KindFloatLayers {
		return FileRequantized
	}
	return FileMixed
}

// dataCache keeps the samples of the first pass in memory (up to a byte
// budget) so later passes need not decode images again.
type dataCache struct {
	src    Data
	limit  int64
	bytes  int64
	xs     [][]float32
	labels []int
	over   bool
	first  Data
}

func newCache(src Data, limit int64) *dataCache {
	c := &dataCache{src: src, limit: limit}
	c.first = func(yield func([]float32, int) error) error {
		c.xs, c.labels, c.bytes, c.over = nil, nil, 0, limit < 0
		return src(func(x []float32, label int) error {
			if !c.over {
				c.bytes += int64(4 * len(x))
				if c.bytes > c.limit {
					c.over, c.xs, c.labels = true, nil, nil
				} else {
					c.xs = append(c.xs, append([]float32(nil), x...))
					c.labels = append(c.labels, label)
				}
			}
			return yield(x, label)
		})
	}
	return c
}

// again returns the data for later passes: the cache when it held
// everything, else the source.
func (c *dataCache) again() Data {
	if c.over {
		return c.src
	}
	return SliceData(c.xs, c.labels)
}

// baseOptions returns the options that rebuild the quantized model from the
// float one with its own activation parameters.
func (s *session) baseOptions() quant.Options {
	o := quant.OptionsOf(s.q)
	o.Threads = s.opts.Threads
	// Key the parameters by the float tensors they were matched to, so a
	// model matched by op order (not made by qbench) can be rebuilt too.
	for _, m := range s.matches {
		if qt := s.q.Tensors[m.Quant]; qt.Quant != nil {
			o.Fixed[m.Name] = qt.Quant.Clone()
		}
	}
	return o
}

// mixed builds the float model quantized like q except keep (float op indices).
func (s *session) mixed(keep []int, o quant.Options) (*graph.Graph, error) {
	o.KeepFloat = keep
	g, _, err := quant.Apply(s.f, nil, o)
	return g, err
}

// attribution finds, for the classes that lost most accuracy, which layers'
// isolated quantization costs them most: each candidate layer is the only
// quantized op of a model run on those classes' samples.
func (s *session) attribution(ctx context.Context) error {
	type cls struct {
		c          int
		n          int
		fAcc, qAcc float64
	}
	var drops []cls
	for c := 0; c < s.nClasses; c++ {
		in := func(l int) bool { return l == c }
		n := 0
		for _, l := range s.labels {
			if l == c {
				n++
			}
		}
		if n == 0 {
			continue
		}
		f, q := accuracy(s.fPred, s.labels, in), accuracy(s.qPred, s.labels, in)
		if f-q > 0 {
			drops = append(drops, cls{c, n, f, q})
		}
	}
	if len(drops) == 0 {
		return nil
	}
	sort.SliceStable(drops, func(a, b int) bool { return drops[a].fAcc-drops[a].qAcc > drops[b].fAcc-drops[b].qAcc })
	if len(drops) > s.opts.AttributionClasses {
		drops = drops[:s.opts.AttributionClasses]
	}
	worst := map[int]bool{}
	for _, d := range drops {
		worst[d.c] = true
	}
	layers := s.rankedOps()
	if len(layers) > s.opts.AttributionLayers {
		layers = layers[:s.opts.AttributionLayers]
	}
	attr := make([]ClassAttribution, len(drops))
	for i, d := range drops {
		attr[i] = ClassAttribution{Class: d.c, Samples: d.n, FloatAccuracy: d.fAcc, QuantAccuracy: d.qAcc}
		if d.c >= 0 && d.c < len(s.opts.ClassNames) {
			attr[i].ClassName = s.opts.ClassNames[d.c]
		}
	}
	preds, labels, err := s.attributionPredictions(ctx, layers, func(l int) bool { return worst[l] })
	if err != nil || preds == nil {
		return err
	}
	for li, L := range layers {
		for i := range attr {
			c := attr[i].Class
			a := accuracy(preds[li], labels, func(l int) bool { return l == c })
			attr[i].Layers = append(attr[i].Layers, LayerCost{Name: L.Name, Accuracy: a, Cost: attr[i].FloatAccuracy - a})
		}
	}
	for i := range attr {
		sort.SliceStable(attr[i].Layers, func(a, b int) bool { return attr[i].Layers[a].Cost > attr[i].Layers[b].Cost })
	}
	s.res.Classes = attr
	return nil
}

// attributionPredictions runs, on the samples whose label passes keep, one
// model per layer with only that layer quantized, and returns each model's
// predictions (preds[layer][sample]) and the labels. All models share one
// pass over the data and one float run per sample: each model runs only its
// suffix (see newSuffix), checked against the whole model on the first
// sample. preds is nil (with a note) when the models cannot be built.
func (s *session) attributionPredictions(ctx context.Context, layers []Layer, keep func(int) bool) ([][]int, []int, error) {
	data := filterData(s.data, keep)
	var first []float32
	_ = data(func(x []float32, _ int) error { first = append([]float32(nil), x...); return errStop })
	if first == nil {
		return nil, nil, nil
	}
	fprog, err := interp.Compile(s.f, s.iopts(interp.Options{KeepAll: true}))
	if err != nil {
		return nil, nil, fmt.Errorf("float model: %w", err)
	}
	base := s.baseOptions()
	full := make([]*interp.Program, len(layers))
	suf := make([]*suffixProg, len(layers))
	anySuffix := false
	for li, L := range layers {
		var keepOps []int
		for oi := range s.f.Ops {
			if oi != L.FloatOp {
				keepOps = append(keepOps, oi)
			}
		}
		g, err := s.mixed(keepOps, base)
		if err != nil {
			s.res.Notes = append(s.res.Notes, fmt.Sprintf("per-class attribution skipped: cannot rebuild the quantized model from the float one: %v", err))
			return nil, nil, nil
		}
		if full[li], err = interp.Compile(g, s.iopts(interp.Options{Rounding: s.opts.Rounding})); err != nil {
			return nil, nil, fmt.Errorf("attribution of %s: %w", L.Name, err)
		}
		if sp := newSuffix(s.f, g, s.iopts(interp.Options{Rounding: s.opts.Rounding})); sp != nil && sp.agrees(full[li], fprog, first) {
			suf[li], anySuffix = sp, true
		}
	}
	type state struct {
		fe  *interp.Executor
		ex  []*interp.Executor
		out []float32
	}
	preds := make([][]int, len(layers))
	var labels []int
	_, err = forEach(ctx, data, s.opts.Threads,
		func() (*state, error) {
			st := &state{ex: make([]*interp.Executor, len(layers))}
			if anySuffix {
				st.fe = fprog.NewExecutor()
			}
			for li := range layers {
				if suf[li] != nil {
					st.ex[li] = suf[li].prog.NewExecutor()
				} else {
					st.ex[li] = full[li].NewExecutor()
				}
			}
			return st, nil
		},
		func(st *state, _ int, x []float32, label int) ([]int, error) {
			if st.fe != nil {
				if err := st.fe.SetInputFloat(0, x); err != nil {
					return nil, err
				}
				if err := st.fe.Run(); err != nil {
					return nil, err
				}
			}
			p := make([]int, len(layers)+1)
			for li, ex := range st.ex {
				if suf[li] != nil {
					if err := suf[li].run(ex, st.fe); err != nil {
						return nil, fmt.Errorf("attribution of %s: %w", layers[li].Name, err)
					}
				} else {
					if err := ex.SetInputFloat(0, x); err != nil {
						return nil, err
					}
					if err := ex.Run(); err != nil {
						return nil, fmt.Errorf("attribution of %s: %w", layers[li].Name, err)
					}
				}
				st.out = ex.OutputFloat(0, st.out)
				p[li] = argmax(st.out)
			}
			p[len(layers)] = label
			return p, nil
		},
		func(idx int, p []int) {
			for li := range layers {
				preds[li] = append(preds[li], p[li])
			}
			labels = append(labels, p[len(layers)])
			if s.opts.Progress != nil {
				s.opts.Progress("attribution", idx+1)
			}
		})
	if err != nil {
		return nil, nil, fmt.Errorf("attribution: %w", err)
	}
	return preds, labels, nil
}

// rankedOps returns the layers produced by an op, worst isolated error first.
func (s *session) rankedOps() []Layer {
	var ls []Layer
	for _, l := range s.res.Layers {
		if l.Rank > 0 && l.FloatOp >= 0 {
			ls = append(ls, l)
		}
	}
	sort.SliceStable(ls, func(a, b int) bool { return ls[a].Rank < ls[b].Rank })
	return ls
}

// tradeoff measures accuracy, file size and single-thread latency of the
// float, quantized and best-fix models. Accuracies are on the confirm part
// when there is one (the only numbers no choice has seen), else on all
// samples.
func (s *session) tradeoff(fix *Fix) []Variant {
	var x []float32
	_ = s.data(func(v []float32, _ int) error { x = append([]float32(nil), v...); return errStop })
	row := func(name string, g *graph.Graph, acc float64) Variant {
		v := Variant{Name: name, Accuracy: acc}
		if b, err := tflite.Write(g); err == nil {
			v.Bytes = len(b)
		}
		v.LatencyMS = latency(g, x, s.iopts(interp.Options{Rounding: s.opts.Rounding}))
		return v
	}
	fAcc, qAcc := s.res.FloatAccuracy, s.res.QuantAccuracy
	if q := fix.Quantized; q != nil {
		fAcc, qAcc = q.FloatAccuracy, q.Accuracy
	}
	rows := []Variant{row("float", s.f, fAcc), row("quantized", s.q, qAcc)}
	if b := fix.Best; b != nil && fix.Graph != nil {
		acc := b.Accuracy
		if b.Confirm != nil {
			acc = b.Confirm.Accuracy
		}
		rows = append(rows, row("fix: "+b.Kind, fix.Graph, acc))
	}
	return rows
}

var errStop = fmt.Errorf("stop")

// latency is the median single-thread time of one inference in ms.
func latency(g *graph.Graph, x []float32, opts interp.Options) float64 {
	if x == nil {
		return 0
	}
	p, err := interp.Compile(g, opts)
	if err != nil {
		return 0
	}
	ex := p.NewExecutor()
	if ex.SetInputFloat(0, x) != nil || ex.Run() != nil {
		return 0
	}
	const runs = 15
	ts := make([]float64, 0, runs)
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < runs && time.Now().Before(deadline); i++ {
		t0 := time.Now()
		_ = ex.Run()
		ts = append(ts, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	sort.Float64s(ts)
	return ts[len(ts)/2]
}
