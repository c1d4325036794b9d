//go:build ortbench

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// wasmRate matches the oracle's bench line: "... ms/run, R runs/s".
var wasmRate = regexp.MustCompile(`([0-9.]+) runs/s`)

// wasmThroughput times the TFLite interpreter compiled to WebAssembly (the
// tflite-oracle's tflite_run.js --bench, XNNPACK with SIMD, one thread per
// process) on the model file at path, zeros as input, batch 1: threads
// processes run concurrently and their runs/s are summed.
func wasmThroughput(dir, path string, threads int, seconds float64) (float64, error) {
	script := filepath.Join(dir, "tflite_run.js")
	if _, err := os.Stat(script); err != nil {
		return 0, fmt.Errorf("TFLite WASM: %w", err)
	}
	rates := make([]float64, threads)
	errs := make([]error, threads)
	var wg sync.WaitGroup
	for i := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds*float64(time.Second))+2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", script, path, "-", "--bench", strconv.FormatFloat(seconds, 'f', -1, 64))
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("TFLite WASM: %v: %s", err, lastLine(stderr.String()))
				return
			}
			m := wasmRate.FindSubmatch(out.Bytes())
			if m == nil {
				errs[i] = fmt.Errorf("TFLite WASM: no rate in its output")
				return
			}
			rates[i], errs[i] = strconv.ParseFloat(string(m[1]), 64)
		}()
	}
	wg.Wait()
	total := 0.0
	for i, r := range rates {
		if errs[i] != nil {
			return 0, errs[i]
		}
		total += r
	}
	return total, nil
}

func lastLine(s string) string {
	s = string(bytes.TrimSpace([]byte(s)))
	if i := bytes.LastIndexByte([]byte(s), '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// batchedFile writes g with every input's dimension 0 set to batch as a
// .tflite file in dir, for the WASM interpreter (which runs a file's own
// input shape): shapes are re-inferred and constant RESHAPE targets that
// name the batch (1 in the file) are rewritten to it.
func batchedFile(g *graph.Graph, batch int, dir, name string) (string, error) {
	c := g.Clone()
	shapes := make([][]int, len(c.Inputs))
	for i, ti := range c.Inputs {
		s := append([]int(nil), c.Tensors[ti].Shape...)
		if len(s) == 0 {
			return "", fmt.Errorf("input %d is a scalar", i)
		}
		s[0] = batch
		shapes[i] = s
	}
	if err := graph.InferShapes(c, shapes); err != nil {
		return "", err
	}
	graph.RebatchStates(g, c) // an LSTM's or SVDF's state: one row per image
	for _, t := range c.Tensors {
		t.ShapeSignature = nil // the file's batch-1 signature no longer holds
	}
	for _, op := range c.Ops {
		if op.Kind != graph.OpReshape || len(op.Outputs) != 1 {
			continue
		}
		out := c.Tensors[op.Outputs[0]].Shape
		if len(out) == 0 || out[0] != batch {
			continue
		}
		if o, ok := op.Options.(*graph.ReshapeOptions); ok && len(o.NewShape) == len(out) {
			o.NewShape = append([]int(nil), out...)
		}
		if len(op.Inputs) > 1 && op.Inputs[1] >= 0 {
			st := c.Tensors[op.Inputs[1]]
			if st.IsConst() && st.DType == graph.Int32 && st.NumElements() == len(out) {
				v := make([]int32, len(out))
				for i, d := range out {
					v[i] = int32(d)
				}
				nt := *st
				nt.Data = graph.EncodeInt32s(v)
				op.Inputs[1] = c.AddTensor(&nt)
			}
		}
	}
	p := filepath.Join(dir, fmt.Sprintf("%s.b%d.tflite", name, batch))
	return p, tflite.WriteFile(p, c)
}
