package quant

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
)

// compileFloat compiles g once and returns a constructor of executors that
// report every float op output to the calibration observer, and whether g
// has state tensors (LSTM, SVDF): its executors then carry the state from
// one sample to the next, as TFLite's calibrator does (it never resets
// them), so an SVDF's memory holds earlier samples' features as it does
// when the model runs.
func compileFloat(g *graph.Graph) (func() (floatExec, error), bool, error) {
	// Calibration observes every op, which runs the plain schedule anyway;
	// NoRewrite spares compiling and allocating the rewritten one.
	prog, err := interp.Compile(g, interp.Options{NoRewrite: true, CarryState: true})
	if err != nil {
		return nil, false, err
	}
	return func() (floatExec, error) { return &interpExec{ex: prog.NewExecutor()}, nil }, prog.HasState(), nil
}

// interpExec adapts an interp.Executor to floatExec.
type interpExec struct {
	ex      *interp.Executor
	observe func(tensor int, v []float32)
}

func (e *interpExec) run(x []float32, observe func(int, []float32)) error {
	if err := e.ex.SetInputFloat(0, x); err != nil {
		return err
	}
	e.observe = observe
	e.ex.SetObserver(func(_ int, op *graph.Op, outs []*kernels.Buffer) {
		for j, b := range outs {
			if b != nil && b.DType == graph.Float32 && j < len(op.Outputs) {
				e.observe(op.Outputs[j], b.F32)
			}
		}
	})
	if err := e.ex.Run(); err != nil {
		return fmt.Errorf("float run: %w", err)
	}
	return nil
}
