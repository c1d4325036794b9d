package dataset

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/qbench/qbench/graph"
)

// ModelClasses returns the class names a classifier carries for its first
// output, index = output position, and where they came from: the names
// qbench stores when it trains (graph.MetadataClasses), else the label file
// of the output in the model's TFLite metadata (graph.ModelMeta.AxisLabels)
// when it names every output value. names is nil when the model carries
// none; a corrupt qbench entry is an error naming it.
func ModelClasses(g *graph.Graph) (names []string, source string, err error) {
	if g == nil {
		return nil, "", nil
	}
	if b, ok := g.Metadata[graph.MetadataClasses]; ok {
		if err := json.Unmarshal(b, &names); err != nil {
			return nil, "", fmt.Errorf("model metadata %q: %v", graph.MetadataClasses, err)
		}
		if len(names) > 0 {
			return names, "stored by qbench in the model (" + graph.MetadataClasses + ")", nil
		}
	}
	// TFLite Model Metadata's label file, when it has one name per output
	// value (a file of another length names something else).
	if labels := g.Meta.AxisLabels(0); labels != nil && len(g.Outputs) > 0 {
		if out := g.Tensor(g.Outputs[0]); out != nil && out.NumElements() == len(labels) {
			name := ""
			for _, f := range g.Meta.Output(0).Labels {
				if f.Type == graph.LabelsAxis && len(f.Names) > 0 {
					name = f.FileName
					break
				}
			}
			return labels, "from the label file " + name + " in the model's TFLite metadata", nil
		}
	}
	return nil, "", nil
}

// How a dataset's classes were matched to a model's outputs
// (ClassMatch.By).
const (
	// MatchByName: dataset class names equal the model's output names
	// (exactly, or ignoring case and punctuation when that is unambiguous).
	MatchByName = "name"
	// MatchByID: classes named by a number are that output index.
	MatchByID = "id"
	// MatchByLabelMap: the model names no classes; the label map's class
	// order is the output order.
	MatchByLabelMap = "label map order"
	// MatchByFolderOrder: no names anywhere; the sorted folder names are
	// the output order (the fallback, always reported).
	MatchByFolderOrder = "folder order"
)

// ClassMatch says how MatchOutputs tied a dataset's classes to a model's
// outputs, and what did not match.
type ClassMatch struct {
	// By is one of the MatchBy constants.
	By string
	// Source names where the output names came from ("" when the model
	// carries none).
	Source string
	// Unmatched lists, with their image counts, the folders (or classes
	// for folderless layouts) whose images match no output; those images
	// are dropped.
	Unmatched []NameCount
	// Missing lists the output classes no image belongs to.
	Missing []string
	// Dropped is the number of images left out.
	Dropped int
}

// NameCount is a name with a number of images.
type NameCount struct {
	Name string
	N    int
}

// maxListed bounds the names a warning spells out (a 1001-class model
// on a 10-class test set would otherwise list 991 names).
const maxListed = 12

// Warnings returns one line per thing the user should know: how classes
// were matched when no names existed, folders matching no output and
// outputs with no images, each naming them.
func (m ClassMatch) Warnings() []string {
	var w []string
	switch m.By {
	case MatchByFolderOrder:
		w = append(w, "neither the model nor a label map names the classes: output i is taken to be the i-th folder in sorted order (give --labels to name the outputs)")
	case MatchByID:
		if m.Source == "" {
			w = append(w, "the model names no classes: folders named by a number are taken as output indices (give --labels to name the outputs)")
		}
	}
	if len(m.Unmatched) > 0 {
		parts := make([]string, 0, len(m.Unmatched))
		for _, u := range m.Unmatched {
			parts = append(parts, fmt.Sprintf("%s (%d images)", u.Name, u.N))
		}
		what := ""
		if m.Source != "" {
			what = " (class names " + m.Source + ")"
		}
		w = append(w, fmt.Sprintf("%d folder(s) match no class of the model%s and are left out: %s", len(m.Unmatched), what, listNames(parts)))
	}
	if len(m.Missing) > 0 {
		w = append(w, fmt.Sprintf("%d class(es) of the model have no images: %s", len(m.Missing), listNames(m.Missing)))
	}
	return w
}

func listNames(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(", … (%d more)", len(names)-maxListed)
}

// MatchOutputs relabels d for a classifier with k outputs whose names, in
// output order, are outputs (nil when the model carries none). In the
// result Classes has k names in output order and every Label is an output
// index; images whose class matches no output are left out and named in
// the ClassMatch, so a dataset may hold any subset of the model's classes.
//
// Matching, first that applies: the model's names against the dataset's
// class names; classes named by a number as output indices; the label
// map's order (a label map names the outputs when the model does not);
// the sorted folders (no names anywhere). It is an error when nothing
// matches at all, or when the dataset has more classes than the model has
// outputs and no names say which is which.
func (d *Dataset) MatchOutputs(outputs []string, k int) (*Dataset, ClassMatch, error) {
	if k <= 0 {
		return nil, ClassMatch{}, fmt.Errorf("model has %d outputs", k)
	}
	if outputs != nil && len(outputs) != k {
		return nil, ClassMatch{}, fmt.Errorf("the model names %d classes but has %d outputs", len(outputs), k)
	}
	var m ClassMatch
	to := make([]int, len(d.Classes)) // dataset class -> output, -1 none
	names := make([]string, k)
	switch {
	case outputs != nil:
		m.Source = "given"
		copy(names, outputs)
		matched := matchNames(d.Classes, outputs, to)
		m.By = MatchByName
		if matched == 0 {
			if !matchIDs(d.Classes, k, to) {
				return nil, m, fmt.Errorf("none of the dataset's %d classes (%s) is one of the model's %d classes (%s)",
					len(d.Classes), listNames(d.Classes), k, listNames(outputs))
			}
			m.By = MatchByID
		}
	case d.LabelMap == "" && matchIDs(d.Classes, k, to):
		m.By = MatchByID
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
	default:
		m.By = MatchByLabelMap
		if d.LabelMap == "" {
			m.By = MatchByFolderOrder
		}
		counts := d.ClassCounts()
		for c := range d.Classes {
			to[c] = c
			if c >= k {
				to[c] = -1
				if counts[c] > 0 {
					return nil, m, fmt.Errorf("the dataset has %d classes but the model only %d outputs, and the model names no classes to match them by (give --labels naming the outputs in order)", len(d.Classes), k)
				}
			}
		}
		for i := range names {
			if i < len(d.Classes) {
				names[i] = d.Classes[i]
			} else {
				names[i] = fmt.Sprintf("output %d", i)
			}
		}
	}
	if m.By == MatchByID {
		for c, o := range to {
			if o >= 0 && outputs == nil {
				names[o] = d.Classes[c] // keep the folder's spelling ("07")
			}
		}
	}
	unmatched := map[string]int{}
	has := make([]bool, k)
	samples := make([]Sample, 0, len(d.Samples))
	for _, s := range d.Samples {
		o := -1
		if s.Label >= 0 && s.Label < len(to) {
			o = to[s.Label]
		}
		if o < 0 {
			key := s.Folder
			if key == "" && s.Label >= 0 && s.Label < len(d.Classes) {
				key = d.Classes[s.Label]
			}
			unmatched[key]++
			m.Dropped++
			continue
		}
		s.Label = o
		has[o] = true
		samples = append(samples, s)
	}
	for _, f := range sortedKeys(unmatched) {
		m.Unmatched = append(m.Unmatched, NameCount{f, unmatched[f]})
	}
	for o, ok := range has {
		if !ok {
			m.Missing = append(m.Missing, names[o])
		}
	}
	if len(samples) == 0 {
		return nil, m, fmt.Errorf("no image of %s belongs to one of the model's classes (%s)", d.Root, listNames(names))
	}
	r := d.derive(samples)
	r.Classes = names
	return r, m, nil
}

// matchNames fills to[c] with the output named like class c: exactly, else
// ignoring case and punctuation ("Speed_Limit" = "speed limit"), else by
// the first comma-separated term ("tench" = "tench, Tinca tinca"), the
// last two only when unambiguous; it returns how many classes matched.
func matchNames(classes, outputs []string, to []int) int {
	exact := make(map[string]int, len(outputs))
	loose := make(map[string]int, len(outputs))
	for i, n := range outputs {
		if _, dup := exact[n]; !dup {
			exact[n] = i
		}
		l := looseName(n)
		if _, dup := loose[l]; dup {
			loose[l] = -1 // ambiguous
		} else {
			loose[l] = i
		}
	}
	used := make([]bool, len(outputs))
	matched := 0
	for c, n := range classes {
		to[c] = -1
		if i, ok := exact[n]; ok {
			to[c], used[i] = i, true
			matched++
		}
	}
	for c, n := range classes {
		if to[c] >= 0 {
			continue
		}
		if i, ok := loose[looseName(n)]; ok && i >= 0 && !used[i] {
			to[c], used[i] = i, true
			matched++
		}
	}
	// ImageNet-style label lists give synonyms after the name ("tench,
	// Tinca tinca"); a class named by its first term matches when that
	// term is unambiguous.
	first := map[string]int{}
	for i, n := range outputs {
		f, _, _ := strings.Cut(n, ",")
		l := looseName(f)
		if _, dup := first[l]; dup {
			first[l] = -1
		} else {
			first[l] = i
		}
	}
	for c, n := range classes {
		if to[c] >= 0 {
			continue
		}
		f, _, _ := strings.Cut(n, ",")
		if i, ok := first[looseName(f)]; ok && i >= 0 && !used[i] {
			to[c], used[i] = i, true
			matched++
		}
	}
	return matched
}

// looseName folds case and drops everything but letters and digits.
func looseName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// matchIDs maps classes named by a number ("0", "07", "42") to that output
// index. It fails, leaving to undefined, unless every class is a distinct
// number below k.
func matchIDs(classes []string, k int, to []int) bool {
	if len(classes) == 0 {
		return false
	}
	seen := map[int]bool{}
	for c, n := range classes {
		v, err := strconv.Atoi(n)
		if !isDigits(n) || err != nil || v >= k || seen[v] {
			return false
		}
		seen[v] = true
		to[c] = v
	}
	return true
}

// MatchModel is MatchOutputs for the classifier g: its first output's size
// and the class names it carries (ModelClasses), or those the label map
// lists under outputs: (an explicit statement of the output order, e.g. a
// class-order fix, wins over the model's).
func (d *Dataset) MatchModel(g *graph.Graph) (*Dataset, ClassMatch, error) {
	if g == nil || len(g.Outputs) == 0 || g.Tensor(g.Outputs[0]) == nil {
		return nil, ClassMatch{}, fmt.Errorf("model has no output")
	}
	names, src, err := ModelClasses(g)
	if err != nil {
		return nil, ClassMatch{}, err
	}
	if d.Outputs != nil {
		names, src = d.Outputs, "given by outputs: in the label map "+d.LabelMap
	}
	out := g.Tensor(g.Outputs[0])
	r, m, err := d.MatchOutputs(names, out.NumElements())
	if src != "" {
		m.Source = src
	}
	if err != nil {
		return nil, m, fmt.Errorf("match the classes of %s to output %q: %w", d.Root, out.Name, err)
	}
	return r, m, nil
}

// SuggestLabelMap returns a label map under which images now labelled c
// (an index into classes, the outputs' names in the order assumed so far)
// are matched to output mapping[c] instead (-1: unchanged): it keeps
// base's classes, folders, splits and ignored folders (or lists classes
// when base is nil) and names the model's outputs in the corrected order
// under outputs:, which MatchModel prefers to any names in the model.
func SuggestLabelMap(classes []string, mapping []int, base *LabelMap) (*LabelMap, error) {
	k := len(classes)
	if len(mapping) != k {
		return nil, fmt.Errorf("mapping has %d entries for %d classes", len(mapping), k)
	}
	m := &LabelMap{Classes: append([]string(nil), classes...)}
	if base != nil {
		m.Classes, m.Folders, m.Splits, m.Ignore = base.Classes, base.Folders, base.Splits, base.Ignore
	}
	out := make([]string, k)
	taken := make([]bool, k)
	placed := map[string]bool{}
	for c, o := range mapping {
		if o >= 0 && o < k && !taken[o] {
			out[o], taken[o], placed[classes[c]] = classes[c], true, true
		}
	}
	// Outputs no class moved to keep the names left over, in order.
	next := 0
	for o := range out {
		if taken[o] {
			continue
		}
		for next < k && placed[classes[next]] {
			next++
		}
		if next < k {
			out[o], placed[classes[next]] = classes[next], true
			next++
		} else {
			out[o] = fmt.Sprintf("unused output %d", o)
		}
	}
	m.Outputs = out
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}
