package quant

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/tflite"
)

func f32t(name string, shape []int, v ...float32) *graph.Tensor {
	return &graph.Tensor{Name: name, Shape: shape, DType: graph.Float32, Data: graph.EncodeFloat32s(v)}
}

// extraNet is a float model over x [1,4,6] with the ops quantize gives an
// integer form (LOG_SOFTMAX, TANH, RSQRT of ABS(x)+0.5) next to the ones it keeps
// float as the converter does (CUMSUM, ATAN2, REVERSE_SEQUENCE,
// MATRIX_SET_DIAG, MATRIX_DIAG, DYNAMIC_UPDATE_SLICE, UNSORTED_SEGMENT_SUM,
// BUCKETIZE → ONE_HOT, LOCAL_RESPONSE_NORMALIZATION), all concatenated
// into one output [1,4,120].
func extraNet() *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(act("input", 1, 4, 6))
	var parts []int
	unit := func(name string, kind graph.OpKind, ins []int, opts any) int {
		y := g.AddTensor(act(name, 1, 4, 6))
		g.AddOp(kind, ins, []int{y}, opts)
		parts = append(parts, y)
		return y
	}
	unit("log_softmax", graph.OpLogSoftmax, []int{x}, nil)
	unit("tanh", graph.OpTanh, []int{x}, nil)
	ab := g.AddTensor(act("abs", 1, 4, 6))
	g.AddOp(graph.OpAbs, []int{x}, []int{ab}, nil)
	h := g.AddTensor(act("abs_plus", 1, 4, 6))
	g.AddOp(graph.OpAdd, []int{ab, g.AddTensor(f32t("half", []int{1}, 0.5))}, []int{h}, &graph.AddOptions{})
	unit("rsqrt", graph.OpRsqrt, []int{h}, nil)
	unit("cumsum", graph.OpCumsum, []int{x, g.AddTensor(i32t("cum_axis", nil, 2))}, &graph.CumsumOptions{})
	unit("atan2", graph.OpAtan2, []int{x, h}, nil)
	unit("reverse_seq", graph.OpReverseSequence, []int{x, g.AddTensor(i32t("seq_len", nil, 3))}, &graph.ReverseSequenceOptions{SeqDim: 1, BatchDim: 0})
	unit("set_diag", graph.OpMatrixSetDiag, []int{x, g.AddTensor(f32t("diag", []int{1, 4}, 0.25, -0.5, 0.75, -1))}, nil)
	unit("update_slice", graph.OpDynamicUpdateSlice, []int{x, g.AddTensor(f32t("update", []int{1, 2, 3}, 1, -1, 0.5, -0.5, 2, -2)),
		g.AddTensor(i32t("start", nil, 0, 1, 2))}, nil)
	unit("segment_sum", graph.OpUnsortedSegmentSum, []int{x, g.AddTensor(i32t("seg_ids", nil, 0)), g.AddTensor(i32t("num_seg", nil, 1))}, nil)
	bk := g.AddTensor(&graph.Tensor{Name: "buckets", DType: graph.Int32, Shape: []int{1, 4, 6}})
	g.AddOp(graph.OpBucketize, []int{x}, []int{bk}, &graph.BucketizeOptions{Boundaries: []float32{-0.5, 0, 0.5}})
	oh := g.AddTensor(act("one_hot", 1, 4, 6, 4))
	g.AddOp(graph.OpOneHot, []int{bk, g.AddTensor(i32t("depth", []int{}, 4)), g.AddTensor(f32t("on", []int{}, 1)),
		g.AddTensor(f32t("off", []int{}, 0))}, []int{oh}, &graph.OneHotOptions{Axis: -1})
	ohr := g.AddTensor(act("one_hot_rows", 1, 4, 24))
	g.AddOp(graph.OpReshape, []int{oh, g.AddTensor(i32t("oh_shape", nil, 1, 4, 24))}, []int{ohr}, &graph.ReshapeOptions{NewShape: []int{1, 4, 24}})
	parts = append(parts, ohr)
	x4 := g.AddTensor(act("x4", 1, 1, 4, 6))
	g.AddOp(graph.OpReshape, []int{x, g.AddTensor(i32t("x4_shape", nil, 1, 1, 4, 6))}, []int{x4}, &graph.ReshapeOptions{NewShape: []int{1, 1, 4, 6}})
	lrn := g.AddTensor(act("lrn", 1, 1, 4, 6))
	g.AddOp(graph.OpLocalResponseNormalization, []int{x4}, []int{lrn}, &graph.LRNOptions{Radius: 2, Bias: 1, Alpha: 0.5, Beta: 0.75})
	lr := g.AddTensor(act("lrn_rows", 1, 4, 6))
	g.AddOp(graph.OpReshape, []int{lrn, g.AddTensor(i32t("lrn_shape", nil, 1, 4, 6))}, []int{lr}, &graph.ReshapeOptions{NewShape: []int{1, 4, 6}})
	parts = append(parts, lr)
	md := g.AddTensor(act("diag_matrix", 1, 4, 6, 6))
	g.AddOp(graph.OpMatrixDiag, []int{x}, []int{md}, nil)
	mdr := g.AddTensor(act("diag_rows", 1, 4, 36))
	g.AddOp(graph.OpReshape, []int{md, g.AddTensor(i32t("md_shape", nil, 1, 4, 36))}, []int{mdr}, &graph.ReshapeOptions{NewShape: []int{1, 4, 36}})
	parts = append(parts, mdr)
	out := g.AddTensor(act("output", 1, 4, 120))
	g.AddOp(graph.OpConcatenation, parts, []int{out}, &graph.ConcatenationOptions{Axis: 2})
	g.Inputs, g.Outputs = []int{x}, []int{out}
	return g
}

// TestQuantizeExtraOpsMatchTFLite: quantize gives LOG_SOFTMAX (int8 at the
// converter's fixed 16/256, zero point 127), RSQRT and TANH (int16 too)
// integer forms and keeps
// the ops the converter cannot quantize float; the TFLite oracle runs the
// result (int8 and 16x8, integer and float I/O) bit-identical with qbench.
func TestQuantizeExtraOpsMatchTFLite(t *testing.T) {
	r, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	for _, o := range []Options{{IO: graph.Int8}, {IO: graph.Float32}, {IO: graph.Int16, Mode: Mode16x8}} {
		name := fmt.Sprintf("%s/%s", o.Mode, o.IO)
		g := extraNet()
		if err := graph.InferShapes(g, nil); err != nil {
			t.Fatal(err)
		}
		q, rep, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 32, 3)), o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		kinds := map[graph.OpKind]graph.DType{}
		for _, op := range q.Ops {
			kinds[op.Kind] = q.Tensors[op.Outputs[0]].DType
		}
		wantInt := []graph.OpKind{graph.OpAbs, graph.OpConcatenation, graph.OpTanh}
		if o.Mode != Mode16x8 {
			wantInt = append(wantInt, graph.OpLogSoftmax, graph.OpRsqrt)
			p := ParamsOf(q)["log_softmax"]
			if p == nil || p.Scale[0] != 16.0/256 || p.ZeroPoint[0] != 127 {
				t.Errorf("%s: LOG_SOFTMAX output parameters %v, want 16/256 and 127", name, p)
			}
		}
		for _, k := range wantInt {
			if dt, ok := kinds[k]; !ok || dt == graph.Float32 {
				t.Errorf("%s: %s is not integer in the quantized model (%v)", name, k, dt)
			}
		}
		for _, k := range []graph.OpKind{graph.OpCumsum, graph.OpAtan2, graph.OpReverseSequence, graph.OpMatrixSetDiag,
			graph.OpDynamicUpdateSlice, graph.OpUnsortedSegmentSum, graph.OpOneHot, graph.OpLocalResponseNormalization, graph.OpMatrixDiag} {
			if dt, ok := kinds[k]; !ok || dt != graph.Float32 {
				t.Errorf("%s: %s output is %v (present %v), want float32 (the converter keeps it float)", name, k, dt, ok)
			}
		}
		if len(rep.FloatOps) == 0 {
			t.Errorf("%s: the report names no float ops", name)
		}
		path := filepath.Join(t.TempDir(), "q.tflite")
		if err := tflite.WriteFile(path, q); err != nil {
			t.Fatal(err)
		}
		back, err := tflite.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		eval := randomSamples(g, 16, 5)
		raw := rawInputs(back, eval)
		want := runRaw(t, back, raw, len(eval))
		got, err := r.Run(path, raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(want, got) {
			n := 0
			for i := range want {
				if i < len(got) && want[i] != got[i] {
					n++
				}
			}
			t.Errorf("%s: qbench and the oracle differ in %d of %d bytes", name, n, len(want))
			continue
		}
		t.Logf("%s: %d bytes over %d samples identical with the oracle", name, len(want), len(eval))
	}
}
