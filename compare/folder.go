package compare

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/qbench/qbench/internal/fileio"
	"github.com/qbench/qbench/report"
)

// RunToFolder runs the comparison and writes the whole report folder
// cfg.OutDir — OutputsFile and report.WriteAll's files — as one unit: it
// is built in a hidden sibling folder and renamed into place at the end
// (the previous folder renamed aside, then removed). A run that fails, is
// cancelled or is killed leaves the previous complete report, or none,
// never the old report.json beside a new, partly written outputs.bin.
//
// An existing cfg.OutDir may only hold files a report-writing command
// writes (report.IsOutputName); a folder holding anything else is refused
// before any work, so pointing --out at a wrong folder cannot delete it.
func RunToFolder(ctx context.Context, cfg Config) (*report.Report, error) {
	st, err := fileio.NewStage(cfg.OutDir, report.IsOutputName)
	if err != nil {
		return nil, fmt.Errorf("report folder %w", err)
	}
	defer st.Abort()
	final := cfg.OutDir
	cfg.OutDir = st.Dir()
	r, err := Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := report.WriteAll(st.Dir(), r); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err // interrupted while writing: keep the old folder
	}
	if err := st.Commit(); err != nil {
		return nil, fmt.Errorf("report folder %w", err)
	}
	Relocate(r, final)
	return r, nil
}

// Relocate makes the predictions of a report that Run or Summarize made
// read OutputsFile from dir, where its folder was moved (other reports
// are left alone).
func Relocate(r *report.Report, dir string) {
	if p, ok := r.Predictions.(*predictions); ok {
		p.out.path = filepath.Join(dir, OutputsFile)
	}
}
