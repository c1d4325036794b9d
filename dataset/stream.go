package dataset

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
)

// Item is one preprocessed sample handed to a Stream callback.
type Item struct {
	// Index of the sample in the slice given to Stream.
	Index  int
	Sample Sample
	// Data is the preprocessed image, HWC float32 of len spec.Size(). It
	// is reused after the callback returns unless StreamOptions.Fresh is
	// set: copy it to keep it.
	Data []float32
	// Width and Height of the decoded source image, and its Format
	// ("png", "jpeg", ...; "" for images from StreamOptions.Load).
	Width, Height int
	Format        string
}

// StreamOptions configure Stream.
type StreamOptions struct {
	// Workers decoding in parallel (<= 0: 2).
	Workers int
	// Prefetch is how many samples may be in flight beyond the one being
	// consumed (<= 0: 4 per worker). Memory is bounded by Prefetch decoded
	// images plus Prefetch output buffers.
	Prefetch int
	// Strict makes an unreadable or corrupt image a fatal error instead of
	// a skipped sample.
	Strict bool
	// Fresh allocates a new Data slice per item, so the callback may keep it.
	Fresh bool
	// MaxPixels refuses larger images (<= 0: DefaultMaxPixels).
	MaxPixels int
	// Load, when set, produces a sample's image instead of reading
	// Sample.Path (in-memory sources, generators, tests).
	Load func(Sample) (image.Image, error)
	// Progress, when set, is called after each sample (read or skipped),
	// from the consuming goroutine.
	Progress func(done int)
}

// Summary counts what a Stream did.
type Summary struct {
	// Read is the number of samples passed to the callback.
	Read int `json:"read"`
	// Skipped is the number of unreadable or corrupt samples.
	Skipped int `json:"skipped"`
	// Problems lists each skipped sample's path and reason.
	Problems []Problem `json:"problems,omitempty"`
}

// ErrStop may be returned by a Stream callback to end the stream early
// without an error.
var ErrStop = errors.New("stop stream")

type result struct {
	data   []float32
	w, h   int
	format string
	err    error
}

// Stream decodes and preprocesses samples in opts.Workers goroutines through
// a bounded pipeline and calls fn sequentially, in sample order, for every
// sample that decoded; the result is the same for any worker count. A
// corrupt or unreadable image is counted in Summary.Skipped with its path
// and reason, or, with opts.Strict, ends the stream with an error wrapping
// ErrCorrupt or the read error. fn returning an error stops the stream and
// Stream returns that error (ErrStop: no error). Cancelling ctx stops it
// with ctx.Err().
func Stream(ctx context.Context, samples []Sample, spec Spec, opts StreamOptions, fn func(Item) error) (Summary, error) {
	spec = spec.withDefaults()
	if err := spec.Validate(); err != nil {
		return Summary{}, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 2
	}
	window := opts.Prefetch
	if window <= 0 {
		window = 4 * workers
	}
	window = max(window, workers)
	size := spec.Size()

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// Cancel first, then wait, so no goroutine outlives Stream.
	defer func() {
		cancel()
		wg.Wait()
	}()

	// Buffers cycle between workers and the consumer; with reuse, at most
	// window+1 exist.
	free := make(chan []float32, window+1)
	getBuf := func() []float32 {
		if opts.Fresh {
			return make([]float32, size)
		}
		select {
		case b := <-free:
			return b
		default:
			return make([]float32, size)
		}
	}

	tokens := make(chan struct{}, window)
	for i := 0; i < window; i++ {
		tokens <- struct{}{}
	}
	slots := make([]chan result, window)
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	jobs := make(chan int)
	// Producer: issues indices only while fewer than window are in flight.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for i := range samples {
			select {
			case <-tokens:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p Preprocessor
			for i := range jobs {
				slots[i%window] <- load(&p, samples[i], spec, opts, getBuf)
			}
		}()
	}

	var sum Summary
	for i := range samples {
		var r result
		select {
		case r = <-slots[i%window]:
		case <-ctx.Done():
			return sum, ctx.Err()
		}
		if r.err != nil {
			if opts.Strict {
				return sum, fmt.Errorf("sample %d: %w", i, r.err)
			}
			sum.Skipped++
			sum.Problems = append(sum.Problems, Problem{Path: samples[i].Path, Kind: "corrupt", Msg: r.err.Error()})
		} else {
			err := fn(Item{Index: i, Sample: samples[i], Data: r.data, Width: r.w, Height: r.h, Format: r.format})
			if !opts.Fresh {
				select {
				case free <- r.data:
				default:
				}
			}
			if err != nil {
				if errors.Is(err, ErrStop) {
					return sum, nil
				}
				return sum, err
			}
			sum.Read++
		}
		if opts.Progress != nil {
			opts.Progress(i + 1)
		}
		tokens <- struct{}{}
	}
	return sum, ctx.Err()
}

// load decodes and preprocesses one sample.
func load(p *Preprocessor, s Sample, spec Spec, opts StreamOptions, getBuf func() []float32) result {
	var (
		img    image.Image
		format string
		err    error
	)
	if opts.Load != nil {
		img, err = opts.Load(s)
		if err != nil {
			err = fmt.Errorf("%s: %w", s.Path, err)
		}
	} else {
		img, format, err = ReadImageFile(s.Path, opts.MaxPixels)
	}
	if err != nil {
		return result{err: err}
	}
	buf := getBuf()
	if err := p.Apply(spec, img, s.ROI, buf); err != nil {
		return result{err: fmt.Errorf("%s: %w", s.Path, err)}
	}
	b := img.Bounds()
	return result{data: buf, w: b.Dx(), h: b.Dy(), format: format}
}

// Batch is a group of consecutive stream items in one NHWC buffer.
type Batch struct {
	// Indices of the samples (into the slice given to Batches).
	Indices []int
	// Labels of the samples.
	Labels []int
	// Data holds len(Indices) images, NHWC float32; reused after the
	// callback returns.
	Data []float32
}

// Len returns the number of samples in the batch.
func (b Batch) Len() int { return len(b.Indices) }

// Batches streams samples like Stream and hands them to fn in batches of up
// to size (the last may be shorter; skipped samples are left out, so batches
// stay full).
func Batches(ctx context.Context, samples []Sample, spec Spec, opts StreamOptions, size int, fn func(Batch) error) (Summary, error) {
	if size <= 0 {
		return Summary{}, fmt.Errorf("batches: size %d must be positive", size)
	}
	spec = spec.withDefaults()
	per := spec.Size()
	b := Batch{Data: make([]float32, 0, size*per)}
	opts.Fresh = false
	stopped := false
	sum, err := Stream(ctx, samples, spec, opts, func(it Item) error {
		b.Indices = append(b.Indices, it.Index)
		b.Labels = append(b.Labels, it.Sample.Label)
		b.Data = append(b.Data, it.Data...)
		if len(b.Indices) == size {
			err := fn(b)
			b.Indices, b.Labels, b.Data = b.Indices[:0], b.Labels[:0], b.Data[:0]
			stopped = errors.Is(err, ErrStop)
			return err
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	if len(b.Indices) > 0 && !stopped {
		if err := fn(b); err != nil && !errors.Is(err, ErrStop) {
			return sum, err
		}
	}
	return sum, nil
}
