package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
)

// namedSamples is a set of images with the name a command gives it.
type namedSamples struct {
	name    string
	samples []dataset.Sample
}

// printRoles says, for each set, what role it plays for each model that
// records the images it trained and validated on (dataset.Roles): test
// data, or not (a warning when evaluating), or for calibration whether
// images the model never saw are used. Models with the same role share a
// line; models without a record are passed over.
func printRoles(a *app, cmdName string, paths []string, graphs []*graph.Graph, sets []namedSamples, purpose string) {
	type rec struct {
		path  string
		roles dataset.Roles
	}
	var recs []rec
	for i, g := range graphs {
		r, ok, err := dataset.RolesFromGraph(g)
		switch {
		case err != nil:
			fmt.Fprintf(a.stderr, "qbench: %s: warning: %s: %v\n", cmdName, paths[i], err)
		case ok:
			recs = append(recs, rec{paths[i], r})
		}
	}
	for _, set := range sets {
		var order []string
		byMsg := map[string][]string{}
		warn := map[string]bool{}
		for _, r := range recs {
			msg, w := r.roles.Role(set.samples, purpose)
			if msg == "" {
				continue
			}
			if _, ok := byMsg[msg]; !ok {
				order = append(order, msg)
			}
			byMsg[msg] = append(byMsg[msg], filepath.Base(r.path))
			warn[msg] = w
		}
		for _, msg := range order {
			kind := "note"
			if warn[msg] {
				kind = "warning"
			}
			fmt.Fprintf(a.stderr, "qbench: %s: %s: %s for %s: %s\n", cmdName, kind, set.name, strings.Join(byMsg[msg], ", "), msg)
		}
	}
}

// readGraphs reads models for their metadata only; a model that cannot be
// read is left nil (the command reports it when it loads the model).
func readGraphs(a *app, cmdName string, paths []string) []*graph.Graph {
	gs := make([]*graph.Graph, len(paths))
	for i, p := range paths {
		if g, err := a.readModelQuiet(p); err == nil {
			gs[i] = g
		}
	}
	return gs
}
