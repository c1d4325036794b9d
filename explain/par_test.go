package explain

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestForEachOrderAndCopies: results merge in sample order whatever the
// threads and per-sample cost, and each worker sees its own sample's values
// although the source reuses one buffer and forEach recycles its copies.
func TestForEachOrderAndCopies(t *testing.T) {
	const n = 200
	src := func(yield func([]float32, int) error) error {
		buf := make([]float32, 3)
		for i := 0; i < n; i++ {
			buf[0], buf[1], buf[2] = float32(i), float32(2*i), float32(3*i)
			if err := yield(buf, i%7); err != nil {
				return err
			}
		}
		return nil
	}
	for _, threads := range []int{1, 3} {
		var got []int
		cnt, err := forEach(context.Background(), src, threads, func() (int, error) { return 0, nil },
			func(_ int, idx int, x []float32, label int) (int, error) {
				if idx%10 == 0 {
					time.Sleep(time.Millisecond) // a slow (per-layer) sample
				}
				if x[0] != float32(idx) || x[1] != float32(2*idx) || x[2] != float32(3*idx) || label != idx%7 {
					t.Errorf("sample %d saw %v label %d", idx, x, label)
				}
				return int(x[0]), nil
			},
			func(idx int, v int) {
				if v != idx {
					t.Errorf("merge %d got %d", idx, v)
				}
				got = append(got, v)
			})
		if err != nil || cnt != n || len(got) != n {
			t.Fatalf("threads %d: n %d merged %d err %v", threads, cnt, len(got), err)
		}
	}
}

// TestForEachError: a failing sample stops the pass and names the sample.
func TestForEachError(t *testing.T) {
	boom := errors.New("boom")
	src := SliceData(make([][]float32, 50), make([]int, 50))
	_, err := forEach(context.Background(), src, 2, func() (int, error) { return 0, nil },
		func(_ int, idx int, _ []float32, _ int) (int, error) {
			if idx == 17 {
				return 0, boom
			}
			return 0, nil
		}, func(int, int) {})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "sample 17") {
		t.Fatalf("err %v", err)
	}
}
