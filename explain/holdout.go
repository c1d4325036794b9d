package explain

import (
	"fmt"
	"math/rand"

	"github.com/qbench/qbench/metrics"
)

// The fix search picks among many candidates by their accuracy, so the
// accuracy of the one it picks is optimistic on the images it was picked
// on (with 600 images one image is 0.17 points, and the best of a dozen
// noisy candidates wins by noise). It therefore chooses on one part of the
// images and confirms on the other: the confirm part's numbers are never
// used for a choice, so they are an honest estimate of the chosen fix.

// Significance is the level below which McNemar's p calls a drop real.
const Significance = 0.05

// Parts says how the images were divided between choosing and confirming.
type Parts struct {
	// Seed of the stratified division (half of each class's images, in a
	// seeded order, choose; the rest confirm).
	Seed    int64 `json:"seed"`
	Choose  int   `json:"choose_samples"`
	Confirm int   `json:"confirm_samples"`
	// PointsPerImage is what one image weighs on the confirm part, in
	// accuracy points: no drop finer than that can be seen there.
	PointsPerImage float64 `json:"points_per_image"`
	// MinSignificant is the fewest images a drop on the confirm part must
	// lose (all flips one way) for McNemar's exact test to call it
	// significant; MinSignificantPoints the same in points.
	MinSignificant       int     `json:"min_significant_images"`
	MinSignificantPoints float64 `json:"min_significant_points"`
}

// Confirmation is a model's result on the confirm part, paired with the
// float model on the same images.
type Confirmation struct {
	Samples       int     `json:"samples"`
	FloatAccuracy float64 `json:"float_accuracy"`
	Accuracy      float64 `json:"accuracy"`
	Drop          float64 `json:"drop"`
	Met           bool    `json:"met"`
	// Lost counts images the float model classifies right and this model
	// wrong, Gained the reverse; McNemarP is the exact two-sided p of
	// the difference.
	Lost     int     `json:"lost"`
	Gained   int     `json:"gained"`
	McNemarP float64 `json:"mcnemar_p"`
}

// Significant reports whether the drop (or gain) is unlikely to be chance.
func (c *Confirmation) Significant() bool { return c.McNemarP < Significance }

// divide assigns each sample to the choose part (true) or the confirm part,
// stratified by label: each class's samples are shuffled with seed and
// alternate between the parts from a random start, so every class is split
// as evenly as its count allows and odd counts fall to either part.
func divide(labels []int, seed int64) []bool {
	rng := rand.New(rand.NewSource(seed))
	byClass := map[int][]int{}
	var order []int
	for i, l := range labels {
		if _, ok := byClass[l]; !ok {
			order = append(order, l)
		}
		byClass[l] = append(byClass[l], i)
	}
	choose := make([]bool, len(labels))
	for _, l := range order {
		idx := byClass[l]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		start := rng.Intn(2)
		for j, i := range idx {
			choose[i] = (j+start)%2 == 0
		}
	}
	return choose
}

// newParts describes a division of n samples, confirm of them confirming.
func newParts(seed int64, choose []bool) Parts {
	p := Parts{Seed: seed}
	for _, c := range choose {
		if c {
			p.Choose++
		} else {
			p.Confirm++
		}
	}
	if p.Confirm > 0 {
		p.PointsPerImage = 100 / float64(p.Confirm)
		for k := 1; k <= p.Confirm; k++ {
			if metrics.McNemarExact(k, 0) < Significance {
				p.MinSignificant = k
				p.MinSignificantPoints = float64(k) * p.PointsPerImage
				break
			}
		}
	}
	return p
}

// pick returns the elements of v whose mask entry equals want.
func pick(v []int, mask []bool, want bool) []int {
	out := make([]int, 0, len(v))
	for i, x := range v {
		if mask[i] == want {
			out = append(out, x)
		}
	}
	return out
}

// confirm pairs a model's predictions with the float model's on the same
// samples (all three slices aligned) against the target drop.
func confirm(pred, fPred, labels []int, target float64) Confirmation {
	c := Confirmation{Samples: len(labels)}
	for i, l := range labels {
		f, q := fPred[i] == l, pred[i] == l
		switch {
		case f && !q:
			c.Lost++
		case !f && q:
			c.Gained++
		}
	}
	c.FloatAccuracy = accuracy(fPred, labels, nil)
	c.Accuracy = accuracy(pred, labels, nil)
	c.Drop = c.FloatAccuracy - c.Accuracy
	c.Met = c.Drop <= target
	c.McNemarP = metrics.McNemarExact(c.Lost, c.Gained)
	return c
}

// filterIndex yields the samples of d whose position has keep set.
func filterIndex(d Data, keep []bool) Data {
	return func(yield func([]float32, int) error) error {
		i := 0
		return d(func(x []float32, label int) error {
			k := i < len(keep) && keep[i]
			i++
			if !k {
				return nil
			}
			return yield(x, label)
		})
	}
}

// resolutionNotes says when the target is finer than the confirm part can
// see, and what drop it takes there to be significant.
func resolutionNotes(p Parts, target float64) []string {
	if p.Confirm == 0 {
		return []string{"the confirm part is empty (too few images): the fix cannot be confirmed"}
	}
	var notes []string
	if target < p.PointsPerImage {
		notes = append(notes, fmt.Sprintf("the target drop (%.2f points) is below what the confirm part can resolve: one image there is %.2f points (%d images), so only a net loss of no image meets it",
			target, p.PointsPerImage, p.Confirm))
	}
	if p.MinSignificant > 0 {
		notes = append(notes, fmt.Sprintf("on the %d confirm images a drop is significant (McNemar p < %.2f) only from %d lost images (%.2f points) with none gained; smaller drops cannot be told from chance",
			p.Confirm, Significance, p.MinSignificant, p.MinSignificantPoints))
	} else {
		notes = append(notes, fmt.Sprintf("the %d confirm images are too few for any drop to be significant (McNemar p < %.2f)", p.Confirm, Significance))
	}
	return notes
}
