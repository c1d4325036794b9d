package compare

import (
	"github.com/qbench/qbench/dataset"
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/report"
	"github.com/qbench/qbench/tflite"
)

// splitRoles fills every split's Roles: for each model that records the
// images it trained and validated on (dataset.RolesFromGraph), whether
// the split is test data for it. The record is read from the config's
// graph, else from the model file, so a merge of shards, which only knows
// the files, writes the same notes as a single run. A model without a
// record, or one whose file or record cannot be read (compare has already
// warned about its metadata), gets no note.
func splitRoles(cfg Config, models []report.ModelInfo, r *report.Report) {
	roles := make([]*dataset.Roles, len(models))
	for i, m := range models {
		var g *graph.Graph
		if i < len(cfg.Models) && cfg.Models[i].Graph != nil {
			g = cfg.Models[i].Graph
		} else if m.Path != "" {
			var err error
			if g, err = tflite.ReadFile(m.Path); err != nil {
				continue
			}
		}
		if rs, ok, err := dataset.RolesFromGraph(g); ok && err == nil {
			roles[i] = &rs
		}
	}
	for si := range r.Splits {
		if si >= len(cfg.Splits) {
			break
		}
		for i, rs := range roles {
			if rs == nil {
				continue
			}
			if msg, warn := rs.Role(cfg.Splits[si].Samples, "evaluate"); msg != "" {
				r.Splits[si].Roles = append(r.Splits[si].Roles, report.RoleNote{Model: models[i].Name, Note: msg, Warning: warn})
			}
		}
	}
}
