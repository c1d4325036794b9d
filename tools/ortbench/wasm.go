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
