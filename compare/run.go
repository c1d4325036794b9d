package compare

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/progress"
)

// group is a set of models sharing one preprocessing spec: their inputs
// are decoded once.
type group struct {
	spec   dataset.Spec
	models []int // indices into the model list
}

func groupModels(models []*model) []group {
	var gs []group
	idx := map[string]int{}
	for i, m := range models {
		g, ok := idx[m.key]
		if !ok {
			g = len(gs)
			idx[m.key] = g
			gs = append(gs, group{spec: m.spec})
		}
		gs[g].models = append(gs[g].models, i)
	}
	return gs
}

// runSplit runs every model over one split, writing outputs to out.
func runSplit(ctx context.Context, cfg Config, si int, models []*model, out *outputs) error {
	s := cfg.Splits[si]
	groups := groupModels(models)
	var task *progress.Task
	if cfg.Progress != nil {
		task = cfg.Progress.Start("compare "+s.Name, int64(len(s.Samples)*len(groups)), "images")
		defer task.Done()
	}
	for gi, g := range groups {
		if err := runGroup(ctx, cfg, si, gi, g, models, out, task); err != nil {
			return err
		}
	}
	return out.finishSplit(si == len(cfg.Splits)-1)
}

type job struct {
	index int
	data  []float32
}

// runGroup decodes the split once with the group's spec and feeds the
// images to cfg.Workers inference goroutines, each with its own executors
// per model. Buffers are recycled, so memory stays bounded by the channel
// capacities whatever the dataset size.
func runGroup(ctx context.Context, cfg Config, si, gi int, g group, models []*model, out *outputs, task *progress.Task) error {
	s := cfg.Splits[si]
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	b := 1
	for _, m := range g.models {
		b = max(b, models[m].batch)
	}
	// The queue holds two batches per worker so a worker that finishes
	// one usually finds the next already decoded; buffers live in the
	// queue, in the workers' batches or in the free list. Stream hands
	// images over in order, and with the CPUs busy its consumer runs in
	// bursts as long as the prefetch window; with the default window (4
	// per worker, 8 in all) most batches would be partial, so it spans
	// two batches (measured: 95% of images in full batches of 16).
	jobs := make(chan job, 2*b*cfg.Workers)
	free := make(chan []float32, 3*b*cfg.Workers+1)
	stream := dataset.StreamOptions{Workers: cfg.Workers, Load: cfg.Load, Prefetch: max(4*cfg.Workers, 2*b)}
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(si, g, models, out, b)
			if err := w.infer(ctx, jobs, free, task); err != nil {
				cancel(err)
			}
		}()
	}
	size := g.spec.Size()
	var seen dataset.ValueRange // every value the group's models receive
	defer func() {
		for _, mi := range g.models {
			models[mi].seen.Merge(seen)
		}
	}()
	decoded := make([]bool, len(s.Samples))
	sum, err := dataset.Stream(ctx, s.Samples, g.spec, stream,
		func(it dataset.Item) error {
			var buf []float32
			select {
			case buf = <-free:
			default:
				buf = make([]float32, size)
			}
			copy(buf, it.Data)
			seen.Add(it.Data)
			decoded[it.Index] = true
			select {
			case jobs <- job{it.Index, buf}:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	close(jobs)
	wg.Wait()
	if task != nil {
		task.Add(int64(sum.Skipped)) // skipped samples are done too
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return fmt.Errorf("split %q: %w", s.Name, err)
	}
	if err := out.addProblems(si, gi, cfg.DataRoot, decoded, sum.Problems); err != nil {
		return fmt.Errorf("split %q: %w", s.Name, err)
	}
	return nil
}

// worker is one inference goroutine's state: per model of the group a
// batch-1 executor and, when the model batches, a batch executor.
type worker struct {
	si      int
	g       group
	models  []*model
	out     *outputs
	ex, exB []*interp.Executor
	batch   []job
	in      []float32 // a full batch's inputs, back to back
	res     []float32
	scratch []byte
}

func newWorker(si int, g group, models []*model, out *outputs, b int) *worker {
	w := &worker{si: si, g: g, models: models, out: out, batch: make([]job, 0, b),
		ex: make([]*interp.Executor, len(g.models)), exB: make([]*interp.Executor, len(g.models))}
	for i, m := range g.models {
		w.ex[i] = models[m].prog.NewExecutor()
		if p := models[m].progB; p != nil {
			w.exB[i] = p.NewExecutor()
		}
	}
	return w
}

// infer runs jobs through the group's models until jobs is closed or ctx
// is cancelled. It blocks for one job, then takes the jobs already queued
// up to a batch: batching never delays an image behind undecoded ones.
func (w *worker) infer(ctx context.Context, jobs <-chan job, free chan<- []float32, task *progress.Task) error {
	for {
		j, ok := <-jobs
		if !ok {
			return nil
		}
		w.batch = append(w.batch[:0], j)
	gather:
		for len(w.batch) < cap(w.batch) {
			select {
			case j, ok := <-jobs:
				if !ok {
					break gather // the next receive returns
				}
				w.batch = append(w.batch, j)
			default:
				break gather
			}
		}
		if ctx.Err() == nil { // else drain so the producer never blocks
			if err := w.run(); err != nil {
				return err
			}
			if task != nil {
				task.Add(int64(len(w.batch)))
			}
		}
		for i, j := range w.batch {
			select {
			case free <- j.data:
			default:
			}
			w.batch[i].data = nil
		}
	}
}

// run infers w.batch with every model of the group and writes the
// outputs. A full batch goes through a model's batch executor; a partial
// one runs image by image, since a batch program computes all of its
// images and padding would waste whole convolution passes (programs for
// smaller batches cost more memory than the few partial batches save).
func (w *worker) run() error {
	staged := false
	for i, m := range w.g.models {
		if ex := w.exB[i]; ex != nil && len(w.batch) == w.models[m].batch {
			if !staged {
				w.in = w.in[:0]
				for _, j := range w.batch {
					w.in = append(w.in, j.data...)
				}
				staged = true
			}
			if err := w.runModel(ex, m, w.in, w.batch); err != nil {
				return err
			}
			continue
		}
		for k := range w.batch {
			if err := w.runModel(w.ex[i], m, w.batch[k].data, w.batch[k:k+1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// runModel runs model m's executor ex on in, the inputs of js back to
// back, and writes each image's outputs.
func (w *worker) runModel(ex *interp.Executor, m int, in []float32, js []job) error {
	name := w.models[m].info.Name
	if err := ex.SetInputFloat(0, in); err != nil {
		return fmt.Errorf("model %s: set input: %w", name, err)
	}
	if err := ex.Run(); err != nil {
		return fmt.Errorf("model %s: run: %w", name, err)
	}
	w.res = ex.OutputFloat(0, w.res)
	k := len(w.res) / len(js)
	for i, j := range js {
		var err error
		if w.scratch, err = w.out.write(w.si, j.index, m, w.res[i*k:(i+1)*k], w.scratch); err != nil {
			return fmt.Errorf("model %s: %w", name, err)
		}
	}
	return nil
}
