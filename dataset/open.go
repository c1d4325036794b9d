package dataset

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/qbench/qbench/internal/fileio"
)

// ErrNoImages is returned by Open when a folder holds no usable image.
var ErrNoImages = errors.New("no images")

// OpenOptions configure Open.
type OpenOptions struct {
	// LabelMap is a label map file (YAML, JSON or labels.txt). "" looks for
	// root/labels.yaml, labels.yml, labels.json, labels.txt, then a
	// labels.txt in root's parent (GTSRB-style train/ and val/ folders
	// sharing one list); without any, each folder is a class, in sorted
	// order (numerically when all folder names are numbers).
	LabelMap string
	// Strict turns every problem (unknown folder, empty class, missing
	// folder, duplicate, bad annotation) into an error.
	Strict bool
	// CheckDuplicates hashes every file (SHA-256) to report identical
	// images; it reads the whole dataset once.
	CheckDuplicates bool
	// Workers for CheckDuplicates (<= 0: 2).
	Workers int
	// GroundTruth labels a flat image folder (ImageNet validation style):
	// one class id or synset id per line for the images in file-name
	// order, or "file label" lines. "" looks for ground_truth.txt,
	// val.txt, val_labels.txt or LOC_val_solution.csv in the folder or
	// its parent when the folder holds images and no class folders.
	GroundTruth string
	// Synsets names the classes of a ground truth: "n01440764 tench, …"
	// per line, line i = class i. "" looks for synset_words.txt,
	// synsets.txt or LOC_synset_mapping.txt beside the folder.
	Synsets string
}

// maxDepth is how deep Open looks below root for images.
const maxDepth = 2

// trackRe finds GTSRB's "TTTTT_FFFFF" (track, frame) at the end of a file
// name; the Kaggle copy prefixes the class: "CCCCC_TTTTT_FFFFF".
var trackRe = regexp.MustCompile(`(\d+)_(\d+)\.[A-Za-z]+$`)

// Open reads the layout of root (see the package doc) and returns its
// samples, without decoding any image.
func Open(root string, opts OpenOptions) (*Dataset, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if !st.IsDir() {
		if strings.EqualFold(filepath.Ext(root), ".csv") {
			return openManifest(root, opts)
		}
		return nil, fmt.Errorf("open dataset %s: not a directory or a .csv manifest", root)
	}
	lm, lmPath, err := findLabelMap(root, opts.LabelMap)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Root: root, LabelMap: lmPath}
	var (
		files   []string // relative, slash-separated
		csvs    []string
		folders = map[string]bool{} // folder names that exist (any depth)
	)
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			d.Problems = append(d.Problems, Problem{Path: p, Kind: "unreadable", Msg: problemMsg(p, err)})
			if e != nil && e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		depth := strings.Count(rel, "/")
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			folders[e.Name()] = true
			if depth >= maxDepth {
				d.Problems = append(d.Problems, Problem{Path: p, Kind: "too-deep", Msg: fmt.Sprintf("folder nested deeper than %d levels; its images are not used", maxDepth)})
				return fs.SkipDir
			}
			return nil
		}
		isImage, isCSV := IsImageFile(rel), strings.EqualFold(filepath.Ext(rel), ".csv")
		if prob, ok := checkEntry(p, e, isImage); !ok {
			d.Problems = append(d.Problems, prob)
			return nil
		}
		switch {
		case isImage:
			files = append(files, rel)
		case isCSV:
			csvs = append(csvs, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", root, err)
	}
	ann, annProblems, err := readAnnotations(root, csvs)
	if err != nil {
		return nil, err
	}
	d.Problems = append(d.Problems, annProblems...)

	// Decide each file's recording and folder from its depth.
	type entry struct{ rel, rec, folder string }
	entries := make([]entry, 0, len(files))
	depths := map[int]int{}
	strays := 0
	for _, rel := range files {
		parts := strings.Split(rel, "/")
		depths[len(parts)-1]++
		switch len(parts) {
		case 1:
			entries = append(entries, entry{rel: rel})
		case 2:
			entries = append(entries, entry{rel: rel, folder: parts[0]})
		default:
			entries = append(entries, entry{rel: rel, rec: parts[0], folder: parts[1]})
		}
	}
	if depths[0] > 0 && len(depths) > 1 {
		annotated := false
		for _, e := range entries {
			if a, ok := ann.get(e.rel); ok && e.folder == "" && a.class >= 0 {
				annotated = true
				break
			}
		}
		if !annotated {
			strays = depths[0] // stray root images beside class folders
			delete(depths, 0)
		}
	}
	if gt := opts.GroundTruth; gt != "" || (len(depths) == 1 && depths[0] > 0 && !ann.anyClass()) {
		if gt == "" {
			gt = findBeside(root, groundTruthNames)
		}
		if gt != "" {
			var flat []string
			for _, e := range entries {
				if e.folder == "" {
					flat = append(flat, e.rel)
				}
			}
			syn := opts.Synsets
			if syn == "" {
				syn = findBeside(root, synsetNames)
			}
			return openImageNet(root, flat, gt, syn, opts)
		}
	}
	switch {
	case len(depths) > 1:
		d.Layout = "mixed"
	case depths[0] > 0:
		d.Layout = "gtsrb-test"
	case depths[2] > 0:
		d.Layout = "recordings"
	default:
		d.Layout = "folders"
	}

	// Classes.
	if lm != nil && !lm.SplitsOnly() {
		d.Classes = append([]string(nil), lm.Classes...)
		d.Splits, d.Outputs = lm.Splits, lm.Outputs
	} else {
		var splitsOnly *LabelMap
		if lm != nil {
			splitsOnly = lm
		}
		fs := make([]string, 0, len(entries))
		for _, e := range entries {
			if splitsOnly == nil || !slices.Contains(splitsOnly.Ignore, e.folder) {
				fs = append(fs, e.folder)
			}
		}
		d.Classes = defaultClasses(fs, ann)
		if lm, err = NewLabelMap(d.Classes); err != nil {
			lm = &LabelMap{} // no classes: every image is reported below
		}
		if splitsOnly != nil {
			d.Splits, lm.Splits, lm.Ignore = splitsOnly.Splits, splitsOnly.Splits, splitsOnly.Ignore
		}
	}
	ignore := map[string]bool{}
	if lm != nil {
		for _, f := range lm.Ignore {
			ignore[f] = true
		}
	}

	unknown := map[string]int{}
	usedFolders := map[string]bool{}
	for _, e := range entries {
		s := Sample{Path: filepath.Join(root, filepath.FromSlash(e.rel)), Folder: e.folder, Recording: e.rec}
		a, hasAnn := ann.get(e.rel)
		if hasAnn && a.roi != nil {
			r := *a.roi
			s.ROI = &r
		}
		if m := trackRe.FindStringSubmatch(filepath.Base(e.rel)); m != nil && e.folder != "" {
			id := strings.TrimLeft(m[1], "0")
			if id == "" {
				id = "0"
			}
			s.Track = path.Join(e.rec, e.folder, id)
		}
		switch {
		case e.folder == "" && strays > 0:
			// A stray image beside class folders (a preview, a README
			// figure): not a sample, but listed so nothing vanishes.
			d.Ignored = append(d.Ignored, s.Path)
			continue
		case e.folder == "":
			if !hasAnn || a.class < 0 {
				d.Problems = append(d.Problems, Problem{Path: s.Path, Kind: "annotation", Msg: "image outside a class folder and not in any CSV with a ClassId"})
				continue
			}
			if a.class >= len(d.Classes) {
				d.Problems = append(d.Problems, Problem{Path: s.Path, Kind: "annotation", Msg: fmt.Sprintf("ClassId %d but only %d classes", a.class, len(d.Classes))})
				continue
			}
			s.Label = a.class
		case ignore[e.folder]:
			continue
		default:
			c, ok := lm.ClassOf(e.folder)
			if !ok {
				key := e.folder
				if e.rec != "" {
					key = e.rec + "/" + e.folder
				}
				unknown[key]++
				continue
			}
			usedFolders[e.folder] = true
			s.Label = c
			if hasAnn && a.class >= 0 && a.class != c && lm.Folders[e.folder] == "" {
				d.Problems = append(d.Problems, Problem{Path: s.Path, Kind: "annotation", Msg: fmt.Sprintf("CSV ClassId %d disagrees with folder %q (class %d)", a.class, e.folder, c)})
			}
		}
		d.Samples = append(d.Samples, s)
	}
	for _, k := range sortedKeys(unknown) {
		d.Problems = append(d.Problems, Problem{Path: filepath.Join(root, k), Kind: "unknown-folder",
			Msg: fmt.Sprintf("%d images in a folder the label map does not name (add it to folders: or ignore:)", unknown[k])})
	}
	for _, f := range sortedKeys(lm.Folders) {
		if !folders[f] {
			d.Problems = append(d.Problems, Problem{Path: filepath.Join(root, f), Kind: "missing-folder",
				Msg: fmt.Sprintf("label map maps folder %q to %s but no such folder exists", f, lm.Folders[f])})
		}
	}
	recs := map[string]bool{}
	for _, s := range d.Samples {
		if s.Recording != "" {
			recs[s.Recording] = true
		}
	}
	d.Recordings = sortedKeys(recs)
	if len(d.Splits) > 0 {
		inSplit := map[string]bool{}
		for _, name := range sortedKeys(d.Splits) {
			for _, r := range d.Splits[name] {
				inSplit[r] = true
				if !recs[r] {
					d.Problems = append(d.Problems, Problem{Path: filepath.Join(root, r), Kind: "missing-recording",
						Msg: fmt.Sprintf("split %q names recording %q, which has no images", name, r)})
				}
			}
		}
		for _, r := range d.Recordings {
			if !inSplit[r] {
				d.Problems = append(d.Problems, Problem{Path: filepath.Join(root, r), Kind: "unsplit-recording",
					Msg: "recording is in no split of the label map"})
			}
		}
	}
	if len(d.Samples) == 0 && len(unknown) > 0 {
		// Images exist, but the label map names none of their folders.
		return nil, fmt.Errorf("open dataset %s: %w in a folder the label map names: folders %s match none of its classes (%s); map them with folders: or fix the class names",
			root, ErrNoImages, unknownFolders(unknown), shortList(lm.Classes, 8))
	}
	if len(d.Samples) == 0 {
		return nil, fmt.Errorf("open dataset %s: %w (looked for %s up to %d folders deep)", root, ErrNoImages, "png, jpg, jpeg, ppm, pgm, bmp, webp", maxDepth)
	}
	for c, n := range d.ClassCounts() {
		if n == 0 {
			d.Problems = append(d.Problems, Problem{Kind: "empty-class", Msg: fmt.Sprintf("class %d %q has no images", c, d.Classes[c])})
		}
	}
	if opts.CheckDuplicates {
		dup, err := findDuplicates(context.Background(), d.Samples, opts.Workers)
		if err != nil {
			return nil, fmt.Errorf("open dataset %s: %w", root, err)
		}
		d.Problems = append(d.Problems, dup...)
	}
	if opts.Strict && len(d.Problems) > 0 {
		msgs := make([]string, 0, 3)
		for i, p := range d.Problems {
			if i == 3 {
				msgs = append(msgs, fmt.Sprintf("and %d more", len(d.Problems)-3))
				break
			}
			msgs = append(msgs, p.String())
		}
		return nil, fmt.Errorf("open dataset %s (strict): %d problems: %s", root, len(d.Problems), strings.Join(msgs, "; "))
	}
	return d, nil
}

// checkEntry decides from a directory entry's type (and, for images, its
// size) whether Open may use the file, without opening it: a named pipe
// would block the first reader forever, a device may never end, and an
// image above MaxFileBytes would be read whole before being refused. It
// returns the problem to list when the file is skipped. A symbolic link is
// judged by its target.
func checkEntry(p string, e fs.DirEntry, isImage bool) (Problem, bool) {
	mode := e.Type()
	var info fs.FileInfo
	if mode&fs.ModeSymlink != 0 {
		st, err := os.Stat(p)
		if err != nil {
			return Problem{Path: p, Kind: "unreadable", Msg: "broken symbolic link: " + problemMsg(p, err)}, false
		}
		info, mode = st, st.Mode().Type()
	}
	if !mode.IsRegular() {
		if mode.IsDir() {
			return Problem{}, true // a link to a folder: WalkDir does not follow it
		}
		return Problem{Path: p, Kind: "not-regular", Msg: fileio.Kind(mode) + ", not a regular file; skipped"}, false
	}
	if !isImage {
		return Problem{}, true
	}
	if info == nil {
		var err error
		if info, err = e.Info(); err != nil {
			return Problem{Path: p, Kind: "unreadable", Msg: problemMsg(p, err)}, false
		}
	}
	if info.Size() > MaxFileBytes {
		return Problem{Path: p, Kind: "too-large", Msg: fmt.Sprintf("%d bytes, above the %d MiB limit for an image; skipped", info.Size(), MaxFileBytes>>20)}, false
	}
	return Problem{}, true
}

// problemMsg is err's text without the path a Problem already shows.
func problemMsg(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Op + ": " + pe.Err.Error()
	}
	return strings.TrimPrefix(err.Error(), path+": ")
}

// unknownFolders lists folders with their image counts, at most 8.
func unknownFolders(unknown map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(unknown) {
		parts = append(parts, fmt.Sprintf("%q (%d images)", k, unknown[k]))
	}
	return shortList(parts, 8)
}

// shortList joins the first n items and says how many more there are.
func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// labelMapNames are the label map files Open looks for in a dataset root.
var labelMapNames = []string{"labels.yaml", "labels.yml", "labels.json", "labels.txt"}

// findLabelMap loads the explicit map or looks for a conventional one.
// Two conventional maps in one root (say labels.yaml and labels.json) are
// an error naming both: silently using one hid edits made to the other.
func findLabelMap(root, explicit string) (*LabelMap, string, error) {
	read := func(p string) (*LabelMap, string, error) {
		m, err := ReadLabelMap(p)
		return m, p, err
	}
	if explicit != "" {
		return read(explicit)
	}
	var found []string
	for _, name := range labelMapNames {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			found = append(found, name)
		}
	}
	switch len(found) {
	case 0:
	case 1:
		return read(filepath.Join(root, found[0]))
	default:
		return nil, "", fmt.Errorf("open dataset %s: %w: found %s; keep one, or choose one with --labels", root, ErrLabelMap, strings.Join(found, " and "))
	}
	p := filepath.Join(filepath.Dir(filepath.Clean(root)), "labels.txt")
	if _, err := os.Stat(p); err == nil {
		return read(p)
	}
	return nil, "", nil
}

// defaultClasses names classes when no label map exists: the folder names,
// sorted (numerically when all are numbers), or for a flat annotated layout
// the ClassIds 0..max.
func defaultClasses(folders []string, ann annotations) []string {
	set := map[string]bool{}
	for _, f := range folders {
		if f != "" {
			set[f] = true
		}
	}
	if len(set) == 0 {
		maxID := -1
		for _, a := range ann.exact {
			maxID = max(maxID, a.class)
		}
		for _, a := range ann.weak {
			if a != nil {
				maxID = max(maxID, a.class)
			}
		}
		names := make([]string, maxID+1)
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
		return names
	}
	names := sortedKeys(set)
	numeric := true
	for _, n := range names {
		numeric = numeric && isDigits(n)
	}
	if numeric {
		sort.SliceStable(names, func(i, j int) bool {
			a, _ := strconv.Atoi(names[i])
			b, _ := strconv.Atoi(names[j])
			return a < b
		})
	}
	return names
}

// findDuplicates hashes every sample file and reports groups with equal
// content.
func findDuplicates(ctx context.Context, samples []Sample, workers int) ([]Problem, error) {
	if workers <= 0 {
		workers = 2
	}
	sums := make([][32]byte, len(samples))
	errs := make([]error, len(samples))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				b, err := fileio.ReadFile(samples[i].Path, MaxFileBytes)
				if err != nil {
					errs[i] = err
					continue
				}
				sums[i] = sha256.Sum256(b)
			}
		}()
	}
	for i := range samples {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	first := map[[32]byte]int{}
	var probs []Problem
	for i, s := range sums {
		if errs[i] != nil {
			probs = append(probs, Problem{Path: samples[i].Path, Kind: "unreadable", Msg: problemMsg(samples[i].Path, errs[i])})
			continue
		}
		if j, dup := first[s]; dup {
			probs = append(probs, Problem{Path: samples[i].Path, Kind: "duplicate", Msg: "same content as " + samples[j].Path})
			continue
		}
		first[s] = i
	}
	return probs, nil
}
