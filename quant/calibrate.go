package quant

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// Samples yields float input samples: it calls yield once per sample with
// the flattened input tensor (NHWC, batch 1) and stops early when yield
// returns an error, which it returns. A dataset, a slice or a generator can
// all be adapted to it, so quantization needs no dataset package.
type Samples func(yield func(x []float32) error) error

// SliceSamples adapts a slice of samples.
func SliceSamples(xs [][]float32) Samples {
	return func(yield func([]float32) error) error {
		for _, x := range xs {
			if err := yield(x); err != nil {
				return err
			}
		}
		return nil
	}
}

// ErrNoSamples is returned when calibration saw no sample.
var ErrNoSamples = errors.New("no calibration samples")

// Quantize calibrates float graph g on samples and rewrites it into an
// integer graph according to opts. It is Calibrate followed by Apply.
func Quantize(ctx context.Context, g *graph.Graph, samples Samples, opts Options) (*graph.Graph, *Report, error) {
	if err := opts.normalize(); err != nil {
		return nil, nil, err
	}
	cal, err := Calibrate(ctx, g, samples, opts)
	if err != nil {
		return nil, nil, err
	}
	return Apply(g, cal, opts)
}

// floatExec runs the float graph on one sample and reports every op output
// (op index, output position, values); values are only valid during the call.
type floatExec interface {
	run(x []float32, observe func(tensor int, v []float32)) error
}

// Calibrate runs g on every sample (opts.Threads executors in parallel) and
// records a histogram of each float activation plus the per-channel means
// of conv/fully-connected inputs. Results are applied in sample order, so
// they do not depend on the number of threads.
func Calibrate(ctx context.Context, g *graph.Graph, samples Samples, opts Options) (*Calibration, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	// Shape arithmetic on static shapes becomes constants (as Compile
	// does), so only the real compute graph is calibrated and rewritten.
	g, _, err := interp.Fold(g)
	if err != nil {
		return nil, err
	}
	if len(g.Inputs) != 1 {
		return nil, fmt.Errorf("calibration supports single-input graphs; this one has %d inputs", len(g.Inputs))
	}
	in := g.Inputs[0]
	inSize := g.Tensors[in].NumElements()
	threads := opts.Threads
	if threads < 1 {
		threads = 1
	}
	newExec, stateful, err := compileFloat(g)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	if stateful {
		// One executor carries the state through the samples in order.
		threads = 1
	}
	col := newCollector(g, opts.Bins)
	probes, err := newLSTMProbes(g)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	for _, lp := range probes {
		col.lstm[lp.op] = newLSTMStats(opts.Bins)
	}
	var svdfs []*graph.Op
	for _, op := range g.Ops {
		if op.Kind == graph.OpSVDF && len(op.Inputs) > 4 && op.Inputs[4] >= 0 && op.Inputs[0] >= 0 {
			svdfs = append(svdfs, op)
			col.track(op.Inputs[4])
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	type job struct {
		idx int
		x   []float32
	}
	type result struct {
		idx  int
		vals [][]float32  // indexed by tensor; nil when not observed
		lstm []lstmValues // per probe
	}
	jobs := make(chan job)
	results := make(chan result, threads)
	// Tokens bound the samples in flight (including finished ones waiting
	// for an earlier sample), so memory stays bounded.
	tokens := make(chan struct{}, 2*threads)

	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		ex, err := newExec()
		if err != nil {
			return nil, fmt.Errorf("calibration: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				vals := make([][]float32, len(g.Tensors))
				vals[in] = j.x
				err := ex.run(j.x, func(t int, v []float32) {
					if col.tracked[t] {
						vals[t] = append([]float32(nil), v...)
					}
				})
				if err != nil {
					fail(fmt.Errorf("calibration sample %d: %w", j.idx, err))
					continue
				}
				// Each float SVDF's state: the features it writes.
				for _, op := range svdfs {
					if st, sv, ok := svdfState(g, op, vals[op.Inputs[0]]); ok {
						vals[st] = sv
					}
				}
				// Inside each LSTM: run it again on the input the graph
				// gave it, with the calibration probe.
				lv := make([]lstmValues, len(probes))
				for i := range probes {
					if lv[i], err = probes[i].observe(vals[probes[i].x]); err != nil {
						err = fmt.Errorf("calibration sample %d: op %d (UNIDIRECTIONAL_SEQUENCE_LSTM): %w", j.idx, probes[i].op, err)
						break
					}
				}
				if err != nil {
					fail(err)
					continue
				}
				results <- result{j.idx, vals, lv}
			}
		}()
	}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		pending := map[int]result{}
		next := 0
		for r := range results {
			pending[r.idx] = r
			for {
				v, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				col.add(v.vals)
				for i, lp := range probes {
					col.lstm[lp.op].add(v.lstm[i])
				}
				next++
				<-tokens
				if opts.Progress != nil {
					opts.Progress(next)
				}
			}
		}
	}()

	idx := 0
	perr := samples(func(x []float32) error {
		if len(x) != inSize {
			return fmt.Errorf("calibration sample %d has %d values, input %q needs %d", idx, len(x), g.Tensors[in].Name, inSize)
		}
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case jobs <- job{idx, append([]float32(nil), x...)}:
		case <-ctx.Done():
			return ctx.Err()
		}
		idx++
		return nil
	})
	close(jobs)
	wg.Wait()
	close(results)
	<-collected
	if firstErr != nil {
		return nil, firstErr
	}
	if perr != nil {
		return nil, fmt.Errorf("calibration samples: %w", perr)
	}
	if idx == 0 {
		return nil, ErrNoSamples
	}
	return col.result(idx), nil
}

// collector accumulates statistics in sample order.
type collector struct {
	hists   []*Histogram
	tracked []bool
	// chanK is the channel count to average over for conv/FC data inputs (0: none).
	chanK  []int
	sums   [][]float64
	counts []int64
	lstm   map[int]*LSTMStats // by op index
	g      *graph.Graph
	bins   int
}

// track records a histogram of float activation t (a state tensor too).
func (c *collector) track(t int) {
	if t >= 0 && c.g.Tensors[t].DType == graph.Float32 && !c.g.Tensors[t].IsConst() && !c.tracked[t] {
		c.tracked[t] = true
		c.hists[t] = NewHistogram(c.bins)
	}
}

func newCollector(g *graph.Graph, bins int) *collector {
	n := len(g.Tensors)
	c := &collector{hists: make([]*Histogram, n), tracked: make([]bool, n), chanK: make([]int, n),
		sums: make([][]float64, n), counts: make([]int64, n), lstm: map[int]*LSTMStats{}}
	c.g, c.bins = g, bins
	track := c.track
	for _, in := range g.Inputs {
		track(in)
	}
	for _, op := range g.Ops {
		for _, out := range op.Outputs {
			track(out)
		}
		if len(op.Inputs) < 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 {
			continue
		}
		x, w := g.Tensors[op.Inputs[0]], g.Tensors[op.Inputs[1]]
		k := 0
		switch op.Kind {
		case graph.OpConv2D, graph.OpDepthwiseConv2D:
			if len(x.Shape) == 4 {
				k = x.Shape[3]
			}
		case graph.OpFullyConnected:
			if len(w.Shape) == 2 {
				k = w.Shape[1]
			}
		}
		if k > 0 && c.chanK[op.Inputs[0]] == 0 && x.NumElements()%k == 0 {
			c.chanK[op.Inputs[0]] = k
			c.sums[op.Inputs[0]] = make([]float64, k)
		}
	}
	return c
}

func (c *collector) add(vals [][]float32) {
	for t, v := range vals {
		if v == nil || !c.tracked[t] {
			continue
		}
		c.hists[t].Add(v)
		if k := c.chanK[t]; k > 0 {
			s := c.sums[t]
			for i, x := range v {
				s[i%k] += float64(x)
			}
			c.counts[t] += int64(len(v) / k)
		}
	}
}

func (c *collector) result(samples int) *Calibration {
	cal := &Calibration{Samples: samples, Hists: c.hists, ChannelMeans: map[int][]float64{}, LSTM: c.lstm}
	for t, s := range c.sums {
		if s == nil || c.counts[t] == 0 {
			continue
		}
		m := make([]float64, len(s))
		for i := range s {
			m[i] = s[i] / float64(c.counts[t])
		}
		cal.ChannelMeans[t] = m
	}
	return cal
}
