// Package oracle runs .tflite models with the real TensorFlow Lite
// interpreter (the WASM build of @tensorflow/tfjs-tflite under Node), so
// tests can check that qbench's files load in TFLite and that qbench's
// kernels match TFLite bit for bit.
//
// The oracle lives outside the repository: .ci/install-oracle.sh installs it
// into $HOME/.cache/qbench/tflite-oracle (or $QBENCH_TFLITE_ORACLE). Tests
// call Find and skip with its error when it is absent.
package oracle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// EnvDir names the environment variable that overrides the oracle directory.
const EnvDir = "QBENCH_TFLITE_ORACLE"

// InstallHint tells a user how to get the oracle; Find's errors include it.
const InstallHint = "install it with .ci/install-oracle.sh (needs ../shared and node/npm)"

// Runner runs models with the oracle in Dir using the node binary Node.
type Runner struct {
	Dir  string
	Node string
	// Timeout bounds one Run (default 2 minutes).
	Timeout time.Duration
}

// DefaultDir returns $QBENCH_TFLITE_ORACLE, else $HOME/.cache/qbench/tflite-oracle.
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "qbench", "tflite-oracle")
}

// Find locates a ready oracle: DefaultDir holding tflite_run.js and the
// installed npm package, and node on PATH. The error says what is missing
// and how to install it (suitable for t.Skip).
func Find() (*Runner, error) {
	dir := DefaultDir()
	if dir == "" {
		return nil, fmt.Errorf("tflite oracle: no home directory and %s unset; %s", EnvDir, InstallHint)
	}
	if _, err := os.Stat(filepath.Join(dir, "tflite_run.js")); err != nil {
		return nil, fmt.Errorf("tflite oracle: %s/tflite_run.js missing; %s", dir, InstallHint)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@tensorflow", "tfjs-tflite")); err != nil {
		return nil, fmt.Errorf("tflite oracle: npm package not installed in %s; %s", dir, InstallHint)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("tflite oracle: node not on PATH; %s", InstallHint)
	}
	return &Runner{Dir: dir, Node: node}, nil
}

// Run runs the model at modelPath on input: raw little-endian values in the
// model input's dtype, K samples concatenated (nil or empty: one sample of
// zeros). It returns the first output's raw bytes for all K samples. The
// error includes the oracle's stderr, e.g. why TFLite rejected the model.
func (r *Runner) Run(modelPath string, input []byte) ([]byte, error) {
	outs, err := r.run(modelPath, input, false)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// RunAll is Run for models with several outputs: it returns every output's
// raw bytes (all K samples each), in the model's output order. Tests that
// check many ops put them in one model (each op an output) so node and the
// interpreter start once.
func (r *Runner) RunAll(modelPath string, input []byte) ([][]byte, error) {
	return r.run(modelPath, input, true)
}

func (r *Runner) run(modelPath string, input []byte, all bool) ([][]byte, error) {
	tmp, err := os.MkdirTemp("", "qbench-oracle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	abs, err := filepath.Abs(modelPath)
	if err != nil {
		return nil, err
	}
	in := "-"
	if len(input) > 0 {
		in = filepath.Join(tmp, "in.bin")
		if err := os.WriteFile(in, input, 0o644); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(tmp, "out.bin")
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"tflite_run.js", abs, in, "--out", out}
	if all {
		args = append(args, "--out-all", filepath.Join(tmp, "out"))
	}
	cmd := exec.CommandContext(ctx, r.Node, args...)
	cmd.Dir = r.Dir
	var stderr, stdout bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg = "timed out after " + timeout.String()
		}
		return nil, fmt.Errorf("tflite oracle on %s: %w: %s", modelPath, err, summarize(msg))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("tflite oracle on %s: no output file: %w", modelPath, err)
	}
	if !all {
		return [][]byte{data}, nil
	}
	var outs [][]byte
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(tmp, fmt.Sprintf("out.%d.bin", i)))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tflite oracle on %s: %w", modelPath, err)
		}
		outs = append(outs, b)
	}
	return outs, nil
}

// summarize keeps TFLite's ERROR lines and the first line of the failure
// from the oracle's stderr (dropping the JavaScript stack trace), so the
// error says why TFLite rejected a model in one readable line.
func summarize(stderr string) string {
	var keep []string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "ERROR") || strings.HasPrefix(l, "FAILED") || strings.HasPrefix(l, "timed out") {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		lines := strings.Split(stderr, "\n")
		if len(lines) > 4 {
			lines = lines[len(lines)-4:]
		}
		keep = lines
	}
	return strings.Join(keep, " | ")
}
