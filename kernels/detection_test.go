package kernels

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/tflite"
)

// detModel is one TFLite_Detection_PostProcess oracle model: input x
// [1, N, 4+C] split (SPLIT_V on the last axis) into box encodings and
// scores, constant anchors, the op's four outputs as the model's outputs.
type detModel struct {
	g                      *graph.Graph
	x                      *graph.Tensor
	op                     *graph.Op
	n, ncwb                int
	boxes, scores, anchors *graph.Tensor
	opts                   *graph.DetectionPostProcessOptions
}

// detBuild draws a model: float32 or uint8 (x, boxes, scores and anchors
// all uint8, each with its own quantization, as TFLite's uint8 SSD models
// have them), regular or fast NMS, random sizes and options.
func detBuild(r *rand.Rand, dt graph.DType, regular bool) *detModel {
	n := []int{1, 3, 8, 20, 40}[r.IntN(5)]
	nc := 1 + r.IntN(5)
	off := r.IntN(2)
	ncwb := nc + off
	o := &graph.DetectionPostProcessOptions{
		MaxDetections:          1 + r.IntN(12),
		MaxClassesPerDetection: 1 + r.IntN(3),
		DetectionsPerClass:     1 + r.IntN(n+2),
		NumClasses:             nc,
		NMSScoreThreshold:      []float32{0, 0.1, 0.3, 0.5}[r.IntN(4)],
		NMSIoUThreshold:        []float32{0.2, 0.45, 0.6, 1}[r.IntN(4)],
		YScale:                 10, XScale: 10, HScale: 5, WScale: 5,
		UseRegularNMS: regular,
	}
	if r.IntN(2) == 0 {
		o.YScale, o.XScale = float32(1+9*r.Float64()), float32(1+9*r.Float64())
		o.HScale, o.WScale = float32(1+9*r.Float64()), float32(1+9*r.Float64())
	}
	g := &graph.Graph{}
	q := func(scale float32, zp int64) *graph.Quantization {
		if dt != graph.UInt8 {
			return nil
		}
		return &graph.Quantization{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
	x := &graph.Tensor{Name: "x", DType: dt, Shape: []int{1, n, 4 + ncwb}, Quant: q(0.05, 128)}
	boxes := &graph.Tensor{Name: "boxes", DType: dt, Shape: []int{1, n, 4},
		Quant: q(float32(0.01+0.1*r.Float64()), int64(100+r.IntN(56)))}
	scores := &graph.Tensor{Name: "scores", DType: dt, Shape: []int{1, n, ncwb},
		Quant: q([]float32{1.0 / 256, 1.0 / 255, float32(0.002 + 0.01*r.Float64())}[r.IntN(3)], int64(r.IntN(3)))}
	anchors := &graph.Tensor{Name: "anchors", DType: dt, Shape: []int{n, 4}}
	if dt == graph.UInt8 {
		zp := int64(r.IntN(20))
		anchors.Quant = q(float32(1.0/255+0.005*r.Float64()), zp)
		a := make([]byte, 4*n)
		for i := range a {
			a[i] = byte(int(zp) + r.IntN(256-int(zp)))
		}
		anchors.Data = a
	} else {
		a := make([]float32, 4*n)
		for i := range n {
			a[4*i], a[4*i+1] = float32(r.Float64()), float32(r.Float64())
			a[4*i+2], a[4*i+3] = float32(0.02+0.5*r.Float64()), float32(0.02+0.5*r.Float64())
		}
		anchors.Data = graph.EncodeFloat32s(a)
	}
	xi, bi, si, ai := g.AddTensor(x), g.AddTensor(boxes), g.AddTensor(scores), g.AddTensor(anchors)
	split := g.AddTensor(&graph.Tensor{Name: "sizes", DType: graph.Int32, Shape: []int{2}, Data: graph.EncodeInt32s([]int32{4, int32(ncwb)})})
	axis := g.AddTensor(&graph.Tensor{Name: "axis", DType: graph.Int32, Shape: []int{}, Data: graph.EncodeInt32s([]int32{2})})
	g.AddOp(graph.OpSplitV, []int{xi, split, axis}, []int{bi, si}, &graph.SplitOptions{NumSplits: 2})
	d := o.MaxDetections * o.MaxClassesPerDetection
	var outs []int
	for i, s := range [][]int{{1, d, 4}, {1, d}, {1, d}, {1}} {
		outs = append(outs, g.AddTensor(&graph.Tensor{Name: []string{"det_boxes", "det_classes", "det_scores", "num"}[i], DType: graph.Float32, Shape: s}))
	}
	op := g.AddOp(graph.OpDetectionPostProcess, []int{bi, si, ai}, outs, o)
	g.Inputs, g.Outputs = []int{xi}, outs
	return &detModel{g: g, x: x, op: op, n: n, ncwb: ncwb, boxes: boxes, scores: scores, anchors: anchors, opts: o}
}

// detInput draws k samples of x: box encodings around 0 (y, x in ±2, h, w
// in ±1 as real values), scores in [0, 1], often from a few values so that
// ties are common; uint8 samples are random bytes (ties everywhere).
func detInput(r *rand.Rand, m *detModel, k int) []byte {
	var b []byte
	for range k {
		for range m.n {
			for c := range 4 + m.ncwb {
				if m.x.DType == graph.UInt8 {
					b = append(b, byte(r.IntN(256)))
					continue
				}
				var v float64
				switch {
				case c < 2:
					v = 4*r.Float64() - 2
				case c < 4:
					v = 2*r.Float64() - 1
				case r.IntN(3) == 0:
					v = float64(r.IntN(5)) / 4
				default:
					v = r.Float64()
				}
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
			}
		}
	}
	return b
}

// detRun runs the op in qbench on one sample of x (split as SPLIT_V does).
func detRun(t *testing.T, m *detModel, sample []byte) [][]float32 {
	t.Helper()
	es := m.x.DType.Size()
	w := 4 + m.ncwb
	var bb, sb []byte
	for i := range m.n {
		row := sample[i*w*es : (i+1)*w*es]
		bb = append(bb, row[:4*es]...)
		sb = append(sb, row[4*es:]...)
	}
	ins := []*Buffer{ewDecode(m.x.DType, m.boxes.Shape, bb), ewDecode(m.x.DType, m.scores.Shape, sb),
		ewDecode(m.anchors.DType, m.anchors.Shape, m.anchors.Data)}
	var outT []*graph.Tensor
	var outs []*Buffer
	for _, o := range m.op.Outputs {
		outT = append(outT, m.g.Tensors[o])
		outs = append(outs, ewAlloc(m.g.Tensors[o]))
	}
	k, err := PrepareWith(m.op, []*graph.Tensor{m.boxes, m.scores, m.anchors}, outT, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	r := make([][]float32, 4)
	for i, o := range outs {
		r[i] = o.F32
	}
	return r
}

// detDefined reports which output rows TFLite writes: regular NMS every
// row below max_detections, fast NMS the classes of each detection.
func detDefined(o *graph.DetectionPostProcessOptions, num int, row int) bool {
	if o.UseRegularNMS {
		return row < o.MaxDetections
	}
	return row/o.MaxClassesPerDetection < num && row%o.MaxClassesPerDetection < min(o.MaxClassesPerDetection, o.NumClasses)
}

// TestDetectionPostProcessMatchesTFLite runs random float32 and uint8
// models with fast and regular NMS in the real TFLite interpreter and in
// qbench: num_detections, classes and scores must be identical, boxes
// within 1e-5 of their range (they are exp in double, rounded to float32),
// on every row TFLite writes.
func TestDetectionPostProcessMatchesTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	models := 6
	if os.Getenv("QBENCH_ORACLE_ALL") == "1" {
		models = 40
	}
	const samples = 8
	dir := t.TempDir()
	var runs, agree, detections int
	for _, dt := range []graph.DType{graph.Float32, graph.UInt8} {
		for _, regular := range []bool{false, true} {
			for mi := range models {
				seed := uint64(dt)*1000 + uint64(mi)*2
				if regular {
					seed++
				}
				r := rand.New(rand.NewPCG(21, seed))
				m := detBuild(r, dt, regular)
				path := filepath.Join(dir, fmt.Sprintf("det-%d.tflite", seed))
				if err := tflite.WriteFile(path, m.g); err != nil {
					t.Fatal(err)
				}
				in := detInput(r, m, samples)
				want, err := or.RunAll(path, in)
				if err != nil {
					t.Fatalf("%s regular=%v model %d: %v", dt, regular, mi, err)
				}
				step := len(in) / samples
				for s := range samples {
					runs++
					got := detRun(t, m, in[s*step:(s+1)*step])
					if msg := detCompare(m, got, want, s); msg != "" {
						t.Errorf("%s regular=%v model %d sample %d %+v: %s", dt, regular, mi, s, *m.opts, msg)
						continue
					}
					agree++
					detections += int(got[3][0])
				}
			}
		}
	}
	t.Logf("%d of %d runs identical with TFLite (%d detections)", agree, runs, detections)
}

func detCompare(m *detModel, got [][]float32, want [][]byte, s int) string {
	dec := func(i int) []float32 {
		n := len(got[i])
		return ewDecode(graph.Float32, nil, want[i][s*4*n:(s+1)*4*n]).F32
	}
	w := [][]float32{dec(0), dec(1), dec(2), dec(3)}
	if got[3][0] != w[3][0] {
		return fmt.Sprintf("num_detections %g, want %g", got[3][0], w[3][0])
	}
	num := int(w[3][0])
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range w[0] {
		lo, hi = min(lo, float64(v)), max(hi, float64(v))
	}
	tol := 1e-5 * max(hi-lo, 1e-3)
	for row := range len(got[1]) {
		if !detDefined(m.opts, num, row) {
			continue
		}
		if got[1][row] != w[1][row] || got[2][row] != w[2][row] {
			return fmt.Sprintf("row %d: class %g score %g, want class %g score %g", row, got[1][row], got[2][row], w[1][row], w[2][row])
		}
		for c := range 4 {
			if math.Abs(float64(got[0][4*row+c]-w[0][4*row+c])) > tol {
				return fmt.Sprintf("row %d box %v, want %v", row, got[0][4*row:4*row+4], w[0][4*row:4*row+4])
			}
		}
	}
	return ""
}

// TestPartialSortDesc checks the libc++-style partial sort against a full
// sort on values with many ties: the first n hold the n largest values in
// decreasing order, and the whole slice stays a permutation.
func TestPartialSortDesc(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for range 2000 {
		m := 1 + r.IntN(30)
		vals := make([]float32, m)
		for i := range vals {
			vals[i] = float32(r.IntN(4))
		}
		n := r.IntN(m + 1)
		idx := make([]int, m)
		decreasingPartialArgSort(vals, n, idx)
		if n == 1 {
			if vals[idx[0]] != slices.Max(vals) || slices.Index(vals, vals[idx[0]]) != idx[0] {
				t.Fatalf("argmax of %v: %d", vals, idx[0])
			}
			continue
		}
		want := slices.Clone(vals)
		sort.Slice(want, func(i, j int) bool { return want[i] > want[j] })
		seen := make([]bool, m)
		for i, k := range idx {
			if seen[k] {
				t.Fatalf("%v: index %d twice in %v", vals, k, idx)
			}
			seen[k] = true
			if i < n && vals[k] != want[i] {
				t.Fatalf("%v n=%d: position %d holds %g, want %g (%v)", vals, n, i, vals[k], want[i], idx)
			}
		}
	}
}

// TestDetectionPostProcessSmall checks a hand-computed case: two
// overlapping boxes and a distant one, IoU 0.5 threshold.
func TestDetectionPostProcessSmall(t *testing.T) {
	g := &graph.Graph{}
	o := &graph.DetectionPostProcessOptions{MaxDetections: 3, MaxClassesPerDetection: 1, DetectionsPerClass: 3,
		NumClasses: 2, NMSScoreThreshold: 0.1, NMSIoUThreshold: 0.5, YScale: 1, XScale: 1, HScale: 1, WScale: 1}
	// Anchors (y, x, h, w); zero encodings decode to the anchors themselves.
	anchors := []float32{0.5, 0.5, 0.2, 0.2, 0.52, 0.5, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1}
	boxes := &graph.Tensor{Name: "b", DType: graph.Float32, Shape: []int{1, 3, 4}}
	scores := &graph.Tensor{Name: "s", DType: graph.Float32, Shape: []int{1, 3, 3}}
	at := &graph.Tensor{Name: "a", DType: graph.Float32, Shape: []int{3, 4}, Data: graph.EncodeFloat32s(anchors)}
	var outT []*graph.Tensor
	for _, s := range [][]int{{1, 3, 4}, {1, 3}, {1, 3}, {1}} {
		outT = append(outT, &graph.Tensor{DType: graph.Float32, Shape: s})
	}
	op := g.AddOp(graph.OpDetectionPostProcess, nil, nil, o)
	sc := []float32{0, 0.9, 0.2, 0, 0.8, 0.7, 0, 0.05, 0.6} // background first
	for _, regular := range []bool{false, true} {
		o.UseRegularNMS = regular
		k, err := PrepareWith(op, []*graph.Tensor{boxes, scores, at}, outT, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var outs []*Buffer
		for _, ot := range outT {
			outs = append(outs, ewAlloc(ot))
		}
		in := []*Buffer{{DType: graph.Float32, F32: make([]float32, 12)}, {DType: graph.Float32, F32: sc}, {DType: graph.Float32, F32: anchors}}
		if err := k.Run(in, outs); err != nil {
			t.Fatal(err)
		}
		// Fast: anchor 0 (0.9, class 0) suppresses anchor 1 (IoU 0.82);
		// anchor 2 (0.6, class 1). Regular: class 0 keeps anchor 0
		// (0.9), class 1 keeps anchors 1 (0.7) and 2 (0.6) (anchor 0's
		// 0.2 is suppressed by anchor 1 in class 1).
		wantClasses, wantScores, wantNum := []float32{0, 1, 0}, []float32{0.9, 0.6, 0}, float32(2)
		if regular {
			wantClasses, wantScores, wantNum = []float32{0, 1, 1}, []float32{0.9, 0.7, 0.6}, 3
		}
		if !slices.Equal(outs[1].F32, wantClasses) || !slices.Equal(outs[2].F32, wantScores) || outs[3].F32[0] != wantNum {
			t.Errorf("regular=%v: classes %v scores %v num %v, want %v %v %v", regular, outs[1].F32, outs[2].F32, outs[3].F32, wantClasses, wantScores, wantNum)
		}
		if b := outs[0].F32[:4]; math.Abs(float64(b[0]-0.4)) > 1e-6 || math.Abs(float64(b[3]-0.6)) > 1e-6 {
			t.Errorf("regular=%v: first box %v, want [0.4 0.4 0.6 0.6]", regular, b)
		}
	}
}

// TestDetectionPostProcessRefuses walks the dtypes: float32 and uint8
// prepare, int8 and int16 inputs (which TFLite's kernel fails on) and
// mixed box/anchor types are ErrUnsupported, and bad options are errors
// naming the option.
func TestDetectionPostProcessRefuses(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, dt := range []graph.DType{graph.Float32, graph.UInt8, graph.Int8, graph.Int16} {
		m := detBuild(r, graph.Float32, false)
		for _, tt := range []*graph.Tensor{m.boxes, m.scores, m.anchors} {
			tt.DType = dt
			if dt != graph.Float32 {
				tt.Quant = &graph.Quantization{Scale: []float32{0.1}, ZeroPoint: []int64{3}}
			}
		}
		var outT []*graph.Tensor
		for _, o := range m.op.Outputs {
			outT = append(outT, m.g.Tensors[o])
		}
		_, err := PrepareWith(m.op, []*graph.Tensor{m.boxes, m.scores, m.anchors}, outT, Options{})
		switch dt {
		case graph.Float32, graph.UInt8:
			if err != nil {
				t.Errorf("%s: %v", dt, err)
			}
		default:
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: %v, want ErrUnsupported", dt, err)
			}
		}
		if dt == graph.UInt8 {
			m.anchors.DType, m.anchors.Quant = graph.Float32, nil
			if _, err := PrepareWith(m.op, []*graph.Tensor{m.boxes, m.scores, m.anchors}, outT, Options{}); !errors.Is(err, ErrUnsupported) {
				t.Errorf("uint8 boxes, float anchors: %v, want ErrUnsupported", err)
			}
		}
	}
	m := detBuild(r, graph.Float32, true)
	var outT []*graph.Tensor
	for _, o := range m.op.Outputs {
		outT = append(outT, m.g.Tensors[o])
	}
	for name, mut := range map[string]func(o *graph.DetectionPostProcessOptions){
		"nms_iou_threshold":    func(o *graph.DetectionPostProcessOptions) { o.NMSIoUThreshold = 0 },
		"num_classes":          func(o *graph.DetectionPostProcessOptions) { o.NumClasses = 0 },
		"detections_per_class": func(o *graph.DetectionPostProcessOptions) { o.DetectionsPerClass = 0 },
	} {
		o := *m.opts
		mut(&o)
		op := *m.op
		op.Options = &o
		if _, err := PrepareWith(&op, []*graph.Tensor{m.boxes, m.scores, m.anchors}, outT, Options{}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
