package compare

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qbench/qbench/dataset"
)

// Data is a dataset opened for comparison: its classes and the splits to run.
type Data struct {
	Root    string
	Classes []string
	Splits  []SplitSpec
	// Problems are what dataset.Open reported (unknown folders, empty
	// classes …); they did not stop loading.
	Problems []dataset.Problem
}

// OpenData opens the dataset at root (with an optional label map) and
// resolves split arguments: none gives one split named after root's base
// name with every sample; "NAME" selects the recordings the label map
// assigns to NAME; "NAME=DIR" opens DIR as that split (it must have the
// same classes). With samples > 0 each split is reduced to a stratified,
// seeded subsample of that size.
func OpenData(root, labelMap string, splits []string, samples int, seed int64) (*Data, error) {
	ds, err := dataset.Open(root, dataset.OpenOptions{LabelMap: labelMap})
	if err != nil {
		return nil, err // dataset's errors name the folder
	}
	d := &Data{Root: ds.Root, Classes: ds.Classes, Problems: ds.Problems}
	add := func(name string, s *dataset.Dataset) {
		if samples > 0 {
			s = s.Subsample(samples, seed)
		}
		d.Splits = append(d.Splits, SplitSpec{Name: name, Samples: s.Samples})
	}
	if len(splits) == 0 {
		add(filepath.Base(filepath.Clean(root)), ds)
		return d, nil
	}
	for _, arg := range splits {
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
		other, err := dataset.Open(dir, dataset.OpenOptions{LabelMap: labelMap})
		if err != nil {
			return nil, fmt.Errorf("split %q: %w", name, err)
		}
		if !slices.Equal(other.Classes, ds.Classes) {
			return nil, fmt.Errorf("split %q: %s has %d classes that differ from the %d of %s", name, dir, len(other.Classes), len(ds.Classes), root)
		}
		d.Problems = append(d.Problems, other.Problems...)
		add(name, other)
	}
	return d, nil
}
