// Package version tells which qbench is running: the module version and
// the VCS revision Go's build info records, so reports and partial results
// can name the build that made them.
package version

import (
	"runtime/debug"
	"strings"
)

// Info is what the build recorded about this binary.
type Info struct {
	// Module is the main module's version ("(devel)" for a local build).
	Module string
	// Revision is the VCS commit ("" when built without VCS information,
	// e.g. by `go run` of a file list or from a source archive).
	Revision string
	// Modified is set when the work tree had uncommitted changes.
	Modified bool
	// Go is the toolchain, e.g. "go1.26.8".
	Go string
}

// Get reads the build info of the running binary.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Module: "(unknown)"}
	}
	in := Info{Module: bi.Main.Version, Go: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	if in.Module == "" {
		in.Module = "(devel)"
	}
	return in
}

// String is one line such as "qbench (devel) rev 1a2b3c4d5e6f+dirty go1.26.8".
func (in Info) String() string {
	var b strings.Builder
	b.WriteString("qbench ")
	b.WriteString(in.Module)
	if in.Revision != "" {
		b.WriteString(" rev ")
		b.WriteString(in.Short())
	}
	if in.Go != "" {
		b.WriteString(" ")
		b.WriteString(in.Go)
	}
	return b.String()
}

// Short is the revision's first 12 characters, with "+dirty" when the tree
// was modified ("" without a revision).
func (in Info) Short() string {
	r := in.Revision
	if len(r) > 12 {
		r = r[:12]
	}
	if r != "" && in.Modified {
		r += "+dirty"
	}
	return r
}
