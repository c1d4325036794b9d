package dataset

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
)

func TestManifestLayouts(t *testing.T) {
	root := t.TempDir()
	for i, p := range []string{"img/a.png", "img/b.png", "img/c.png", "other/d.png"} {
		writePNG(t, filepath.Join(root, p), 2, 2, uint8(i))
	}
	// No header, labels by name, relative paths, a split column.
	m := filepath.Join(root, "list.csv")
	writeFile(t, m, "img/a.png,cat,train\nimg/b.png, dog ,val\n# a comment\nimg/c.png,cat,val\n"+filepath.Join(root, "other/d.png")+",dog,train\n")
	d, err := Open(m, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != "manifest" || !reflect.DeepEqual(d.Classes, []string{"cat", "dog"}) || len(d.Samples) != 4 || d.Labels()[1] != 1 {
		t.Fatalf("dataset %+v", d)
	}
	val, err := d.Split("val")
	if err != nil || val.Len() != 2 {
		t.Fatalf("split val: %v %v", val, err)
	}
	// A header in any column order, labels by id, names from labels.txt
	// beside the manifest; a missing file is a problem, not an error.
	writeFile(t, filepath.Join(root, "labels.txt"), "zero\none\ntwo\n")
	writeFile(t, m, "class_id,extra,file\n2,x,img/a.png\n0,y,img/b.png\n0,z,img/missing.png\n")
	d, err = Open(m, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Labels(), []int{2, 0}) || d.Classes[2] != "two" || !hasProblem(d, "unreadable", "missing.png") {
		t.Fatalf("labels %v classes %v problems %v", d.Labels(), d.Classes, d.Problems)
	}
	// Bad lines name the file and line.
	for text, want := range map[string]string{
		"img/a.png,cat\nimg/b.png\n":                                      "list.csv:2",
		"img/a.png,cat\n,dog\n":                                           "list.csv:2: invalid data list: empty path",
		"path,split\nimg/a.png,val\n":                                     "list.csv:1",
		"img/a.png,cat,val,extra\n":                                       "list.csv:1",
		"img/a.png,\"unterminated\n":                                      "list.csv:1",
		"file,label,roi_x1,roi_y1,roi_x2,roi_y2\nimg/a.png,cat,5,5,2,9\n": "list.csv:2: invalid data list: empty ROI",
		"file,label,roi_x1\nimg/a.png,cat,5\n":                            "list.csv:1",
		"img/a.png,seven\n":                                               "list.csv:1: invalid data list: label \"seven\" is not a class",
		"":                                                                "no images listed",
	} {
		writeFile(t, m, text)
		if _, err := Open(m, OpenOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want it to contain %q", text, err, want)
		}
	}
}

// gtsrb-mini's manifest.csv (split,class_id,file,… with labels.txt
// beside it) opens as a dataset with its two splits.
func TestManifestGTSRBMini(t *testing.T) {
	root := testshared.Dir(t, "data", "gtsrb-mini")
	d, err := Open(filepath.Join(root, "manifest.csv"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	val, err := d.Split("val")
	if err != nil {
		t.Fatal(err)
	}
	// Its ROI columns crop like the folder layout's GT CSVs.
	if r := d.Samples[0].ROI; r == nil || r.Min.X != 6 || r.Max.Y != 27 {
		t.Fatalf("first sample ROI %v, want (6,6)-(27,27)", r)
	}
	if d.Len() != 817 || len(d.Classes) != 43 || val.Len() != 215 || !strings.HasPrefix(d.Classes[0], "Speed limit") || len(d.Problems) != 0 {
		t.Fatalf("%d images, %d classes, val %d, problems %v", d.Len(), len(d.Classes), val.Len(), d.Problems)
	}
}

func TestImageNetValidationLayout(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "val")
	for i, n := range []string{"ILSVRC2012_val_00000002.JPEG", "ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000003.JPEG"} {
		writePNG(t, filepath.Join(root, n), 2, 2, uint8(i)) // content sniffed, not the extension
	}
	writeFile(t, filepath.Join(dir, "synset_words.txt"), "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\nn02012849 crane\nn03126707 crane\n")
	// Class ids in file-name order, found beside the folder.
	writeFile(t, filepath.Join(dir, "val.txt"), "1\n0\n3\n")
	d, err := Open(root, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != "imagenet" || !reflect.DeepEqual(d.Classes, []string{"tench", "goldfish", "crane (n02012849)", "crane (n03126707)"}) ||
		!reflect.DeepEqual(d.Labels(), []int{1, 0, 3}) || !strings.HasSuffix(d.Samples[0].Path, "00000001.JPEG") {
		t.Fatalf("dataset %+v", d)
	}
	// File/synset lines (Kaggle's solution CSV), given explicitly.
	gt := filepath.Join(dir, "LOC_val_solution.csv")
	writeFile(t, gt, "ImageId,PredictionString\nILSVRC2012_val_00000003,n02012849 1 2 3 4\nILSVRC2012_val_00000001,n01443537 5 6 7 8 n01443537 1 1 2 2\nILSVRC2012_val_00000002,n01440764 0 0 1 1\n")
	d, err = Open(root, OpenOptions{GroundTruth: gt})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Labels(), []int{1, 0, 2}) {
		t.Fatalf("labels %v", d.Labels())
	}
	// Errors name the file and line.
	for text, want := range map[string]string{
		"1\n0\n":            "2 labels for the 3 images",
		"1\nn09999999\n2\n": "val.txt:2: invalid data list: synset n09999999 is not in the synset list",
		"1\n0\n7\n":         "val.txt:3: invalid data list: class id 7 but only 4 classes",
		"1\nx y z\n2\n":     "val.txt:2",
		"a.JPEG 1\n2\n":     "val.txt:2",
		"1\n-1\n2\n":        "val.txt:2",
	} {
		writeFile(t, filepath.Join(dir, "val.txt"), text)
		if _, err := Open(root, OpenOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", text, err, want)
		}
	}
	writeFile(t, filepath.Join(dir, "val.txt"), "1\n0\n3\n")
	writeFile(t, filepath.Join(dir, "synset_words.txt"), "n01440764 tench\nfish\n")
	if _, err := Open(root, OpenOptions{}); err == nil || !strings.Contains(err.Error(), "synset_words.txt:2") || !errors.Is(err, ErrManifest) {
		t.Errorf("bad synset list: %v", err)
	}
}
