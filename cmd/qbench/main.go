// Command qbench measures what post-training quantization does to a
// classifier. This package only parses flags and calls library packages;
// every command's logic is usable from Go code.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"

	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/progress"
	"github.com/qbench/qbench/version"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// app carries what every command shares: streams and the common flags.
type app struct {
	stdout, stderr io.Writer
	seed           int64
	threads        int
	quiet          bool
	// getenv reads the environment (a scheduler's shard index).
	getenv func(string) string
}

// usageError marks errors that should exit with code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usage error (exit code 2).
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "qbench",
		Short: "What post-training quantization does to your classifier, and why",
		Long: `qbench reads and writes TFLite models, runs them bit-exact with TFLite, trains a float CNN,
quantizes it post-training to int8, and compares float and quantized models on real datasets
with rigorous statistics (terminal, Markdown, JSON, CSV and an offline HTML report).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Get().String(),
		Example: `  qbench demo --quick
  qbench inspect model.tflite
  qbench compare --model float.tflite --model int8.tflite --data DIR --out report`,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	pf := root.PersistentFlags()
	pf.Int64Var(&a.seed, "seed", 1, "random seed; the same seed gives the same results")
	intVarDescribed(pf, &a.threads, "threads", runtime.NumCPU(), "all cores", "worker threads")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "no progress output")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	// Shared flags are checked before any command does work.
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if a.threads < 1 {
			return usagef("--threads must be >= 1, got %d", a.threads)
		}
		return nil
	}
	root.AddCommand(
		newDemoCmd(a),
		newInspectCmd(a),
		newRunCmd(a),
		newConformanceCmd(a),
		newDataCmd(a),
		newGenDataCmd(a),
		newTrainCmd(a),
		newQuantizeCmd(a),
		newCompareCmd(a),
		newMergeCmd(a),
		newExplainCmd(a),
		newBenchCmd(a),
		newExportCmd(a),
	)
	return root
}

// execute runs qbench with args and returns the process exit code:
// 0 success, 1 failure, 2 usage error.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := newRootCmd(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if flag := unknownRootFlag(root, args); flag != "" && (cmd == nil || cmd == root) {
		// Cobra takes "--bogus inspect m.tflite" for a flag with the value
		// "inspect" and then calls m.tflite an unknown command.
		err = usageError{fmt.Errorf("unknown flag: %s", flag)}
	}
	prefix := "qbench: "
	name := ""
	if cmd != nil && cmd != root {
		name = strings.TrimPrefix(cmd.CommandPath(), "qbench ")
		prefix += name + ": "
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	// A library error may start with the command's own name ("train:
	// epoch 1: ..."): say it once.
	for name != "" && strings.HasPrefix(msg, name+": ") {
		msg = strings.TrimPrefix(msg, name+": ")
	}
	fmt.Fprintf(stderr, "%s%s\n", prefix, msg)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// isCobraUsage recognises argument errors cobra raises itself.
// unknownRootFlag returns the first flag before the command name that the
// root command does not define ("" when none).
func unknownRootFlag(root *cobra.Command, args []string) string {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" || !strings.HasPrefix(arg, "-") || arg == "-" {
			return ""
		}
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		var f *pflag.Flag
		if strings.HasPrefix(arg, "--") {
			f = root.PersistentFlags().Lookup(name)
			if f == nil {
				f = root.Flags().Lookup(name)
			}
		} else if len(name) > 0 {
			f = root.PersistentFlags().ShorthandLookup(name[:1])
			if f == nil {
				f = root.Flags().ShorthandLookup(name[:1])
			}
		}
		if f == nil && name != "help" && name != "h" {
			return arg
		}
		if f != nil && f.NoOptDefVal == "" && !strings.Contains(arg, "=") && (strings.HasPrefix(arg, "--") || len(name) == 1) {
			i++ // the flag's value
		}
	}
	return ""
}

func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.Contains(s, "arg(s)") ||
		strings.HasPrefix(s, "required flag") || strings.HasPrefix(s, "invalid argument")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// progress returns a progress reporter on stderr honouring --quiet.
func (a *app) progress() *progress.Reporter {
	return progress.New(a.stderr, progress.Options{Quiet: a.quiet})
}

// addRoundingFlag registers --rounding on commands that run quantized
// models. The default reproduces the TFLite runtime as shipped (builtin
// kernels plus its default XNNPACK delegate on CPU); "single" is the
// builtin kernels alone, "double" TFLite's reference kernels and TFLite
// Micro, the arithmetic of its test vectors.
func addRoundingFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "rounding", "runtime", "integer arithmetic: runtime (TFLite runtime on CPU with its default XNNPACK delegate, bit-identical to real TFLite), single (TFLite's builtin kernels alone) or double (TFLite reference kernels / TFLite Micro)")
}

// parseRounding maps --rounding to the interpreter's setting.
func parseRounding(s string) (fixedpoint.Rounding, error) {
	r, ok := fixedpoint.ParseRounding(s)
	if !ok {
		return r, usagef("--rounding must be runtime, single or double, got %q", s)
	}
	return r, nil
}
