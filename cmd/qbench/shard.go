package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/shard"
	"github.com/qbench/qbench/version"
	"github.com/spf13/pflag"
)

// shardFlags are compare's --shard and --shards.
type shardFlags struct {
	spec   string
	shards int
}

func (s *shardFlags) add(f *pflag.FlagSet) {
	f.StringVar(&s.spec, "shard", "", "compute shard I of N (1 <= I <= N) only and write its partial result into --out, for qbench merge; "+
		"default: from a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX with --shards) when set; none: never shard")
	f.IntVar(&s.shards, "shards", 0, "number of shards when the index comes from the environment (a Kubernetes Indexed Job's completions)")
}

// resolve returns the shard to compute (ok=false: the whole run) and,
// for a shard taken from the environment, the variable it came from.
func (s *shardFlags) resolve(getenv func(string) string) (spec shard.Spec, src string, ok bool, err error) {
	switch s.spec {
	case "none":
		return shard.Spec{}, "", false, nil
	case "":
		if s.shards < 0 {
			return shard.Spec{}, "", false, usagef("--shards must be >= 1, got %d", s.shards)
		}
		spec, src, ok, err = shard.FromEnv(getenv, s.shards)
		if err != nil {
			return spec, src, ok, usagef("shard from the environment: %v (or give --shard I/N, or --shard none)", err)
		}
		if !ok && s.shards > 0 {
			return spec, src, ok, usagef("--shards %d without a shard index: give --shard I/N, or run as a Slurm array or Kubernetes Indexed Job task", s.shards)
		}
		return spec, src, ok, nil
	}
	spec, err = shard.Parse(s.spec)
	if err != nil {
		return spec, "", false, usagef("--shard: %v", err)
	}
	if s.shards != 0 && s.shards != spec.Count {
		return spec, "", false, usagef("--shard %s but --shards %d", s.spec, s.shards)
	}
	return spec, "", true, nil
}

// runCompareShard computes one shard of a comparison and writes its
// partial into out.
func runCompareShard(ctx context.Context, a *app, cfg compare.Config, sp shard.Spec, src, out string, opts map[string]string) error {
	if src != "" {
		fmt.Fprintf(a.stderr, "qbench: compare: shard %s from %s (--shard none runs everything)\n", sp, src)
	}
	version, err := qbenchVersion()
	if err != nil {
		return err
	}
	job := shard.Job{Compare: cfg, Shard: sp, Version: version, Seed: a.seed, Options: opts, Dir: out}
	path, err := shard.Run(ctx, job)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote shard %s to %s; merge all %d with: qbench merge %s --out REPORTDIR\n",
		sp, path, sp.Count, strings.TrimRight(out, "/")+"/*"+shard.Ext)
	return nil
}

// qbenchVersion identifies this build for partial results: the VCS
// revision it was built from, or, for builds without one or with local
// changes, a hash of the executable; plus the Go version and target (the
// math library's results and the compiler's use of FMA can change with
// them).
func qbenchVersion() (string, error) {
	target := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOAMD64" || s.Key == "GOARM64" {
				target += " " + s.Value
			}
		}
	}
	if v := version.Get(); v.Revision != "" && !v.Modified {
		return v.Revision + " " + target, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("identify this qbench build: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("identify this qbench build: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("identify this qbench build: read %s: %w", exe, err)
	}
	return "build " + hex.EncodeToString(h.Sum(nil))[:16] + " " + target, nil
}
