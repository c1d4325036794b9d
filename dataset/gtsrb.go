package dataset

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// annotation is one CSV row: an optional ROI and a class id (-1 if none).
type annotation struct {
	roi   *image.Rectangle
	class int
}

// maxCSVBytes bounds an annotation file.
const maxCSVBytes = 256 << 20

// readAnnotations reads GTSRB-style CSVs found under root and returns them
// keyed by the image's slash path relative to root. It understands the
// official per-class GT-xxxxx.csv and test CSV ("Filename;Width;Height;
// Roi.X1;Roi.Y1;Roi.X2;Roi.Y2[;ClassId]", ';'-separated, file names relative
// to the CSV's folder) and the Kaggle Train.csv/Test.csv (','-separated,
// "Path" relative to the dataset's parent, e.g. "Train/20/x.png"). CSVs
// without a Filename/Path column are ignored. GTSRB ROI corners are
// inclusive, so the rectangle is [X1, X2+1) x [Y1, Y2+1).
func readAnnotations(root string, csvs []string) (map[string]annotation, []Problem, error) {
	ann := map[string]annotation{}
	var probs []Problem
	for _, rel := range csvs {
		p := filepath.Join(root, filepath.FromSlash(rel))
		b, err := readLimited(p, maxCSVBytes)
		if err != nil {
			probs = append(probs, Problem{Path: p, Kind: "annotation", Msg: err.Error()})
			continue
		}
		dir := path.Dir(rel)
		if dir == "." {
			dir = ""
		}
		n, err := parseAnnotationCSV(b, dir, ann)
		if err != nil {
			probs = append(probs, Problem{Path: p, Kind: "annotation", Msg: err.Error()})
		}
		_ = n
	}
	return ann, probs, nil
}

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// parseAnnotationCSV adds the rows of one CSV to ann and returns how many
// rows it used.
func parseAnnotationCSV(b []byte, dir string, ann map[string]annotation) (int, error) {
	firstLine := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		firstLine = b[:i]
	}
	r := csv.NewReader(bytes.NewReader(b))
	if bytes.Count(firstLine, []byte(";")) > bytes.Count(firstLine, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return 0, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	fileCol, ok := col["filename"]
	relToParent := false
	if !ok {
		if fileCol, ok = col["path"]; !ok {
			if fileCol, ok = col["file"]; !ok {
				return 0, nil // not an annotation CSV
			}
		}
		relToParent = true
	}
	roiCols := []string{"roi.x1", "roi.y1", "roi.x2", "roi.y2"}
	hasROI := true
	for _, c := range roiCols {
		if _, ok := col[c]; !ok {
			hasROI = false
		}
	}
	if !hasROI {
		roiCols = []string{"roi_x1", "roi_y1", "roi_x2", "roi_y2"}
		hasROI = true
		for _, c := range roiCols {
			if _, ok := col[c]; !ok {
				hasROI = false
			}
		}
	}
	classCol, hasClass := col["classid"]
	if !hasClass {
		classCol, hasClass = col["class_id"]
	}
	n := 0
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("line %d: %w", line, err)
		}
		get := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		name := filepath.ToSlash(get(fileCol))
		if name == "" {
			continue
		}
		a := annotation{class: -1}
		if hasClass {
			c, err := strconv.Atoi(get(classCol))
			if err != nil || c < 0 {
				return n, fmt.Errorf("line %d: ClassId %q is not a class id", line, get(classCol))
			}
			a.class = c
		}
		if hasROI {
			var v [4]int
			for k, c := range roiCols {
				x, err := strconv.Atoi(get(col[c]))
				if err != nil {
					return n, fmt.Errorf("line %d: %s %q is not an integer", line, c, get(col[c]))
				}
				v[k] = x
			}
			if v[2] >= v[0] && v[3] >= v[1] {
				rect := image.Rect(v[0], v[1], v[2]+1, v[3]+1)
				a.roi = &rect
			}
		}
		for _, key := range annotationKeys(name, dir, relToParent) {
			ann[key] = a
		}
		n++
	}
	return n, nil
}

// annotationKeys returns the root-relative paths a CSV file name may refer
// to: relative to the CSV's folder, and (for Kaggle-style paths relative to
// the dataset's parent) with leading components stripped.
func annotationKeys(name, dir string, relToParent bool) []string {
	keys := []string{path.Join(dir, name)}
	if relToParent {
		keys = append(keys, name)
		parts := strings.Split(name, "/")
		for i := 1; i < len(parts); i++ {
			keys = append(keys, strings.Join(parts[i:], "/"))
		}
	}
	return keys
}
