package tflite

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qbench/qbench/graph"
)

// inspectLabels is how many names of each label file inspect shows.
const inspectLabels = 5

// MetaSummary is the Model Metadata part of a Summary (JSON
// "model_metadata"; absent when the model has none).
type MetaSummary struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Version     string            `json:"version"`
	Author      string            `json:"author"`
	License     string            `json:"license"`
	Inputs      []TensorMetaInfo  `json:"inputs"`
	Outputs     []TensorMetaInfo  `json:"outputs"`
	Files       []AssocFileDigest `json:"files"`
}

// TensorMetaInfo describes one input's or output's metadata. Mean, Std,
// Min and Max are per channel (one value: every channel); ValueRange is
// [min, max] over channels.
type TensorMetaInfo struct {
	Position    int             `json:"position"` // index into the graph's inputs or outputs
	Name        string          `json:"name"`
	Description string          `json:"description"`
	ColorSpace  string          `json:"color_space,omitempty"`
	Mean        []float32       `json:"mean,omitempty"`
	Std         []float32       `json:"std,omitempty"`
	Min         []float32       `json:"min,omitempty"`
	Max         []float32       `json:"max,omitempty"`
	ValueRange  *[2]int         `json:"value_range,omitempty"`
	LabelFiles  []LabelFileInfo `json:"label_files,omitempty"`
}

// LabelFileInfo is one associated file of a tensor with its name count
// and first few names (the JSON keeps the summary small; `run` and the
// library give all of them).
type LabelFileInfo struct {
	File        string   `json:"file"`
	Description string   `json:"description,omitempty"`
	Type        string   `json:"type"`
	Locale      string   `json:"locale,omitempty"`
	Count       int      `json:"count"`
	First       []string `json:"first"`
}

// AssocFileDigest names one file packed in the model and its size.
type AssocFileDigest struct {
	Name  string `json:"name"`
	Bytes int    `json:"bytes"`
}

func summarizeMeta(m *graph.ModelMeta) *MetaSummary {
	if m == nil {
		return nil
	}
	s := &MetaSummary{Name: m.Name, Description: m.Description, Version: m.Version, Author: m.Author, License: m.License,
		Inputs: tensorMetaInfos(m.Inputs), Outputs: tensorMetaInfos(m.Outputs), Files: []AssocFileDigest{}}
	for _, f := range m.Files {
		s.Files = append(s.Files, AssocFileDigest{Name: f.Name, Bytes: len(f.Data)})
	}
	return s
}

func tensorMetaInfos(ts []graph.TensorMeta) []TensorMetaInfo {
	out := []TensorMetaInfo{}
	for i, t := range ts {
		ti := TensorMetaInfo{Position: i, Name: t.Name, Description: t.Description, ColorSpace: t.ColorSpace,
			Mean: t.Mean, Std: t.Std, Min: t.Min, Max: t.Max, ValueRange: t.ValueRange}
		for _, l := range t.Labels {
			first := l.Names
			if len(first) > inspectLabels {
				first = first[:inspectLabels]
			}
			ti.LabelFiles = append(ti.LabelFiles, LabelFileInfo{File: l.FileName, Description: l.Description, Type: l.Type,
				Locale: l.Locale, Count: len(l.Names), First: append([]string{}, first...)})
		}
		out = append(out, ti)
	}
	return out
}

// writeMetaText renders the metadata block of inspect's text output.
func writeMetaText(ew *errWriter, m *MetaSummary) {
	ew.printf("\nModel metadata:\n")
	ew.printf("  Name:        %s\n", orDash(m.Name))
	ew.printf("  Description: %s\n", orDash(m.Description))
	ew.printf("  Version:     %s\n", orDash(m.Version))
	ew.printf("  Author:      %s\n", orDash(m.Author))
	ew.printf("  License:     %s\n", orDash(m.License))
	for _, io := range []struct {
		kind string
		ts   []TensorMetaInfo
	}{{"input", m.Inputs}, {"output", m.Outputs}} {
		for _, t := range io.ts {
			ew.printf("  %s %d %q", strings.ToUpper(io.kind[:1])+io.kind[1:], t.Position, t.Name)
			var parts []string
			if t.ColorSpace != "" {
				parts = append(parts, t.ColorSpace+" image")
			}
			if len(t.Mean) > 0 || len(t.Std) > 0 {
				parts = append(parts, fmt.Sprintf("normalization (x - mean) / std, mean %s, std %s", floats(t.Mean), floats(t.Std)))
			}
			if t.ValueRange != nil {
				parts = append(parts, fmt.Sprintf("values %d..%d", t.ValueRange[0], t.ValueRange[1]))
			}
			if len(parts) > 0 {
				ew.printf(": %s", strings.Join(parts, ", "))
			}
			ew.printf("\n")
			if t.Description != "" {
				ew.printf("    %s\n", t.Description)
			}
			for _, l := range t.LabelFiles {
				where := l.Type
				if l.Locale != "" {
					where += ", locale " + l.Locale
				}
				ew.printf("    %s (%s): %d names", l.File, where, l.Count)
				if len(l.First) > 0 {
					q := make([]string, len(l.First))
					for i, n := range l.First {
						q[i] = strconv.Quote(n)
					}
					more := ""
					if l.Count > len(l.First) {
						more = ", …"
					}
					ew.printf(": %s%s", strings.Join(q, ", "), more)
				}
				ew.printf("\n")
			}
		}
	}
	if len(m.Files) > 0 {
		var parts []string
		for _, f := range m.Files {
			parts = append(parts, fmt.Sprintf("%s (%s)", f.Name, humanBytes(int64(f.Bytes))))
		}
		ew.printf("  Packed files: %s\n", strings.Join(parts, ", "))
	}
}

func floats(v []float32) string {
	if len(v) == 0 {
		return "-"
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, " ") + "]"
}
