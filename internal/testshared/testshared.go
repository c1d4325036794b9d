// Package testshared finds ../shared, the read-only reference material
// (TFLite Micro vectors, the GTSRB subset, the TFLite oracle) that sits
// beside a developer's or CI's checkout. A user's clone has none, so tests
// that need it skip with a message saying so.
package testshared

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Find returns the path of ../shared (relative to the module root found
// by walking up from the working directory) joined with elem.
func Find(elem ...string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return p, nil
}

// Dir is Find for tests: it skips tb with a clear message when the folder
// is absent.
func Dir(tb testing.TB, elem ...string) string {
	tb.Helper()
	p, err := Find(elem...)
	if err != nil {
		tb.Skip("../shared not found (reference material beside the checkout; a plain clone has none): ", err)
	}
	return p
}
