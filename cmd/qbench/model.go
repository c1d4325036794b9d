package main

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// readModel reads a .tflite file and prints the problems the reader found
// in its optional parts (corrupt metadata, a damaged label archive) as
// warnings on stderr: the model itself is usable, but what the user may
// rely on (its labels, its normalisation) is missing.
func (a *app) readModel(cmd, path string) (*graph.Graph, error) {
	g, err := tflite.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, w := range g.Warnings {
		fmt.Fprintf(a.stderr, "qbench: %s: warning: %s: %s\n", cmd, path, w)
	}
	return g, nil
}

// readModelQuiet reads a model without printing its warnings (for a second
// look at a model the command reads and reports on anyway).
func (a *app) readModelQuiet(path string) (*graph.Graph, error) {
	return tflite.ReadFile(path)
}
