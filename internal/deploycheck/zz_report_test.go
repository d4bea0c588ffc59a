package deploycheck

import (
	"strings"
	"testing"
)

// TestZZReport runs after the emulator tests (go test runs tests in file
// order) and logs what they did: Lambda main × event × asserted effect, and
// each bootstrap's cold start under the emulator.
func TestZZReport(t *testing.T) {
	effects.Lock()
	rows := append([]string(nil), effects.rows...)
	effects.Unlock()
	coldStarts.Lock()
	cold := append([]string(nil), coldStarts.rows...)
	coldStarts.Unlock()
	if len(rows) == 0 {
		t.Skip("no emulator test ran")
	}
	t.Log("\n| Lambda package | event | asserted |\n|---|---|---|\n" + strings.Join(rows, "\n"))
	t.Log("\n| bootstrap | init phase (emulator's INIT REPORT) | emulator ready → first response (init + first invoke) |\n|---|---|---|\n" + strings.Join(cold, "\n"))
}
