package quant

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// Calibration is what Calibrate observed of a float graph: one histogram per
// activation tensor (nil for constants) and, for the data inputs of
// convolutions and fully connected ops, the mean of each input channel
// (used by bias correction).
type Calibration struct {
	// Samples is the number of samples the statistics cover.
	Samples int
	// Hists is indexed like the float graph's Tensors.
	Hists []*Histogram
	// ChannelMeans maps a tensor index to the mean per channel, where the
	// channel of element i is i mod len(means).
	ChannelMeans map[int][]float64
	// LSTM holds, by op index, what calibration observed inside each float
	// UNIDIRECTIONAL_SEQUENCE_LSTM (its cell state, hidden state and gates).
	LSTM map[int]*LSTMStats
}

// TensorReport describes the quantization of one activation tensor.
type TensorReport struct {
	Name string `json:"name"`
	// Tensor is the index in the float graph, QuantTensor the index of its
	// integer version in the quantized graph (-1 when it stays float only).
	Tensor      int `json:"tensor"`
	QuantTensor int `json:"quant_tensor"`
	// Op is the kind of op producing it ("INPUT" for graph inputs).
	Op string `json:"op"`
	// ObservedMin/Max are the calibration extremes; ChosenMin/Max the range
	// the method picked; RangeMin/Max the representable interval of the
	// resulting scale and zero point (after TFLite's zero-point nudging).
	ObservedMin float64 `json:"observed_min"`
	ObservedMax float64 `json:"observed_max"`
	ChosenMin   float64 `json:"chosen_min"`
	ChosenMax   float64 `json:"chosen_max"`
	RangeMin    float64 `json:"range_min"`
	RangeMax    float64 `json:"range_max"`
	Scale       float64 `json:"scale"`
	ZeroPoint   int64   `json:"zero_point"`
	// ClippedFraction is the fraction of calibration values outside the
	// chosen (calibrated) range: the values the method decided to clip.
	ClippedFraction float64 `json:"clipped_fraction"`
	// EndLevelFraction is the fraction inside the chosen range but beyond
	// the representable grid [RangeMin, RangeMax]: zero-point nudging can
	// leave the grid up to one step short of the chosen range, so these
	// values round into the top or bottom level with at most one step of
	// error. They are not clipped by calibration; counting them as clipped
	// made an input calibrated to exactly [-1, 1] look 9% clipped.
	EndLevelFraction float64 `json:"end_level_fraction"`
	// Source says how the range was chosen: the method, "fixed" (softmax,
	// logistic) or "input" (max-pool, reshape… share their input's).
	Source string `json:"source"`
	Count  int64  `json:"count"`
}

// Report summarises a quantization run.
type Report struct {
	Method     string  `json:"method"`
	Percentile float64 `json:"percentile,omitempty"`
	Mode       string  `json:"mode"`
	IO         string  `json:"io"`
	PerTensor  bool    `json:"per_tensor_weights"`
	BiasCorr   bool    `json:"bias_correction"`
	KeepFloat  []int   `json:"keep_float,omitempty"`
	// FloatOps names the ops that stay float32 because qbench has no
	// integer form for them (not those KeepFloat asked for), with why.
	FloatOps []string `json:"float_ops,omitempty"`
	// Notes are other things the user should know about the quantized
	// model (how the TFLite runtime computes an op of it).
	Notes   []string       `json:"notes,omitempty"`
	Samples int            `json:"calibration_samples"`
	Tensors []TensorReport `json:"tensors"`
	// QuantIndex maps each float-graph tensor index to its integer version
	// in the quantized graph, or -1.
	QuantIndex []int `json:"-"`
}

// quantOps are the ops with integer kernels, and how their output
// parameters are chosen.
type outRule int

const (
	ruleCalibrated outRule = iota // own calibrated range
	ruleInput                     // same parameters as input 0
	ruleFixed                     // softmax/logistic: 1/256 (1/32768)
	ruleTanh                      // TANH, L2_NORMALIZATION: 1/128 zero point 0 (TANH: 1/32768 in 16x8)
	ruleFloat                     // no integer form: the op stays float, between DEQUANTIZE and QUANTIZE
	ruleIndex                     // integer inputs, an output of its own dtype (bool, int32 indices), unquantized
	ruleSequence                  // LSTM, SVDF: the converter's integer form (lstm.go, svdf.go) when it can be, else float
	ruleLogSoftmax                // LOG_SOFTMAX: 16/256, zero point at the top of the range (127 for int8)
)

var supportedOps = map[graph.OpKind]outRule{
	graph.OpConv2D:          ruleCalibrated,
	graph.OpDepthwiseConv2D: ruleCalibrated,
	graph.OpFullyConnected:  ruleCalibrated,
	graph.OpMaxPool2D:       ruleInput,
	graph.OpAveragePool2D:   ruleInput,
	graph.OpReshape:         ruleInput,
	graph.OpPad:             ruleInput,
	graph.OpSoftmax:         ruleFixed,
	graph.OpLogistic:        ruleFixed,
	graph.OpRelu:            ruleCalibrated,
	graph.OpRelu6:           ruleCalibrated,
	graph.OpLeakyRelu:       ruleCalibrated,
	graph.OpAdd:             ruleCalibrated,
	graph.OpMean:            ruleCalibrated,
	graph.OpConcatenation:   ruleCalibrated,

	// Elementwise and reductions, as the TFLite converter quantizes them:
	// MINIMUM, MAXIMUM, REDUCE_MAX and REDUCE_MIN copy values, so inputs and
	// output share one scale; TANH has a fixed output scale; comparisons
	// and ARG_MAX/ARG_MIN read integers and give bools or indices.
	graph.OpMul:               ruleCalibrated,
	graph.OpSub:               ruleCalibrated,
	graph.OpSquaredDifference: ruleCalibrated,
	graph.OpPrelu:             ruleCalibrated,
	graph.OpAbs:               ruleCalibrated,
	graph.OpRsqrt:             ruleCalibrated,
	graph.OpLogSoftmax:        ruleLogSoftmax,
	graph.OpHardSwish:         ruleCalibrated,
	graph.OpGelu:              ruleCalibrated,
	graph.OpElu:               ruleCalibrated,
	graph.OpReluN1To1:         ruleCalibrated,
	graph.OpRelu0To1:          ruleCalibrated,
	graph.OpSum:               ruleCalibrated,
	graph.OpTanh:              ruleTanh,
	graph.OpL2Normalization:   ruleTanh,
	graph.OpMinimum:           ruleInput,
	graph.OpMaximum:           ruleInput,
	graph.OpReduceMax:         ruleInput,
	graph.OpReduceMin:         ruleInput,
	graph.OpLess:              ruleIndex,
	graph.OpLessEqual:         ruleIndex,
	graph.OpGreater:           ruleIndex,
	graph.OpGreaterEqual:      ruleIndex,
	graph.OpEqual:             ruleIndex,
	graph.OpNotEqual:          ruleIndex,
	graph.OpArgMax:            ruleIndex,
	graph.OpArgMin:            ruleIndex,
	// No int8 kernel in the TFLite runtime (DIV is uint8 only; EXP, POW,
	// FLOOR_DIV ... are float): they stay float, and ops on bools
	// and indices keep their dtypes.
	graph.OpDiv: ruleFloat, graph.OpExp: ruleFloat, graph.OpLog: ruleFloat, graph.OpPow: ruleFloat,
	graph.OpSqrt: ruleFloat, graph.OpSquare: ruleFloat, graph.OpNeg: ruleFloat,
	graph.OpSin: ruleFloat, graph.OpCos: ruleFloat, graph.OpFloor: ruleFloat, graph.OpCeil: ruleFloat,
	graph.OpRound: ruleFloat, graph.OpSign: ruleFloat, graph.OpFloorDiv: ruleFloat, graph.OpFloorMod: ruleFloat,
	graph.OpAddN: ruleFloat, graph.OpCast: ruleFloat, graph.OpZerosLike: ruleFloat, graph.OpSelect: ruleFloat,
	graph.OpSelectV2: ruleFloat, graph.OpLogicalAnd: ruleFloat, graph.OpLogicalOr: ruleFloat,
	graph.OpLogicalNot: ruleFloat, graph.OpReduceProd: ruleFloat, graph.OpReduceAny: ruleFloat,
	// The converter's quantizer has no quantized form of these (they fall
	// to operator_property's default, "not quantizable"), though TFLite
	// kernels move int8 for some: they stay float as the converter leaves
	// them, their index inputs and outputs (BUCKETIZE's, ONE_HOT's
	// indices, segment ids) keep their integer dtypes.
	graph.OpAtan2: ruleFloat, graph.OpCumsum: ruleFloat, graph.OpOneHot: ruleFloat,
	graph.OpReverseSequence: ruleFloat, graph.OpMatrixDiag: ruleFloat, graph.OpMatrixSetDiag: ruleFloat,
	graph.OpBucketize: ruleFloat, graph.OpUnsortedSegmentSum: ruleFloat, graph.OpUnsortedSegmentMax: ruleFloat,
	graph.OpUnsortedSegmentMin: ruleFloat, graph.OpUnsortedSegmentProd: ruleFloat,
	graph.OpDynamicUpdateSlice: ruleFloat, graph.OpLocalResponseNormalization: ruleFloat,
	graph.OpEmbeddingLookup: ruleFloat,
	// UNIDIRECTIONAL_SEQUENCE_LSTM becomes the converter's integer 8x8->16
	// LSTM (lstm.go), SVDF its integer SVDF (svdf.go); where they cannot,
	// they keep float (their state tensors copied as float variables).
	graph.OpUnidirectionalSequenceLSTM: ruleSequence, graph.OpSVDF: ruleSequence,
	// TFLite_Detection_PostProcess stays float as the converter leaves it:
	// its inputs are dequantized and its four outputs are float32.
	graph.OpDetectionPostProcess: ruleFloat,
	// Layout ops copy values: the output takes its data input's parameters
	// (PACK's other inputs are requantized to them when they differ).
	graph.OpSqueeze: ruleInput, graph.OpExpandDims: ruleInput, graph.OpTranspose: ruleInput,
	graph.OpSplit: ruleInput, graph.OpSplitV: ruleInput, graph.OpPack: ruleInput, graph.OpUnpack: ruleInput,
	graph.OpSlice: ruleInput, graph.OpStridedSlice: ruleInput, graph.OpTile: ruleInput,
	graph.OpGather: ruleInput, graph.OpGatherND: ruleInput, graph.OpBroadcastTo: ruleInput,
	graph.OpMirrorPad: ruleInput, graph.OpReverseV2: ruleInput, graph.OpSpaceToBatchND: ruleInput,
	graph.OpBatchToSpaceND: ruleInput, graph.OpSpaceToDepth: ruleInput, graph.OpDepthToSpace: ruleInput,
	// Image and matrix ops: a resize interpolates stored integers, so its
	// output keeps the input's parameters; TRANSPOSE_CONV has weights and
	// a bias like CONV_2D (per output channel, axis 0); BATCH_MATMUL
	// quantizes both operands per tensor, a constant one with its own
	// range, and calibrates its output like FULLY_CONNECTED; L2_POOL_2D has
	// only a float kernel in TFLite.
	graph.OpResizeBilinear: ruleInput, graph.OpResizeNearestNeighbor: ruleInput,
	graph.OpTransposeConv: ruleCalibrated, graph.OpBatchMatMul: ruleCalibrated, graph.OpL2Pool2D: ruleFloat,
}

// noInt16 are the ops above without an int16 kernel in TFLite: in 16x8
// mode they stay float.
var noInt16 = map[graph.OpKind]bool{
	graph.OpSquaredDifference: true, graph.OpPrelu: true, graph.OpHardSwish: true, graph.OpGelu: true,
	graph.OpElu: true, graph.OpReluN1To1: true, graph.OpRelu0To1: true, graph.OpSum: true,
	graph.OpLess: true, graph.OpLessEqual: true, graph.OpGreater: true, graph.OpGreaterEqual: true,
	graph.OpEqual: true, graph.OpNotEqual: true, graph.OpArgMax: true, graph.OpArgMin: true,
	graph.OpL2Normalization: true, graph.OpRsqrt: true, graph.OpLogSoftmax: true,
	// Layout ops the oracle's TFLite has no int16 kernel for.
	graph.OpTile: true, graph.OpMirrorPad: true, graph.OpSpaceToBatchND: true, graph.OpBatchToSpaceND: true,
	graph.OpSpaceToDepth: true, graph.OpDepthToSpace: true,
}

// floatWhy says why an op of kind k has no integer form in a quantized model.
func floatWhy(k graph.OpKind) string {
	switch k {
	case graph.OpDetectionPostProcess:
		return "the converter leaves it float"
	}
	if r, ok := supportedOps[k]; ok && r != ruleFloat {
		return "no int16 kernel in TFLite"
	}
	return "no integer kernel in the TFLite runtime (or none in qbench yet)"
}

// ruleOf is how op is quantized in this run (ok false: no rule at all).
func (r *rewriter) ruleOf(op *graph.Op) (outRule, bool) {
	rule, ok := supportedOps[op.Kind]
	if ok && r.act == graph.Int16 && noInt16[op.Kind] {
		rule = ruleFloat
	}
	return rule, ok
}

// dataInput is the position of the input whose values an op moves (SPLIT
// takes its axis first).
func dataInput(op *graph.Op) int {
	if op.Kind == graph.OpSplit {
		return 1
	}
	return 0
}

// Apply rewrites float graph g into a quantized graph using the statistics
// in cal. g is not modified.
func Apply(g *graph.Graph, cal *Calibration, opts Options) (*graph.Graph, *Report, error) {
	if err := opts.normalize(); err != nil {
		return nil, nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, nil, err
	}
	// Calibrate folded the same way; tensor indices are unchanged by it.
	g, _, err := interp.Fold(g)
	if err != nil {
		return nil, nil, err
	}
	if cal == nil && opts.Fixed != nil {
		cal = &Calibration{Hists: make([]*Histogram, len(g.Tensors))}
	}
	if cal == nil || len(cal.Hists) != len(g.Tensors) {
		return nil, nil, fmt.Errorf("calibration does not match the graph (%d tensors)", len(g.Tensors))
	}
	r := &rewriter{g: g, cal: cal, opts: opts, keep: map[int]bool{}, lstm: map[*graph.Op]*lstmPlan{},
		svdf: map[*graph.Op]*svdfPlan{}}
	r.act, r.qmin, r.qmax = opts.actType()
	for _, i := range opts.KeepFloat {
		if i < 0 || i >= len(g.Ops) {
			return nil, nil, fmt.Errorf("keep-float op index %d out of range [0,%d)", i, len(g.Ops))
		}
		r.keep[i] = true
	}
	if err := r.assignParams(); err != nil {
		return nil, nil, err
	}
	if err := r.build(); err != nil {
		return nil, nil, err
	}
	if err := r.ng.Validate(); err != nil {
		return nil, nil, fmt.Errorf("quantized graph: %w", err)
	}
	rep := r.report()
	return r.ng, rep, nil
}

// rewriter holds the state of one Apply call.
type rewriter struct {
	floatOps   []string       // ops kept float by rule, with why (Report.FloatOps)
	notes      []string       // Report.Notes
	stateRows  []TensorReport // sequence ops' states and hidden intermediates (Report.Tensors)
	g          *graph.Graph
	cal        *Calibration
	opts       Options
	keep       map[int]bool
	act        graph.DType
	qmin, qmax int

	params []*graph.Quantization // activation parameters per float tensor
	ranges []Range               // chosen (pre-nudge) range per tensor
	source []string
	prodOp []string

	ng       *graph.Graph
	floatIdx []int // new index of the float version of each tensor
	qIdx     []int // new index of the integer version
	isOutput []bool
	lstm     map[*graph.Op]*lstmPlan // integer LSTMs (planLSTM)
	svdf     map[*graph.Op]*svdfPlan // integer SVDFs (planSVDF)
}

// assignParams chooses scale and zero point for every activation tensor in
// op order, so pass-through ops can copy their input's parameters.
func (r *rewriter) assignParams() error {
	g := r.g
	n := len(g.Tensors)
	r.params = make([]*graph.Quantization, n)
	r.ranges = make([]Range, n)
	r.source = make([]string, n)
	r.prodOp = make([]string, n)
	for _, in := range g.Inputs {
		t := g.Tensors[in]
		if t.DType != graph.Float32 {
			return fmt.Errorf("graph input %q is %s; quantization needs a float32 model", t.Name, t.DType)
		}
		r.prodOp[in] = "INPUT"
		if err := r.calibrated(in); err != nil {
			return err
		}
	}
	for oi, op := range g.Ops {
		rule, ok := r.ruleOf(op)
		if !ok && !r.keep[oi] {
			return fmt.Errorf("op %d (%s): %w (no integer kernel); keep it float or remove it", oi, op.Kind, ErrUnsupported)
		}
		why := floatWhy(op.Kind)
		if rule == ruleSequence && !r.keep[oi] {
			rule = ruleCalibrated
			var reason string
			if op.Kind == graph.OpSVDF {
				var plan *svdfPlan
				if plan, reason = r.planSVDF(op); plan != nil {
					r.svdf[op] = plan
				}
			} else {
				var plan *lstmPlan
				if plan, reason = r.planLSTM(oi, op); plan != nil {
					r.lstm[op] = plan
				}
			}
			if reason != "" {
				rule, why = ruleFloat, reason+"; it runs float between DEQUANTIZE and QUANTIZE, its state tensors float"
			}
		}
		if rule == ruleFloat {
			if !r.keep[oi] {
				r.floatOps = append(r.floatOps, fmt.Sprintf("op %d (%s) stays float32: %s", oi, op.Kind, why))
			}
			r.keep[oi] = true
		}
		for k, in := range op.Inputs {
			if t := g.Tensor(in); t != nil && !t.IsConst() && t.DType != graph.Float32 && !r.keep[oi] && (rule != ruleIndex || k == 0) {
				return fmt.Errorf("op %d (%s): input %q is %s; quantization needs a float32 model", oi, op.Kind, t.Name, t.DType)
			}
		}
		for _, out := range op.Outputs {
			r.prodOp[out] = op.Kind.String()
			if g.Tensors[out].DType != graph.Float32 && (r.keep[oi] || rule == ruleIndex) {
				continue // bools, indices: no quantization
			}
			if g.Tensors[out].DType != graph.Float32 {
				return fmt.Errorf("op %d (%s): output %q is %s; quantization needs a float32 model", oi, op.Kind, g.Tensors[out].Name, g.Tensors[out].DType)
			}
			if r.keep[oi] {
				rule = ruleCalibrated
			}
			if p := r.opts.Fixed[g.Tensors[out].Name]; p != nil {
				r.setFixed(out, p)
				continue
			}
			switch rule {
			case ruleInput:
				if dataInput(op) >= len(op.Inputs) {
					return fmt.Errorf("op %d (%s): data input %d is missing", oi, op.Kind, dataInput(op))
				}
				in := op.Inputs[dataInput(op)]
				if in < 0 || r.params[in] == nil {
					return fmt.Errorf("op %d (%s): input %q has no quantization parameters", oi, op.Kind, g.Tensors[in].Name)
				}
				r.params[out] = r.params[in].Clone()
				r.ranges[out] = r.ranges[in]
				r.source[out] = "input"
			case ruleTanh:
				if r.act == graph.Int16 {
					r.params[out] = &graph.Quantization{Scale: []float32{1.0 / 32768}, ZeroPoint: []int64{0}}
				} else {
					r.params[out] = &graph.Quantization{Scale: []float32{1.0 / 128}, ZeroPoint: []int64{0}}
				}
				r.source[out] = "fixed"
			case ruleLogSoftmax:
				r.params[out] = &graph.Quantization{Scale: []float32{16.0 / 256}, ZeroPoint: []int64{int64(r.qmax)}}
				r.source[out] = "fixed"
			case ruleFixed:
				if r.act == graph.Int16 {
					r.params[out] = &graph.Quantization{Scale: []float32{1.0 / 32768}, ZeroPoint: []int64{0}}
				} else {
					r.params[out] = &graph.Quantization{Scale: []float32{1.0 / 256}, ZeroPoint: []int64{-128}}
				}
				r.source[out] = "fixed"
			default:
				if err := r.calibrated(out); err != nil {
					return fmt.Errorf("op %d (%s): %w", oi, op.Kind, err)
				}
			}
		}
	}
	return nil
}

// setFixed uses given parameters for tensor t.
func (r *rewriter) setFixed(t int, p *graph.Quantization) {
	r.params[t] = &graph.Quantization{Scale: p.Scale[:1:1], ZeroPoint: []int64{0}}
	if len(p.ZeroPoint) > 0 {
		r.params[t].ZeroPoint[0] = p.ZeroPoint[0]
	}
	r.source[t] = "fixed"
}

// calibrated sets tensor t's parameters from its histogram (or Options.Fixed).
func (r *rewriter) calibrated(t int) error {
	if p := r.opts.Fixed[r.g.Tensors[t].Name]; p != nil {
		r.setFixed(t, p)
		return nil
	}
	h := r.cal.Hists[t]
	if h == nil || h.Count == 0 {
		return fmt.Errorf("tensor %q: no calibration data", r.g.Tensors[t].Name)
	}
	sym := r.act == graph.Int16
	rg := ChooseRange(h, r.opts.Method, r.opts.Percentile, r.qmin, r.qmax, sym)
	r.ranges[t] = rg
	r.source[t] = r.opts.Method.String()
	if sym {
		s := SymmetricParams(math.Max(-rg.Min, rg.Max), r.qmax)
		r.params[t] = &graph.Quantization{Scale: []float32{float32(s)}, ZeroPoint: []int64{0}}
		return nil
	}
	s, zp := AsymmetricParams(rg.Min, rg.Max, r.qmin, r.qmax)
	r.params[t] = &graph.Quantization{Scale: []float32{float32(s)}, ZeroPoint: []int64{zp},
		Min: []float32{float32(rg.Min)}, Max: []float32{float32(rg.Max)}}
	return nil
}

// report lists every activation tensor with parameters.
func (r *rewriter) report() *Report {
	rep := &Report{
		Method: r.opts.Method.String(), Mode: r.opts.Mode.String(), IO: ioName(r.opts.IO),
		PerTensor: r.opts.PerTensor, BiasCorr: r.opts.BiasCorrection,
		KeepFloat: append([]int(nil), r.opts.KeepFloat...), FloatOps: r.floatOps, Notes: r.notes, Samples: r.cal.Samples,
		QuantIndex: append([]int(nil), r.qIdx...),
	}
	if r.opts.Method == Percentile {
		rep.Percentile = r.opts.Percentile
	}
	for t, p := range r.params {
		if p == nil {
			continue
		}
		h := r.cal.Hists[t]
		s, zp := float64(p.Scale[0]), p.ZeroPoint[0]
		tr := TensorReport{
			Name: r.g.Tensors[t].Name, Tensor: t, QuantTensor: r.qIdx[t], Op: r.prodOp[t],
			Scale: s, ZeroPoint: zp, Source: r.source[t], ChosenMin: r.ranges[t].Min, ChosenMax: r.ranges[t].Max,
			RangeMin: s * float64(int64(r.qmin)-zp), RangeMax: s * float64(int64(r.qmax)-zp),
		}
		if tr.Source == "fixed" {
			// A fixed range (softmax [0, 1], tanh [-1, 1]) is the function's
			// own; its grid stops one step below the top, so 1.0 rounds into
			// the top level rather than being clipped.
			tr.ChosenMin, tr.ChosenMax = tr.RangeMin, tr.RangeMax+s
		}
		if h != nil && h.Count > 0 {
			tr.ObservedMin, tr.ObservedMax, tr.Count = h.Min, h.Max, h.Count
			tr.ClippedFraction = h.FractionOutside(tr.ChosenMin, tr.ChosenMax)
			beyondGrid := h.FractionOutside(math.Max(tr.RangeMin, tr.ChosenMin), math.Min(tr.RangeMax, tr.ChosenMax))
			tr.EndLevelFraction = math.Max(0, beyondGrid-tr.ClippedFraction)
		}
		rep.Tensors = append(rep.Tensors, tr)
	}
	rep.Tensors = append(rep.Tensors, r.stateRows...)
	return rep
}

// addStateRow reports the quantization of a sequence op's state or
// intermediate: what calibration observed (h, may be nil), the chosen
// range [lo, hi] and the integer grid [qmin, qmax] of scale and zp.
func (r *rewriter) addStateRow(name string, tensor, quantTensor int, op string, h *Histogram, lo, hi, scale float64,
	zp int64, qmin, qmax int, source string) {
	tr := TensorReport{Name: name, Tensor: tensor, QuantTensor: quantTensor, Op: op, ChosenMin: lo, ChosenMax: hi,
		RangeMin: scale * float64(int64(qmin)-zp), RangeMax: scale * float64(int64(qmax)-zp), Scale: scale, ZeroPoint: zp,
		Source: source}
	if h != nil && h.Count > 0 {
		tr.ObservedMin, tr.ObservedMax, tr.Count = h.Min, h.Max, h.Count
		tr.ClippedFraction = h.FractionOutside(lo, hi)
		beyondGrid := h.FractionOutside(math.Max(tr.RangeMin, lo), math.Min(tr.RangeMax, hi))
		tr.EndLevelFraction = math.Max(0, beyondGrid-tr.ClippedFraction)
	}
	r.stateRows = append(r.stateRows, tr)
}

func ioName(d graph.DType) string {
	if d == graph.Float32 {
		return "float"
	}
	return d.String()
}
