package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/qbench/qbench/internal/fileio"
	"gopkg.in/yaml.v3"
)

// ErrLabelMap is wrapped by every label-map error.
var ErrLabelMap = errors.New("invalid label map")

// LabelMap names the classes of a dataset and maps folders to them. Its file
// form is YAML or JSON (JSON is read as YAML); see the package doc.
type LabelMap struct {
	// Classes are the class names in id order (id = index).
	Classes []string `yaml:"classes" json:"classes"`
	// Folders maps a folder name to a class name; many folders may map to
	// one class. A folder not listed maps to the class of the same name, or,
	// when its name is a number, to that class id.
	Folders map[string]string `yaml:"folders,omitempty" json:"folders,omitempty"`
	// Splits maps a split name (e.g. train, verification) to recordings.
	Splits map[string][]string `yaml:"splits,omitempty" json:"splits,omitempty"`
	// Ignore lists folders whose images are deliberately not used.
	Ignore []string `yaml:"ignore,omitempty" json:"ignore,omitempty"`
	// Outputs names a model's outputs in order when that order differs
	// from Classes (or the model names none): data is matched to outputs
	// by these names (Dataset.MatchModel). Class-order fixes write it.
	Outputs []string `yaml:"outputs,omitempty" json:"outputs,omitempty"`

	index map[string]int
}

// ParseLabelMap parses a YAML or JSON label map; name is used in errors.
func ParseLabelMap(b []byte, name string) (*LabelMap, error) {
	var m LabelMap
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrLabelMap, err)
	}
	if m.SplitsOnly() {
		// Classes come from the folders when the dataset is opened.
		m.index = map[string]int{}
		return &m, nil
	}
	if err := m.init(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &m, nil
}

// SplitsOnly reports whether m defines splits (and perhaps ignored
// folders) but no classes: Open then takes the classes from the folders as
// it does without a label map.
func (m *LabelMap) SplitsOnly() bool {
	return len(m.Classes) == 0 && len(m.Folders) == 0 && len(m.Outputs) == 0 && len(m.Splits) > 0
}

// maxLabelMapBytes bounds a label map file; real ones are a few KiB.
const maxLabelMapBytes = 16 << 20

// ReadLabelMap reads a label map file: YAML/JSON, or a labels.txt-style
// file (extension .txt) with one class name per line, line i = class i.
func ReadLabelMap(path string) (*LabelMap, error) {
	b, err := fileio.ReadFile(path, maxLabelMapBytes)
	if err != nil {
		return nil, fmt.Errorf("label map %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".txt") {
		names, err := parseLabelsTxt(b, path)
		if err != nil {
			return nil, err
		}
		m, err := NewLabelMap(names)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return m, nil
	}
	return ParseLabelMap(b, path)
}

// NewLabelMap returns a map with the given class names and no folder
// aliases or splits.
func NewLabelMap(classes []string) (*LabelMap, error) {
	m := &LabelMap{Classes: append([]string(nil), classes...)}
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}

// parseLabelsTxt reads one class name per line; trailing empty lines are
// ignored, an empty line in the middle is an error (it would shift ids).
func parseLabelsTxt(b []byte, name string) ([]string, error) {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		names = append(names, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for len(names) > 0 && names[len(names)-1] == "" {
		names = names[:len(names)-1]
	}
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("%s:%d: %w: empty class name", name, i+1, ErrLabelMap)
		}
	}
	return names, nil
}

// init validates m and builds its name index.
func (m *LabelMap) init() error {
	if len(m.Classes) == 0 {
		return fmt.Errorf("%w: no classes", ErrLabelMap)
	}
	m.index = make(map[string]int, len(m.Classes))
	for i, c := range m.Classes {
		if strings.TrimSpace(c) == "" {
			return fmt.Errorf("%w: class %d has an empty name", ErrLabelMap, i)
		}
		if j, dup := m.index[c]; dup {
			return fmt.Errorf("%w: class %q listed twice (ids %d and %d)", ErrLabelMap, c, j, i)
		}
		m.index[c] = i
	}
	for _, f := range sortedKeys(m.Folders) {
		if _, ok := m.index[m.Folders[f]]; !ok {
			return fmt.Errorf("%w: folder %q maps to unknown class %q", ErrLabelMap, f, m.Folders[f])
		}
	}
	outs := map[string]int{}
	for i, o := range m.Outputs {
		if strings.TrimSpace(o) == "" {
			return fmt.Errorf("%w: output %d has an empty name", ErrLabelMap, i)
		}
		if j, dup := outs[o]; dup {
			return fmt.Errorf("%w: output %q listed twice (%d and %d)", ErrLabelMap, o, j, i)
		}
		outs[o] = i
	}
	seen := map[string]string{}
	for _, s := range sortedKeys(m.Splits) {
		for _, r := range m.Splits[s] {
			if prev, dup := seen[r]; dup {
				return fmt.Errorf("%w: recording %q is in splits %q and %q", ErrLabelMap, r, prev, s)
			}
			seen[r] = s
		}
	}
	return nil
}

// ClassOf returns the class id of a folder, and false when the folder maps
// to no class.
func (m *LabelMap) ClassOf(folder string) (int, bool) {
	if m.index == nil {
		if m.init() != nil {
			return 0, false
		}
	}
	if c, ok := m.Folders[folder]; ok {
		return m.index[c], true
	}
	if i, ok := m.index[folder]; ok {
		return i, true
	}
	if n, err := strconv.Atoi(folder); err == nil && isDigits(folder) && n < len(m.Classes) {
		return n, true
	}
	return 0, false
}

// Marshal returns the YAML form of m.
func (m *LabelMap) Marshal() ([]byte, error) { return yaml.Marshal(m) }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
