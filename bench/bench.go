// Package bench measures how fast a model runs in qbench: latency
// percentiles of single runs and throughput in images per second, with one
// or several executors running concurrently.
package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qbench/qbench/kernels/fixedpoint"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/tflite"
)

// Options configure Run.
type Options struct {
	// Threads is the number of executors running concurrently (≥ 1).
	Threads int
	// Batch is the batch size every run processes (≥ 1).
	Batch int
	// Duration is how long to measure after warm-up (> 0).
	Duration time.Duration
	// Warmup is how long to run before measuring, so caches, the
	// allocator and CPU frequency settle. 0 still runs once per executor.
	Warmup time.Duration
	// Seed seeds the random inputs (results do not depend on the values,
	// but runs stay reproducible).
	Seed int64
	// MaxRuns stops early after this many measured runs in total
	// (0: maxRunsDefault). The latencies kept are a bounded sample
	// whatever it is (see latencySample).
	MaxRuns int
	// OpRuns, when > 0, adds a per-op time profile measured over this many
	// extra single-executor runs (Result.Ops).
	OpRuns int
	// Rounding is the integer arithmetic of quantized models (see
	// interp.Options.Rounding); the CLI measures the TFLite runtime's.
	Rounding fixedpoint.Rounding
	// MaxArenaBytes bounds each executor's activation memory (see
	// interp.Options.MaxArenaBytes; 0: its default).
	MaxArenaBytes int64
}

// OpTime is one op's share of a run.
type OpTime struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	// Output names the op's first output tensor.
	Output string `json:"output"`
	// MS is the median time per run in milliseconds.
	MS float64 `json:"ms"`
	// Share is MS over the sum of all ops' MS (0..1).
	Share float64 `json:"share"`
}

// Latency holds run-latency percentiles in milliseconds. One run
// processes one batch.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// Result is the measurement of one model. Its JSON form is the line
// `qbench bench --json` prints.
type Result struct {
	Model           string  `json:"model"`
	Threads         int     `json:"threads"`
	Batch           int     `json:"batch"`
	ImagesPerSecond float64 `json:"images_per_second"`
	Latency         Latency `json:"latency_ms"`
	// LoadMS is the time to read and parse the model file (RunFile only;
	// 0 when the caller loaded the graph itself).
	LoadMS float64 `json:"load_ms,omitempty"`
	// CompileMS is the time to compile the graph for the batch and set up
	// the first executor (TFLite's interpreter init plus AllocateTensors).
	CompileMS float64 `json:"compile_ms"`
	// FirstInferenceMS is the first run of the first executor, alone:
	// cold caches and first-touch page faults, which the percentiles
	// (measured after warm-up) leave out.
	FirstInferenceMS float64 `json:"first_inference_ms"`
	// PeakMemoryMB is the process's peak resident memory (Linux VmHWM,
	// MiB) while loading and running this model; RunFile resets the mark
	// before loading so models in one invocation do not see each other's.
	// 0 (omitted) where the kernel does not report it.
	PeakMemoryMB float64 `json:"peak_memory_mb,omitempty"`
	// Ops is the per-op profile when Options.OpRuns > 0.
	Ops []OpTime `json:"ops,omitempty"`
	// Runs is the number of measured runs (batches) over all executors.
	Runs int `json:"-"`
	// Seconds is the measured wall time.
	Seconds float64 `json:"-"`
}

// maxRunsDefault stops a measurement after this many runs when
// Options.MaxRuns is 0.
const maxRunsDefault = 5_000_000

// Run compiles g for opts.Batch and measures it; name is recorded as
// Result.Model. Inputs are filled with seeded random values once; each
// executor then runs back to back until the duration ends or ctx is done.
func Run(ctx context.Context, name string, g *graph.Graph, opts Options) (*Result, error) {
	if opts.Threads < 1 {
		return nil, fmt.Errorf("bench %s: threads must be ≥ 1, got %d", name, opts.Threads)
	}
	if opts.Batch < 1 {
		return nil, fmt.Errorf("bench %s: batch must be ≥ 1, got %d", name, opts.Batch)
	}
	if opts.Duration <= 0 {
		return nil, fmt.Errorf("bench %s: duration must be > 0, got %v", name, opts.Duration)
	}
	c0 := time.Now()
	prog, err := interp.Compile(g, interp.Options{Batch: opts.Batch, Rounding: opts.Rounding, MaxArenaBytes: opts.MaxArenaBytes})
	if err != nil {
		return nil, fmt.Errorf("bench %s: %w", name, err)
	}
	exs := make([]*interp.Executor, opts.Threads)
	var compile, first time.Duration
	for t := range exs {
		exs[t] = prog.NewExecutor()
		if t == 0 {
			compile = time.Since(c0)
		}
		rng := rand.New(rand.NewPCG(uint64(opts.Seed), uint64(t)))
		for i := 0; i < prog.NumInputs(); i++ {
			if err := fillRandom(exs[t].Input(i), rng); err != nil {
				return nil, fmt.Errorf("bench %s: input %d %q: %w", name, i, prog.InputTensor(i).Name, err)
			}
		}
		// The first run validates the model before timing starts; the
		// first executor's runs alone, so it is the cold first inference.
		f0 := time.Now()
		if err := exs[t].Run(); err != nil {
			return nil, fmt.Errorf("bench %s: %w", name, err)
		}
		if t == 0 {
			first = time.Since(f0)
		}
	}
	maxRuns := opts.MaxRuns
	if maxRuns <= 0 {
		maxRuns = maxRunsDefault
	}
	if opts.Warmup > 0 {
		if _, _, _, err := runAll(ctx, exs, opts.Warmup, maxRuns, uint64(opts.Seed)); err != nil {
			return nil, fmt.Errorf("bench %s: warm-up: %w", name, err)
		}
	}
	lat, runs, wall, err := runAll(ctx, exs, opts.Duration, maxRuns, uint64(opts.Seed))
	if err != nil {
		return nil, fmt.Errorf("bench %s: %w", name, err)
	}
	if runs == 0 {
		return nil, fmt.Errorf("bench %s: no run finished (cancelled?)", name)
	}
	var ops []OpTime
	if opts.OpRuns > 0 {
		if ops, err = profileOps(ctx, exs[0], opts.OpRuns); err != nil {
			return nil, fmt.Errorf("bench %s: op profile: %w", name, err)
		}
	}
	slices.Sort(lat)
	r := &Result{
		Model: name, Threads: opts.Threads, Batch: opts.Batch,
		ImagesPerSecond: float64(runs*opts.Batch) / wall.Seconds(),
		Latency: Latency{
			P50: Percentile(lat, 50), P90: Percentile(lat, 90), P99: Percentile(lat, 99),
		},
		CompileMS:        ms(compile),
		FirstInferenceMS: ms(first),
		Runs:             runs,
		Seconds:          wall.Seconds(),
		Ops:              ops,
	}
	if peak, ok := PeakMemory(); ok {
		r.PeakMemoryMB = float64(peak) / (1 << 20)
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// RunFile resets the process's peak-memory mark, reads the model at path
// (timed as Result.LoadMS) and runs Run on it, so the peak covers loading,
// compiling and running this model only.
func RunFile(ctx context.Context, path string, opts Options) (*Result, error) {
	runtime.GC()
	debug.FreeOSMemory()
	ResetPeakMemory()
	t0 := time.Now()
	g, err := tflite.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	load := time.Since(t0)
	r, err := Run(ctx, path, g, opts)
	if err != nil {
		return nil, err
	}
	r.LoadMS = ms(load)
	return r, nil
}

// ResetPeakMemory resets the kernel's peak resident-set mark of this
// process (Linux ≥ 4.0: writing 5 to /proc/self/clear_refs). Elsewhere it
// does nothing and the peak then covers the whole process so far.
func ResetPeakMemory() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakMemory returns the process's peak resident memory in bytes (Linux
// VmHWM since start or the last ResetPeakMemory); ok is false where the
// kernel does not report it.
func PeakMemory() (bytes int64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	return parseVmHWM(f)
}

// parseVmHWM reads the "VmHWM:   1234 kB" line of a /proc/PID/status.
func parseVmHWM(r io.Reader) (int64, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// runAll runs every executor back to back on its own goroutine for d and
// returns a sample of the run latencies (ms; every run's when there are at
// most sampleCap per executor, see latencySample), the number of runs and
// the wall time until the last run ended. Throughput divides completed
// work by that wall time, so a run still in flight at the deadline is
// counted, not cut.
func runAll(ctx context.Context, exs []*interp.Executor, d time.Duration, maxRuns int, seed uint64) ([]float64, int, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(d)
	per := max(1, maxRuns/len(exs))
	samples := make([]latencySample, len(exs))
	errs := make([]error, len(exs))
	var wg sync.WaitGroup
	for t, ex := range exs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &samples[t]
			s.rng = rand.New(rand.NewPCG(seed, uint64(t)))
			for s.n < per && ctx.Err() == nil {
				t0 := time.Now()
				if err := ex.Run(); err != nil {
					errs[t] = err
					return
				}
				t1 := time.Now()
				s.add(float64(t1.Sub(t0).Nanoseconds()) / 1e6)
				if !t1.Before(deadline) {
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, 0, 0, err
	}
	lat, runs := mergeSamples(samples)
	return lat, runs, wall, nil
}

// sampleCap is how many latencies one executor keeps: 512 KiB, enough for
// percentiles up to p99 to a few hundredths of a percentile, where keeping
// every run of a model that runs millions of times a second took tens of
// MB and showed up as the model's peak memory.
const sampleCap = 1 << 16

// latencySample is a uniform random sample of at most sampleCap of an
// executor's run latencies (reservoir sampling, seeded), and how many runs
// it saw.
type latencySample struct {
	lat []float64
	n   int
	rng *rand.Rand
}

func (s *latencySample) add(ms float64) {
	s.n++
	if len(s.lat) < sampleCap {
		s.lat = append(s.lat, ms)
		return
	}
	if j := s.rng.IntN(s.n); j < sampleCap {
		s.lat[j] = ms
	}
}

// mergeSamples returns the executors' latencies as one sample in which
// each executor has its share of the runs (every latency when none was
// sampled), and the total number of runs.
func mergeSamples(ss []latencySample) ([]float64, int) {
	runs, sampled := 0, false
	for _, s := range ss {
		runs += s.n
		sampled = sampled || s.n > len(s.lat)
	}
	if !sampled {
		var all []float64
		for _, s := range ss {
			all = append(all, s.lat...)
		}
		return all, runs
	}
	// Take from each executor a number of latencies proportional to its
	// runs, as many as the executor with the fewest kept per run allows.
	scale := math.Inf(1)
	for _, s := range ss {
		if s.n > 0 {
			scale = min(scale, float64(len(s.lat))/float64(s.n))
		}
	}
	var all []float64
	for _, s := range ss {
		// k of the kept latencies chosen at random (a partial shuffle):
		// the reservoir's own order is not random.
		k := min(len(s.lat), int(math.Round(scale*float64(s.n))))
		for i := range k {
			j := i + s.rng.IntN(len(s.lat)-i)
			s.lat[i], s.lat[j] = s.lat[j], s.lat[i]
		}
		all = append(all, s.lat[:k]...)
	}
	return all, runs
}

// profileOps times each op over runs runs of ex with the executor's step
// hook, which fires after every kernel of the schedule Run really executes
// (a MAX_POOL_2D→RELU pair fused into one kernel, the per-image prefix of a
// batch run image by image): an op's time is the gap since the previous
// step (or the run's start) ended, summed over the images of a run. An op
// the schedule folded into another never fires and shows 0. It reports
// each op's median over the runs, so a scheduler hiccup in one run does
// not land on one op.
func profileOps(ctx context.Context, ex *interp.Executor, runs int) ([]OpTime, error) {
	g := ex.Program().Graph()
	per := make([][]float64, len(g.Ops)) // per op: ms of each run
	cur := make([]float64, len(g.Ops))   // this run's ms per op
	var last time.Time
	ex.SetStepHook(func(i, _ int) {
		now := time.Now()
		cur[i] += float64(now.Sub(last).Nanoseconds()) / 1e6
		last = now
	})
	defer ex.SetStepHook(nil)
	done := 0
	for ; done < runs && ctx.Err() == nil; done++ {
		clear(cur)
		last = time.Now()
		if err := ex.Run(); err != nil {
			return nil, err
		}
		for i, ms := range cur {
			per[i] = append(per[i], ms)
		}
	}
	if done == 0 {
		return nil, errors.New("no run finished (cancelled?)")
	}
	out := make([]OpTime, len(g.Ops))
	var sum float64
	for i, op := range g.Ops {
		name := ""
		if len(op.Outputs) > 0 && op.Outputs[0] >= 0 {
			name = g.Tensors[op.Outputs[0]].Name
		}
		slices.Sort(per[i])
		out[i] = OpTime{Index: i, Kind: op.Kind.String(), Output: name, MS: Percentile(per[i], 50)}
		sum += out[i].MS
	}
	for i := range out {
		if sum > 0 {
			out[i].Share = out[i].MS / sum
		}
	}
	return out, nil
}

// Percentile returns the p-th percentile (0..100) of sorted values, by
// linear interpolation between closest ranks; NaN for no values.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n == 1 || p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	pos := p / 100 * float64(n-1)
	i := int(pos)
	f := pos - float64(i)
	if i+1 >= n {
		return sorted[n-1]
	}
	return sorted[i] + f*(sorted[i+1]-sorted[i])
}

// fillRandom fills an input buffer with seeded values spanning the dtype
// (floats uniform in [0,1), like normalised pixels).
func fillRandom(b *kernels.Buffer, rng *rand.Rand) error {
	if b == nil {
		return errors.New("no buffer")
	}
	switch b.DType {
	case graph.Float32:
		for i := range b.F32 {
			b.F32[i] = rng.Float32()
		}
	case graph.Int8:
		for i := range b.I8 {
			b.I8[i] = int8(rng.IntN(256) - 128)
		}
	case graph.UInt8:
		for i := range b.U8 {
			b.U8[i] = uint8(rng.IntN(256))
		}
	case graph.Int16:
		for i := range b.I16 {
			b.I16[i] = int16(rng.IntN(65536) - 32768)
		}
	case graph.Int32:
		for i := range b.I32 {
			b.I32[i] = int32(rng.IntN(256))
		}
	default:
		return fmt.Errorf("cannot fill a %s input", b.DType)
	}
	return nil
}

// CPUModel returns the processor's model name from /proc/cpuinfo, or
// GOARCH when it is not available.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return runtime.GOARCH
}
