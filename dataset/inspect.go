package dataset

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ClassReport is one class in an InspectReport.
type ClassReport struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Images int    `json:"images"`
	// By is the count per split (when the label map defines splits) or
	// per recording (otherwise, when there are recordings).
	By map[string]int `json:"by,omitempty"`
}

// InspectReport describes a dataset after decoding every image once.
type InspectReport struct {
	Root       string              `json:"root"`
	Layout     string              `json:"layout"`
	Recordings []string            `json:"recordings,omitempty"`
	Splits     map[string][]string `json:"splits,omitempty"`
	// ByKind is "split", "recording" or "" and names ClassReport.By's keys.
	ByKind  string        `json:"by_kind,omitempty"`
	ByKeys  []string      `json:"by_keys,omitempty"`
	Classes []ClassReport `json:"classes"`
	// Images decoded successfully; Skipped could not be decoded.
	Images  int `json:"images"`
	Skipped int `json:"skipped"`
	// Size range of the decoded images.
	MinWidth  int `json:"min_width"`
	MaxWidth  int `json:"max_width"`
	MinHeight int `json:"min_height"`
	MaxHeight int `json:"max_height"`
	// Formats counts decoded images per format (png, jpeg, pnm, ...).
	Formats map[string]int `json:"formats"`
	// Problems from Open and from decoding.
	Problems []Problem `json:"problems,omitempty"`
	// Ignored stray images beside the class folders (see Dataset.Ignored).
	Ignored []string `json:"ignored,omitempty"`
}

// Inspect decodes every sample of d once (in parallel, bounded memory) and
// summarises classes, counts per split or recording, image sizes, formats
// and problems. Corrupt images are counted as skipped, or fatal with
// opts.Strict.
func Inspect(ctx context.Context, d *Dataset, opts StreamOptions) (*InspectReport, error) {
	r := &InspectReport{Root: d.Root, Layout: d.Layout, Recordings: d.Recordings, Splits: d.Splits,
		Formats: map[string]int{}, Problems: append([]Problem(nil), d.Problems...), Ignored: d.Ignored}
	splitOf := map[string]string{}
	switch {
	case len(d.Splits) > 0:
		r.ByKind, r.ByKeys = "split", sortedKeys(d.Splits)
		for name, recs := range d.Splits {
			for _, rec := range recs {
				splitOf[rec] = name
			}
		}
	case len(d.Recordings) > 0:
		r.ByKind, r.ByKeys = "recording", d.Recordings
	}
	r.Classes = make([]ClassReport, len(d.Classes))
	for i, name := range d.Classes {
		r.Classes[i] = ClassReport{ID: i, Name: name}
		if r.ByKind != "" {
			r.Classes[i].By = map[string]int{}
		}
	}
	// A 1x1 spec keeps preprocessing negligible: only decoding is measured.
	spec := DefaultSpec(1, 1)
	spec.Crop = CropNone
	sum, err := Stream(ctx, d.Samples, spec, opts, func(it Item) error {
		if r.Images == 0 {
			r.MinWidth, r.MinHeight = it.Width, it.Height
		}
		r.Images++
		r.MinWidth, r.MaxWidth = min(r.MinWidth, it.Width), max(r.MaxWidth, it.Width)
		r.MinHeight, r.MaxHeight = min(r.MinHeight, it.Height), max(r.MaxHeight, it.Height)
		r.Formats[it.Format]++
		c := &r.Classes[it.Sample.Label]
		c.Images++
		switch r.ByKind {
		case "split":
			key := splitOf[it.Sample.Recording]
			if key == "" {
				key = "(none)"
			}
			c.By[key]++
		case "recording":
			key := it.Sample.Recording
			if key == "" {
				key = "(none)"
			}
			c.By[key]++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", d.Root, err)
	}
	r.Skipped = sum.Skipped
	r.Problems = append(r.Problems, sum.Problems...)
	return r, nil
}

// Summary returns the report's last line: "<classes> classes, <images>
// images" plus ", <n> skipped" when any image could not be decoded.
func (r *InspectReport) Summary() string {
	s := fmt.Sprintf("%d classes, %d images", len(r.Classes), r.Images)
	if r.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", r.Skipped)
	}
	return s
}

// maxByColumns limits the per-split/recording columns in the text table.
const maxByColumns = 8

// WriteText renders the report as a plain-text table ending with Summary.
func (r *InspectReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset   %s (layout %s)\n", r.Root, r.Layout)
	if len(r.Recordings) > 0 {
		fmt.Fprintf(&b, "recordings %d: %s\n", len(r.Recordings), strings.Join(r.Recordings, " "))
	}
	for _, name := range sortedKeys(r.Splits) {
		fmt.Fprintf(&b, "split     %s: %s\n", name, strings.Join(r.Splits[name], " "))
	}
	keys := r.ByKeys
	if len(keys) > maxByColumns {
		keys = nil // too many columns to read; totals only
	}
	nameW := len("class")
	for _, c := range r.Classes {
		nameW = max(nameW, len(c.Name))
	}
	fmt.Fprintf(&b, "\n%3s  %-*s %7s", "id", nameW, "class", "images")
	for _, k := range keys {
		fmt.Fprintf(&b, " %*s", max(len(k), 6), k)
	}
	b.WriteString("\n")
	for _, c := range r.Classes {
		fmt.Fprintf(&b, "%3d  %-*s %7d", c.ID, nameW, c.Name, c.Images)
		for _, k := range keys {
			fmt.Fprintf(&b, " %*d", max(len(k), 6), c.By[k])
		}
		b.WriteString("\n")
	}
	if r.Images > 0 {
		fmt.Fprintf(&b, "\nimage size  width %d..%d, height %d..%d\n", r.MinWidth, r.MaxWidth, r.MinHeight, r.MaxHeight)
	}
	formats := make([]string, 0, len(r.Formats))
	for f, n := range r.Formats {
		formats = append(formats, fmt.Sprintf("%s %d", f, n))
	}
	sort.Strings(formats)
	fmt.Fprintf(&b, "formats     %s\n", strings.Join(formats, ", "))
	if len(r.Ignored) > 0 {
		fmt.Fprintf(&b, "ignored     %s (not in a class folder)\n", strings.Join(r.Ignored, ", "))
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(&b, "\nproblems (%d):\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	b.WriteString(r.Summary())
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
