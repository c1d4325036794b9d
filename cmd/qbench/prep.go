package main

import (
	"fmt"
	"strings"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/spf13/pflag"
)

// prepFlags are the preprocessing flags of every command that feeds images
// to a model; they override what the model says (dataset.ResolveSpec).
type prepFlags struct {
	mean, std, rng, channels, resize, crop, layout string
}

// addPrepFlags registers the preprocessing flags on fs.
func addPrepFlags(fs *pflag.FlagSet, p *prepFlags) {
	fs.StringVar(&p.mean, "mean", "", "subtract this from pixels (0..255), one value or one per channel (default: from the model)")
	fs.StringVar(&p.std, "std", "", "then divide by this, one value or one per channel")
	fs.StringVar(&p.rng, "range", "", "map pixels linearly to 0..1, -1..1 or 0..255 (raw pixels) instead")
	fs.StringVar(&p.channels, "channels", "", "channel order the model expects: rgb, bgr or gray")
	fs.StringVar(&p.resize, "resize", "", "resize method: bilinear (TensorFlow half-pixel), area or nearest")
	fs.StringVar(&p.crop, "crop", "", "crop before resizing: roi (annotated region), none, or center:F (central fraction F, e.g. center:0.875 for ImageNet)")
	fs.StringVar(&p.layout, "layout", "", "input tensor layout: NHWC or NCHW (default: from the input's shape)")
}

// flags converts the preprocessing flags; bad values are usage errors.
func (p *prepFlags) flags() (dataset.SpecFlags, error) {
	var f dataset.SpecFlags
	var err error
	if f.Mean, err = dataset.ParseFloats(p.mean); err != nil {
		return f, usagef("--mean: %v", err)
	}
	if f.Std, err = dataset.ParseFloats(p.std); err != nil {
		return f, usagef("--std: %v", err)
	}
	f.Range, f.Channels, f.Resize, f.Crop = p.rng, p.channels, p.resize, p.crop
	f.Layout = strings.ToUpper(p.layout)
	switch f.Range {
	case "", dataset.Range01, dataset.RangeSigned, dataset.RangePixels:
	default:
		return f, usagef("--range must be 0..1, -1..1 or 0..255, got %q", f.Range)
	}
	if f.Range != "" && (f.Mean != nil || f.Std != nil) {
		return f, usagef("give --range or --mean/--std, not both")
	}
	return f, nil
}

// resolveSpec returns g's preprocessing under the flags and prints, once,
// what was taken from the model's metadata or quantization or assumed.
func resolveSpec(a *app, cmdName string, g *graph.Graph, p *prepFlags) (dataset.Spec, error) {
	f, err := p.flags()
	if err != nil {
		return dataset.Spec{}, err
	}
	spec, notes, err := dataset.ResolveSpec(g, f)
	if err != nil {
		return spec, err
	}
	for _, n := range notes {
		fmt.Fprintf(a.stderr, "qbench: %s: note: %s\n", cmdName, n)
	}
	return spec, nil
}

// listFlags name the files of an ImageNet-style validation folder; a CSV
// manifest is given as the data path itself.
type listFlags struct{ groundTruth, synsets string }

// addListFlags registers --ground-truth and --synsets on fs.
func addListFlags(fs *pflag.FlagSet, l *listFlags) {
	fs.StringVar(&l.groundTruth, "ground-truth", "", "labels of a flat image folder: a class id or synset id per line (images in file-name order) or \"file label\" lines (default: ground_truth.txt, val.txt, val_labels.txt or LOC_val_solution.csv beside it)")
	fs.StringVar(&l.synsets, "synsets", "", "synset list naming the classes, \"n01440764 tench, …\" per line, line i = class i (default: synset_words.txt, synsets.txt or LOC_synset_mapping.txt beside the folder)")
}

// open returns the dataset options for a label map and these flags.
func (l *listFlags) open(labels string) dataset.OpenOptions {
	return dataset.OpenOptions{LabelMap: labels, GroundTruth: l.groundTruth, Synsets: l.synsets}
}
