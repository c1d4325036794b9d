package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/internal/fileio"
	"github.com/qbench/qbench/interp"
	"github.com/spf13/cobra"
)

// maxImagePixels bounds a decoded image so a hostile file cannot exhaust memory.
const maxImagePixels = 64 << 20

func newRunCmd(a *app) *cobra.Command {
	var (
		inputs, outputs []string
		outAlias        []string
		outPrefix       string
		images          []string
		top             int
		labelsPath      string
		asJSON          bool
		rounding        string
		prep            prepFlags
		arena           arenaFlag
	)
	cmd := &cobra.Command{
		Use:   "run MODEL.tflite (--input IN.bin... --output OUT.bin... | --image FILE...)",
		Short: "Run a TFLite model on raw tensors or images",
		Long: `run executes MODEL.tflite with qbench's interpreter (bit-exact with TFLite for integer models).

With --input, IN.bin holds raw little-endian values in the model input's dtype, K samples
concatenated; --output receives the first output's raw values for all K samples, in the
same convention as ../shared/tools/tflite-oracle, so the two can be diffed byte for byte.
Models with several inputs take one --input per input, in order, or NAME=FILE naming the
input tensor; every input must hold the same K. Outputs: one --output per output in order
(fewer writes only the first ones), or --output-prefix P, which writes output i to P.i.bin
(the oracle's --out-all convention).
Integer models run with the TFLite runtime's arithmetic by default (--rounding runtime:
its builtin kernels plus the XNNPACK delegate it applies on CPU); --rounding single gives
the builtin kernels alone and --rounding double TFLite Micro's (the reference kernels'),
which differ by one step on some values.

With --image, each image (PNG, JPEG, BMP, PPM, WebP) is decoded, resized to the input's
height and width and scaled as the model's stored preprocessing spec says (metadata
"qbench.preprocess"; without one: RGB, bilinear half-pixel resize, values x/255 in [0,1]),
quantized with the input's scale and zero point, and the top classes are printed.`,
		Example: `  qbench run model.tflite --input in.bin --output out.bin
  qbench run detector.tflite --input image=in.bin --output-prefix out   # out.0.bin ... out.3.bin
  qbench run model.tflite --image stop.png --image yield.jpg
  qbench run model.tflite --image sign.png --labels labels.txt --top 3 --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(images) > 0 {
				images = append(images, args[1:]...)
			} else if len(args) > 1 {
				return usagef("unexpected arguments %v (images go after --image)", args[1:])
			}
			if len(outAlias) > 0 && len(outputs) > 0 {
				return usagef("--out is an alias of --output: use one of them")
			}
			outputs = append(outputs, outAlias...)
			switch {
			case len(inputs) > 0 && len(images) > 0:
				return usagef("use either --input or --image, not both")
			case len(inputs) == 0 && len(images) == 0:
				return usagef("give --input IN.bin (with --output OUT.bin) or --image FILE")
			case len(inputs) > 0 && len(outputs) == 0 && outPrefix == "":
				return usagef("--input needs --output OUT.bin or --output-prefix P")
			case len(outputs) > 0 && outPrefix != "":
				return usagef("use either --output or --output-prefix, not both")
			case top < 1:
				return usagef("--top must be at least 1, got %d", top)
			}
			rnd, err := parseRounding(rounding)
			if err != nil {
				return err
			}
			g, err := a.readModel("run", args[0])
			if err != nil {
				return err
			}
			// Raw samples run in sequence like the TFLite runtime's Invoke
			// calls: state tensors carry over. Images are independent.
			p, err := interp.Compile(g, interp.Options{Rounding: rnd, CarryState: len(inputs) > 0, MaxArenaBytes: arena.bytes})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			e := p.NewExecutor()
			if len(inputs) > 0 {
				return runRaw(a, p, inputs, outputs, outPrefix)
			}
			labels, _, err := dataset.ModelClasses(g)
			if err != nil {
				return err
			}
			if labelsPath != "" {
				b, err := fileio.ReadFile(labelsPath, 16<<20)
				if err != nil {
					return err
				}
				labels = strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
			}
			spec, err := resolveSpec(a, "run", g, &prep)
			if err != nil {
				return err
			}
			return classifyImages(a, e, spec, images, top, labels, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&inputs, "input", nil, "raw input tensor file (K samples in the input's dtype); repeat per input, or NAME=FILE")
	f.StringArrayVar(&outputs, "output", nil, "where to write an output's raw values (repeat: one per output, in order)")
	f.StringArrayVar(&outAlias, "out", nil, "alias of --output")
	f.StringVar(&outPrefix, "output-prefix", "", "write output i to PREFIX.i.bin (all outputs)")
	f.StringSliceVar(&images, "image", nil, "image file(s) to classify (repeatable)")
	f.IntVar(&top, "top", 5, "how many classes to print per image")
	f.StringVar(&labelsPath, "labels", "", "class names, one per line (line i = class i)")
	f.BoolVar(&asJSON, "json", false, "print image results as JSON")
	addRoundingFlag(f, &rounding)
	addMaxArenaFlag(f, &arena)
	addPrepFlags(f, &prep)
	return cmd
}

// imageResult is one image's ranking in --json output.
type imageResult struct {
	Image   string        `json:"image"`
	Classes []classResult `json:"classes"`
}

type classResult struct {
	Index int     `json:"index"`
	Label string  `json:"label,omitempty"`
	Score float32 `json:"score"`
}

func classifyImages(a *app, e *interp.Executor, spec dataset.Spec, paths []string, top int, labels []string, asJSON bool) error {
	in := e.Program().InputTensor(0)
	if in.Shape[0] != 1 {
		return fmt.Errorf("--image needs batch 1, the model input is %v", in.Shape)
	}
	x := make([]float32, spec.Size())
	var scores []float32
	var results []imageResult
	for _, path := range paths {
		img, _, err := dataset.ReadImageFile(path, maxImagePixels)
		if err != nil {
			return err
		}
		if err := spec.Apply(img, nil, x); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := e.SetInputFloat(0, x); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := e.Run(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		scores = e.OutputFloat(0, scores)
		r := imageResult{Image: path}
		for _, c := range interp.TopK(scores, top) {
			cr := classResult{Index: c.Index, Score: c.Score}
			if c.Index < len(labels) {
				cr.Label = labels[c.Index]
			}
			r.Classes = append(r.Classes, cr)
		}
		results = append(results, r)
	}
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		fmt.Fprintln(a.stdout, r.Image)
		for i, c := range r.Classes {
			name := c.Label
			if name != "" {
				name = "  " + name
			}
			fmt.Fprintf(a.stdout, "  %d. class %d%s  %.4f\n", i+1, c.Index, name, c.Score)
		}
	}
	return nil
}
