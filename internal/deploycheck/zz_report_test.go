package deploycheck

import (
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestZZReport runs after the emulator tests (go test runs tests in file
// order) and logs what they did: Lambda main × event × asserted effect,
// and each bootstrap's cold starts under the emulator. When the whole
// suite ran (no -run), every Lambda main of examples/ must have been
// invoked with an asserted effect.
func TestZZReport(t *testing.T) {
	effects.Lock()
	rows := slices.Clone(effects.rows)
	effects.Unlock()
	coldStarts.Lock()
	cold := slices.Clone(coldStarts.rows)
	coldStarts.Unlock()
	if len(rows) == 0 {
		t.Skip("no emulator test ran")
	}
	mains, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "*", "lambda", "*", "main.go"))
	var pkgs []string
	for _, m := range mains {
		dir := filepath.Dir(m)
		pkgs = append(pkgs, filepath.Base(filepath.Dir(filepath.Dir(dir)))+"-"+filepath.Base(dir))
	}
	sort.Strings(pkgs)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].pkg < rows[j].pkg })

	var b strings.Builder
	b.WriteString("\n| Lambda package | event | asserted | test |\n|---|---|---|---|\n")
	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.pkg] = true
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.pkg, r.event, r.asserted, r.test)
	}
	t.Log(b.String())

	b.Reset()
	b.WriteString("\n| bootstrap | cold starts | init phase, emulator's INIT REPORT (min–max) | first invoke's round trip: init + first run (min–max) |\n|---|---|---|---|\n")
	byPkg := map[string][]coldStart{}
	for _, c := range cold {
		byPkg[c.pkg] = append(byPkg[c.pkg], c)
	}
	for _, pkg := range pkgs {
		cs := byPkg[pkg]
		if len(cs) == 0 {
			fmt.Fprintf(&b, "| %s | 0 | – | – |\n", pkg)
			continue
		}
		var inits []float64
		var firsts []time.Duration
		for _, c := range cs {
			if ms := initMillis(c.out.String()); ms >= 0 {
				inits = append(inits, ms)
			}
			firsts = append(firsts, c.first)
		}
		slices.Sort(inits)
		slices.Sort(firsts)
		init := "not reported"
		if len(inits) > 0 {
			init = fmt.Sprintf("%.1f–%.1f ms", inits[0], inits[len(inits)-1])
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %v–%v |\n", pkg, len(cs), init,
			firsts[0].Round(time.Millisecond), firsts[len(firsts)-1].Round(time.Millisecond))
	}
	t.Log(b.String())

	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		for _, pkg := range pkgs {
			if !covered[pkg] || len(byPkg[pkg]) == 0 {
				t.Errorf("Lambda main %s was not run under the emulator with an asserted effect", pkg)
			}
		}
	}
}
