package dataset

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Synset is one line of a synset list: a WordNet id and its words.
type Synset struct {
	ID   string
	Name string
}

// synsetRe matches a WordNet noun id as ImageNet uses it (n01440764).
var synsetRe = regexp.MustCompile(`^n\d{8}$`)

// Conventional file names Open looks for beside a flat image folder (in
// the folder or its parent) to read it as an ImageNet-style validation set.
var (
	groundTruthNames = []string{"ground_truth.txt", "val.txt", "val_labels.txt", "LOC_val_solution.csv"}
	synsetNames      = []string{"synset_words.txt", "synsets.txt", "LOC_synset_mapping.txt"}
)

// parseSynsets reads a synset list: one "n01440764 tench, Tinca tinca" (or
// a bare id) per line, line i = class i. Errors name the file and line.
func parseSynsets(b []byte, name string) ([]Synset, error) {
	var out []Synset
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		id, words, _ := strings.Cut(t, " ")
		if !synsetRe.MatchString(id) {
			return nil, fmt.Errorf("%s:%d: %w: %q is not a synset id (nNNNNNNNN)", name, line, ErrManifest, id)
		}
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s:%d: %w: synset %s already on line %d", name, line, ErrManifest, id, prev)
		}
		seen[id] = line
		out = append(out, Synset{ID: id, Name: strings.TrimSpace(words)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w: %v", name, line+1, ErrManifest, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w: no synsets", name, ErrManifest)
	}
	return out, nil
}

// synsetClassNames names synsets by their first word ("tench"), adding the id
// when two synsets share it ("crane (n02012849)"); a bare id names itself.
func synsetClassNames(ss []Synset) []string {
	first := make([]string, len(ss))
	count := map[string]int{}
	for i, s := range ss {
		w, _, _ := strings.Cut(s.Name, ",")
		if w = strings.TrimSpace(w); w == "" {
			w = s.ID
		}
		first[i] = w
		count[w]++
	}
	for i, s := range ss {
		if count[first[i]] > 1 {
			first[i] += " (" + s.ID + ")"
		}
	}
	return first
}

// groundTruth is a parsed ground-truth file: labels in image order, or
// keyed by file name (with or without extension).
type groundTruth struct {
	ordered []string
	byFile  map[string]string
	lines   map[string]int // key -> line, for errors
}

// parseGroundTruth reads a ground-truth file: one label per line (the
// images in file-name order), "file label" lines (space, tab or comma
// separated), or Kaggle's ImageId,PredictionString CSV. Errors name the
// file and line.
func parseGroundTruth(b []byte, name string) (*groundTruth, error) {
	gt := &groundTruth{lines: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	line := 0
	kaggle := false
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if line == 1 && strings.EqualFold(strings.ReplaceAll(t, " ", ""), "ImageId,PredictionString") {
			kaggle = true // Kaggle's LOC_val_solution.csv
			continue
		}
		var fields []string
		if kaggle {
			id, pred, ok := strings.Cut(t, ",")
			if !ok {
				return nil, fmt.Errorf("%s:%d: %w: want ImageId,PredictionString", name, line, ErrManifest)
			}
			first, _, _ := strings.Cut(strings.TrimSpace(pred), " ")
			fields = []string{strings.TrimSpace(id), first}
		} else {
			fields = strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		}
		switch len(fields) {
		case 1:
			if gt.byFile != nil {
				return nil, fmt.Errorf("%s:%d: %w: a bare label among file/label lines", name, line, ErrManifest)
			}
			gt.ordered = append(gt.ordered, fields[0])
		case 2:
			if gt.ordered != nil {
				return nil, fmt.Errorf("%s:%d: %w: a file/label line among bare labels", name, line, ErrManifest)
			}
			if gt.byFile == nil {
				gt.byFile = map[string]string{}
			}
			if prev, dup := gt.lines[fields[0]]; dup {
				return nil, fmt.Errorf("%s:%d: %w: %s already labelled on line %d", name, line, ErrManifest, fields[0], prev)
			}
			gt.byFile[fields[0]] = fields[1]
			gt.lines[fields[0]] = line
		default:
			return nil, fmt.Errorf("%s:%d: %w: %d fields; want a label, or a file and a label", name, line, ErrManifest, len(fields))
		}
		if fields[len(fields)-1] == "" {
			return nil, fmt.Errorf("%s:%d: %w: empty label", name, line, ErrManifest)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w: %v", name, line+1, ErrManifest, err)
	}
	if gt.ordered == nil && gt.byFile == nil {
		return nil, fmt.Errorf("%s: %w: no labels", name, ErrManifest)
	}
	return gt, nil
}

// findBeside returns the first of names that exists in dir or its parent.
func findBeside(dir string, names []string) string {
	for _, d := range []string{dir, filepath.Dir(filepath.Clean(dir))} {
		for _, n := range names {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	return ""
}

// openImageNet reads a flat image folder labelled by a ground-truth file:
// one label per line for the images in sorted file-name order, or
// "file label" lines (also Kaggle's LOC_val_solution.csv); a label is a
// class id (0-based, the synset list's or label map's line) or a synset
// id. The synset list names the classes by their first word; without one
// a label map names them, else the ids do.
func openImageNet(root string, images []string, gtPath, synPath string, opts OpenOptions) (*Dataset, error) {
	b, err := readLimited(gtPath, maxListBytes)
	if err != nil {
		return nil, fmt.Errorf("ground truth %s: %w", gtPath, err)
	}
	gt, err := parseGroundTruth(b, gtPath)
	if err != nil {
		return nil, err
	}
	var syn []Synset
	synIndex := map[string]int{}
	if synPath != "" {
		b, err := readLimited(synPath, maxListBytes)
		if err != nil {
			return nil, fmt.Errorf("synsets %s: %w", synPath, err)
		}
		if syn, err = parseSynsets(b, synPath); err != nil {
			return nil, err
		}
		for i, s := range syn {
			synIndex[s.ID] = i
		}
	}
	d := &Dataset{Root: root, Layout: "imagenet"}
	lm, lmPath, err := findLabelMap(root, opts.LabelMap)
	if err != nil {
		return nil, err
	}
	switch {
	case syn != nil:
		d.Classes = synsetClassNames(syn)
	case lm != nil:
		d.Classes, d.LabelMap = lm.Classes, lmPath
	}
	if lm != nil {
		d.Outputs, d.LabelMap = lm.Outputs, lmPath
	}
	sort.Strings(images)
	labelOf := func(img string) (string, int, bool) {
		if gt.ordered != nil {
			return "", 0, false
		}
		base := filepath.Base(img)
		for _, k := range []string{base, strings.TrimSuffix(base, filepath.Ext(base)), img} {
			if l, ok := gt.byFile[k]; ok {
				return l, gt.lines[k], true
			}
		}
		return "", 0, false
	}
	if gt.ordered != nil && len(gt.ordered) != len(images) {
		return nil, fmt.Errorf("%s: %w: %d labels for the %d images of %s (one label per image in file-name order)", gtPath, ErrManifest, len(gt.ordered), len(images), root)
	}
	maxID := -1
	type pending struct {
		path string
		id   int
	}
	var ps []pending
	for i, img := range images {
		label, line := "", i+1
		if gt.ordered != nil {
			label = gt.ordered[i]
		} else {
			var ok bool
			if label, line, ok = labelOf(img); !ok {
				d.Problems = append(d.Problems, Problem{Path: filepath.Join(root, img), Kind: "annotation", Msg: "not in the ground truth " + gtPath})
				continue
			}
		}
		id := -1
		if synsetRe.MatchString(label) {
			i, ok := synIndex[label]
			if !ok {
				return nil, fmt.Errorf("%s:%d: %w: synset %s is not in the synset list (give one with --synsets)", gtPath, line, ErrManifest, label)
			}
			id = i
		} else if v, err := strconv.Atoi(label); err == nil && isDigits(label) && v <= maxClasses {
			id = v
		} else {
			return nil, fmt.Errorf("%s:%d: %w: label %q is neither a class id nor a synset id", gtPath, line, ErrManifest, label)
		}
		if d.Classes != nil && id >= len(d.Classes) {
			return nil, fmt.Errorf("%s:%d: %w: class id %d but only %d classes", gtPath, line, ErrManifest, id, len(d.Classes))
		}
		maxID = max(maxID, id)
		ps = append(ps, pending{filepath.Join(root, img), id})
	}
	if d.Classes == nil {
		d.Classes = make([]string, maxID+1)
		for i := range d.Classes {
			d.Classes[i] = strconv.Itoa(i)
		}
	}
	for _, p := range ps {
		d.Samples = append(d.Samples, Sample{Path: p.path, Label: p.id})
	}
	return finishList(d, gtPath, opts)
}
