package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/qbench/qbench/internal/fileio"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/tflite"
)

// rawInputs resolves --input arguments to one file per model input: FILE
// (positional, in input order) or NAME=FILE (by input tensor name).
func rawInputs(p *interp.Program, args []string) ([]string, error) {
	n := p.NumInputs()
	files := make([]string, n)
	next := 0
	for _, arg := range args {
		if name, file, ok := strings.Cut(arg, "="); ok {
			found := -1
			for i := range n {
				if p.InputTensor(i).Name == name {
					found = i
				}
			}
			if found >= 0 {
				if files[found] != "" {
					return nil, usagef("input %q is given twice (%s and %s)", name, files[found], file)
				}
				files[found] = file
				continue
			}
			if _, err := os.Stat(arg); err != nil { // not a file called "a=b" either
				return nil, usagef("--input %s: the model has no input named %q (inputs: %s)", arg, name, inputNames(p))
			}
		}
		for next < n && files[next] != "" {
			next++
		}
		if next >= n {
			return nil, usagef("%d --input files for a model with %d inputs (%s)", len(args), n, inputNames(p))
		}
		files[next] = arg
	}
	for i, f := range files {
		if f == "" {
			return nil, usagef("no --input for input %d %q (inputs: %s)", i, p.InputTensor(i).Name, inputNames(p))
		}
	}
	return files, nil
}

func inputNames(p *interp.Program) string {
	var s []string
	for i := range p.NumInputs() {
		t := p.InputTensor(i)
		s = append(s, fmt.Sprintf("%q %s %v", t.Name, t.DType, t.Shape))
	}
	return strings.Join(s, ", ")
}

// runRaw runs the model on raw input files and writes raw output files
// (see run --help).
func runRaw(a *app, p *interp.Program, inArgs, outFiles []string, prefix string) error {
	files, err := rawInputs(p, inArgs)
	if err != nil {
		return err
	}
	if len(outFiles) > p.NumOutputs() {
		return usagef("%d --output files for a model with %d outputs", len(outFiles), p.NumOutputs())
	}
	ins := make([][]byte, len(files))
	for i, f := range files {
		if ins[i], err = fileio.ReadFile(f, tflite.MaxFileBytes); err != nil {
			return err
		}
	}
	outs, err := interp.RunRawAll(p, ins, a.threads)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
	}
	if prefix != "" {
		outFiles = nil
		for i := range outs {
			outFiles = append(outFiles, fmt.Sprintf("%s.%d.bin", prefix, i))
		}
	}
	k := len(ins[0]) / max(1, p.InputTensor(0).ByteSize())
	for i, f := range outFiles {
		if err := fileio.WriteBytes(f, outs[i]); err != nil {
			return fmt.Errorf("write %w", err)
		}
		if !a.quiet {
			fmt.Fprintf(a.stderr, "wrote %d bytes (%d samples) of output %d %q to %s\n", len(outs[i]), k, i, p.OutputTensor(i).Name, f)
		}
	}
	if skipped := len(outs) - len(outFiles); skipped > 0 && !a.quiet {
		fmt.Fprintf(a.stderr, "note: %d more output(s) not written (give one --output per output, or --output-prefix)\n", skipped)
	}
	return nil
}
