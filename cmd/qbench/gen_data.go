package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/qbench/qbench/dataset/synth"
	"github.com/spf13/cobra"
)

func newGenDataCmd(a *app) *cobra.Command {
	var (
		out                                   string
		recordings, perClass, size, verif, cs int
		preview, asJSON                       bool
	)
	cmd := &cobra.Command{
		Use:   "gen-data --out DIR",
		Short: "Generate a synthetic dataset of the study's 30 classes (markings and signs)",
		Long: `gen-data draws a synthetic dataset of the study's 30 classes as seen by the camera of a 1:10
model car on an indoor track: road markings in perspective on the floor (crosswalk, stop line,
give-way line, arrows, parking start line, crossing line, pedestrian island, express lane
start/end, speed limits painted on the road) and small signs on posts (speed limits 10-90,
end of limit, no passing start/end, uphill/downhill, pedestrian, sharp turn left/right, right
of way, forbidden), plus NO_CLASS background, clutter and partial or distant objects.

Each recording has its own light, exposure, colour cast, camera height and pose, blur, noise,
floor texture and clutter; the last --verification recordings form the "verification" split
of the label map, the others "train". Output: DIR/<recording>/<CLASS>/<n>.png and
DIR/labels.yaml, readable by every command; as in the study's data, end-of-limit signs are
filed in Speed10EndSigns..Speed90EndSigns folders that the label map merges into NSPEEDLIMIT. The same --seed gives identical files for any
--threads. --preview also writes DIR/preview.png, one row per class labelled with its name and id.`,
		Example: `  qbench gen-data --out /tmp/qb-gen
  qbench gen-data --out /tmp/qb-gen --seed 7 --recordings 5 --per-class 200 --preview
  qbench gen-data --out small --size 48 --per-class 20 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out DIR is required")
			}
			if recordings < 1 || recordings > 1000 {
				return usagef("--recordings %d: want 1..1000", recordings)
			}
			if perClass < 1 || perClass > 1_000_000 {
				return usagef("--per-class %d: want 1..1000000", perClass)
			}
			if size < 8 || size > 1024 {
				return usagef("--size %d: want 8..1024", size)
			}
			if verif < 0 || (recordings > 1 && verif >= recordings) {
				return usagef("--verification %d: want 0..%d", verif, recordings-1)
			}
			v := verif
			if v == 0 {
				v = -1 // synth.Config: negative means no verification split
			}
			cfg := synth.Config{Seed: a.seed, Size: size, Recordings: recordings, PerClass: perClass, Verification: v}
			cfg = cfg.Defaults()
			total := cfg.Total()
			task := a.progress().Start("generating", int64(total), "images")
			start := time.Now()
			n, err := synth.Write(cmd.Context(), out, cfg, synth.WriteOptions{
				Workers:  a.threads,
				Progress: func(int64) { task.Add(1) },
			})
			task.Done()
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			prev := ""
			if preview {
				prev = filepath.Join(out, "preview.png")
				if err := synth.Preview(prev, cfg, cs); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{
					"out": out, "images": n, "classes": synth.NumClasses, "recordings": cfg.Recordings,
					"per_class": cfg.PerClass, "size": cfg.Size, "seed": cfg.Seed,
					"label_map": filepath.Join(out, "labels.yaml"), "splits": synth.LabelMap(cfg).Splits,
					"preview": prev, "seconds": secs, "images_per_second": float64(n) / secs,
				})
			}
			fmt.Fprintf(a.stdout, "wrote %d images (%d recordings x %d classes x %d, %dx%d) to %s in %.1fs (%.0f images/s)\n",
				n, cfg.Recordings, synth.NumClasses, cfg.PerClass, cfg.Size, cfg.Size, out, secs, float64(n)/secs)
			lm := synth.LabelMap(cfg)
			fmt.Fprintf(a.stdout, "label map %s (train: %v, verification: %v)\n",
				filepath.Join(out, "labels.yaml"), lm.Splits["train"], lm.Splits["verification"])
			if prev != "" {
				fmt.Fprintf(a.stdout, "preview   %s\n", prev)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "output folder (created)")
	fl.IntVar(&recordings, "recordings", 4, "number of recordings (domains)")
	fl.IntVar(&perClass, "per-class", 50, "images per class per recording")
	fl.IntVar(&size, "size", 80, "image size in pixels (square)")
	fl.IntVar(&verif, "verification", 1, "how many of the last recordings form the verification split")
	fl.BoolVar(&preview, "preview", false, "also write DIR/preview.png, a contact sheet with one row per class, labelled with its name")
	fl.IntVar(&cs, "preview-columns", 10, "samples per class in the preview")
	fl.BoolVar(&asJSON, "json", false, "print a JSON summary")
	return cmd
}
