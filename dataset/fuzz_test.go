package dataset

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// Decoding arbitrary bytes must fail cleanly, never panic or allocate for a
// size the header merely claims.
func FuzzDecodeImage(f *testing.F) {
	var b bytes.Buffer
	png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 3, 2)))
	f.Add(b.Bytes())
	f.Add([]byte("P6 2 1 255\n\x01\x02\x03\x04\x05\x06"))
	f.Add([]byte("P5 1 1 65535\n\x01\x02"))
	f.Add([]byte("BM"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBP"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, _, err := DecodeImage(data, 1<<16)
		if err != nil {
			return
		}
		var p Preprocessor
		dst := make([]float32, 4*4*3)
		if err := p.Apply(DefaultSpec(4, 4), img, nil, dst); err != nil {
			t.Fatalf("decoded image failed to preprocess: %v", err)
		}
	})
}

func FuzzParseSpecAndLabelMap(f *testing.F) {
	f.Add([]byte(`{"height":2,"width":2,"channels":3,"scale":1}`))
	f.Add([]byte("classes: [a, b]\nfolders: {x: a}\nsplits: {t: [r]}"))
	f.Add([]byte("Filename;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\na.png;1;2;3;4;5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := ParseSpec(data); err == nil {
			if s.Validate() != nil {
				t.Fatal("ParseSpec accepted an invalid spec")
			}
		}
		if m, err := ParseLabelMap(data, "fuzz"); err == nil && len(m.Classes) == 0 {
			t.Fatal("label map without classes accepted")
		}
		parseAnnotationCSV(data, "", "", annotations{exact: map[string]annotation{}, weak: map[string]*annotation{}})
	})
}
