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

	"github.com/qbench/qbench/internal/fileio"
)

// annotation is one CSV row: an optional ROI and a class id (-1 if none).
type annotation struct {
	roi   *image.Rectangle
	class int
}

// maxCSVBytes bounds an annotation file.
const maxCSVBytes = 256 << 20

// maxClassID bounds a CSV ClassId: a flat annotated folder gets one class
// per id up to the largest, so a corrupt id such as 2000000000 would
// otherwise allocate billions of class names.
const maxClassID = 1<<16 - 1

// annotations maps root-relative slash paths to CSV rows. exact holds paths
// a CSV names unambiguously; weak holds paths found by dropping leading
// components of a CSV path (nil when two rows would claim the same one).
type annotations struct {
	exact map[string]annotation
	weak  map[string]*annotation
}

func (a annotations) get(rel string) (annotation, bool) {
	if v, ok := a.exact[rel]; ok {
		return v, true
	}
	if v := a.weak[rel]; v != nil {
		return *v, true
	}
	return annotation{}, false
}

// readAnnotations reads GTSRB-style CSVs found under root, plus CSVs in
// root's parent whose rows name files below root (Kaggle keeps Train.csv
// beside Train/; gtsrb-mini keeps manifest.csv beside train/ and val/), so
// a folder gets the same ROIs whether opened itself or through its parent.
// It understands the official per-class GT-xxxxx.csv and test CSV
// ("Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2[;ClassId]",
// ';'-separated, file names relative to the CSV's folder) and CSVs with a
// "Path" or "file" column (','-separated, paths relative to the CSV's
// folder's parent or the CSV's folder). CSVs without such a column are
// ignored. The ROI is the rectangle [X1, X2) x [Y1, Y2), as the common
// img[Y1:Y2, X1:X2] crop reads GTSRB's annotation (the dataset does not say
// whether X2/Y2 are inclusive; in gtsrb-mini this reading leaves borders of
// 6.0 px on the left and 5.7 px on the right on average, the inclusive one
// 6.0 and 4.7).
func readAnnotations(root string, csvs []string) (annotations, []Problem, error) {
	ann := annotations{exact: map[string]annotation{}, weak: map[string]*annotation{}}
	var probs []Problem
	for _, rel := range csvs {
		p := filepath.Join(root, filepath.FromSlash(rel))
		b, err := readLimited(p, maxCSVBytes)
		if err != nil {
			probs = append(probs, Problem{Path: p, Kind: "annotation", Msg: problemMsg(p, err)})
			continue
		}
		dir := path.Dir(rel)
		if dir == "." {
			dir = ""
		}
		if err := parseAnnotationCSV(b, dir, "", ann); err != nil {
			probs = append(probs, Problem{Path: p, Kind: "annotation", Msg: err.Error()})
		}
	}
	clean := filepath.Clean(root)
	parent, base := filepath.Dir(clean), filepath.Base(clean)
	if parent == clean || base == "." || base == string(filepath.Separator) {
		return ann, probs, nil
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return ann, probs, nil // an unreadable parent only means no extra annotations
	}
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
			continue
		}
		p := filepath.Join(parent, e.Name())
		if !looksLikeAnnotationCSV(p) {
			continue
		}
		b, err := readLimited(p, maxCSVBytes)
		if err != nil {
			probs = append(probs, Problem{Path: p, Kind: "annotation", Msg: problemMsg(p, err)})
			continue
		}
		if err := parseAnnotationCSV(b, "", base+"/", ann); err != nil {
			probs = append(probs, Problem{Path: p, Kind: "annotation", Msg: err.Error()})
		}
	}
	return ann, probs, nil
}

// looksLikeAnnotationCSV reads only the header line of p.
func looksLikeAnnotationCSV(p string) bool {
	f, err := fileio.Open(p, maxCSVBytes)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	line := strings.ToLower(string(head[:n]))
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	for _, col := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' }) {
		switch strings.TrimSpace(col) {
		case "filename", "path", "file":
			return true
		}
	}
	return false
}

func readLimited(p string, limit int64) ([]byte, error) {
	return fileio.ReadFile(p, limit)
}

// parseAnnotationCSV adds the rows of one CSV to ann. dir is the CSV's
// folder relative to root; a non-empty parentPrefix ("train/") marks a CSV
// in root's parent, whose rows count only when their path starts with it.
func parseAnnotationCSV(b []byte, dir, parentPrefix string, ann annotations) error {
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
		return fmt.Errorf("header: %w", err)
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
				return nil // not an annotation CSV
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
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
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
			if err != nil || c < 0 || c > maxClassID {
				return fmt.Errorf("line %d: ClassId %q is not a class id (0..%d)", line, get(classCol), maxClassID)
			}
			a.class = c
		}
		if hasROI {
			var v [4]int
			for k, c := range roiCols {
				x, err := strconv.Atoi(get(col[c]))
				if err != nil {
					return fmt.Errorf("line %d: %s %q is not an integer", line, c, get(col[c]))
				}
				v[k] = x
			}
			if v[2] > v[0] && v[3] > v[1] {
				rect := image.Rect(v[0], v[1], v[2], v[3])
				a.roi = &rect
			}
		}
		switch {
		case parentPrefix != "":
			if rel, ok := strings.CutPrefix(name, parentPrefix); ok {
				ann.exact[rel] = a
			}
		case !relToParent:
			ann.exact[path.Join(dir, name)] = a
		default:
			// A path relative to the CSV folder's parent ("Train/20/x.png"
			// in Train.csv): try it as given and with leading folders
			// dropped; a shortened path two rows share is dropped.
			ann.exact[path.Join(dir, name)] = a
			parts := strings.Split(name, "/")
			for i := 1; i < len(parts); i++ {
				key := path.Join(dir, strings.Join(parts[i:], "/"))
				if prev, seen := ann.weak[key]; seen {
					if prev != nil && *prev != a {
						ann.weak[key] = nil
					}
					continue
				}
				v := a
				ann.weak[key] = &v
			}
		}
	}
	return nil
}

// anyClass reports whether some annotation gives a class id.
func (a annotations) anyClass() bool {
	for _, v := range a.exact {
		if v.class >= 0 {
			return true
		}
	}
	for _, v := range a.weak {
		if v != nil && v.class >= 0 {
			return true
		}
	}
	return false
}
