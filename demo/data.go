package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qbench/qbench/dataset/synth"
	"github.com/qbench/qbench/internal/fileio"
)

// stampFile marks a completely generated dataset; its content is the
// generator configuration, so a changed setting never reuses stale images.
const stampFile = ".qbench-complete.json"

// dataKey names the cache folder of a generator configuration.
func dataKey(c synth.Config) (string, []byte, error) {
	b, err := json.Marshal(struct {
		Generator string
		Config    synth.Config
	}{generatorFingerprint(c), c.Defaults()})
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("gen-s%d-r%d-n%d-%s", c.Seed, c.Recordings, c.PerClass, hex.EncodeToString(sum[:])[:12]), b, nil
}

// ensureData returns the folder holding the plan's dataset, generating it
// unless a complete copy with the same configuration is cached.
func ensureData(ctx context.Context, cfg Config) (dir string, reused bool, err error) {
	key, stamp, err := dataKey(cfg.Plan.Data)
	if err != nil {
		return "", false, err
	}
	dir = filepath.Join(cfg.CacheDir, key)
	if old, err := fileio.ReadFile(filepath.Join(dir, stampFile), 1<<20); err == nil && bytes.Equal(old, stamp) {
		return dir, true, nil
	}
	// A partial folder (interrupted run) is regenerated from scratch.
	if err := os.RemoveAll(dir); err != nil {
		return "", false, fmt.Errorf("clear dataset cache %s: %w", dir, err)
	}
	var task interface {
		Add(int64)
		Done()
	}
	opts := synth.WriteOptions{Workers: cfg.Threads}
	if cfg.Progress != nil {
		t := cfg.Progress.Start("generate data", int64(cfg.Plan.Data.Total()), "images")
		// Write calls once per image, possibly from several goroutines.
		opts.Progress = func(int64) { t.Add(1) }
		task = t
	}
	if _, err := synth.Write(ctx, dir, cfg.Plan.Data, opts); err != nil {
		return "", false, err
	}
	if task != nil {
		task.Done()
	}
	if err := os.WriteFile(filepath.Join(dir, stampFile), stamp, 0o666); err != nil {
		return "", false, fmt.Errorf("dataset cache: %w", err)
	}
	return dir, false, nil
}

// generatorFingerprint hashes a few generated images, so a change to the
// generator's drawing code invalidates cached datasets even when the
// configuration is the same.
func generatorFingerprint(c synth.Config) string {
	h := sha256.New()
	for _, class := range []int{0, 7, 21, synth.NumClasses - 1} {
		img := synth.Generate(c.Defaults(), 0, class, 0)
		h.Write(img.Pix)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
