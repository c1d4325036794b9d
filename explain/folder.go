package explain

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/qbench/qbench/internal/fileio"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/tflite"
)

// Files written by WriteFolder.
const (
	FileJSON  = "explain.json"
	FileHTML  = "explain.html"
	FileMixed = "mixed.tflite"
	// FileRequantized holds a best fix without float layers (recalibrated,
	// per-channel or 16x8).
	FileRequantized = "requantized.tflite"
)

// isOutputName is report.IsOutputName, which knows explain's files too.
func isOutputName(name string) bool { return report.IsOutputName(name) }

// WriteFolder writes explain.json, explain.html, suggested-labels.yaml
// when r.SuggestedLabels is set and, when the fix search produced one,
// the best fix's model (Fix.File) into dir as one unit: they are built in a
// hidden sibling folder renamed into place at the end, so an interrupted
// or failed write leaves the previous complete folder or none. Fix.Model
// is set to the written model's final path. An existing dir may only hold
// files a report-writing command writes (report.IsOutputName).
func (r *Result) WriteFolder(dir string) error {
	st, err := fileio.NewStage(dir, isOutputName)
	if err != nil {
		return fmt.Errorf("output folder %w", err)
	}
	defer st.Abort()
	if r.Fix != nil && r.Fix.Graph != nil {
		p := filepath.Join(st.Dir(), r.Fix.File())
		if err := tflite.WriteFile(p, r.Fix.Graph); err != nil {
			return fmt.Errorf("write %s: %w", r.Fix.File(), err)
		}
		r.Fix.Model = filepath.Join(dir, r.Fix.File())
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{{FileJSON, r.WriteJSON}, {FileHTML, r.WriteHTML}}
	if len(r.SuggestedLabels) > 0 {
		files = append(files, struct {
			name  string
			write func(io.Writer) error
		}{report.FileSuggestedLabels, func(w io.Writer) error { _, err := w.Write(r.SuggestedLabels); return err }})
	}
	for _, f := range files {
		if err := fileio.WriteFile(filepath.Join(st.Dir(), f.name), f.write); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), reasonOf(err))
		}
	}
	if err := st.Commit(); err != nil {
		return fmt.Errorf("output folder %w", err)
	}
	return nil
}

// CheckFolder fails when WriteFolder would refuse dir, so a wrong output
// folder is reported before the analysis runs.
func CheckFolder(dir string) error {
	if err := fileio.CheckReplaceable(dir, isOutputName); err != nil {
		return fmt.Errorf("output folder %w", err)
	}
	return nil
}

// reasonOf drops the staged path from a fileio error (the caller names the
// final path).
func reasonOf(err error) error {
	if fe, ok := err.(*fileio.Error); ok {
		return fe.Err
	}
	return err
}
