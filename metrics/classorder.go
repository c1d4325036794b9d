package metrics

import (
	"math"
	"sort"
	"strconv"
)

// Conventions ClassOrder.Convention names.
const (
	// OrderLexicographic: the model numbers its classes in the string
	// order of their folder names ("0", "1", "10", "11", …, "2"), as
	// Keras' image_dataset_from_directory and torchvision's ImageFolder
	// do, while the data numbers them numerically.
	OrderLexicographic = "lexicographic"
	// OrderBackgroundFirst: output i+1 is class i, the extra output 0
	// being a background class as in 1001-class ImageNet models.
	OrderBackgroundFirst = "offset +1 (background class first)"
	// OrderOffsetMinus: output i-1 is class i (labels counted with a
	// background class the model lacks).
	OrderOffsetMinus = "offset -1"
)

// Thresholds of DiagnoseClassOrder: the mapped fraction must reach
// orderMinMapped and exceed the diagonal by orderMinGain, with at least
// orderMinSamples samples, for the diagnosis to speak.
const (
	orderMinMapped  = 0.5
	orderMinGain    = 0.3
	orderMinSamples = 10
	// orderMinGainKnown is the gain over the diagonal that suffices for
	// a known convention that also at least doubles the accuracy.
	orderMinGainKnown = 0.2
)

// ClassOrder diagnoses a confusion matrix whose samples sit mostly off the
// diagonal but on a one-to-one mapping of true to predicted classes: the
// classes are right, their order is not.
type ClassOrder struct {
	// Mapping[t] is the predicted class the samples of true class t land
	// on under the best one-to-one assignment, -1 for a class without
	// samples.
	Mapping []int `json:"mapping"`
	// Diagonal is the fraction of samples on the diagonal (accuracy),
	// Mapped the fraction on the mapping (the accuracy the mapping would
	// give).
	Diagonal float64 `json:"diagonal"`
	Mapped   float64 `json:"mapped"`
	// Convention names the known convention the mapping follows (one of
	// the Order constants), "" for none.
	Convention string `json:"convention,omitempty"`
	// Full is Mapping extended to every class when Convention is known
	// (the convention says where classes without samples go), else nil.
	Full []int `json:"full,omitempty"`
}

// DiagnoseClassOrder returns the class-order diagnosis of confusion
// (rows true, columns predicted; square), or nil when the matrix does not
// look like a class-order mistake. With at least 10 samples it speaks when
// a known convention's mapping (lexicographic order of names or class
// ids, an offset of one) holds at least 20 points more samples than the
// diagonal and at least twice as many, or else when the best one-to-one
// mapping of classes (an assignment problem on the matrix) holds at least
// half of the samples and 30 points more than the diagonal. names are the
// classes' names in class order (or nil), for the lexicographic
// convention.
func DiagnoseClassOrder(confusion [][]int64, names []string) *ClassOrder {
	k := len(confusion)
	var total, diag, upper int64
	var rows []int
	for t, row := range confusion {
		if len(row) != k {
			return nil
		}
		var sum, best int64
		for _, c := range row {
			sum += c
			best = max(best, c)
		}
		if sum > 0 {
			rows = append(rows, t)
		}
		total += sum
		diag += row[t]
		upper += best
	}
	if total < orderMinSamples {
		return nil
	}
	// A known convention needs less evidence than an arbitrary mapping:
	// it is a common mistake, and an assignment fitted to a weak model's
	// noise would otherwise hide it.
	if name, full, on := bestConvention(confusion, names, rows); name != "" &&
		float64(on-diag) >= orderMinGainKnown*float64(total) && on >= 2*diag {
		mapping := make([]int, k)
		for i := range mapping {
			mapping[i] = -1
		}
		for _, t := range rows {
			mapping[t] = full[t]
		}
		return &ClassOrder{Mapping: mapping, Diagonal: float64(diag) / float64(total), Mapped: float64(on) / float64(total),
			Convention: name, Full: full}
	}
	// The row maxima bound any mapping: most confusion matrices stop here
	// without solving the assignment.
	if !orderSpeaks(upper, diag, total) {
		return nil
	}
	assign := maxAssignment(confusion, rows)
	mapping := make([]int, k)
	for i := range mapping {
		mapping[i] = -1
	}
	var mapped int64
	moved := 0
	for i, t := range rows {
		mapping[t] = assign[i]
		mapped += confusion[t][assign[i]]
		if assign[i] != t {
			moved++
		}
	}
	if moved < 2 || !orderSpeaks(mapped, diag, total) {
		return nil
	}
	return &ClassOrder{Mapping: mapping, Diagonal: float64(diag) / float64(total), Mapped: float64(mapped) / float64(total)}
}

// bestConvention returns the known convention putting the most samples
// of confusion on its mapping (moving at least two classes with samples),
// its full mapping and that count; "" when none moves anything.
func bestConvention(confusion [][]int64, names []string, rows []int) (string, []int, int64) {
	var best string
	var bestFull []int
	var bestOn int64 = -1
	for _, c := range conventions(len(confusion), names) {
		var on int64
		moved := 0
		for _, t := range rows {
			if p := c.full[t]; p >= 0 {
				on += confusion[t][p]
				if p != t {
					moved++
				}
			}
		}
		if moved >= 2 && on > bestOn {
			best, bestFull, bestOn = c.name, c.full, on
		}
	}
	return best, bestFull, bestOn
}

type namedMapping struct {
	name string
	full []int
}

// conventions lists the known class orders for k outputs: lexicographic
// order of the names as given, or of the class ids written as decimal
// numbers (folders "0".."42" whatever their padding here, as a Keras
// model trained on unpadded folders numbers them), and the offsets by one
// (classes without an output map to -1).
func conventions(k int, names []string) []namedMapping {
	var cs []namedMapping
	if len(names) == k {
		if full := lexRanks(names); full != nil {
			cs = append(cs, namedMapping{OrderLexicographic, full})
		}
	}
	ids := make([]string, k)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	cs = append(cs, namedMapping{OrderLexicographic, lexRanks(ids)})
	for _, o := range []struct {
		name  string
		shift int
	}{{OrderBackgroundFirst, 1}, {OrderOffsetMinus, -1}} {
		full := make([]int, k)
		for t := range full {
			full[t] = t + o.shift
			if full[t] < 0 || full[t] >= k {
				full[t] = -1
			}
		}
		cs = append(cs, namedMapping{o.name, full})
	}
	return cs
}

func orderSpeaks(mapped, diag, total int64) bool {
	m, dg := float64(mapped)/float64(total), float64(diag)/float64(total)
	return m >= orderMinMapped && m-dg >= orderMinGain
}

// lexRanks returns, for each name, its position in the names sorted as
// strings; nil when names repeat.
func lexRanks(names []string) []int {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return names[idx[a]] < names[idx[b]] })
	r := make([]int, len(names))
	for pos, i := range idx {
		if pos > 0 && names[idx[pos-1]] == names[i] {
			return nil
		}
		r[i] = pos
	}
	return r
}

// maxAssignment assigns each of rows a distinct column of c (square, k
// columns, len(rows) <= k) maximising the sum of the chosen cells, by the
// Hungarian method with potentials in O(len(rows)² k). It returns the
// column of each row in rows' order.
func maxAssignment(c [][]int64, rows []int) []int {
	n, m := len(rows), len(c)
	inf := math.Inf(1)
	u := make([]float64, n+1)
	v := make([]float64, m+1)
	p := make([]int, m+1) // p[j]: row (1-based) assigned to column j
	way := make([]int, m+1)
	minv := make([]float64, m+1)
	used := make([]bool, m+1)
	cost := func(i, j int) float64 { return -float64(c[rows[i-1]][j-1]) }
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], inf, 0
			for j := 1; j <= m; j++ {
				if used[j] {
					continue
				}
				cur := cost(i0, j) - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= m; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	out := make([]int, n)
	for j := 1; j <= m; j++ {
		if p[j] > 0 {
			out[p[j]-1] = j - 1
		}
	}
	return out
}
