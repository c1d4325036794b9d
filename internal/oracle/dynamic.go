package oracle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dynamic returns a Runner that reads each output after every inference,
// for models with data-dependent output shapes (WHERE, UNIQUE, ops after
// them). TFLite reallocates such tensors while it runs, and tflite_run.js
// reads the output views it took before the first inference, which then
// show the old memory (measured: WHERE's coordinates and the SHAPE of its
// output read as zeros). The returned Runner runs a copy of the script,
// made in dir, that asks the interpreter for its outputs again after each
// inference; node_modules is linked, not copied.
func (r *Runner) Dynamic(dir string) (*Runner, error) {
	src, err := os.ReadFile(filepath.Join(r.Dir, "tflite_run.js"))
	if err != nil {
		return nil, fmt.Errorf("tflite oracle: %w", err)
	}
	const stale, fresh = "const d = t.data();", "const d = runner.getOutputs()[i].data();"
	if strings.Count(string(src), stale) != 1 {
		return nil, fmt.Errorf("tflite oracle: %s/tflite_run.js no longer reads outputs with %q; update oracle.Dynamic", r.Dir, stale)
	}
	if err := os.WriteFile(filepath.Join(dir, "tflite_run.js"), []byte(strings.Replace(string(src), stale, fresh, 1)), 0o644); err != nil {
		return nil, fmt.Errorf("tflite oracle: %w", err)
	}
	if err := os.Symlink(filepath.Join(r.Dir, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		return nil, fmt.Errorf("tflite oracle: %w", err)
	}
	d := *r
	d.Dir = dir
	return &d, nil
}
