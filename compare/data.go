package compare

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// Data is a dataset opened for comparison: its classes and the splits to run.
type Data struct {
	Root    string
	Classes []string
	Splits  []SplitSpec
	// Problems are what dataset.Open reported (unknown folders, empty
	// classes …); they did not stop loading.
	Problems []dataset.Problem
	// Warnings say how the data's classes were matched to the model's
	// outputs and name the folders and classes that did not match (see
	// dataset.ClassMatch.Warnings); each is given once.
	Warnings []string
	// Match is how the first opened folder's classes were matched to the
	// model's outputs (zero without DataOptions.Model).
	Match dataset.ClassMatch
	// LabelMap is the label map file that named the classes ("" when
	// they are folder names).
	LabelMap string
}

// DataOptions configure OpenData.
type DataOptions struct {
	// LabelMap is a label map file ("" finds one in the folder).
	LabelMap string
	// GroundTruth and Synsets label a flat image folder (see
	// dataset.OpenOptions).
	GroundTruth, Synsets string
	// Splits are split arguments: "NAME" (a split of the label map) or
	// "NAME=DIR" (another folder); none gives one split with everything.
	Splits []string
	// Samples > 0 reduces each split to a stratified subsample of that
	// size, chosen by Seed.
	Samples int
	Seed    int64
	// Model, when set, is the classifier the data is for: every folder's
	// classes are matched to its outputs by name (dataset.MatchModel), so
	// Classes are the outputs' classes and a folder may hold any subset.
	Model *graph.Graph
}

// OpenData opens the dataset at root and resolves split arguments: none
// gives one split named after root's base name with every sample; "NAME"
// selects the recordings the label map assigns to NAME; "NAME=DIR" opens
// DIR as that split (with a model its classes are matched to the model's
// outputs like root's; without one it must have root's classes).
func OpenData(root string, opts DataOptions) (*Data, error) {
	ds, err := dataset.Open(root, dataset.OpenOptions{LabelMap: opts.LabelMap, GroundTruth: opts.GroundTruth, Synsets: opts.Synsets})
	if err != nil {
		return nil, err // dataset's errors name the folder
	}
	d := &Data{Root: ds.Root, Problems: ds.Problems, LabelMap: ds.LabelMap}
	seen := map[string]bool{}
	// match ties s's classes to the model's outputs; warnings about
	// another folder than root say which.
	match := func(s *dataset.Dataset, prefix string) (*dataset.Dataset, error) {
		if opts.Model == nil {
			return s, nil
		}
		r, m, err := s.MatchModel(opts.Model)
		if err != nil {
			return nil, err
		}
		if prefix == "" {
			d.Match = m
		}
		for _, w := range m.Warnings() {
			if !seen[w] {
				seen[w] = true
				d.Warnings = append(d.Warnings, prefix+w)
			}
		}
		return r, nil
	}
	if opts.Model != nil {
		// The model's classes without images are named by the match.
		d.Problems = withoutKind(d.Problems, "empty-class")
	}
	if ds, err = match(ds, ""); err != nil {
		return nil, err
	}
	d.Classes = ds.Classes
	add := func(name string, s *dataset.Dataset) {
		if opts.Samples > 0 {
			s = s.Subsample(opts.Samples, opts.Seed)
		}
		d.Splits = append(d.Splits, SplitSpec{Name: name, Samples: s.Samples})
	}
	if len(opts.Splits) == 0 {
		add(filepath.Base(filepath.Clean(root)), ds)
		return d, nil
	}
	for _, arg := range opts.Splits {
		name, dir, isDir := strings.Cut(arg, "=")
		if name == "" {
			return nil, fmt.Errorf("split %q: empty name", arg)
		}
		if !isDir {
			s, err := ds.Split(name)
			if err != nil {
				// dataset's error already names the split and lists the
				// label map's splits; add the other way to give one.
				return nil, fmt.Errorf("%w; or give a folder with --split %s=DIR", err, name)
			}
			add(name, s)
			continue
		}
		other, err := dataset.Open(dir, dataset.OpenOptions{LabelMap: opts.LabelMap, Synsets: opts.Synsets})
		if err != nil {
			return nil, fmt.Errorf("split %q: %w", name, err)
		}
		if other, err = match(other, fmt.Sprintf("split %s (%s): ", name, dir)); err != nil {
			return nil, fmt.Errorf("split %q: %w", name, err)
		}
		if !slices.Equal(other.Classes, ds.Classes) {
			return nil, fmt.Errorf("split %q: %s has %d classes that differ from the %d of %s", name, dir, len(other.Classes), len(ds.Classes), root)
		}
		probs := other.Problems
		if opts.Model != nil {
			probs = withoutKind(probs, "empty-class")
		}
		d.Problems = append(d.Problems, probs...)
		add(name, other)
	}
	return d, nil
}

func withoutKind(ps []dataset.Problem, kind string) []dataset.Problem {
	var out []dataset.Problem
	for _, p := range ps {
		if p.Kind != kind {
			out = append(out, p)
		}
	}
	return out
}

// ClassModel returns the model whose outputs define the classes of a
// comparison: the first that names its classes (dataset.ModelClasses),
// else the first. Models naming different classes are an error: their
// outputs cannot be compared class by class.
func ClassModel(models []ModelSpec) (*graph.Graph, error) {
	var first, named *graph.Graph
	var namedBy string
	var names []string
	for i, m := range models {
		g := m.Graph
		if g == nil {
			var err error
			if g, err = tflite.ReadFile(m.Path); err != nil {
				return nil, fmt.Errorf("model %d (%s): %w", i+1, orPath(m), err)
			}
		}
		// The class names belong to the classifier output; with several
		// outputs and no --output-name the choice waits for the class count.
		if len(g.Outputs) > 1 || m.OutputName != "" {
			if k, _, err := graph.ClassifierOutput(g, m.OutputName, 0); err == nil {
				if g, err = graph.WithOutputs(g, []int{k}); err != nil {
					return nil, fmt.Errorf("model %d (%s): %w", i+1, orPath(m), err)
				}
			} else if m.OutputName != "" {
				return nil, fmt.Errorf("model %d (%s): %w", i+1, orPath(m), err)
			}
		}
		if first == nil {
			first = g
		}
		n, _, err := dataset.ModelClasses(g)
		if err != nil {
			return nil, fmt.Errorf("model %d (%s): %w", i+1, orPath(m), err)
		}
		switch {
		case n == nil:
		case named == nil:
			named, namedBy, names = g, orPath(m), n
		case !slices.Equal(n, names):
			return nil, fmt.Errorf("models %s and %s name different classes (%s vs %s)", namedBy, orPath(m), listFew(names), listFew(n))
		}
	}
	if named != nil {
		return named, nil
	}
	return first, nil
}

func listFew(s []string) string {
	if len(s) > 5 {
		return fmt.Sprintf("%s, … %d in all", strings.Join(s[:5], ", "), len(s))
	}
	return strings.Join(s, ", ")
}
