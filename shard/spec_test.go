package shard

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Spec
		err  string
	}{
		{"1/1", Spec{1, 1}, ""},
		{" 3/7", Spec{3, 7}, ""},
		{"0/4", Spec{}, "index must be in 1..4"},
		{"5/4", Spec{}, "index must be in 1..4"},
		{"2", Spec{}, "want I/N"},
		{"a/b", Spec{}, "whole numbers"},
		{"1/0", Spec{}, "shard count 0"},
	} {
		got, err := Parse(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	if got := (Spec{3, 12}).FileName(); got != "shard-0003-of-0012.qbpart" {
		t.Errorf("FileName = %s", got)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	slurm := func(id, lo, step, n string) func(string) string {
		return env("SLURM_ARRAY_TASK_ID", id, "SLURM_ARRAY_TASK_MIN", lo, "SLURM_ARRAY_TASK_STEP", step, "SLURM_ARRAY_TASK_COUNT", n)
	}
	for _, c := range []struct {
		name  string
		env   func(string) string
		count int
		want  Spec
		err   string
	}{
		{"none", env(), 0, Spec{}, ""},
		{"slurm 1-4", slurm("3", "1", "1", "4"), 0, Spec{3, 4}, ""},
		{"slurm 0-3", slurm("0", "0", "1", "4"), 0, Spec{1, 4}, ""},
		{"slurm step", slurm("7", "1", "2", "4"), 0, Spec{4, 4}, ""},
		{"slurm no step var", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_COUNT", "2"), 0, Spec{2, 2}, ""},
		{"slurm flag agrees", slurm("2", "1", "1", "4"), 4, Spec{2, 4}, ""},
		{"slurm flag disagrees", slurm("2", "1", "1", "4"), 3, Spec{}, "--shards 3 but the Slurm array has SLURM_ARRAY_TASK_COUNT=4"},
		{"slurm comma list", slurm("9", "1", "1", "3"), 0, Spec{}, "use a range"},
		{"slurm no count", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_MIN", "1"), 0, Spec{}, "SLURM_ARRAY_TASK_COUNT is not"},
		{"slurm junk", slurm("x", "1", "1", "4"), 0, Spec{}, "not a number"},
		{"k8s", env("JOB_COMPLETION_INDEX", "0"), 5, Spec{1, 5}, ""},
		{"k8s last", env("JOB_COMPLETION_INDEX", "4"), 5, Spec{5, 5}, ""},
		{"k8s no count", env("JOB_COMPLETION_INDEX", "2"), 0, Spec{}, "give --shards N"},
		{"k8s out of range", env("JOB_COMPLETION_INDEX", "5"), 5, Spec{}, "index must be in 1..5"},
	} {
		got, src, ok, err := FromEnv(c.env, c.count)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want == (Spec{}):
			if ok || src != "" {
				t.Errorf("%s: ok=%v src=%q", c.name, ok, src)
			}
		case !ok || got != c.want || src == "":
			t.Errorf("%s: %v ok=%v src=%q, want %v", c.name, got, ok, src, c.want)
		}
	}
}

// TestAssignStratified checks the deal: every sample in exactly one
// shard, per class and in total ⌊c/n⌋ or ⌈c/n⌉, and independence from
// anything but the labels.
func TestAssignStratified(t *testing.T) {
	labels := [][]int{{}, make([]int, 1000), make([]int, 37)}
	for i := range labels[1] {
		labels[1][i] = (i * 7919) % 13 // 13 classes of unequal order
	}
	for i := range labels[2] {
		labels[2][i] = i % 2
	}
	for _, n := range []int{1, 2, 3, 7, 50} {
		a := Assign(labels, n)
		b := Assign(labels, n)
		total := make([]int, n)
		for s, ls := range labels {
			per := map[int][]int{}
			for i, l := range ls {
				if a[s][i] != b[s][i] {
					t.Fatal("Assign is not deterministic")
				}
				if a[s][i] < 0 || int(a[s][i]) >= n {
					t.Fatalf("n=%d: shard %d", n, a[s][i])
				}
				if per[l] == nil {
					per[l] = make([]int, n)
				}
				per[l][a[s][i]]++
				total[a[s][i]]++
			}
			for l, cnt := range per {
				c := 0
				for _, x := range cnt {
					c += x
				}
				for sh, x := range cnt {
					if x != c/n && x != (c+n-1)/n {
						t.Errorf("n=%d split %d class %d: shard %d has %d of %d", n, s, l, sh, x, c)
					}
				}
			}
		}
		all := len(labels[1]) + len(labels[2])
		for sh, x := range total {
			if x != all/n && x != (all+n-1)/n {
				t.Errorf("n=%d: shard %d has %d of %d samples", n, sh, x, all)
			}
		}
	}
}
