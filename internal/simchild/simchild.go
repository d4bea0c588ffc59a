// Package simchild runs a simulation benchmark's work in a child test
// process — where a testing/synctest bubble gives it virtual time — and
// carries its figures back to the benchmark: the child prints them with
// [Result] and [Log], the benchmark runs it with [Run], which reports
// every figure with b.ReportMetric and logs the rest.
package simchild

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	resultPrefix = "SIMRESULT "
	logPrefix    = "SIMLOG "
)

// Result prints the child's figures, unit → value ("sim-s", "bound-s"), as
// one line for Run. With both "sim-s" and "bound-s" it adds "x-bound",
// their ratio.
func Result(figures map[string]float64) { fmt.Println(format(figures)) }

func format(figures map[string]float64) string {
	if s, b := figures["sim-s"], figures["bound-s"]; b > 0 {
		figures["x-bound"] = s / b
	}
	var line strings.Builder
	line.WriteString(resultPrefix)
	for _, unit := range slices.Sorted(maps.Keys(figures)) {
		fmt.Fprintf(&line, "%s=%s ", unit, strconv.FormatFloat(figures[unit], 'g', -1, 64))
	}
	return strings.TrimSpace(line.String())
}

// Log prints a line the benchmark logs (b.Log).
func Log(format string, args ...any) {
	fmt.Printf(logPrefix+format+"\n", args...)
}

// Run runs the test binary's test named test (the child, which prints
// with Result and Log) with the environment variables env added ("K=V"),
// and the command-line flags args, reports every figure of its Result
// with b.ReportMetric and logs its Log lines. It fails the benchmark when
// the child fails or prints no Result.
func Run(b *testing.B, test string, env []string, args ...string) map[string]float64 {
	b.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^" + test + "$", "-test.timeout=60m"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%s: %v: %s", test, err, out)
	}
	figures, logs, err := parse(string(out))
	if err != nil {
		b.Fatalf("%s: %v: %s", test, err, out)
	}
	for _, l := range logs {
		b.Log(l)
	}
	for unit, v := range figures {
		b.ReportMetric(v, unit)
	}
	return figures
}

// parse reads a child's output: the figures of its Result line and its
// Log lines.
func parse(out string) (map[string]float64, []string, error) {
	var figures map[string]float64
	var logs []string
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, logPrefix); ok {
			logs = append(logs, rest)
			continue
		}
		rest, ok := strings.CutPrefix(line, resultPrefix)
		if !ok {
			continue
		}
		figures = map[string]float64{}
		for _, f := range strings.Fields(rest) {
			unit, v, ok := strings.Cut(f, "=")
			x, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil {
				return nil, nil, fmt.Errorf("simchild: result %q: want unit=number", f)
			}
			figures[unit] = x
		}
	}
	if figures == nil {
		return nil, nil, fmt.Errorf("simchild: no %sline", resultPrefix)
	}
	return figures, logs, nil
}
