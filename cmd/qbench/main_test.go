package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != 0 {
		t.Fatalf("--help exit code %d", code)
	}
	for _, c := range []string{"demo", "inspect", "run", "conformance", "data", "gen-data", "train", "quantize", "compare", "merge", "explain", "bench", "export"} {
		if !strings.Contains(out, "\n  "+c+" ") {
			t.Errorf("--help does not list %q:\n%s", c, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"no-such-command"}, `qbench: unknown command "no-such-command"`},
		{[]string{"--bogus", "inspect", "m.tflite"}, "qbench: unknown flag: --bogus"},
		{[]string{"-Z", "inspect", "m.tflite"}, "qbench: unknown flag: -Z"},
		{[]string{"--seed", "3", "--bogus", "inspect", "m.tflite"}, "qbench: unknown flag: --bogus"},
		{[]string{"inspect", "--no-such-flag"}, "qbench: inspect: unknown flag: --no-such-flag"},
	}
	for _, c := range cases {
		code, out, errOut := run(t, c.args...)
		if code != 2 {
			t.Errorf("%v: exit code %d, want 2 (stderr %q)", c.args, code, errOut)
		}
		if !strings.HasPrefix(errOut, c.want) {
			t.Errorf("%v: stderr %q, want prefix %q", c.args, errOut, c.want)
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: error is not one line: %q", c.args, errOut)
		}
		if out != "" {
			t.Errorf("%v: stdout not empty on error: %q", c.args, out)
		}
	}
}

func TestEveryCommandHasHelpWithExample(t *testing.T) {
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	root := newRootCmd(a)
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Short == "" || strings.Contains(c.Short, "not implemented") {
			t.Errorf("command %q has no real one-line summary", c.Name())
		}
		if c.Example == "" && !c.HasSubCommands() {
			t.Errorf("command %q has no example", c.Name())
		}
		for _, sub := range c.Commands() {
			if sub.Example == "" {
				t.Errorf("command %q has no example", sub.CommandPath())
			}
		}
	}
}

func TestVersionFlag(t *testing.T) {
	code, stdout, stderr := run(t, "--version")
	if code != 0 || !strings.HasPrefix(stdout, "qbench ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
