package metrics

import (
	"math/rand"
	"reflect"
	"strconv"
	"testing"
)

// permutedConfusion puts n samples of each true class t on pred[t] (9 of
// every 10) and the rest on the diagonal, like a classifier that is right
// about the classes but numbers them differently.
func permutedConfusion(k, n int, pred func(t int) int) [][]int64 {
	c := make([][]int64, k)
	for t := range c {
		c[t] = make([]int64, k)
		if p := pred(t); p >= 0 {
			c[t][p] += int64(n * 9 / 10)
			c[t][t] += int64(n - n*9/10)
		}
	}
	return c
}

func TestDiagnoseClassOrderLexicographic(t *testing.T) {
	k := 43
	names := make([]string, k)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	lex := lexRanks(names)
	// Class 5 has no samples: the convention still places it.
	c := permutedConfusion(k, 20, func(t int) int {
		if t == 5 {
			return -1
		}
		return lex[t]
	})
	d := DiagnoseClassOrder(c, names)
	if d == nil || d.Convention != OrderLexicographic || d.Mapped < 0.89 || d.Diagonal > 0.2 {
		t.Fatalf("diagnosis %+v", d)
	}
	if d.Mapping[10] != 2 || d.Mapping[2] != 12 || d.Mapping[5] != -1 || d.Full[5] != lex[5] {
		t.Fatalf("mapping %v full %v", d.Mapping, d.Full)
	}
	// Zero-padded folder names ("00".."42") sort numerically; the
	// decimal ids still recognise the convention.
	for i := range names {
		names[i] = "0" + names[i]
		if i >= 10 {
			names[i] = names[i][1:]
		}
	}
	if d := DiagnoseClassOrder(c, names); d == nil || d.Convention != OrderLexicographic {
		t.Fatalf("padded names: %+v", d)
	}
}

func TestDiagnoseClassOrderOffsetAndOthers(t *testing.T) {
	// 1001 outputs, classes 0..999 on output t+1 (background first).
	k := 1001
	c := permutedConfusion(k, 10, func(t int) int {
		if t == k-1 {
			return -1
		}
		return t + 1
	})
	d := DiagnoseClassOrder(c, nil)
	if d == nil || d.Convention != OrderBackgroundFirst || d.Full[0] != 1 || d.Full[k-1] != -1 {
		t.Fatalf("background-first: %+v", d)
	}
	// An arbitrary permutation: diagnosed, no convention named.
	perm := rand.New(rand.NewSource(1)).Perm(8)
	d = DiagnoseClassOrder(permutedConfusion(8, 10, func(t int) int { return perm[t] }), nil)
	if d == nil || d.Convention != "" || !reflect.DeepEqual(d.Mapping, perm) {
		t.Fatalf("random permutation %v: %+v", perm, d)
	}
	// A good classifier and a bad but unordered one: no diagnosis.
	if d := DiagnoseClassOrder(permutedConfusion(8, 10, func(t int) int { return t }), nil); d != nil {
		t.Fatalf("diagonal: %+v", d)
	}
	uniform := make([][]int64, 8)
	for t := range uniform {
		uniform[t] = []int64{3, 3, 3, 3, 3, 3, 3, 3}
	}
	if d := DiagnoseClassOrder(uniform, nil); d != nil {
		t.Fatalf("uniform: %+v", d)
	}
	if d := DiagnoseClassOrder([][]int64{{0, 1}, {1, 0}}, nil); d != nil {
		t.Fatalf("2 samples: %+v", d)
	}
}

// maxAssignment equals a brute-force search over every assignment on
// small random matrices, rectangular (fewer rows) included.
func TestMaxAssignmentMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for trial := range 300 {
		k := 1 + r.Intn(6)
		c := make([][]int64, k)
		for i := range c {
			c[i] = make([]int64, k)
			for j := range c[i] {
				c[i][j] = int64(r.Intn(5))
			}
		}
		var rows []int
		for i := range k {
			if r.Intn(4) > 0 {
				rows = append(rows, i)
			}
		}
		got := maxAssignment(c, rows)
		sum := int64(0)
		seen := map[int]bool{}
		for i, j := range got {
			if seen[j] {
				t.Fatalf("trial %d: column %d used twice: %v", trial, j, got)
			}
			seen[j] = true
			sum += c[rows[i]][j]
		}
		if best := bruteAssign(c, rows, 0, map[int]bool{}); sum != best {
			t.Fatalf("trial %d: %v rows %v: assignment sum %d, best %d", trial, c, rows, sum, best)
		}
	}
}

func bruteAssign(c [][]int64, rows []int, i int, used map[int]bool) int64 {
	if i == len(rows) {
		return 0
	}
	best := int64(-1)
	for j := range c {
		if used[j] {
			continue
		}
		used[j] = true
		best = max(best, c[rows[i]][j]+bruteAssign(c, rows, i+1, used))
		used[j] = false
	}
	return best
}

// A weak classifier (45% right) in lexicographic order is still named:
// the best assignment would fit its noise, the convention does not.
func TestDiagnoseClassOrderWeakModel(t *testing.T) {
	k := 43
	names := make([]string, k)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	lex := lexRanks(names)
	r := rand.New(rand.NewSource(3))
	c := make([][]int64, k)
	for i := range c {
		c[i] = make([]int64, k)
	}
	for tc := range k {
		for s := range 5 {
			p := r.Intn(k)
			if s < 2 || (s == 2 && tc%4 == 0) {
				p = lex[tc]
			}
			c[tc][p]++
		}
	}
	d := DiagnoseClassOrder(c, names)
	if d == nil || d.Convention != OrderLexicographic || d.Mapping[10] != 2 {
		t.Fatalf("weak lexicographic model: %+v", d)
	}
}
