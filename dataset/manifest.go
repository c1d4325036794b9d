package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrManifest is wrapped by every manifest, ground-truth and synset-list
// error.
var ErrManifest = errors.New("invalid data list")

// Column names a manifest header may use (case-insensitive).
var (
	manifestPathCols  = []string{"path", "file", "filename", "file_name", "image", "image_path", "filepath", "img"}
	manifestLabelCols = []string{"label", "class", "class_id", "classid", "class_name", "label_id", "category", "target"}
	manifestSplitCols = []string{"split", "subset", "set", "fold"}
	// ROI corners, [X1,X2) x [Y1,Y2) as GTSRB annotates them.
	manifestROICols = [4][]string{{"roi_x1", "roi.x1", "x1"}, {"roi_y1", "roi.y1", "y1"}, {"roi_x2", "roi.x2", "x2"}, {"roi_y2", "roi.y2", "y2"}}
)

// manifestRow is one image of a manifest.
type manifestRow struct {
	line               int
	path, label, split string
	roi                *image.Rectangle
}

// parseManifest reads a CSV manifest: path,label[,split] per line, or any
// columns under a header naming a path, a label and optionally a split
// column (e.g. gtsrb-mini's split,class_id,file,…). Lines starting with #
// are comments. A header may also name ROI columns (roi_x1, roi_y1,
// roi_x2, roi_y2): the annotated object region. Errors name the file
// (name) and line.
func parseManifest(b []byte, name string) ([]manifestRow, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	colPath, colLabel, colSplit := 0, 1, 2
	colROI := [4]int{-1, -1, -1, -1}
	var rows []manifestRow
	first := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %w: %v", name, pe.Line, ErrManifest, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w: %v", name, ErrManifest, err)
		}
		line, _ := r.FieldPos(0) // only valid for a record read without error
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if first {
			first = false
			if p := colIndex(rec, manifestPathCols); p >= 0 {
				colPath, colLabel, colSplit = p, colIndex(rec, manifestLabelCols), colIndex(rec, manifestSplitCols)
				for i, names := range manifestROICols {
					colROI[i] = colIndex(rec, names)
				}
				if (colROI[0] < 0) != (colROI[3] < 0) || (colROI[1] < 0) != (colROI[2] < 0) || (colROI[0] < 0) != (colROI[1] < 0) {
					return nil, fmt.Errorf("%s:%d: %w: the header names some ROI columns but not all four (roi_x1, roi_y1, roi_x2, roi_y2)", name, line, ErrManifest)
				}
				if colLabel < 0 {
					return nil, fmt.Errorf("%s:%d: %w: the header names no label column (one of %s)", name, line, ErrManifest, strings.Join(manifestLabelCols, ", "))
				}
				continue
			}
			if len(rec) < 2 || len(rec) > 3 {
				return nil, fmt.Errorf("%s:%d: %w: %d fields; want path,label[,split] or a header naming the columns", name, line, ErrManifest, len(rec))
			}
			if len(rec) == 2 {
				colSplit = -1
			}
		}
		if len(rec) == 1 && rec[0] == "" {
			continue // a blank line
		}
		need := max(colPath, colLabel, colSplit, colROI[0], colROI[1], colROI[2], colROI[3]) + 1
		if len(rec) < need {
			return nil, fmt.Errorf("%s:%d: %w: %d fields, want %d", name, line, ErrManifest, len(rec), need)
		}
		row := manifestRow{line: line, path: rec[colPath], label: rec[colLabel]}
		if colSplit >= 0 {
			row.split = rec[colSplit]
		}
		if colROI[0] >= 0 {
			var v [4]int
			for i, c := range colROI {
				n, err := strconv.Atoi(rec[c])
				if err != nil || n < 0 || n > maxSide*16 {
					return nil, fmt.Errorf("%s:%d: %w: ROI value %q is not a pixel coordinate", name, line, ErrManifest, rec[c])
				}
				v[i] = n
			}
			r := image.Rect(v[0], v[1], v[2], v[3])
			if r.Empty() || v[2] <= v[0] || v[3] <= v[1] {
				return nil, fmt.Errorf("%s:%d: %w: empty ROI %v", name, line, ErrManifest, v)
			}
			row.roi = &r
		}
		switch {
		case row.path == "":
			return nil, fmt.Errorf("%s:%d: %w: empty path", name, line, ErrManifest)
		case row.label == "":
			return nil, fmt.Errorf("%s:%d: %w: %s has no label", name, line, ErrManifest, row.path)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: %w: no images listed", name, ErrManifest)
	}
	return rows, nil
}

// colIndex returns the position of the first field that is one of names
// (case-insensitive), or -1.
func colIndex(rec []string, names []string) int {
	for i, f := range rec {
		f = strings.ToLower(f)
		for _, n := range names {
			if f == n {
				return i
			}
		}
	}
	return -1
}

// labelResolver turns labels written as class names or class ids into
// class ids, with the label map when there is one.
type labelResolver struct {
	lm      *LabelMap
	classes []string
	index   map[string]int
}

// newLabelResolver decides the classes of a list of labels: the label
// map's when given; else, when every label is a number, ids 0..max named
// by their number; else the distinct names, sorted.
func newLabelResolver(lm *LabelMap, labels []string) *labelResolver {
	r := &labelResolver{lm: lm}
	if lm != nil {
		r.classes = lm.Classes
		return r
	}
	numeric, maxID := true, -1
	set := map[string]bool{}
	for _, l := range labels {
		set[l] = true
		v, err := strconv.Atoi(l)
		if !isDigits(l) || err != nil || v > maxClasses {
			numeric = false
		} else {
			maxID = max(maxID, v)
		}
	}
	if numeric {
		r.classes = make([]string, maxID+1)
		for i := range r.classes {
			r.classes[i] = strconv.Itoa(i)
		}
		return r
	}
	r.classes = sortedKeys(set)
	r.index = make(map[string]int, len(r.classes))
	for i, c := range r.classes {
		r.index[c] = i
	}
	return r
}

// maxClasses bounds a class id read from a list, so "99999999" cannot
// make a dataset with a hundred million classes.
const maxClasses = 100000

func (r *labelResolver) id(label string) (int, bool) {
	if r.lm != nil {
		return r.lm.ClassOf(label)
	}
	if r.index != nil {
		i, ok := r.index[label]
		return i, ok
	}
	v, err := strconv.Atoi(label)
	return v, err == nil && v >= 0 && v < len(r.classes)
}

// openManifest opens a CSV manifest (see the package doc): paths relative
// to the manifest's folder, labels by name or id, an optional split per
// image (each split becomes a recording of that name and a split of the
// label map, so Dataset.Split selects it).
func openManifest(file string, opts OpenOptions) (*Dataset, error) {
	b, err := readLimited(file, maxListBytes)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	rows, err := parseManifest(b, file)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(file)
	lm, lmPath, err := findLabelMap(dir, opts.LabelMap)
	if err != nil {
		return nil, err
	}
	labels := make([]string, len(rows))
	for i, r := range rows {
		labels[i] = r.label
	}
	res := newLabelResolver(lm, labels)
	d := &Dataset{Root: dir, Layout: "manifest", LabelMap: lmPath, Classes: append([]string(nil), res.classes...)}
	if lm != nil {
		d.Splits, d.Outputs = lm.Splits, lm.Outputs
	}
	seen := map[string]int{}
	splits := map[string][]string{}
	for _, r := range rows {
		c, ok := res.id(r.label)
		if !ok {
			return nil, fmt.Errorf("%s:%d: %w: label %q is not a class (%s)", file, r.line, ErrManifest, r.label, listNames(d.Classes))
		}
		p := filepath.FromSlash(r.path)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if prev, dup := seen[p]; dup {
			d.Problems = append(d.Problems, Problem{Path: p, Kind: "duplicate", Msg: fmt.Sprintf("%s lists it on lines %d and %d", file, prev, r.line)})
			continue
		}
		seen[p] = r.line
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			d.Problems = append(d.Problems, Problem{Path: p, Kind: "unreadable", Msg: fmt.Sprintf("listed on %s:%d but not a readable file", file, r.line)})
			continue
		}
		s := Sample{Path: p, Label: c, Recording: r.split, ROI: r.roi}
		if r.split != "" && len(splits[r.split]) == 0 {
			splits[r.split] = []string{r.split}
		}
		if m := trackRe.FindStringSubmatch(filepath.Base(p)); m != nil {
			s.Track = filepath.ToSlash(filepath.Join(r.split, d.Classes[c], strings.TrimLeft(m[1], "0")))
		}
		d.Samples = append(d.Samples, s)
	}
	if len(splits) > 0 && d.Splits == nil {
		d.Splits = splits
	}
	return finishList(d, file, opts)
}

// finishList completes a dataset read from a list: recordings, empty
// classes, the no-images error and Strict.
func finishList(d *Dataset, file string, opts OpenOptions) (*Dataset, error) {
	recs := map[string]bool{}
	for _, s := range d.Samples {
		if s.Recording != "" {
			recs[s.Recording] = true
		}
	}
	d.Recordings = sortedKeys(recs)
	if len(d.Samples) == 0 {
		return nil, fmt.Errorf("open dataset %s: %w (none of the listed files is readable)", file, ErrNoImages)
	}
	for c, n := range d.ClassCounts() {
		if n == 0 && len(d.Classes) <= maxListed {
			d.Problems = append(d.Problems, Problem{Kind: "empty-class", Msg: fmt.Sprintf("class %d %q has no images", c, d.Classes[c])})
		}
	}
	if opts.Strict && len(d.Problems) > 0 {
		return nil, fmt.Errorf("open dataset %s (strict): %d problems, first: %s", file, len(d.Problems), d.Problems[0])
	}
	return d, nil
}

// maxListBytes bounds a manifest, ground-truth or synset file.
const maxListBytes = 256 << 20
