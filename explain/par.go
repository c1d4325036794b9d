package explain

import (
	"context"
	"fmt"
	"sync"
)

// Data yields labelled samples (flattened float input, class id). Explain
// makes several passes, so calling it again must yield the same samples in
// the same order.
type Data func(yield func(x []float32, label int) error) error

// SliceData adapts in-memory samples.
func SliceData(xs [][]float32, labels []int) Data {
	return func(yield func([]float32, int) error) error {
		for i, x := range xs {
			if err := yield(x, labels[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// inFlightPerWorker bounds the samples forEach keeps in flight per worker.
const (
	inFlightPerWorker = 12
	maxInFlight       = 128
)

// forEach runs work on every sample of data with threads workers (each with
// its own state made by newState) and hands results to merge in sample
// order, so sums are the same whatever the number of threads. It returns
// the number of samples.
func forEach[S, P any](ctx context.Context, data Data, threads int, newState func() (S, error),
	work func(st S, idx int, x []float32, label int) (P, error), merge func(idx int, p P)) (int, error) {
	if threads < 1 {
		threads = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	type job struct {
		idx   int
		x     []float32
		label int
	}
	type res struct {
		idx int
		p   P
	}
	jobs := make(chan job)
	results := make(chan res, threads)
	// Results merge in sample order, so a worker that finished its sample
	// may wait for a slower one before the next sample is admitted. Samples
	// differ in cost (every LayerEvery-th one computes per-layer statistics,
	// several times the work of a prediction), so the window of samples in
	// flight must cover one slow sample while the other workers keep going:
	// with only 2 per worker, the CPUs idled about a third of the time.
	// Capped so that many threads do not hold hundreds of images.
	window := max(min(inFlightPerWorker*threads, maxInFlight), 2*threads)
	tokens := make(chan struct{}, window)
	// Input copies are recycled: at most window samples are in flight, so
	// this many buffers suffice and the garbage collector does not see a
	// fresh image-sized allocation per sample.
	free := make(chan []float32, window+threads)
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		st, err := newState()
		if err != nil {
			return 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				p, err := work(st, j.idx, j.x, j.label)
				select {
				case free <- j.x:
				default:
				}
				if err != nil {
					fail(fmt.Errorf("sample %d: %w", j.idx, err))
					continue
				}
				results <- res{j.idx, p}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pending := map[int]P{}
		next := 0
		for r := range results {
			pending[r.idx] = r.p
			for {
				p, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				merge(next, p)
				next++
				<-tokens
			}
		}
	}()
	n := 0
	perr := data(func(x []float32, label int) error {
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case jobs <- job{n, copyInto(free, x), label}:
		case <-ctx.Done():
			return ctx.Err()
		}
		n++
		return nil
	})
	close(jobs)
	wg.Wait()
	close(results)
	<-done
	if firstErr != nil {
		return n, firstErr
	}
	if perr != nil {
		return n, perr
	}
	return n, nil
}

// copyInto copies x into a recycled buffer from free when one is available.
func copyInto(free chan []float32, x []float32) []float32 {
	var b []float32
	select {
	case b = <-free:
	default:
	}
	if cap(b) < len(x) {
		b = make([]float32, len(x))
	}
	b = b[:len(x)]
	copy(b, x)
	return b
}
