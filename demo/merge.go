package demo

import (
	"errors"
	"fmt"
	"slices"

	"github.com/qbench/qbench/report"
)

// Merge joins comparison reports of different model pairs into one report
// with one split per input, the way the study's tables put the full and the
// verification configuration side by side: the rows are the model kinds
// ("float", "int8"), the columns the configurations, although each
// configuration trained its own models. Models and Pairs repeat the first
// split, as in every report.
func Merge(rs []*report.Report) (*report.Report, error) {
	if len(rs) == 0 {
		return nil, errors.New("merge: no reports")
	}
	first := rs[0]
	out := &report.Report{
		Schema:    first.Schema,
		Classes:   first.Classes,
		Settings:  first.Settings,
		DataRoot:  first.DataRoot,
		Generator: first.Generator,
		Seed:      first.Seed,
		Created:   first.Created,
		Models:    first.Models,
		Pairs:     first.Pairs,
	}
	var preds multiPredictions
	for i, r := range rs {
		if !slices.Equal(r.Classes, first.Classes) {
			return nil, fmt.Errorf("merge: report %d has other classes than report 0", i)
		}
		if r.DataRoot != first.DataRoot {
			return nil, fmt.Errorf("merge: report %d reads %s, report 0 %s", i, r.DataRoot, first.DataRoot)
		}
		for _, s := range r.Splits {
			for _, prev := range out.Splits {
				if prev.Name == s.Name {
					return nil, fmt.Errorf("merge: split %q appears twice", s.Name)
				}
			}
			out.Splits = append(out.Splits, s)
		}
		if r.Predictions != nil {
			preds = append(preds, r.Predictions)
		}
	}
	if len(preds) > 0 {
		out.Predictions = preds
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return out, nil
}

// multiPredictions streams the rows of several reports one after another.
type multiPredictions []report.Predictions

func (m multiPredictions) Each(fn func(report.PredictionRow) error) error {
	for _, p := range m {
		if err := p.Each(fn); err != nil {
			return err
		}
	}
	return nil
}
