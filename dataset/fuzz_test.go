package dataset

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
)

// The fuzz targets below cover every parser of the package. Their seed
// corpora are real inputs (the gtsrb-mini label list, manifest and images
// when ../shared is present) plus hand-made edge cases; crashers found by
// `go test -fuzz` are kept under testdata/fuzz/<Target>/ and replay as
// regression tests in every plain `go test`.

// addSharedSeeds adds up to n files of ../shared/data/gtsrb-mini matching
// keep as seeds; nothing is added when ../shared is absent (the fuzz target
// still has its hand-made seeds).
func addSharedSeeds(f *testing.F, n int, keep func(name string) bool) {
	shared, err := testshared.Find()
	if err != nil {
		return
	}
	root := filepath.Join(shared, "data", "gtsrb-mini")
	_ = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil || n <= 0 {
			return filepath.SkipAll
		}
		if e.IsDir() || !keep(e.Name()) {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
			n--
		}
		return nil
	})
}

// pngHeader returns a PNG signature and IHDR chunk claiming a w x h 8-bit
// RGB image, with no pixel data: the shape of a decompression bomb.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // bit depth 8, colour type RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// Decoding arbitrary bytes must fail cleanly, never panic or allocate for a
// size the header merely claims; a decoded image must preprocess.
func FuzzDecodeImage(f *testing.F) {
	var b bytes.Buffer
	png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 3, 2)))
	f.Add(b.Bytes())
	b.Reset()
	png.Encode(&b, image.NewGray16(image.Rect(0, 0, 2, 2)))
	f.Add(b.Bytes())
	b.Reset()
	jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 9, 5)), nil)
	f.Add(b.Bytes())
	f.Add(pngHeader(60000, 60000))
	f.Add(pngHeader(1, 1<<30))
	f.Add([]byte("P6 2 1 255\n\x01\x02\x03\x04\x05\x06"))
	f.Add([]byte("P5 1 1 65535\n\x01\x02"))
	f.Add([]byte("P5\n# comment\n2 1\n7\n\x07\x09"))
	f.Add([]byte("P6 16777216 16777216 255\n"))
	f.Add([]byte("BM"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBP"))
	addSharedSeeds(f, 4, func(n string) bool { return strings.HasSuffix(n, ".png") })
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPixels = 1 << 16
		img, _, err := DecodeImage(data, maxPixels)
		if err != nil {
			return
		}
		r := img.Bounds()
		if r.Empty() || r.Dx() > maxPixels/r.Dy() {
			t.Fatalf("decoded %v, beyond the %d-pixel limit", r, maxPixels)
		}
		var p Preprocessor
		dst := make([]float32, 4*4*3)
		if err := p.Apply(DefaultSpec(4, 4), img, nil, dst); err != nil {
			t.Fatalf("decoded image failed to preprocess: %v", err)
		}
		roi := image.Rect(-5, -5, 2, 2)
		if err := p.Apply(DefaultSpec(4, 4), img, &roi, dst); err != nil {
			t.Fatalf("roi overlapping the image failed to preprocess: %v", err)
		}
	})
}

// FuzzParseSpec checks that ParseSpec returns only valid specs, and that a
// parsed spec survives a Marshal/ParseSpec round trip unchanged.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(`{"height":2,"width":2,"channels":3,"scale":1}`))
	f.Add([]byte(`{"version":1,"height":80,"width":80,"channels":3,"channel_order":"BGR","resize":"area","crop":"none","scale":0.00392,"offset":-0.5}`))
	f.Add([]byte(`{"height":8,"width":8,"channels":1,"mean":[127.5],"std":[1e-30]}`))
	f.Add([]byte(`{"height":1e9,"width":-1,"channels":3,"scale":1}`))
	f.Add([]byte(`{"height":2,"width":2,"channels":3,"scale":1,"typo":1}`))
	f.Add([]byte(`{"height":2,"width":2,"channels":3,"scale":1}{"x":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpec(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseSpec accepted an invalid spec: %v", err)
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatalf("parsed spec does not marshal: %v", err)
		}
		s2, err := ParseSpec(b)
		if err != nil {
			t.Fatalf("marshalled spec %s does not parse: %v", b, err)
		}
		if s.Size() != s2.Size() || s.Scale != s2.Scale || s.Resize != s2.Resize || s.Crop != s2.Crop {
			t.Fatalf("round trip changed the spec: %+v -> %+v", s, s2)
		}
	})
}

// FuzzParseLabelMap feeds the same bytes to the YAML/JSON parser and the
// labels.txt parser: both must fail cleanly or return a usable map whose
// ClassOf never returns an id outside Classes.
func FuzzParseLabelMap(f *testing.F) {
	f.Add([]byte("classes: [a, b]\nfolders: {x: a}\nsplits: {t: [r]}"))
	f.Add([]byte(`{"classes": ["stop", "yield"], "folders": {"14": "stop"}, "ignore": ["junk"]}`))
	f.Add([]byte("classes: [a, a]\n"))
	f.Add([]byte("classes: [a]\nsplits: {t: [r], v: [r]}\n"))
	f.Add([]byte("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n"))
	f.Add([]byte("stop\nyield\n\n\n"))
	f.Add([]byte("stop\n\nyield\n"))
	addSharedSeeds(f, 1, func(n string) bool { return n == "labels.txt" })
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(m *LabelMap, what string) {
			if len(m.Classes) == 0 {
				t.Fatalf("%s: label map without classes accepted", what)
			}
			for _, folder := range append([]string{"0", "1", "00", "x", "a", "stop"}, m.Classes...) {
				if c, ok := m.ClassOf(folder); ok && (c < 0 || c >= len(m.Classes)) {
					t.Fatalf("%s: ClassOf(%q) = %d with %d classes", what, folder, c, len(m.Classes))
				}
			}
			for f := range m.Folders {
				if _, ok := m.ClassOf(f); !ok {
					t.Fatalf("%s: folder %q listed but maps to no class", what, f)
				}
			}
		}
		if m, err := ParseLabelMap(data, "fuzz.yaml"); err == nil {
			check(m, "yaml")
			b, err := m.Marshal()
			if err != nil {
				t.Fatalf("parsed map does not marshal: %v", err)
			}
			m2, err := ParseLabelMap(b, "roundtrip.yaml")
			if err != nil {
				t.Fatalf("marshalled map does not parse: %v\n%s", err, b)
			}
			if strings.Join(m2.Classes, "\x00") != strings.Join(m.Classes, "\x00") {
				t.Fatalf("round trip changed classes %q -> %q", m.Classes, m2.Classes)
			}
		}
		if names, err := parseLabelsTxt(data, "fuzz.txt"); err == nil {
			if m, err := NewLabelMap(names); err == nil {
				check(m, "txt")
			}
		}
	})
}

// FuzzParseAnnotationCSV checks that GTSRB/Kaggle/manifest CSVs parse into
// sane rows (class >= 0 and within the class-id limit, ROIs non-empty) or
// fail with an error naming the line.
func FuzzParseAnnotationCSV(f *testing.F) {
	f.Add([]byte("Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n00000_00000.ppm;29;30;5;6;24;25;0\n"))
	f.Add([]byte("Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path\n27,26,5,5,22,20,20,Train/20/00020_00000_00000.png\n"))
	f.Add([]byte("\ufeffFilename;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\na.png;1;2;3;4\n"))
	f.Add([]byte("file;ClassId\na.png;99999999999\n"))
	f.Add([]byte("file,ClassId\na.png,2000000000\n"))
	f.Add([]byte("file,roi_x1,roi_y1,roi_x2,roi_y2\n\"a.png,1,2,3,4\n"))
	addSharedSeeds(f, 1, func(n string) bool { return n == "manifest.csv" })
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, prefix := range []string{"", "train/"} {
			ann := annotations{exact: map[string]annotation{}, weak: map[string]*annotation{}}
			if err := parseAnnotationCSV(data, "sub", prefix, ann); err != nil {
				if !strings.Contains(err.Error(), "line") && !strings.Contains(err.Error(), "header") {
					t.Fatalf("error %q names neither a line nor the header", err)
				}
				continue
			}
			rows := make([]annotation, 0, len(ann.exact)+len(ann.weak))
			for _, a := range ann.exact {
				rows = append(rows, a)
			}
			for _, a := range ann.weak {
				if a != nil {
					rows = append(rows, *a)
				}
			}
			for _, a := range rows {
				if a.class < -1 || a.class > maxClassID {
					t.Fatalf("class id %d accepted", a.class)
				}
				if a.roi != nil && a.roi.Empty() {
					t.Fatalf("empty ROI %v kept", *a.roi)
				}
			}
			// A flat annotated layout names its classes from the largest
			// ClassId: that must stay a small allocation.
			if n := len(defaultClasses(nil, ann)); n > maxClassID+1 {
				t.Fatalf("%d default classes", n)
			}
		}
	})
}

// FuzzParseManifest: any bytes give rows or an error naming the file;
// every row has a path and a label.
func FuzzParseManifest(f *testing.F) {
	for _, s := range []string{
		"a.png,cat\nb.png,dog\n", "path,label,split\na.png,1,train\n", "split,class_id,file\ntrain,0,train/00/x.png\n",
		"# c\n\na.png,cat,val\n", "file,label,roi_x1,roi_y1,roi_x2,roi_y2\na.png,1,0,0,3,3\n", "a.png,\"q,uoted\"\n", "a,b,c,d\n", "file\nx\n", "\"\n", ",\n",
	} {
		f.Add([]byte(s))
	}
	addSharedSeeds(f, 2, func(n string) bool { return n == "manifest.csv" })
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := parseManifest(b, "m.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "m.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(rows) == 0 {
			t.Fatal("no rows and no error")
		}
		for _, r := range rows {
			if r.path == "" || r.label == "" || r.line < 1 {
				t.Fatalf("row %+v", r)
			}
		}
	})
}

// FuzzParseGroundTruth: labels in order or by file, never both, or an
// error naming the file.
func FuzzParseGroundTruth(f *testing.F) {
	for _, s := range []string{
		"1\n0\n3\n", "a.JPEG 1\nb.JPEG n01440764\n", "ImageId,PredictionString\nx,n01440764 1 2 3 4\n",
		"a,1\n", "1\na 2\n", "a 1 2\n", "ImageId,PredictionString\nnocomma\n", "\n\n#x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gt, err := parseGroundTruth(b, "gt.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gt.txt") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if (gt.ordered == nil) == (gt.byFile == nil) {
			t.Fatalf("ordered %v byFile %v", gt.ordered, gt.byFile)
		}
	})
}

// FuzzParseSynsets: valid ids, no repeats, or an error naming the file.
func FuzzParseSynsets(f *testing.F) {
	for _, s := range []string{"n01440764 tench, Tinca tinca\nn01443537 goldfish\n", "n01440764\n", "tench\n", "n01440764 a\nn01440764 b\n", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := parseSynsets(b, "syn.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "syn.txt") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, s := range ss {
			if !synsetRe.MatchString(s.ID) || seen[s.ID] {
				t.Fatalf("synsets %v", ss)
			}
			seen[s.ID] = true
		}
		names := synsetClassNames(ss)
		if _, err := NewLabelMap(names); err != nil {
			t.Fatalf("class names %v: %v", names, err)
		}
	})
}
