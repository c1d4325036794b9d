package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

//go:embed schema.json
var schemaJSON []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of report.json.
func JSONSchema() []byte { return append([]byte(nil), schemaJSON...) }

// ValidateJSON checks report.json bytes against JSONSchema. It implements
// the subset of JSON Schema the schema uses (type, const, enum,
// properties, required, additionalProperties: false, items, minItems,
// maxItems, minimum, maximum, minLength, $ref into $defs), so a reader
// needs no third-party validator. Errors name the JSON path.
func ValidateJSON(data []byte) error {
	var schema map[string]any
	if err := json.Unmarshal(schemaJSON, &schema); err != nil {
		return fmt.Errorf("report: embedded schema: %w", err)
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("report.json: %w", err)
	}
	v := validator{root: schema}
	return v.check("$", doc, schema, 0)
}

type validator struct{ root map[string]any }

func (v validator) check(path string, doc any, s map[string]any, depth int) error {
	if depth > 64 {
		return fmt.Errorf("%s: schema nesting too deep", path)
	}
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/$defs/")
		defs, _ := v.root["$defs"].(map[string]any)
		sub, ok := defs[name].(map[string]any)
		if !found || !ok {
			return fmt.Errorf("%s: unresolvable $ref %q", path, ref)
		}
		return v.check(path, doc, sub, depth+1)
	}
	if c, ok := s["const"]; ok && !jsonEqual(doc, c) {
		return fmt.Errorf("%s: value %v, want %v", path, doc, c)
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, c := range e {
			found = found || jsonEqual(doc, c)
		}
		if !found {
			return fmt.Errorf("%s: value %v not in %v", path, doc, e)
		}
	}
	if t, ok := s["type"].(string); ok && !hasType(doc, t) {
		return fmt.Errorf("%s: got %T, want %s", path, doc, t)
	}
	switch d := doc.(type) {
	case json.Number:
		f, err := d.Float64()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if m, ok := s["minimum"].(float64); ok && f < m {
			return fmt.Errorf("%s: %v below minimum %v", path, f, m)
		}
		if m, ok := s["maximum"].(float64); ok && f > m {
			return fmt.Errorf("%s: %v above maximum %v", path, f, m)
		}
	case string:
		if m, ok := s["minLength"].(float64); ok && float64(len(d)) < m {
			return fmt.Errorf("%s: string shorter than %v", path, m)
		}
	case []any:
		if m, ok := s["minItems"].(float64); ok && float64(len(d)) < m {
			return fmt.Errorf("%s: %d items, want at least %v", path, len(d), m)
		}
		if m, ok := s["maxItems"].(float64); ok && float64(len(d)) > m {
			return fmt.Errorf("%s: %d items, want at most %v", path, len(d), m)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range d {
				if err := v.check(fmt.Sprintf("%s[%d]", path, i), e, items, depth+1); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := d[r.(string)]; !ok {
					return fmt.Errorf("%s: missing required %q", path, r)
				}
			}
		}
		props, _ := s["properties"].(map[string]any)
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := props[k].(map[string]any)
			if !ok {
				if ap, ok := s["additionalProperties"].(bool); ok && !ap {
					return fmt.Errorf("%s: unexpected property %q", path, k)
				}
				continue
			}
			if err := v.check(path+"."+k, d[k], sub, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasType(doc any, t string) bool {
	switch t {
	case "object":
		_, ok := doc.(map[string]any)
		return ok
	case "array":
		_, ok := doc.([]any)
		return ok
	case "string":
		_, ok := doc.(string)
		return ok
	case "boolean":
		_, ok := doc.(bool)
		return ok
	case "null":
		return doc == nil
	case "number", "integer":
		n, ok := doc.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) {
			return false
		}
		return t == "number" || f == math.Trunc(f)
	}
	return false
}

func jsonEqual(doc, c any) bool {
	if n, ok := doc.(json.Number); ok {
		f, err := n.Float64()
		cf, ok2 := c.(float64)
		return err == nil && ok2 && f == cf
	}
	return doc == c
}
