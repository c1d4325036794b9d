package train

import (
	"context"
	"fmt"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/progress"
)

// Load decodes and preprocesses every sample of ds once with spec (in
// workers goroutines, through dataset.Stream) and returns the images in
// memory for training. Unreadable images are skipped and listed in the
// summary. label names the task on rep (may be nil).
func Load(ctx context.Context, ds *dataset.Dataset, spec dataset.Spec, workers int, rep *progress.Reporter, label string) (*Data, dataset.Summary, error) {
	if ds == nil || ds.Len() == 0 {
		return nil, dataset.Summary{}, fmt.Errorf("load %s: no images", label)
	}
	if err := spec.Validate(); err != nil {
		return nil, dataset.Summary{}, fmt.Errorf("load %s: %w", label, err)
	}
	d, err := NewData(ds.Len(), spec.Height, spec.Width, spec.Channels, ds.Classes)
	if err != nil {
		return nil, dataset.Summary{}, fmt.Errorf("load %s: %w", label, err)
	}
	var task *progress.Task
	if rep != nil {
		task = rep.Start("load "+label, int64(ds.Len()), "images")
		defer task.Done()
	}
	n := 0
	opts := dataset.StreamOptions{Workers: workers}
	if task != nil {
		last := 0
		opts.Progress = func(done int) { task.Add(int64(done - last)); last = done }
	}
	sum, err := dataset.Stream(ctx, ds.Samples, spec, opts, func(it dataset.Item) error {
		if err := d.Set(n, it.Data, it.Sample.Label); err != nil {
			return fmt.Errorf("%s: %w", it.Sample.Path, err)
		}
		n++
		return nil
	})
	if err != nil {
		return nil, sum, fmt.Errorf("load %s: %w", label, err)
	}
	if n == 0 {
		return nil, sum, fmt.Errorf("load %s: none of %d images could be read", label, ds.Len())
	}
	d.truncate(n)
	return d, sum, nil
}

// truncate keeps the first n images.
func (d *Data) truncate(n int) {
	d.Labels = d.Labels[:n]
	d.pix = d.pix[:n*d.Size()]
	d.scale = d.scale[:n]
	d.offset = d.offset[:n]
}

// SpecMetadata returns the graph metadata that stores spec, for
// Config.Metadata, so the exported model carries its preprocessing.
func SpecMetadata(spec dataset.Spec) (map[string][]byte, error) {
	g := &graph.Graph{}
	if err := spec.Store(g); err != nil {
		return nil, err
	}
	return g.Metadata, nil
}

// DefaultSpec is the preprocessing qbench trains with for arch: the
// dataset default (RGB, TF-style bilinear resize, ROI crop) at the
// architecture's input size, with values mapped to -1..1 (v·2/255 − 1).
// Zero-centred inputs train faster in a ReLU network without batch norm,
// and use int8's range symmetrically after quantization.
func DefaultSpec(arch Arch) dataset.Spec {
	s := dataset.DefaultSpec(arch.Input[0], arch.Input[1])
	s.Channels = arch.Input[2]
	s.Scale, s.Offset = 2.0/255, -1
	return s
}
