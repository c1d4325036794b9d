// Package explain finds where quantization error comes from and the
// cheapest fix that meets an accuracy target. It runs a float model and its
// quantized version on the same samples, matches their tensors, and
// reports per layer the accumulated error (the real integer model), the
// isolated error (only that layer quantized, everything before it float),
// how much of each range is used or clipped, how often evaluation data
// falls outside the calibrated ranges (data shift, per split), which
// layers cost the most-affected classes their accuracy, and the smallest
// set of layers to keep in float so the accuracy drop meets a target.
package explain

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/metrics"
	"github.com/qbench/qbench/report"
)

// Schema identifies the JSON layout of Result.
const Schema = "qbench.explain/v1"

// NamedData is a split for the data-shift table.
type NamedData struct {
	Name string
	Data Data
}

// Options configure Explain.
type Options struct {
	// Split names the main data in the output.
	Split string
	// Shift lists further splits whose values are checked against the
	// calibrated ranges (data-shift table); the main data is always included.
	// Every sample of a Shift split is used (LayerEvery does not apply):
	// the caller chooses how many, and should pass about as many as the
	// main data's per-layer samples, since reading images it would skip
	// costs as much as reading the ones it uses.
	Shift []NamedData
	// TargetDrop enables the fix search: the largest accepted accuracy drop
	// in points. Negative or NaN disables it.
	TargetDrop float64
	// Seed divides the images into the fix search's choose and confirm
	// parts (stratified by class).
	Seed int64
	// MaxFixLayers bounds the layers the fix search keeps in float (default 8).
	MaxFixLayers int
	// AttributionClasses is how many of the classes that lost most accuracy
	// get a per-layer attribution (default 3), over the AttributionLayers
	// layers with the worst isolated error (default 4).
	AttributionClasses, AttributionLayers int
	// ClassNames, when set, names the classes in reports (index = label).
	ClassNames []string
	// FloatName and QuantName name the two models in the class-order
	// warning (default "float" and "quantized").
	FloatName, QuantName string
	// Calib, when set, is calibration data (labels ignored): the fix search
	// then also tries requantizing with per-channel weights and each
	// calibration method, without float layers.
	Calib Data
	// LayerEvery computes the per-layer statistics (and the data-shift
	// counts) on every LayerEvery-th sample only (default 1: all); the
	// others only give predictions, at the cost of running both models.
	// Layer statistics converge long before accuracy does, so a stride
	// keeps explain close to the cost of a plain comparison.
	LayerEvery int
	// Rounding selects the integer arithmetic of the quantized and mixed
	// models (see interp.Options): fixedpoint.RuntimeRounding reproduces the
	// TFLite runtime, DoubleRounding (the zero value) TFLite Micro.
	Rounding fixedpoint.Rounding
	// MaxArenaBytes bounds the activation memory of every executor explain
	// compiles (see interp.Options.MaxArenaBytes; 0: its default).
	MaxArenaBytes int64
	// Threads runs this many executors in parallel (default 1).
	Threads int
	// CacheBytes bounds the memory used to keep samples between passes
	// (default 512 MiB); beyond it, data is read again for each pass.
	CacheBytes int64
	// Progress, when set, is called with the stage name and samples done.
	Progress func(stage string, done int)
}

// Layer is the error report of one matched tensor.
type Layer struct {
	Name    string `json:"name"`
	Op      string `json:"op"`
	FloatOp int    `json:"float_op"`
	// Scale and ZeroPoint of the integer tensor.
	Scale     float64 `json:"scale"`
	ZeroPoint int64   `json:"zero_point"`
	// Accumulated error: the real quantized model against the float model.
	SQNR          float64 `json:"sqnr_db"`
	Cosine        float64 `json:"cosine"`
	MeanAbs       float64 `json:"mean_abs_error"`
	MaxAbs        float64 `json:"max_abs_error"`
	RMSEOverScale float64 `json:"rmse_over_scale"`
	// ClippedFraction is the fraction of integer values at the type limits;
	// RangeUsed the fraction of the integer range between the smallest and
	// largest value seen.
	ClippedFraction float64 `json:"clipped_fraction"`
	RangeUsed       float64 `json:"range_used"`
	// Isolated error: only this layer quantized, its inputs float.
	IsoSQNR          float64 `json:"isolated_sqnr_db"`
	IsoCosine        float64 `json:"isolated_cosine"`
	IsoMaxAbs        float64 `json:"isolated_max_abs_error"`
	IsoRMSEOverScale float64 `json:"isolated_rmse_over_scale"`
	// FloatMin/Max are the float values' extremes on the main data;
	// RangeMin/Max the calibrated (representable) interval.
	FloatMin  float64 `json:"float_min"`
	FloatMax  float64 `json:"float_max"`
	FloatMean float64 `json:"float_mean"`
	RangeMin  float64 `json:"range_min"`
	RangeMax  float64 `json:"range_max"`
	// OutsideRange is the fraction of float values outside the calibrated
	// (representable) range on the main data.
	OutsideRange float64 `json:"outside_range_fraction"`
	// Rank orders layers by isolated SQNR, 1 = worst; 0 = not ranked.
	Rank int `json:"isolated_rank"`
}

// ShiftRow is one tensor of the data-shift table: the fraction of values
// outside its calibrated range, per split (in DataShift.Splits order).
type ShiftRow struct {
	Name    string    `json:"name"`
	Outside []float64 `json:"outside_fraction"`
	// Mean is the mean float value per split; Peak the largest value
	// relative to the calibrated limit on its side (max/RangeMax or
	// min/RangeMin, whichever is larger; above 1 means beyond the range).
	// They show a shift that stays inside the calibrated range.
	Mean []float64 `json:"mean"`
	Peak []float64 `json:"peak_of_range"`
}

// DataShift compares how often activations leave their calibrated ranges
// on each split.
type DataShift struct {
	Splits  []string   `json:"splits"`
	Samples []int      `json:"samples"`
	Tensors []ShiftRow `json:"tensors"`
}

// LayerCost is the accuracy of one class with only one layer quantized.
type LayerCost struct {
	Name     string  `json:"name"`
	Accuracy float64 `json:"accuracy"`
	// Cost is float accuracy minus this accuracy, in points.
	Cost float64 `json:"cost"`
}

// ClassAttribution explains one class that lost accuracy.
type ClassAttribution struct {
	Class         int         `json:"class"`
	ClassName     string      `json:"class_name,omitempty"`
	Samples       int         `json:"samples"`
	FloatAccuracy float64     `json:"float_accuracy"`
	QuantAccuracy float64     `json:"quant_accuracy"`
	Layers        []LayerCost `json:"layers"`
}

// Result is everything Explain found. Accuracies are in percent.
type Result struct {
	Schema        string   `json:"schema"`
	Split         string   `json:"split,omitempty"`
	Samples       int      `json:"samples"`
	LayerSamples  int      `json:"layer_samples"`
	Matching      string   `json:"matching"`
	Unmatched     []string `json:"unmatched,omitempty"`
	FloatAccuracy float64  `json:"float_accuracy"`
	QuantAccuracy float64  `json:"quant_accuracy"`
	Drop          float64  `json:"accuracy_drop"`
	// QuantVsFloat pairs the two models on every sample: images lost and
	// gained, McNemar's exact p of the drop.
	QuantVsFloat Confirmation       `json:"quant_vs_float"`
	Layers       []Layer            `json:"layers"`
	DataShift    *DataShift         `json:"data_shift,omitempty"`
	Classes      []ClassAttribution `json:"classes,omitempty"`
	Fix          *Fix               `json:"fix,omitempty"`
	// Timings is the wall time of each stage in seconds.
	Timings map[string]float64 `json:"timings_s,omitempty"`
	// Notes say what could not be done and why.
	Notes []string `json:"notes,omitempty"`
	// ClassOrder, when set, warns that a model's outputs look like the
	// right classes in another order, as compare diagnoses it
	// (metrics.DiagnoseClassOrder on the float model, else the quantized).
	ClassOrder *report.ClassOrderNote `json:"class_order,omitempty"`
	// SuggestedLabels, when set by the caller (it knows the dataset's
	// label map), is the label map fixing ClassOrder; WriteFolder writes
	// it as report.FileSuggestedLabels.
	SuggestedLabels []byte `json:"-"`
}

// session holds one Explain call's compiled programs and data.
type session struct {
	f, q    *graph.Graph
	opts    Options
	matches []Match
	shadow  *graph.Graph
	branch  []int
	// fake marks matches whose isolated error is computed by fake
	// quantization instead of a branch (see fakeQuantOK).
	fake     []bool
	data     Data
	res      *Result
	labels   []int
	fPred    []int
	qPred    []int
	nClasses int
}

// Explain compares float graph f with its quantized version q on data.
func Explain(ctx context.Context, f, q *graph.Graph, data Data, opts Options) (*Result, error) {
	if opts.MaxFixLayers <= 0 {
		opts.MaxFixLayers = 8
	}
	if opts.AttributionClasses <= 0 {
		opts.AttributionClasses = 3
	}
	if opts.AttributionLayers <= 0 {
		opts.AttributionLayers = 4
	}
	if opts.LayerEvery <= 0 {
		opts.LayerEvery = 1
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = 512 << 20
	}
	if len(f.Inputs) != 1 || len(q.Inputs) != 1 || len(f.Outputs) < 1 || len(q.Outputs) < 1 {
		return nil, fmt.Errorf("explain needs single-input models with an output")
	}
	// Shape arithmetic on static shapes becomes constants, as in Compile
	// and quantize, so op indices here are those of the compiled graphs.
	var err error
	if f, _, err = interp.Fold(f); err != nil {
		return nil, fmt.Errorf("float model: %w", err)
	}
	if q, _, err = interp.Fold(q); err != nil {
		return nil, fmt.Errorf("quantized model: %w", err)
	}
	s := &session{f: f, q: q, opts: opts, res: &Result{Schema: Schema, Split: opts.Split}}
	s.nClasses = f.Tensors[f.Outputs[0]].NumElements()
	s.matches, s.res.Unmatched, s.res.Matching = MatchTensors(f, q)
	if len(s.matches) == 0 {
		return nil, fmt.Errorf("no tensor of the quantized model matches the float model")
	}
	s.shadow, s.branch = buildShadow(f, q, s.matches)
	s.fake = make([]bool, len(s.matches))
	for i, m := range s.matches {
		s.fake[i] = m.QuantOp >= 0 && fakeQuantOK(q, q.Ops[m.QuantOp])
	}
	cache := newCache(data, opts.CacheBytes)
	s.data = cache.first
	s.res.Timings = map[string]float64{}
	stage := func(name string, f func(context.Context) error) error {
		t0 := time.Now()
		err := f(ctx)
		s.res.Timings[name] = time.Since(t0).Seconds()
		return err
	}
	if err := stage("layer_errors", s.mainPass); err != nil {
		return nil, err
	}
	s.data = cache.again()
	if err := stage("data_shift", s.dataShift); err != nil {
		return nil, err
	}
	if err := stage("attribution", s.attribution); err != nil {
		return nil, err
	}
	if opts.TargetDrop >= 0 {
		if err := stage("fix_search", s.fixSearch); err != nil {
			return nil, err
		}
	}
	return s.res, nil
}

// partial is one sample's contribution to the main pass.
type partial struct {
	acc, iso []errStats
	ints     []intStats
	fPred    int
	qPred    int
	label    int
	layer    bool // per-layer statistics were computed
}

type mainState struct {
	sh, qe  *interp.Executor // KeepAll shadow and quantized executors
	fe, qf  *interp.Executor // plain ones for prediction-only samples
	luts    [][256]float32   // dequantization table per match (int8 tensors)
	fbuf    []float32
	buf     []float32
	out     []float32
	lo, hi  []float64
	halfStp []float64
}

// mainPass runs the shadow and quantized graphs on every sample.
func (s *session) mainPass(ctx context.Context) error {
	shProg, err := interp.Compile(s.shadow, s.iopts(interp.Options{KeepAll: true, Rounding: s.opts.Rounding}))
	if err != nil {
		return fmt.Errorf("float model with isolated branches: %w", err)
	}
	qProg, err := interp.Compile(s.q, s.iopts(interp.Options{KeepAll: true, Rounding: s.opts.Rounding}))
	if err != nil {
		return fmt.Errorf("quantized model: %w", err)
	}
	// Plain programs (buffer reuse, no branches) for prediction-only samples.
	fFast, err := interp.Compile(s.f, s.iopts(interp.Options{}))
	if err != nil {
		return fmt.Errorf("float model: %w", err)
	}
	qFast, err := interp.Compile(s.q, s.iopts(interp.Options{Rounding: s.opts.Rounding}))
	if err != nil {
		return fmt.Errorf("quantized model: %w", err)
	}
	nm := len(s.matches)
	lo, hi, half := make([]float64, nm), make([]float64, nm), make([]float64, nm)
	for i, m := range s.matches {
		qt := s.q.Tensors[m.Quant]
		lo[i], hi[i] = representable(qt)
		half[i] = float64(qt.Quant.Scale[0]) / 2
	}
	acc, iso := make([]errStats, nm), make([]errStats, nm)
	ints := make([]intStats, nm)
	for i := range ints {
		ints[i] = newIntStats()
	}
	newState := func() (*mainState, error) {
		luts := make([][256]float32, nm)
		for i, m := range s.matches {
			luts[i] = dequantTable(s.q.Tensors[m.Quant])
		}
		return &mainState{sh: shProg.NewExecutor(), qe: qProg.NewExecutor(), fe: fFast.NewExecutor(), qf: qFast.NewExecutor(),
			luts: luts, lo: lo, hi: hi, halfStp: half}, nil
	}
	work := func(st *mainState, idx int, x []float32, label int) (partial, error) {
		if idx%s.opts.LayerEvery != 0 {
			return st.predictOnly(x, label)
		}
		p := partial{acc: make([]errStats, nm), iso: make([]errStats, nm), ints: make([]intStats, nm), label: label, layer: true}
		if err := st.sh.SetInputFloat(0, x); err != nil {
			return p, err
		}
		if err := st.sh.Run(); err != nil {
			return p, err
		}
		if err := st.qe.SetInputFloat(0, x); err != nil {
			return p, err
		}
		if err := st.qe.Run(); err != nil {
			return p, err
		}
		for i, m := range s.matches {
			fb := st.sh.Tensor(m.Float)
			qb := st.qe.Tensor(m.Quant)
			if fb == nil || qb == nil {
				continue
			}
			p.ints[i] = newIntStats()
			if qb.DType == graph.Int8 && len(qb.I8) == len(fb.F32) {
				// One fused pass over the float and int8 values.
				p.ints[i].Outside = p.acc[i].addInt8(fb.F32, qb.I8, &st.luts[i],
					float32(st.lo[i]-st.halfStp[i]), float32(st.hi[i]+st.halfStp[i]), &p.ints[i], s.q.Tensors[m.Quant].Quant.ZeroPoint[0])
			} else {
				st.buf = dequantize(qb, s.q.Tensors[m.Quant], st.buf)
				p.acc[i].add(fb.F32, st.buf)
				p.ints[i].addInt(qb, s.q.Tensors[m.Quant].Quant.ZeroPoint[0])
				p.ints[i].Outside = countOutside(fb.F32, st.lo[i], st.hi[i], st.halfStp[i])
			}
			if b := s.branch[i]; b >= 0 {
				if ib := st.sh.Tensor(b); ib != nil {
					p.iso[i].add(fb.F32, ib.F32)
				}
			} else if s.fake[i] {
				st.fbuf = p.iso[i].addFakeQuant(fb.F32, s.q.Tensors[m.Quant], st.fbuf)
			}
		}
		p.fPred = argmax(st.sh.Output(0).F32)
		st.out = st.qe.OutputFloat(0, st.out)
		p.qPred = argmax(st.out)
		return p, nil
	}
	layerSamples := 0
	merge := func(idx int, p partial) {
		if p.layer {
			layerSamples++
		}
		for i := range p.acc {
			acc[i].merge(&p.acc[i])
			iso[i].merge(&p.iso[i])
			if p.ints[i].N > 0 {
				ints[i].merge(&p.ints[i])
			}
		}
		s.labels = append(s.labels, p.label)
		s.fPred = append(s.fPred, p.fPred)
		s.qPred = append(s.qPred, p.qPred)
		if s.opts.Progress != nil {
			s.opts.Progress("layer errors", idx+1)
		}
	}
	n, err := forEach(ctx, s.data, s.opts.Threads, newState, work, merge)
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("explain: no samples")
	}
	r := s.res
	r.Samples = n
	r.LayerSamples = layerSamples
	r.FloatAccuracy = accuracy(s.fPred, s.labels, nil)
	r.QuantAccuracy = accuracy(s.qPred, s.labels, nil)
	r.Drop = r.FloatAccuracy - r.QuantAccuracy
	r.QuantVsFloat = confirm(s.qPred, s.fPred, s.labels, s.opts.TargetDrop)
	r.ClassOrder = s.diagnoseClassOrder()
	for i, m := range s.matches {
		qt := s.q.Tensors[m.Quant]
		scale := float64(qt.Quant.Scale[0])
		L := Layer{Name: m.Name, Op: m.Op, FloatOp: m.FloatOp, Scale: scale, ZeroPoint: qt.Quant.ZeroPoint[0],
			SQNR: acc[i].sqnr(), Cosine: acc[i].cosine(), MeanAbs: acc[i].meanAbs(), MaxAbs: acc[i].MaxAbs,
			RMSEOverScale: acc[i].rmse() / scale, FloatMin: acc[i].Min, FloatMax: acc[i].Max, RangeMin: lo[i], RangeMax: hi[i],
			FloatMean: acc[i].mean()}
		if n := ints[i].N; n > 0 {
			L.ClippedFraction = float64(ints[i].Clipped) / float64(n)
			L.OutsideRange = float64(ints[i].Outside) / float64(n)
			levels := 256.0
			if qt.DType == graph.Int16 {
				levels = 65536
			}
			L.RangeUsed = float64(ints[i].Max-ints[i].Min+1) / levels
		}
		switch {
		case s.branch[i] >= 0 || s.fake[i]:
			L.IsoSQNR, L.IsoCosine, L.IsoMaxAbs, L.IsoRMSEOverScale = iso[i].sqnr(), iso[i].cosine(), iso[i].MaxAbs, iso[i].rmse()/scale
		case m.QuantOp < 0:
			// Made by QUANTIZE from a float tensor: quantizing it is all the
			// error there is, so isolated equals accumulated.
			L.IsoSQNR, L.IsoCosine, L.IsoMaxAbs, L.IsoRMSEOverScale = L.SQNR, L.Cosine, L.MaxAbs, L.RMSEOverScale
		default:
			L.IsoSQNR = math.NaN()
		}
		r.Layers = append(r.Layers, L)
	}
	rankLayers(r.Layers)
	return nil
}

// predictOnly runs both plain models on x for the accuracy figures.
func (st *mainState) predictOnly(x []float32, label int) (partial, error) {
	p := partial{label: label}
	if err := st.fe.SetInputFloat(0, x); err != nil {
		return p, err
	}
	if err := st.fe.Run(); err != nil {
		return p, err
	}
	st.out = st.fe.OutputFloat(0, st.out)
	p.fPred = argmax(st.out)
	if err := st.qf.SetInputFloat(0, x); err != nil {
		return p, err
	}
	if err := st.qf.Run(); err != nil {
		return p, err
	}
	st.out = st.qf.OutputFloat(0, st.out)
	p.qPred = argmax(st.out)
	return p, nil
}

// rankLayers numbers layers by isolated SQNR, worst first.
func rankLayers(ls []Layer) {
	idx := make([]int, 0, len(ls))
	for i, l := range ls {
		if !math.IsNaN(l.IsoSQNR) {
			idx = append(idx, i)
		} else {
			ls[i].IsoSQNR = 0
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return ls[idx[a]].IsoSQNR < ls[idx[b]].IsoSQNR })
	for r, i := range idx {
		ls[i].Rank = r + 1
	}
}

// accuracy returns the percentage of pred equal to labels, over the
// samples whose label is in keep (all when keep is nil).
func accuracy(pred, labels []int, keep func(label int) bool) float64 {
	n, ok := 0, 0
	for i, p := range pred {
		if keep != nil && !keep(labels[i]) {
			continue
		}
		n++
		if p == labels[i] {
			ok++
		}
	}
	if n == 0 {
		return 0
	}
	return 100 * float64(ok) / float64(n)
}

// runPredictions runs g on the samples whose position has keep set (all
// when keep is nil) and returns its predictions and their labels.
func (s *session) runPredictions(ctx context.Context, g *graph.Graph, keep []bool, stage string) ([]int, []int, error) {
	prog, err := interp.Compile(g, s.iopts(interp.Options{Rounding: s.opts.Rounding}))
	if err != nil {
		return nil, nil, err
	}
	type st struct {
		ex  *interp.Executor
		out []float32
	}
	var preds, labels []int
	data := s.data
	if keep != nil {
		data = filterIndex(data, keep)
	}
	_, err = forEach(ctx, data, s.opts.Threads,
		func() (*st, error) { return &st{ex: prog.NewExecutor()}, nil },
		func(w *st, _ int, x []float32, label int) ([2]int, error) {
			if err := w.ex.SetInputFloat(0, x); err != nil {
				return [2]int{}, err
			}
			if err := w.ex.Run(); err != nil {
				return [2]int{}, err
			}
			w.out = w.ex.OutputFloat(0, w.out)
			return [2]int{argmax(w.out), label}, nil
		},
		func(idx int, p [2]int) {
			preds = append(preds, p[0])
			labels = append(labels, p[1])
			if s.opts.Progress != nil {
				s.opts.Progress(stage, idx+1)
			}
		})
	return preds, labels, err
}

func filterData(d Data, keep func(int) bool) Data {
	return func(yield func([]float32, int) error) error {
		return d(func(x []float32, label int) error {
			if !keep(label) {
				return nil
			}
			return yield(x, label)
		})
	}
}

// diagnoseClassOrder looks for a class-order mistake in the float model's
// confusion matrix, then the quantized model's, as compare does: a data
// set whose labels are the model's classes in another order otherwise
// shows up only as a low accuracy.
func (s *session) diagnoseClassOrder() *report.ClassOrderNote {
	k := s.nClasses
	split := s.opts.Split
	if split == "" {
		split = "all"
	}
	names := [2]string{s.opts.FloatName, s.opts.QuantName}
	if names[0] == "" {
		names[0] = "float"
	}
	if names[1] == "" {
		names[1] = "quantized"
	}
	var classes []string
	if len(s.opts.ClassNames) == k {
		classes = s.opts.ClassNames
	}
	for i, pred := range [][]int{s.fPred, s.qPred} {
		conf := make([][]int64, k)
		for c := range conf {
			conf[c] = make([]int64, k)
		}
		for j, p := range pred {
			if l := s.labels[j]; l >= 0 && l < k && p >= 0 && p < k {
				conf[l][p]++
			}
		}
		if d := metrics.DiagnoseClassOrder(conf, classes); d != nil {
			return report.NewClassOrderNote(names[i], split, d, classes)
		}
	}
	return nil
}

// iopts returns o with the session's arena budget.
func (s *session) iopts(o interp.Options) interp.Options {
	o.MaxArenaBytes = s.opts.MaxArenaBytes
	return o
}
