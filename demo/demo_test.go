package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/dataset/synth"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/train"
)

// tinyPlan runs the whole pipeline in seconds: small images, a small
// network, one epoch. Same code path as the real scales.
func tinyPlan(seed int64) Plan {
	arch := train.SeedCNN(synth.NumClasses)
	arch.Input = [3]int{24, 24, 3}
	arch.Filters = []int{4, 8}
	arch.Dense = []int{16}
	return Plan{
		Name:              "tiny",
		Data:              synth.Config{Seed: seed, Size: 24, Recordings: 3, PerClass: 3, Verification: 1},
		Epochs:            1,
		BatchSize:         16,
		FullTrainFraction: 0.9,
		ValFraction:       0.1,
		CalibSamples:      20,
		Arch:              arch,
	}
}

func runTiny(t *testing.T, out, cache string) (*Result, string) {
	t.Helper()
	res, err := Run(context.Background(), Config{Plan: tinyPlan(3), OutDir: out, CacheDir: cache, Seed: 3, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, res); err != nil {
		t.Fatal(err)
	}
	return res, buf.String()
}

func TestDemoPipelineTiny(t *testing.T) {
	cache := t.TempDir()
	out := t.TempDir()
	res, summary := runTiny(t, out, cache)
	if res.DataReused {
		t.Error("first run reports a reused dataset")
	}
	for _, f := range []string{report.FileJSON, report.FileMarkdown, report.FileHTML, report.FilePredictions,
		"models/float-full.tflite", "models/int8-full.tflite", "models/float-verification.tflite", "models/int8-verification.tflite"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("artefact %s missing or empty: %v", f, err)
		}
	}
	js, err := os.ReadFile(filepath.Join(out, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := report.ValidateJSON(js); err != nil {
		t.Fatalf("report.json does not validate: %v", err)
	}
	// The output is staged beside out and renamed into place: the report
	// names the models where they are, and nothing staged is left.
	if !strings.Contains(string(js), filepath.Join(out, "models", "int8-full.tflite")) || strings.Contains(string(js), ".tmp") {
		t.Errorf("report.json does not name the models at their final paths")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp*")); len(left) > 0 {
		t.Errorf("staging folders left: %v", left)
	}
	// Models get 0666 minus the umask, the mode of any new file (they got
	// 0600 through a temporary file).
	probe := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(probe, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	pst, _ := os.Stat(probe)
	if st, err := os.Stat(res.Configs[0].Int8Path); err != nil || st.Mode().Perm() != pst.Mode().Perm() {
		t.Errorf("%s: mode %v, a new file gets %v (%v)", res.Configs[0].Int8Path, st.Mode().Perm(), pst.Mode().Perm(), err)
	}
	if len(res.Report.Splits) != 2 || res.Report.Splits[0].Name != "full" || res.Report.Splits[1].Name != "verification" {
		t.Fatalf("splits = %+v, want full and verification", res.Report.Splits)
	}
	// The full configuration evaluates every image, verification only the
	// held-out recording.
	total := tinyPlan(3).Data.Total()
	if n := res.Report.Splits[0].N; n != total {
		t.Errorf("full split has %d samples, want all %d", n, total)
	}
	if n := res.Report.Splits[1].N; n != total/3 {
		t.Errorf("verification split has %d samples, want %d", n, total/3)
	}
	for _, want := range []string{"Accuracy (Full)", "Accuracy (Verification)", "Certainty Quant.", "Average normalised entropy",
		"McNemar exact p", "Open the report:"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q", want)
		}
	}

	// The study's tables list float first and line up: every '|' of a
	// table in the same column. The study's numbers stand beside ours.
	for _, head := range []string{"Accuracy (study", "Output probabilities (full", "Output probabilities (verification", "Average normalised entropy"} {
		i := strings.Index(summary, head)
		if i < 0 {
			t.Errorf("summary lacks %q", head)
			continue
		}
		tbl := summary[i:]
		tbl = tbl[:strings.Index(tbl, "\n\n")]
		lines := strings.Split(tbl, "\n")[1:]
		var bars []int
		for _, line := range lines {
			if strings.HasSuffix(line, " ") {
				t.Errorf("%s: trailing space in %q", head, line)
			}
			var at []int
			for i, r := range []rune(line) {
				if r == '|' {
					at = append(at, i)
				}
			}
			if bars == nil {
				bars = at
			} else if !slices.Equal(at, bars) {
				t.Errorf("%s: misaligned row %q: '|' at %v, header at %v", head, line, at, bars)
			}
		}
		if f, q := strings.Index(tbl, "Without Quantization"), strings.Index(tbl, "With Quantization"); f > q {
			t.Errorf("%s: the quantized model comes first:\n%s", head, tbl)
		}
		if f, q := strings.Index(tbl, "Certainty float"), strings.Index(tbl, "Certainty Quant."); f > q {
			t.Errorf("%s: the quantized model comes first:\n%s", head, tbl)
		}
	}
	if !strings.Contains(summary, "| 99.85% ") || !strings.Contains(summary, "| 58.14%") {
		t.Errorf("the accuracy table lacks the study's numbers:\n%s", summary)
	}

	// The "What qbench adds" rows line up: every '|' in the same column,
	// and no per-class line ends with a dangling ';'.
	block := summary[strings.Index(summary, "What qbench adds"):]
	block = block[:strings.Index(block, "\n\n")]
	var bars []int
	for _, line := range strings.Split(block, "\n")[1:] {
		var at []int
		for i, r := range []rune(line) {
			if r == '|' {
				at = append(at, i)
			}
		}
		at = at[max(0, len(at)-2):] // "max |Δp|" has bars of its own
		if bars == nil {
			bars = at
		} else if !slices.Equal(at, bars) {
			t.Errorf("misaligned row %q: '|' at %v, header at %v", line, at, bars)
		}
	}
	for _, line := range strings.Split(summary, "\n") {
		if strings.HasPrefix(line, "Per-class accuracy deltas") && strings.HasSuffix(line, ";") {
			t.Errorf("line ends with ';': %q", line)
		}
	}

	// Same seed: the cached data is reused and every number is identical.
	out2 := t.TempDir()
	res2, summary2 := runTiny(t, out2, cache)
	if !res2.DataReused {
		t.Error("second run regenerated the cached dataset")
	}
	// Everything before the artefact list is numbers (paths and timings
	// follow it) and must be identical.
	strip := func(s string) string { return s[:strings.Index(s, "\nArtefacts in")] }
	if a, b := strip(summary), strip(summary2); a != b {
		t.Errorf("two runs with the same seed print different numbers:\n%s\n----\n%s", a, b)
	}
	for i := range res.Report.Splits {
		a, b := res.Report.Splits[i], res2.Report.Splits[i]
		for m := range a.Models {
			if a.Models[m].Accuracy != b.Models[m].Accuracy || a.Models[m].MeanNormalizedEntropy != b.Models[m].MeanNormalizedEntropy {
				t.Errorf("split %s model %s differs between runs", a.Name, a.Models[m].Name)
			}
		}
	}
}

func TestPlanFor(t *testing.T) {
	for _, s := range []string{ScaleQuick, ScaleDefault, ScaleFull} {
		p, err := PlanFor(s, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.Arch.Input != [3]int{80, 80, 3} || p.Arch.Classes != 30 {
			t.Errorf("%s: arch %+v is not the study's seed-cnn", s, p.Arch)
		}
	}
	if p, _ := PlanFor(ScaleFull, 1); p.Data.Total() < 50000 {
		t.Errorf("full scale has %d images, want the study's ~53k", p.Data.Total())
	}
	if _, err := PlanFor("huge", 1); err == nil {
		t.Error("unknown scale accepted")
	}
}
