package explain

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestDivideStratified: the division is seeded, splits every class as
// evenly as its count allows, and changes with the seed.
func TestDivideStratified(t *testing.T) {
	var labels []int
	for c := 0; c < 5; c++ {
		for i := 0; i < 7+c; i++ {
			labels = append(labels, c)
		}
	}
	a, b := divide(labels, 3), divide(labels, 3)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different division")
	}
	if slices.Equal(a, divide(labels, 4)) {
		t.Error("the seed does not change the division")
	}
	for c := 0; c < 5; c++ {
		n, k := 0, 0
		for i, l := range labels {
			if l == c {
				n++
				if a[i] {
					k++
				}
			}
		}
		if k != n/2 && k != (n+1)/2 {
			t.Errorf("class %d: %d of %d choose", c, k, n)
		}
	}
	p := newParts(3, a)
	if p.Choose+p.Confirm != len(labels) || math.Abs(p.PointsPerImage-100/float64(p.Confirm)) > 1e-12 || p.MinSignificant != 6 {
		t.Errorf("parts %+v", p)
	}
}

// TestChoiceOverfits is a search whose choice overfits: of two candidates,
// "lucky" is right on every image of the choose part but wrong on a fifth
// of the confirm part, "steady" loses 2% everywhere. The choice (made on
// the choose part alone) is lucky; the confirm part shows it misses the
// target, with a significant drop, and the output says the choice does not
// hold up. The same numbers without a confirm part would have reported a
// perfect fix.
func TestChoiceOverfits(t *testing.T) {
	const n = 600
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 6
	}
	choose := divide(labels, 1)
	fPred := slices.Clone(labels) // the float model is always right
	lucky, steady := slices.Clone(labels), slices.Clone(labels)
	k, j := 0, 0
	for i := range labels {
		if !choose[i] {
			if k%5 == 0 {
				lucky[i] = (labels[i] + 1) % 6
			}
			k++
		}
		if j%50 == 0 {
			steady[i] = (labels[i] + 1) % 6
		}
		j++
	}
	ss := &searchState{session: &session{opts: Options{TargetDrop: 1}}, choose: choose,
		cLabels: pick(labels, choose, true), cFloat: pick(fPred, choose, true),
		kLabels: pick(labels, choose, false), kFloat: pick(fPred, choose, false)}
	ss.fix = &Fix{TargetDrop: 1, Parts: newParts(1, choose)}
	ss.chooseFloatAccuracy = accuracy(ss.cFloat, ss.cLabels, nil)
	var cands []*candidate
	for _, c := range []struct {
		name  string
		preds []int
	}{{"steady", steady}, {"lucky", lucky}} {
		cd := &candidate{t: Trial{Kind: KindRecalibration, FloatLayers: []string{}, Variant: c.name}, g: outlierModel(nil4()), all: c.preds}
		ss.score(&cd.t, pick(c.preds, choose, true))
		if err := ss.confirmTrial(cd); err != nil {
			t.Fatal(err)
		}
		cands = append(cands, cd)
	}
	best := chooseBest(cands, 80)
	if best == nil || best.t.Variant != "lucky" {
		t.Fatalf("best %+v, want lucky (chosen on the choose part)", best)
	}
	if best.t.Drop != 0 || !best.t.Met {
		t.Fatalf("lucky on the choose part: drop %.2f met %v", best.t.Drop, best.t.Met)
	}
	c := best.t.Confirm
	if c == nil || c.Met || c.Drop < 19 || c.Lost != 60 || c.Gained != 0 || !c.Significant() {
		t.Fatalf("lucky on the confirm part: %+v", c)
	}
	fix := ss.fix
	t0 := best.t
	fix.Best = &t0
	notes := strings.Join(bestNotes(fix), "\n")
	if !strings.Contains(notes, "does not hold up") {
		t.Errorf("notes do not flag the overfit choice:\n%s", notes)
	}
	r := &Result{Fix: fix, Notes: bestNotes(fix)}
	var buf bytes.Buffer
	r.writeFixHeadline(&buf)
	if !strings.Contains(buf.String(), "chosen on 300 images: 100.00%") || !strings.Contains(buf.String(), "misses the target") {
		t.Errorf("headline:\n%s", buf.String())
	}
}

// TestResolutionNotes: a target finer than one confirm image, and a
// confirm part too small for any significant drop, are both said.
func TestResolutionNotes(t *testing.T) {
	p := newParts(1, divide(make([]int, 600), 1))
	notes := strings.Join(resolutionNotes(p, 0.1), "\n")
	if !strings.Contains(notes, "below what the confirm part can resolve: one image there is 0.33 points") ||
		!strings.Contains(notes, "only from 6 lost images (2.00 points)") {
		t.Errorf("600 images, target 0.1:\n%s", notes)
	}
	if notes := strings.Join(resolutionNotes(p, 0.5), "\n"); strings.Contains(notes, "below what") {
		t.Errorf("target 0.5 on 300 confirm images is resolvable:\n%s", notes)
	}
	small := newParts(1, divide(make([]int, 8), 1))
	if notes := strings.Join(resolutionNotes(small, 5), "\n"); !strings.Contains(notes, "too few for any drop to be significant") {
		t.Errorf("4 confirm images:\n%s", notes)
	}
}

func nil4() [][]float32 {
	return [][]float32{make([]float32, 8), make([]float32, 8), make([]float32, 8), make([]float32, 8)}
}
