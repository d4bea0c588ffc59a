package mlpipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

// TestCommittedDefinitionFresh fails when statemachine.asl.json is not what
// the builder generates: run `go generate ./examples/ml-pipeline`.
func TestCommittedDefinitionFresh(t *testing.T) {
	want, err := DeployedJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(DefinitionFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go generate ./examples/ml-pipeline", DefinitionFile)
	}
	m, err := asl.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := asl.Validate(m); err != nil {
		t.Fatal(err)
	}
}

// TestTemplateMatchesDefinition: every ${…} placeholder of the committed
// definition is a DefinitionSubstitutions key of template.yaml, and every
// function's CodeUri is the package `make lambdas` builds from a main in
// lambda/ (../../dist/lambda/ml-pipeline-<name>.zip from lambda/<name>).
func TestTemplateMatchesDefinition(t *testing.T) {
	tmpl, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile(DefinitionFile)
	if err != nil {
		t.Fatal(err)
	}
	subs := map[string]bool{}
	in := false
	for _, line := range strings.Split(string(tmpl), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "DefinitionSubstitutions:":
			in = true
		case in && strings.HasPrefix(line, "        ") && strings.Contains(trimmed, ":"):
			subs[trimmed[:strings.Index(trimmed, ":")]] = true
		case in:
			in = false
		}
		if uri, ok := strings.CutPrefix(trimmed, "CodeUri: "); ok {
			name, ok := strings.CutPrefix(uri, "../../dist/lambda/ml-pipeline-")
			if !ok || !strings.HasSuffix(name, ".zip") {
				t.Errorf("CodeUri %s: not a make lambdas package of ml-pipeline", uri)
				continue
			}
			if _, err := os.Stat(filepath.Join("lambda", strings.TrimSuffix(name, ".zip"), "main.go")); err != nil {
				t.Errorf("CodeUri %s: %v", uri, err)
			}
		}
	}
	placeholders := regexp.MustCompile(`\$\{([A-Za-z]+)\}`).FindAllStringSubmatch(string(def), -1)
	if len(placeholders) == 0 || len(subs) == 0 {
		t.Fatalf("%d placeholders, %d substitutions", len(placeholders), len(subs))
	}
	for _, m := range placeholders {
		if !subs[m[1]] {
			t.Errorf("${%s} has no DefinitionSubstitutions entry", m[1])
		}
	}
}
