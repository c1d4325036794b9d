package main

import (
	"encoding/json"
	"fmt"

	"github.com/qbench/qbench/dataset"
	"github.com/spf13/cobra"
)

// newDataCmd groups dataset commands.
func newDataCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Inspect image datasets (class folders, recordings, GTSRB)",
		Long: `data works on labelled image folders as every other command reads them: class folders
(root/<folder>/*.png|jpg|ppm|pgm|bmp|webp), recordings (root/<recording>/<folder>/...), and the
GTSRB train and test layouts with their CSV annotations. A label map (labels.yaml/json, or
labels.txt with one class per line) names the classes, maps folders to classes and may define
splits by recording.`,
		Example: `  qbench data inspect ../shared/data/gtsrb-mini/train
  qbench data inspect /tmp/qb-gen --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("missing subcommand (try: qbench data inspect DIR)")
		},
	}
	cmd.AddCommand(newDataInspectCmd(a))
	return cmd
}

func newDataInspectCmd(a *app) *cobra.Command {
	var (
		labels         string
		lists          listFlags
		asJSON, strict bool
	)
	cmd := &cobra.Command{
		Use:   "inspect DIR",
		Short: "Count classes and images, check every image decodes, report problems",
		Long: `inspect opens DIR, decodes every image once (in parallel, bounded memory) and prints the
classes with their image counts (per split when the label map defines splits, else per
recording), the image size range, the formats and every problem found: unknown folders,
empty classes, label-map entries naming missing folders or recordings, duplicate files (same
content), bad annotations and corrupt images (with their path). Corrupt images are skipped
and counted unless --strict. The last line is "<classes> classes, <images> images", plus
", <n> skipped" when some could not be decoded.`,
		Example: `  qbench data inspect ../shared/data/gtsrb-mini/train
  qbench data inspect DIR --labels labels.yaml
  qbench data inspect DIR --json > inventory.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := dataset.Open(args[0], dataset.OpenOptions{
				LabelMap: labels, Strict: strict, CheckDuplicates: true, Workers: a.threads,
				GroundTruth: lists.groundTruth, Synsets: lists.synsets,
			})
			if err != nil {
				return err
			}
			task := a.progress().Start("decoding", int64(len(d.Samples)), "images")
			rep, err := dataset.Inspect(cmd.Context(), d, dataset.StreamOptions{
				Workers: a.threads, Strict: strict,
				Progress: func(int) { task.Add(1) },
			})
			task.Done()
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					*dataset.InspectReport
					Summary string `json:"summary"`
				}{rep, rep.Summary()})
			}
			if err := rep.WriteText(a.stdout); err != nil {
				return fmt.Errorf("writing report: %w", err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&labels, "labels", "", "label map file (YAML, JSON or labels.txt); default: DIR/labels.* or ../labels.txt")
	addListFlags(fl, &lists)
	fl.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fl.BoolVar(&strict, "strict", false, "treat any problem or corrupt image as an error")
	return cmd
}
