package dataset

import (
	"fmt"
	"image"
	"sort"
)

// Sample is one image of a dataset.
type Sample struct {
	// Path is the image file's path (Root joined with the relative path).
	Path string `json:"path"`
	// Label is the class id (index into Dataset.Classes).
	Label int `json:"label"`
	// Folder is the class folder the image was found in ("" for a flat
	// GTSRB test layout).
	Folder string `json:"folder,omitempty"`
	// Recording is the recording folder ("" when the layout has none).
	Recording string `json:"recording,omitempty"`
	// Track identifies one physical object seen in several images
	// (GTSRB: "<folder>/<track>"); "" when unknown.
	Track string `json:"track,omitempty"`
	// ROI is the annotated object region in image coordinates, or nil.
	ROI *image.Rectangle `json:"roi,omitempty"`
}

// Problem is something wrong with a dataset that did not stop loading it.
type Problem struct {
	// Path is the file or folder concerned ("" when none).
	Path string `json:"path,omitempty"`
	// Kind is a stable keyword: corrupt, unknown-folder, empty-class,
	// missing-folder, missing-recording, unsplit-recording, duplicate,
	// annotation, too-deep, unreadable, not-regular (a named pipe,
	// device or socket; skipped unopened), too-large (above MaxFileBytes;
	// skipped unread).
	Kind string `json:"kind"`
	// Msg explains the problem.
	Msg string `json:"msg"`
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Kind + ": " + p.Msg
	}
	return p.Kind + ": " + p.Path + ": " + p.Msg
}

// Dataset is a labelled list of image files. It holds paths and labels, never
// pixels: Stream decodes them on demand.
type Dataset struct {
	// Root is the folder the dataset was opened from.
	Root string
	// Layout is how the folder was read: "folders" (root/<folder>/img),
	// "recordings" (root/<recording>/<folder>/img), "gtsrb-test" (images
	// plus a CSV of class ids) or "mixed".
	Layout string
	// Classes are the class names in id order.
	Classes []string
	// LabelMap is the label map file that named the classes ("" when
	// they are the folder names, see Open).
	LabelMap string
	// Outputs are the model output names the label map lists (outputs:),
	// nil when it lists none.
	Outputs []string
	// Samples in a deterministic order (sorted by path).
	Samples []Sample
	// Problems found while opening (see Problem.Kind).
	Problems []Problem
	// Ignored lists stray image files beside the class folders (such as
	// gen-data's preview.png) that are deliberately not samples.
	Ignored []string
	// Recordings present, sorted ("" is not listed).
	Recordings []string
	// Splits maps split names to recordings, from the label map.
	Splits map[string][]string
}

// derive returns a dataset sharing d's metadata with the given samples.
func (d *Dataset) derive(samples []Sample) *Dataset {
	c := *d
	c.Samples = samples
	recs := map[string]bool{}
	for _, s := range samples {
		if s.Recording != "" {
			recs[s.Recording] = true
		}
	}
	c.Recordings = sortedKeys(recs)
	return &c
}

// Len returns the number of samples.
func (d *Dataset) Len() int { return len(d.Samples) }

// ClassCounts returns the number of samples per class id.
func (d *Dataset) ClassCounts() []int {
	n := make([]int, len(d.Classes))
	for _, s := range d.Samples {
		if s.Label >= 0 && s.Label < len(n) {
			n[s.Label]++
		}
	}
	return n
}

// Labels returns the label of every sample, in sample order.
func (d *Dataset) Labels() []int {
	l := make([]int, len(d.Samples))
	for i, s := range d.Samples {
		l[i] = s.Label
	}
	return l
}

// Split returns the samples of the recordings the label map assigns to the
// named split (e.g. "train", "verification").
func (d *Dataset) Split(name string) (*Dataset, error) {
	recs, ok := d.Splits[name]
	if !ok {
		names := sortedKeys(d.Splits)
		if len(names) == 0 {
			return nil, fmt.Errorf("split %q: dataset %s defines no splits (add splits: to its label map)", name, d.Root)
		}
		return nil, fmt.Errorf("split %q: unknown (dataset %s has %v)", name, d.Root, names)
	}
	_, held := d.SplitByRecording(recs)
	if len(held.Samples) == 0 {
		return nil, fmt.Errorf("split %q: recordings %v have no images", name, recs)
	}
	return held, nil
}

// SplitByRecording returns the samples outside and inside the held
// recordings.
func (d *Dataset) SplitByRecording(held []string) (train, heldOut *Dataset) {
	set := map[string]bool{}
	for _, r := range held {
		set[r] = true
	}
	var a, b []Sample
	for _, s := range d.Samples {
		if set[s.Recording] {
			b = append(b, s)
		} else {
			a = append(a, s)
		}
	}
	return d.derive(a), d.derive(b)
}

// Subsample returns about n samples (exactly min(n, Len())) stratified by
// class with largest-remainder quotas, chosen by seed, in original order.
func (d *Dataset) Subsample(n int, seed int64) *Dataset {
	if n >= len(d.Samples) {
		return d.derive(append([]Sample(nil), d.Samples...))
	}
	if n <= 0 {
		return d.derive(nil)
	}
	byClass := map[int][]int{}
	for i, s := range d.Samples {
		byClass[s.Label] = append(byClass[s.Label], i)
	}
	labels := make([]int, 0, len(byClass))
	for l := range byClass {
		labels = append(labels, l)
	}
	sort.Ints(labels)
	total := len(d.Samples)
	quota := make(map[int]int, len(labels))
	type rem struct {
		label int
		frac  float64
	}
	var rems []rem
	given := 0
	for _, l := range labels {
		exact := float64(n) * float64(len(byClass[l])) / float64(total)
		quota[l] = int(exact)
		given += quota[l]
		rems = append(rems, rem{l, exact - float64(quota[l])})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].frac > rems[j].frac })
	for i := 0; given < n; i++ {
		quota[rems[i%len(rems)].label]++
		given++
	}
	keep := make([]bool, total)
	for _, l := range labels {
		idx := append([]int(nil), byClass[l]...)
		r := newRNG(seed, "subsample", int64(l))
		r.shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx[:min(quota[l], len(idx))] {
			keep[i] = true
		}
	}
	out := make([]Sample, 0, n)
	for i, s := range d.Samples {
		if keep[i] {
			out = append(out, s)
		}
	}
	return d.derive(out)
}

// SplitByTrack splits each class into train and val so that no track (one
// physical object) has images on both sides, putting about fraction of each
// class's images in val. Samples without a track count as their own track.
// Every class with at least two tracks gets at least one track on each side
// (for 0 < fraction < 1). Deterministic for a seed.
func (d *Dataset) SplitByTrack(fraction float64, seed int64) (train, val *Dataset) {
	type group struct {
		key string
		idx []int
	}
	classes := map[int][]*group{}
	byKey := map[string]*group{}
	for i, s := range d.Samples {
		key := s.Track
		if key == "" {
			key = "\x00" + s.Path
		}
		key = fmt.Sprintf("%d\x00%s", s.Label, key)
		g := byKey[key]
		if g == nil {
			g = &group{key: key}
			byKey[key] = g
			classes[s.Label] = append(classes[s.Label], g)
		}
		g.idx = append(g.idx, i)
	}
	inVal := make([]bool, len(d.Samples))
	for label, gs := range classes {
		if fraction <= 0 {
			break
		}
		r := newRNG(seed, "track", int64(label))
		r.shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
		total := 0
		for _, g := range gs {
			total += len(g.idx)
		}
		target := fraction * float64(total)
		taken, nval := 0, 0
		for k, g := range gs {
			left := len(gs) - k
			if fraction < 1 && nval > 0 && left == 1 && nval == k {
				break // keep at least one track for training
			}
			// Take the group when it brings val closer to its target.
			if nval == 0 || abs(float64(taken+len(g.idx))-target) < abs(float64(taken)-target) {
				for _, i := range g.idx {
					inVal[i] = true
				}
				taken += len(g.idx)
				nval++
			}
			if fraction < 1 && len(gs) == 1 {
				// A single track cannot be split; it stays in train.
				for _, i := range g.idx {
					inVal[i] = false
				}
			}
		}
	}
	var a, b []Sample
	for i, s := range d.Samples {
		if inVal[i] {
			b = append(b, s)
		} else {
			a = append(a, s)
		}
	}
	return d.derive(a), d.derive(b)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
