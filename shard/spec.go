package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// Spec says which shard of how many this process computes. Index counts
// from 1 ("shard 1/4" … "shard 4/4"), as people and `--shard` do.
type Spec struct {
	Index, Count int
}

// MaxCount bounds the number of shards (far more than any job array).
const MaxCount = 1 << 20

// String returns "I/N".
func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Validate checks 1 <= Index <= Count <= MaxCount.
func (s Spec) Validate() error {
	if s.Count < 1 || s.Count > MaxCount {
		return fmt.Errorf("shard count %d outside 1..%d", s.Count, MaxCount)
	}
	if s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("shard %d/%d: the index must be in 1..%d", s.Index, s.Count, s.Count)
	}
	return nil
}

// FileName is the partial result's file name: shard-0003-of-0007.qbpart
// (zero-padded so a shell glob lists shards in order).
func (s Spec) FileName() string {
	return fmt.Sprintf("shard-%04d-of-%04d%s", s.Index, s.Count, Ext)
}

// Parse reads "I/N" (1 <= I <= N).
func Parse(v string) (Spec, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(v), "/")
	if !ok {
		return Spec{}, fmt.Errorf("shard %q: want I/N, e.g. 2/4", v)
	}
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return Spec{}, fmt.Errorf("shard %q: want I/N with whole numbers, e.g. 2/4", v)
	}
	s := Spec{Index: i, Count: n}
	if err := s.Validate(); err != nil {
		return Spec{}, fmt.Errorf("shard %q: %w", v, err)
	}
	return s, nil
}

// FromEnv derives the shard from a job scheduler's environment: a Slurm
// job array (SLURM_ARRAY_TASK_ID, _MIN, _STEP and _COUNT: task ids
// min, min+step, … become shards 1, 2, …, so --array=0-3 and
// --array=1-4 both work) or a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX, counted from 0; Kubernetes does not tell the
// number of completions, so count, from a flag, must give it). count > 0
// must agree with Slurm's task count. It returns ok=false when neither
// scheduler's variables are set, and src names the variables used.
func FromEnv(getenv func(string) string, count int) (s Spec, src string, ok bool, err error) {
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		src = "SLURM_ARRAY_TASK_ID=" + id
		num := func(name, def string) (int, error) {
			v := getenv(name)
			if v == "" {
				v = def
			}
			if v == "" {
				return 0, fmt.Errorf("%s is set but %s is not (not a Slurm job array?)", src, name)
			}
			x, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("%s=%q is not a number", name, v)
			}
			return x, nil
		}
		task, err := num("SLURM_ARRAY_TASK_ID", "")
		if err != nil {
			return Spec{}, src, true, err
		}
		lo, err := num("SLURM_ARRAY_TASK_MIN", "")
		if err != nil {
			return Spec{}, src, true, err
		}
		step, err := num("SLURM_ARRAY_TASK_STEP", "1")
		if err != nil {
			return Spec{}, src, true, err
		}
		n, err := num("SLURM_ARRAY_TASK_COUNT", "")
		if err != nil {
			return Spec{}, src, true, err
		}
		if step < 1 || task < lo || (task-lo)%step != 0 {
			return Spec{}, src, true, fmt.Errorf("%s is not min %d plus a multiple of step %d", src, lo, step)
		}
		if count > 0 && count != n {
			return Spec{}, src, true, fmt.Errorf("--shards %d but the Slurm array has SLURM_ARRAY_TASK_COUNT=%d tasks", count, n)
		}
		s = Spec{Index: (task-lo)/step + 1, Count: n}
		if err := s.Validate(); err != nil {
			// A comma list like --array=1,5,9 has no single step: the
			// task ids do not map to 1..N.
			return Spec{}, src, true, fmt.Errorf("%s (min %d, step %d, %d tasks): %w; use a range like --array=1-%d", src, lo, step, n, err, n)
		}
		return s, src, true, nil
	}
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
		src = "JOB_COMPLETION_INDEX=" + idx
		i, err := strconv.Atoi(idx)
		if err != nil {
			return Spec{}, src, true, fmt.Errorf("JOB_COMPLETION_INDEX=%q is not a number", idx)
		}
		if count <= 0 {
			return Spec{}, src, true, fmt.Errorf("%s is set but the number of shards is unknown: give --shards N (the Job's completions)", src)
		}
		s = Spec{Index: i + 1, Count: count}
		if err := s.Validate(); err != nil {
			return Spec{}, src, true, fmt.Errorf("%s with --shards %d: %w", src, count, err)
		}
		return s, src, true, nil
	}
	return Spec{}, "", false, nil
}

// Assign deals the samples of every split to n shards, stratified by
// class: samples are taken split by split, class by class (in label
// order) and, within a class, in sample order, and dealt round-robin.
// Every shard gets ⌊c/n⌋ or ⌈c/n⌉ of each class's c samples and of the
// total, and the result depends only on the labels, so every shard and
// the merge compute the same assignment. It returns each sample's shard
// counted from 0.
func Assign(labels [][]int, n int) [][]int32 {
	out := make([][]int32, len(labels))
	next := 0
	for s, ls := range labels {
		out[s] = make([]int32, len(ls))
		maxL := -1
		for _, l := range ls {
			maxL = max(maxL, l)
		}
		// Counting sort by label keeps sample order within a class.
		start := make([]int, maxL+2)
		for _, l := range ls {
			start[l+1]++
		}
		for c := 1; c < len(start); c++ {
			start[c] += start[c-1]
		}
		order := make([]int, len(ls))
		for i, l := range ls {
			order[start[l]] = i
			start[l]++
		}
		for _, i := range order {
			out[s][i] = int32(next % n)
			next++
		}
	}
	return out
}
