package main

import (
	"encoding/json"
	"fmt"

	"github.com/qbench/qbench/conformance"
	"github.com/spf13/cobra"
)

func newConformanceCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "conformance DIR",
		Short: "Check qbench's kernels against TFLite reference cases",
		Long: `conformance runs every reference case JSON (format tflm-ref-case/v1) under DIR:
kernel cases as one-op graphs, model cases from their .tflite files. Float outputs must be
within the case's tolerance of the golden; integer outputs must also equal TFLite's
reference output bit for bit. It prints one line per failing case with the reason, then
"N passed, M failed", and exits with status 1 when any case fails.`,
		Example: `  qbench conformance ../shared/reference/tflite-micro
  qbench conformance ../shared/reference/tflite-micro/kernels/add --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := conformance.RunDir(args[0])
			if err != nil {
				return err
			}
			if len(rs.Cases) == 0 {
				return fmt.Errorf("no case files (format %s) under %s", conformance.Format, args[0])
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rs); err != nil {
					return err
				}
			} else {
				for _, r := range rs.Cases {
					if !r.Pass {
						fmt.Fprintf(a.stdout, "FAIL %s [%s]: %s\n", r.Name, r.Op, r.Reason)
					}
				}
				fmt.Fprintf(a.stdout, "%d passed, %d failed\n", rs.Passed, rs.Failed)
			}
			if rs.Failed > 0 {
				return fmt.Errorf("%d of %d cases failed", rs.Failed, rs.Passed+rs.Failed)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print every case's result as JSON")
	return cmd
}
