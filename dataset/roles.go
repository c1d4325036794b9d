package dataset

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qbench/qbench/graph"
)

// MetadataRoles is the model metadata key under which train records which
// images trained and validated the model, so that later commands can say
// which role a set of images plays for it: test data (none seen), or not
// (some trained or validated it).
const MetadataRoles = "qbench.data-roles"

// maxSeen bounds the images a Roles record lists (4 bytes each), so a huge
// training set cannot bloat the model: beyond it, Roles says so and
// commands say nothing about roles.
const maxSeen = 1 << 20

// Roles is what a model was trained and validated on.
type Roles struct {
	// Train and Validation describe the two sets in words; HeldOut names
	// the label-map splits neither touched.
	Train      string   `json:"train"`
	Validation string   `json:"validation"`
	HeldOut    []string `json:"held_out_splits,omitempty"`
	// Images is how many images trained or validated the model.
	Images int `json:"images"`
	// Seen holds a 32-bit hash of every such image's identity (its last
	// three path parts, e.g. rec1/CROSSWALK/0.png: the same file whichever
	// folder the dataset is opened from or moved to), sorted; nil when
	// there were more than maxSeen.
	Seen []uint32 `json:"-"`
	// SeenBytes is Seen on disk (big-endian uint32s, base64 in the JSON).
	SeenBytes []byte `json:"seen,omitempty"`
}

// imageKey is the identity of an image file for Roles.
func imageKey(path string) uint32 {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(path)), "/")
	if len(parts) > 3 {
		parts = parts[len(parts)-3:]
	}
	h := fnv.New32a()
	h.Write([]byte(strings.Join(parts, "/")))
	return h.Sum32()
}

// NewRoles records the images of the given sets as seen.
func NewRoles(train, validation string, heldOut []string, seen ...[]Sample) Roles {
	r := Roles{Train: train, Validation: validation, HeldOut: heldOut}
	for _, set := range seen {
		r.Images += len(set)
	}
	if r.Images <= maxSeen {
		r.Seen = make([]uint32, 0, r.Images)
		for _, set := range seen {
			for _, s := range set {
				r.Seen = append(r.Seen, imageKey(s.Path))
			}
		}
		slices.Sort(r.Seen)
		r.Seen = slices.Compact(r.Seen)
	}
	return r
}

// Marshal encodes r for the model metadata.
func (r Roles) Marshal() ([]byte, error) {
	r.SeenBytes = nil
	if r.Seen != nil {
		r.SeenBytes = make([]byte, 4*len(r.Seen))
		for i, h := range r.Seen {
			binary.BigEndian.PutUint32(r.SeenBytes[4*i:], h)
		}
	}
	return json.Marshal(r)
}

// RolesFromGraph reads the roles train stored in g (ok false when none).
func RolesFromGraph(g *graph.Graph) (r Roles, ok bool, err error) {
	if g == nil || g.Metadata == nil {
		return r, false, nil
	}
	b, found := g.Metadata[MetadataRoles]
	if !found {
		return r, false, nil
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return Roles{}, true, fmt.Errorf("model metadata %q: %w", MetadataRoles, err)
	}
	if len(r.SeenBytes)%4 != 0 || len(r.SeenBytes)/4 > maxSeen {
		return Roles{}, true, fmt.Errorf("model metadata %q: %d bytes of image hashes, want a multiple of 4 up to %d", MetadataRoles, len(r.SeenBytes), 4*maxSeen)
	}
	if r.SeenBytes != nil {
		r.Seen = make([]uint32, len(r.SeenBytes)/4)
		for i := range r.Seen {
			r.Seen[i] = binary.BigEndian.Uint32(r.SeenBytes[4*i:])
		}
		slices.Sort(r.Seen)
		r.SeenBytes = nil
	}
	return r, true, nil
}

// CountSeen returns how many of samples trained or validated the model
// (-1 when the record does not list them).
func (r Roles) CountSeen(samples []Sample) int {
	if r.Seen == nil {
		return -1
	}
	n := 0
	for _, s := range samples {
		if _, ok := slices.BinarySearch(r.Seen, imageKey(s.Path)); ok {
			n++
		}
	}
	return n
}

// Role says what a set of images is to the model, for evaluation
// (purpose "evaluate") or calibration ("calibrate"); warn is set when the
// role defeats the purpose: evaluating on images the model trained or
// validated on is not a test.
func (r Roles) Role(samples []Sample, purpose string) (msg string, warn bool) {
	n := r.CountSeen(samples)
	switch {
	case n < 0 || len(samples) == 0:
		return "", false
	case purpose == "calibrate" && n == len(samples):
		return fmt.Sprintf("calibration images: all %d trained or validated the model (none is test data)", n), false
	case purpose == "calibrate":
		return fmt.Sprintf("%d of the %d calibration images did not train or validate the model: do not report accuracy on them (keep test images out of calibration)", len(samples)-n, len(samples)), true
	case n == 0:
		return fmt.Sprintf("test data: none of its %d images trained or validated the model (training: %s; validation: %s)", len(samples), r.Train, r.Validation), false
	case n == len(samples):
		return fmt.Sprintf("not test data: all %d images trained or validated the model (training: %s; validation: %s), so accuracy here is optimistic", n, r.Train, r.Validation), true
	}
	return fmt.Sprintf("not test data: %d of its %d images trained or validated the model (training: %s; validation: %s), so accuracy here is optimistic", n, len(samples), r.Train, r.Validation), true
}

// Merge adds the images of an earlier record (a model this one was
// resumed from, named from) to r.
func (r Roles) Merge(old Roles, from string) Roles {
	r.Train = fmt.Sprintf("%s, after %s (training: %s; validation: %s)", r.Train, from, old.Train, old.Validation)
	r.Images += old.Images
	if r.Seen == nil || old.Seen == nil || r.Images > maxSeen {
		r.Seen = nil
		return r
	}
	r.Seen = append(slices.Clone(r.Seen), old.Seen...)
	slices.Sort(r.Seen)
	r.Seen = slices.Compact(r.Seen)
	return r
}
