package explain

import (
	"context"
	"slices"
	"testing"

	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestSuffixMatchesFullModel: for every op of seed-cnn quantized alone,
// the suffix fed by the float model predicts exactly what the whole mixed
// model predicts, and the suffix of a late layer is much smaller.
func TestSuffixMatchesFullModel(t *testing.T) {
	f, q, xs, _, labels := seedCNNCase(t, 5)
	s := &session{f: f, q: q, opts: Options{Rounding: fixedpoint.RuntimeRounding, Threads: 2}, res: &Result{}}
	s.matches, _, _ = MatchTensors(f, q)
	fprog, err := interp.Compile(f, interp.Options{KeepAll: true})
	if err != nil {
		t.Fatal(err)
	}
	cut := 0
	for op := range f.Ops {
		var keep []int
		for oi := range f.Ops {
			if oi != op {
				keep = append(keep, oi)
			}
		}
		g, err := s.mixed(keep, s.baseOptions())
		if err != nil {
			t.Fatalf("op %d: %v", op, err)
		}
		sp := newSuffix(f, g, interp.Options{Rounding: s.opts.Rounding})
		if sp == nil {
			continue
		}
		cut++
		full, err := interp.Compile(g, interp.Options{Rounding: s.opts.Rounding})
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range xs {
			if !sp.agrees(full, fprog, x) {
				t.Errorf("op %d (%s): suffix differs from the whole model on sample %d", op, f.Ops[op].Kind, i)
			}
		}
		if op == len(f.Ops)-1 && len(sp.prog.Graph().Ops) > 3 {
			t.Errorf("last op's suffix has %d ops", len(sp.prog.Graph().Ops))
		}
	}
	t.Logf("%d of %d ops gave a suffix", cut, len(f.Ops))
	if cut < len(f.Ops)/2 {
		t.Errorf("only %d of %d ops gave a suffix", cut, len(f.Ops))
	}

	// attributionPredictions agrees with running each whole model.
	s.data = SliceData(xs, labels)
	var layers []Layer
	for i, m := range s.matches {
		if m.FloatOp >= 0 && i%3 == 0 {
			layers = append(layers, Layer{Name: m.Name, FloatOp: m.FloatOp})
		}
	}
	keepAll := func(int) bool { return true }
	preds, gotLabels, err := s.attributionPredictions(context.Background(), layers, keepAll)
	if err != nil || preds == nil {
		t.Fatalf("attribution: %v %v", err, s.res.Notes)
	}
	if !slices.Equal(gotLabels, labels) {
		t.Fatalf("labels %v", gotLabels)
	}
	for li, L := range layers {
		var keep []int
		for oi := range f.Ops {
			if oi != L.FloatOp {
				keep = append(keep, oi)
			}
		}
		g, _ := s.mixed(keep, s.baseOptions())
		want, _, err := s.runPredictions(context.Background(), g, nil, "check")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(preds[li], want) {
			t.Errorf("%s: predictions %v, whole model %v", L.Name, preds[li], want)
		}
	}
}
