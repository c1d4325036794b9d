package main

import (
	"fmt"
	"strings"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/shard"
	"github.com/spf13/cobra"
)

func newMergeCmd(a *app) *cobra.Command {
	var (
		out    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "merge PARTIAL... --out REPORTDIR",
		Short: "Merge the partial results of a sharded compare into its report",
		Long: `merge reads the partial results that "qbench compare --shard I/N" wrote, one per shard in any
order, and writes the report folder a single compare run would: report.json, predictions.csv and
outputs.bin are byte-identical to an unsharded run on the same data, models and options (see
docs/scale-out.md), and so are report.md and report.html but for its date (when the report was written;
SOURCE_DATE_EPOCH, in seconds since 1970, sets it for both runs).

It refuses partials of another run (other models, data, seed, options, qbench build or kernel path),
names missing and duplicate shards, and names a damaged partial (each file ends with a checksum).
Merge with the same qbench build that computed the shards.`,
		Example: `  qbench merge parts/*.qbpart --out report
  qbench merge shard-0001-of-0002.qbpart shard-0002-of-0002.qbpart --out report --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out is required")
			}
			version, err := qbenchVersion()
			if err != nil {
				return err
			}
			created, err := a.reportDate()
			if err != nil {
				return err
			}
			r, err := shard.MergeToFolder(cmd.Context(), args, out, version, created)
			if err != nil {
				return err
			}
			if asJSON {
				js, err := r.JSON()
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(js)
				return err
			}
			if err := report.WriteTerminal(a.stdout, r); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "merged %d partials; wrote %s/{%s}\n", len(args), strings.TrimRight(out, "/"), strings.Join([]string{
				report.FileJSON, report.FileMarkdown, report.FileHTML, report.FilePredictions, compare.OutputsFile}, ","))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "report directory")
	f.BoolVar(&asJSON, "json", false, "print report.json to stdout instead of the summary")
	return cmd
}
