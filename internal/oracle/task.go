package oracle

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed task_classify.js
var taskClassifyJS []byte

// TaskClass is one result of the TFLite Task Library's image classifier.
type TaskClass struct {
	ClassName   string  `json:"className"`
	Probability float64 `json:"probability"`
}

// ClassifyImage runs the TFLite Task Library's ImageClassifier (shipped in
// the same npm package as the interpreter) on one RGBA image of w×h pixels
// and returns up to maxResults classes, best first. The Task Library takes
// everything from the model's TFLite Model Metadata — the input's
// normalization and colour space, the class names from the label file
// packed in the model — so this checks metadata qbench writes the way
// Android apps will read it. It fails when the metadata is missing or
// malformed.
func (r *Runner) ClassifyImage(modelPath string, rgba []byte, w, h, maxResults int) ([]TaskClass, error) {
	if len(rgba) != 4*w*h {
		return nil, fmt.Errorf("task classifier: %d bytes for a %dx%d RGBA image", len(rgba), w, h)
	}
	tmp, err := os.MkdirTemp("", "qbench-task-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	abs, err := filepath.Abs(modelPath)
	if err != nil {
		return nil, err
	}
	script := filepath.Join(tmp, "task_classify.js")
	img := filepath.Join(tmp, "image.rgba")
	if err := os.WriteFile(script, taskClassifyJS, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(img, rgba, 0o644); err != nil {
		return nil, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.Node, script, abs, img, fmt.Sprint(w), fmt.Sprint(h), fmt.Sprint(maxResults))
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(r.Dir, "node_modules"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("task classifier on %s: %w: %s", modelPath, err, summarize(strings.TrimSpace(stderr.String())))
	}
	var out []TaskClass
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &out); err != nil {
		return nil, fmt.Errorf("task classifier on %s: output %q: %w", modelPath, stdout.String(), err)
	}
	return out, nil
}
