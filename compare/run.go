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
	out.need[si] = uint8(len(groups))
	var task *progress.Task
	if cfg.Progress != nil {
		task = cfg.Progress.Start("compare "+s.Name, int64(len(s.Samples)*len(groups)), "images")
		defer task.Done()
	}
	for _, g := range groups {
		if err := runGroup(ctx, cfg, si, g, models, out, task); err != nil {
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
// images to cfg.Workers inference goroutines, each with its own executor
// per model. Buffers are recycled, so memory stays bounded by the channel
// capacity whatever the dataset size.
func runGroup(ctx context.Context, cfg Config, si int, g group, models []*model, out *outputs, task *progress.Task) error {
	s := cfg.Splits[si]
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan job, 2*cfg.Workers)
	free := make(chan []float32, 3*cfg.Workers+1)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := infer(ctx, si, g, models, out, jobs, free, task); err != nil {
				cancel(err)
			}
		}()
	}
	size := g.spec.Size()
	sum, err := dataset.Stream(ctx, s.Samples, g.spec, dataset.StreamOptions{Workers: cfg.Workers, Load: cfg.Load},
		func(it dataset.Item) error {
			var buf []float32
			select {
			case buf = <-free:
			default:
				buf = make([]float32, size)
			}
			copy(buf, it.Data)
			out.seen[si][it.Index]++
			select {
			case jobs <- job{it.Index, buf}:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	close(jobs)
	wg.Wait()
	out.addProblems(si, cfg.DataRoot, sum.Problems)
	if task != nil {
		task.Add(int64(sum.Skipped)) // skipped samples are done too
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return fmt.Errorf("split %q: %w", s.Name, err)
	}
	return nil
}

// infer runs jobs through one executor per model of the group until jobs
// is closed or ctx is cancelled.
func infer(ctx context.Context, si int, g group, models []*model, out *outputs, jobs <-chan job, free chan<- []float32, task *progress.Task) error {
	exs := make([]*interp.Executor, len(g.models))
	for i, m := range g.models {
		exs[i] = models[m].prog.NewExecutor()
	}
	var res []float32
	var scratch []byte
	for j := range jobs {
		if ctx.Err() != nil {
			continue // drain so the producer never blocks
		}
		for i, ex := range exs {
			m := g.models[i]
			name := models[m].info.Name
			if err := ex.SetInputFloat(0, j.data); err != nil {
				return fmt.Errorf("model %s: set input: %w", name, err)
			}
			if err := ex.Run(); err != nil {
				return fmt.Errorf("model %s: run: %w", name, err)
			}
			res = ex.OutputFloat(0, res)
			var err error
			if scratch, err = out.write(si, j.index, m, res, scratch); err != nil {
				return fmt.Errorf("model %s: %w", name, err)
			}
		}
		select {
		case free <- j.data:
		default:
		}
		if task != nil {
			task.Add(1)
		}
	}
	return nil
}
