package synth

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/qbench/qbench/dataset"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// RecordingName is the folder name of recording r ("rec1", "rec2", ...).
func RecordingName(r int) string { return fmt.Sprintf("rec%d", r+1) }

// LabelMap returns the label map Write stores with a dataset: the 30
// classes, the Speed<N>EndSigns folders mapped to NSPEEDLIMIT, and the
// splits train (first recordings) and verification (the last
// cfg.Verification recordings).
func LabelMap(cfg Config) *dataset.LabelMap {
	cfg = cfg.Defaults()
	m := &dataset.LabelMap{Classes: Classes(), Splits: map[string][]string{}, Folders: map[string]string{}}
	for i := 0; i < min(cfg.PerClass, 9); i++ {
		m.Folders[FolderName(NSpeedLimit, i)] = ClassNames[NSpeedLimit]
	}
	for r := 0; r < cfg.Recordings; r++ {
		split := "train"
		if r >= cfg.Recordings-cfg.Verification {
			split = "verification"
		}
		m.Splits[split] = append(m.Splits[split], RecordingName(r))
	}
	return m
}

// WriteOptions configure Write.
type WriteOptions struct {
	// Workers generating in parallel (<= 0: 2).
	Workers int
	// Progress, when set, receives the number of images written so far;
	// it may be called from several goroutines.
	Progress func(done int64)
}

// Total returns the number of images cfg describes.
func (c Config) Total() int {
	c = c.Defaults()
	return c.Recordings * NumClasses * c.PerClass
}

// Write generates the dataset into dir as dir/<recording>/<folder>/<n>.png
// (8-bit RGB PNG, fast compression; folder = FolderName) plus
// dir/labels.yaml, and returns the number of images written. Output is
// identical for any worker count.
func Write(ctx context.Context, dir string, cfg Config, opts WriteOptions) (int, error) {
	cfg = cfg.Defaults()
	if cfg.Size > 1024 {
		return 0, fmt.Errorf("gen-data: size %d larger than 1024", cfg.Size)
	}
	for r := 0; r < cfg.Recordings; r++ {
		for c := 0; c < NumClasses; c++ {
			for i := 0; i < min(cfg.PerClass, 9); i++ {
				if err := os.MkdirAll(filepath.Join(dir, RecordingName(r), FolderName(c, i)), 0o777); err != nil {
					return 0, fmt.Errorf("gen-data: %w", err)
				}
			}
		}
	}
	lm, err := LabelMap(cfg).Marshal()
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.yaml"), lm, 0o666); err != nil {
		return 0, fmt.Errorf("gen-data: %w", err)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 2
	}
	total := cfg.Total()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		errOnce    sync.Once
		firstErr   error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				enc pngWriter
				buf bytes.Buffer
			)
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= total {
					return
				}
				r := k / (NumClasses * cfg.PerClass)
				c := k / cfg.PerClass % NumClasses
				i := k % cfg.PerClass
				img := Generate(cfg, r, c, i)
				buf.Reset()
				err := enc.encode(&buf, img)
				if err == nil {
					p := filepath.Join(dir, RecordingName(r), FolderName(c, i), fmt.Sprintf("%05d.png", i))
					err = os.WriteFile(p, buf.Bytes(), 0o666)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("gen-data: %w", err); cancel() })
					return
				}
				n := done.Add(1)
				if opts.Progress != nil {
					opts.Progress(n)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return int(done.Load()), firstErr
	}
	if err := ctx.Err(); err != nil {
		return int(done.Load()), err
	}
	return int(done.Load()), nil
}

// Preview draws a contact sheet, one row per class: the class name, a
// tile with the class id, then cols samples taken from the recordings in
// turn; it writes the sheet as PNG to path.
func Preview(path string, cfg Config, cols int) error {
	sheet := previewSheet(cfg, cols)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	bw := bufio.NewWriter(f)
	if err := png.Encode(bw, sheet); err != nil {
		f.Close()
		return fmt.Errorf("preview %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("preview %s: %w", path, err)
	}
	return f.Close()
}

// previewSheet renders Preview's contact sheet.
func previewSheet(cfg Config, cols int) *image.RGBA {
	cfg = cfg.Defaults()
	if cols <= 0 {
		cols = 10
	}
	s := cfg.Size
	const pad = 2
	face := basicfont.Face7x13
	nameW := 0
	for _, n := range ClassNames {
		nameW = max(nameW, font.MeasureString(face, n).Ceil())
	}
	nameW += 2 * pad
	cols++ // the id tile
	w := nameW + cols*(s+pad) + pad
	h := NumClasses*(s+pad) + pad
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range sheet.Pix {
		sheet.Pix[i] = 40
		if i%4 == 3 {
			sheet.Pix[i] = 255
		}
	}
	for c := 0; c < NumClasses; c++ {
		y0 := pad + c*(s+pad)
		// Names are left-aligned and centred on the row's height.
		d := font.Drawer{Dst: sheet, Src: image.White, Face: face,
			Dot: fixed.P(pad, y0+(s+face.Ascent-face.Descent)/2)}
		d.DrawString(ClassNames[c])
		for k := 0; k < cols; k++ {
			var img *image.RGBA
			if k == 0 {
				img = idTile(c, s)
			} else {
				img = Generate(cfg, (k-1)%cfg.Recordings, c, (k-1)/cfg.Recordings)
			}
			x0 := nameW + pad + k*(s+pad)
			for y := 0; y < s; y++ {
				copy(sheet.Pix[sheet.PixOffset(x0, y0+y):sheet.PixOffset(x0+s, y0+y)], img.Pix[img.PixOffset(0, y):img.PixOffset(s, y)])
			}
		}
	}
	return sheet
}

// idTile draws a class id in white digits on black, s x s pixels.
func idTile(class, s int) *image.RGBA {
	cv := newCanvas(s)
	fs := float32(s)
	cv.paintFlat([]layer{{col: rgb{1, 1, 1}, alpha: 1,
		prims: number(class, fs/2, fs/2, fs*0.45, fs*0.035, nil)}}, newAffine(0, 0, 1, 0, 1))
	img := image.NewRGBA(image.Rect(0, 0, s, s))
	for i, o := 0, 0; i < len(cv.pix); i, o = i+3, o+4 {
		for c := 0; c < 3; c++ {
			img.Pix[o+c] = uint8(clamp01(cv.pix[i+c])*255 + 0.5)
		}
		img.Pix[o+3] = 255
	}
	return img
}
