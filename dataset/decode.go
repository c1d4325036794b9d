package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"strings"

	"github.com/qbench/qbench/internal/fileio"
	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// ErrCorrupt is wrapped by errors for images that cannot be decoded.
var ErrCorrupt = errors.New("corrupt image")

// Limits that keep a hostile or broken file from exhausting memory.
const (
	// DefaultMaxPixels is the largest image (width*height) decoded by default.
	DefaultMaxPixels = 64 << 20
	// MaxFileBytes is the largest image file read: larger files are
	// refused from their size, before any byte is read (Open lists them as
	// "too-large" problems and leaves them out).
	MaxFileBytes = 512 << 20
)

// imageExts are the file extensions treated as images (lower case).
var imageExts = map[string]string{
	".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".ppm": "pnm", ".pgm": "pnm",
	".pnm": "pnm", ".bmp": "bmp", ".webp": "webp",
}

// IsImageFile reports whether name has one of the supported image
// extensions: png, jpg, jpeg, ppm, pgm, pnm, bmp, webp (any case).
func IsImageFile(name string) bool {
	_, ok := imageExts[strings.ToLower(filepath.Ext(name))]
	return ok
}

// sniff returns the image format from the first bytes.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte("\xff\xd8")):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("BM")):
		return "bmp"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	case len(b) >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6'):
		return "pnm"
	}
	return ""
}

// ReadImageFile reads and decodes one image file, refusing images larger
// than maxPixels (<= 0 means DefaultMaxPixels). It returns the format name.
// A path that is not a regular file (a named pipe, a device) or is larger
// than MaxFileBytes is refused without being read (fileio.ErrNotRegular,
// fileio.ErrTooLarge).
func ReadImageFile(path string, maxPixels int) (image.Image, string, error) {
	b, err := fileio.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, "", err // names path once
	}
	img, format, err := DecodeImage(b, maxPixels)
	if err != nil {
		return nil, format, fmt.Errorf("%s: %w", path, err)
	}
	return img, format, nil
}

// DecodeImage decodes an in-memory image of any supported format, checking
// its declared size against maxPixels before allocating pixel memory.
func DecodeImage(b []byte, maxPixels int) (image.Image, string, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	format := sniff(b)
	var (
		cfg    image.Config
		err    error
		decode func(io.Reader) (image.Image, error)
	)
	switch format {
	case "png":
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
		decode = png.Decode
	case "jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
		decode = jpeg.Decode
	case "bmp":
		cfg, err = bmp.DecodeConfig(bytes.NewReader(b))
		decode = bmp.Decode
	case "webp":
		cfg, err = webp.DecodeConfig(bytes.NewReader(b))
		decode = webp.Decode
	case "pnm":
		var h pnmHeader
		h, err = parsePNMHeader(b)
		cfg = image.Config{Width: h.w, Height: h.h}
		decode = func(io.Reader) (image.Image, error) { return decodePNM(b, h) }
	default:
		if len(b) == 0 {
			return nil, "", fmt.Errorf("%w: empty file", ErrCorrupt)
		}
		return nil, "", fmt.Errorf("%w: unknown format (not png, jpeg, bmp, webp, ppm or pgm)", ErrCorrupt)
	}
	if err != nil {
		return nil, format, fmt.Errorf("%w: %s header: %v", ErrCorrupt, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxPixels/cfg.Height {
		return nil, format, fmt.Errorf("%w: %s size %dx%d outside 1..%d pixels", ErrCorrupt, format, cfg.Width, cfg.Height, maxPixels)
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		return nil, format, fmt.Errorf("%w: %s: %v", ErrCorrupt, format, err)
	}
	return img, format, nil
}

// pnmHeader is a parsed binary PGM (P5) or PPM (P6) header.
type pnmHeader struct {
	gray      bool
	w, h, max int
	off       int // first pixel byte
}

// parsePNMHeader parses "P5|P6 <w> <h> <maxval>" with # comments, followed
// by exactly one whitespace byte before the raster.
func parsePNMHeader(b []byte) (pnmHeader, error) {
	var h pnmHeader
	if len(b) < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6') {
		return h, errors.New("not a binary PGM/PPM")
	}
	h.gray = b[1] == '5'
	i := 2
	var vals [3]int
	for k := 0; k < 3; k++ {
		for i < len(b) && (isSpace(b[i]) || b[i] == '#') {
			if b[i] == '#' {
				for i < len(b) && b[i] != '\n' {
					i++
				}
				continue
			}
			i++
		}
		start := i
		v := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			v = v*10 + int(b[i]-'0')
			if v > 1<<24 {
				return h, errors.New("header value too large")
			}
			i++
		}
		if i == start {
			return h, errors.New("malformed header")
		}
		vals[k] = v
	}
	if i >= len(b) || !isSpace(b[i]) {
		return h, errors.New("malformed header")
	}
	h.w, h.h, h.max, h.off = vals[0], vals[1], vals[2], i+1
	if h.max < 1 || h.max > 65535 {
		return h, fmt.Errorf("maxval %d outside 1..65535", h.max)
	}
	return h, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decodePNM decodes the raster after a parsed header, rescaling maxval to
// 255 (16-bit samples are big-endian, per the Netpbm spec).
func decodePNM(b []byte, h pnmHeader) (image.Image, error) {
	ch := 3
	if h.gray {
		ch = 1
	}
	bps := 1
	if h.max > 255 {
		bps = 2
	}
	need := h.w * h.h * ch * bps
	if len(b)-h.off < need {
		return nil, fmt.Errorf("truncated raster: %d of %d bytes", len(b)-h.off, need)
	}
	raw := b[h.off : h.off+need]
	sample := func(i int) uint8 {
		var v int
		if bps == 2 {
			v = int(raw[2*i])<<8 | int(raw[2*i+1])
		} else {
			v = int(raw[i])
		}
		if h.max == 255 {
			return uint8(v)
		}
		return uint8((min(v, h.max)*255 + h.max/2) / h.max)
	}
	r := image.Rect(0, 0, h.w, h.h)
	if h.gray {
		m := image.NewGray(r)
		for i := range m.Pix {
			m.Pix[i] = sample(i)
		}
		return m, nil
	}
	m := image.NewRGBA(r)
	for i, n := 0, h.w*h.h; i < n; i++ {
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = sample(3*i), sample(3*i+1), sample(3*i+2), 255
	}
	return m, nil
}
