// Package ortrun runs ONNX models with ONNX Runtime (the CPU build in the
// npm package onnxruntime-node, driven by Node), so tests can check qbench's
// ONNX export against the real runtime without linking it into qbench.
//
// ONNX Runtime lives outside the repository: .ci/install-ort.sh installs it
// into $HOME/.cache/qbench/onnxruntime (or $QBENCH_ORT). Tests call Find and
// skip with its error when it is absent.
package ortrun

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// EnvDir names the environment variable that overrides the install folder.
const EnvDir = "QBENCH_ORT"

// InstallHint tells a user how to get ONNX Runtime; Find's errors include it.
const InstallHint = "install it with .ci/install-ort.sh (needs node/npm)"

//go:embed ort_run.js
var script []byte

// Runner runs ONNX models with the onnxruntime-node package in Pkg.
type Runner struct {
	Pkg  string // the onnxruntime-node package folder
	Node string // the node binary
	// Timeout bounds one Run (default 2 minutes).
	Timeout time.Duration
}

// DefaultDir returns $QBENCH_ORT, else $HOME/.cache/qbench/onnxruntime.
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "qbench", "onnxruntime")
}

// Find locates onnxruntime-node under DefaultDir and node on PATH. The
// error says what is missing and how to install it (suitable for t.Skip).
func Find() (*Runner, error) {
	dir := DefaultDir()
	if dir == "" {
		return nil, fmt.Errorf("onnxruntime: no home directory and %s unset; %s", EnvDir, InstallHint)
	}
	pkg := filepath.Join(dir, "node_modules", "onnxruntime-node")
	if _, err := os.Stat(filepath.Join(pkg, "package.json")); err != nil {
		return nil, fmt.Errorf("onnxruntime: npm package onnxruntime-node not installed in %s; %s", dir, InstallHint)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("onnxruntime: node not on PATH; %s", InstallHint)
	}
	return &Runner{Pkg: pkg, Node: node}, nil
}

// Tensor is one input or output: an ONNX element type name ("float32",
// "int8", "uint8", "int16", "int32", "int64"), dimensions and raw
// little-endian values.
type Tensor struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Dims []int  `json:"dims"`
	Data []byte `json:"-"`
}

// Run runs the serialized ONNX model on the named inputs with one intra-op
// thread and returns every output in the session's output order. The error
// includes ONNX Runtime's message, e.g. why it rejected the model.
func (r *Runner) Run(model []byte, inputs []Tensor) ([]Tensor, error) {
	dir, err := os.MkdirTemp("", "qbench-ort-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	type jobInput struct {
		Tensor
		File string `json:"file"`
	}
	job := struct {
		Model   string     `json:"model"`
		Threads int        `json:"threads"`
		Inputs  []jobInput `json:"inputs"`
		OutDir  string     `json:"outDir"`
	}{Model: filepath.Join(dir, "model.onnx"), Threads: 1, OutDir: dir}
	if err := os.WriteFile(job.Model, model, 0o644); err != nil {
		return nil, err
	}
	for i, in := range inputs {
		f := filepath.Join(dir, fmt.Sprintf("in%d.bin", i))
		if err := os.WriteFile(f, in.Data, 0o644); err != nil {
			return nil, err
		}
		job.Inputs = append(job.Inputs, jobInput{Tensor: in, File: f})
	}
	js, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	jobPath := filepath.Join(dir, "job.json")
	scriptPath := filepath.Join(dir, "ort_run.js")
	if err := os.WriteFile(jobPath, js, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(scriptPath, script, 0o644); err != nil {
		return nil, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.Node, scriptPath, r.Pkg, jobPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("onnxruntime: timed out after %v", timeout)
		}
		return nil, fmt.Errorf("onnxruntime: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var outs []Tensor
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &outs); err != nil {
		return nil, fmt.Errorf("onnxruntime: reading its output list %q: %w", stdout.String(), err)
	}
	for i := range outs {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.bin", i)))
		if err != nil {
			return nil, fmt.Errorf("onnxruntime: output %d: %w", i, err)
		}
		outs[i].Data = b
	}
	return outs, nil
}
