package shard

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestScaleOutDoc keeps docs/scale-out.md's recipes well-formed: every
// bash block parses (bash -n), the Kubernetes manifests parse, the
// compare Job is an Indexed Job whose completions equal the --shards it
// passes, and both Jobs run the same image.
func TestScaleOutDoc(t *testing.T) {
	b, err := os.ReadFile("../docs/scale-out.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(bash|yaml)\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	var nBash, nYAML int
	for _, bl := range blocks {
		switch bl[1] {
		case "bash":
			nBash++
			if _, err := exec.LookPath("bash"); err != nil {
				continue
			}
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(bl[2])
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("bash block %d does not parse: %v\n%s", nBash, err, out)
			}
		case "yaml":
			nYAML++
			checkJobs(t, bl[2])
		}
	}
	if nBash < 2 || nYAML != 1 {
		t.Fatalf("found %d bash and %d yaml blocks, want the Slurm script, its submission and one manifest", nBash, nYAML)
	}
}

func checkJobs(t *testing.T, manifest string) {
	t.Helper()
	type container struct {
		Image   string   `yaml:"image"`
		Args    []string `yaml:"args"`
		Command []string `yaml:"command"`
	}
	type job struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Template       struct {
				Spec struct {
					Containers []container `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	var jobs []job
	for i, doc := range strings.Split(manifest, "\n---\n") {
		var j job
		if err := yaml.Unmarshal([]byte(doc), &j); err != nil {
			t.Fatalf("manifest document %d: %v", i+1, err)
		}
		if j.Kind != "Job" || len(j.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("manifest document %d: kind %q with %d containers, want a Job with one", i+1, j.Kind, len(j.Spec.Template.Spec.Containers))
		}
		jobs = append(jobs, j)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d Jobs, want the shards' and the merge's", len(jobs))
	}
	shards, merge := jobs[0], jobs[1]
	c := shards.Spec.Template.Spec.Containers[0]
	if shards.Spec.CompletionMode != "Indexed" || len(c.Args) == 0 || c.Args[0] != "compare" {
		t.Errorf("first Job: completionMode %q, args %v; want an Indexed Job running compare", shards.Spec.CompletionMode, c.Args)
	}
	i := slices.Index(c.Args, "--shards")
	if i < 0 || i+1 >= len(c.Args) || c.Args[i+1] != strconv.Itoa(shards.Spec.Completions) {
		t.Errorf("compare's --shards does not equal completions %d: %v", shards.Spec.Completions, c.Args)
	}
	m := merge.Spec.Template.Spec.Containers[0]
	if m.Image != c.Image || !strings.Contains(strings.Join(m.Command, " "), "qbench merge") {
		t.Errorf("merge Job: image %q (shards: %q), command %v", m.Image, c.Image, m.Command)
	}
}
