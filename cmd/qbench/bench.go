package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/qbench/qbench/bench"
	"github.com/qbench/qbench/kernels/gemm"
	"github.com/spf13/cobra"
)

func newBenchCmd(a *app) *cobra.Command {
	var (
		batch    int
		seconds  float64
		asJSON   bool
		ops      bool
		rounding string
		arena    arenaFlag
	)
	cmd := &cobra.Command{
		Use:   "bench MODEL.tflite...",
		Short: "Measure latency and throughput of models in qbench",
		Long: `bench runs each model on seeded random inputs for --seconds (after a short warm-up)
with --threads executors running concurrently, each processing batches of --batch images.
It prints the CPU model, the thread count and, per model, throughput in images per second,
the latency of one run (one batch) at the 50th, 90th and 99th percentiles and, as TFLite's
benchmark_model does, the time to load the file, to compile it (plan and buffers of one
executor), the first inference (cold, before warm-up) and the process's peak resident memory
while loading and running that model (Linux VmHWM, reset per model; "n/a" elsewhere).

With --json it prints one JSON object per line and model:
{"model": PATH, "threads": N, "batch": B, "images_per_second": X,
 "load_ms": .., "compile_ms": .., "first_inference_ms": .., "peak_memory_mb": ..,
 "latency_ms": {"p50": .., "p90": .., "p99": ..}}
and the CPU line goes to stderr. Machines are noisy: repeat and compare medians.

--ops adds a per-op profile (median milliseconds and share of a run, from 20 extra runs on one
executor) to show which layers bound the model; with --json it is the "ops" array.`,
		Example: `  qbench bench float.tflite int8.tflite
  qbench bench int8.tflite --threads 1 --batch 64 --seconds 10 --json
  qbench bench int8.tflite --threads 1 --ops`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if batch < 1 {
				return usagef("--batch must be ≥ 1, got %d", batch)
			}
			if !(seconds > 0) {
				return usagef("--seconds must be > 0, got %v", seconds)
			}
			if a.threads < 1 {
				return usagef("--threads must be ≥ 1, got %d", a.threads)
			}
			head := fmt.Sprintf("cpu: %s; threads %d; batch %d; gemm %s", bench.CPUModel(), a.threads, batch, gemm.Impl())
			if asJSON {
				if !a.quiet {
					fmt.Fprintln(a.stderr, head)
				}
			} else {
				fmt.Fprintln(a.stdout, head)
				fmt.Fprintf(a.stdout, "%-40s %12s %10s %10s %10s %10s %10s %10s %10s\n", "model", "images/s", "p50 ms", "p90 ms", "p99 ms", "load ms", "compile ms", "first ms", "peak MiB")
			}
			dur := time.Duration(seconds * float64(time.Second))
			rnd, err := parseRounding(rounding)
			if err != nil {
				return err
			}
			opts := bench.Options{
				Threads: a.threads, Batch: batch, Duration: dur, Rounding: rnd, MaxArenaBytes: arena.bytes,
				Warmup: min(dur/10, 500*time.Millisecond), Seed: a.seed,
			}
			if ops {
				opts.OpRuns = 20
			}
			enc := json.NewEncoder(a.stdout)
			pr := a.progress()
			for _, path := range args {
				task := pr.Start("bench "+path, 0, "runs")
				r, err := bench.RunFile(cmd.Context(), path, opts)
				if err != nil {
					task.Done()
					return err
				}
				task.Add(int64(r.Runs))
				task.Done()
				if asJSON {
					if err := enc.Encode(r); err != nil {
						return err
					}
					continue
				}
				peak := "n/a"
				if r.PeakMemoryMB > 0 {
					peak = fmt.Sprintf("%.1f", r.PeakMemoryMB)
				}
				fmt.Fprintf(a.stdout, "%-40s %12.1f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10s\n", path, r.ImagesPerSecond,
					r.Latency.P50, r.Latency.P90, r.Latency.P99, r.LoadMS, r.CompileMS, r.FirstInferenceMS, peak)
				for _, o := range r.Ops {
					fmt.Fprintf(a.stdout, "  op %3d %-20s %9.3f ms %5.1f%%  %s\n", o.Index, o.Kind, o.MS, 100*o.Share, o.Output)
				}
			}
			pr.Wait()
			return nil
		},
	}
	f := cmd.Flags()
	addRoundingFlag(f, &rounding)
	addMaxArenaFlag(f, &arena)
	f.IntVar(&batch, "batch", 1, "images per run")
	f.Float64Var(&seconds, "seconds", 3, "measuring time per model, in seconds")
	f.BoolVar(&asJSON, "json", false, "one JSON object per line and model")
	f.BoolVar(&ops, "ops", false, "also profile the time of each op")
	return cmd
}
