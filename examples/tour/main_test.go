package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestTour runs the whole tour as `make tour` does and checks that every
// system ran to its end.
func TestTour(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), &out, 0); code != 0 {
		t.Fatalf("tour exited %d:\n%s", code, out.String())
	}
	text := out.String()
	for _, s := range systems {
		head := "== " + itoa(s.n) + ". " + s.title
		i := strings.Index(text, head)
		if i < 0 {
			t.Fatalf("no section for system %d:\n%s", s.n, text)
		}
		section := text[i:]
		if j := strings.Index(section[len(head):], "\n== "); j >= 0 {
			section = section[:len(head)+j]
		}
		if !strings.Contains(section, "ok in") {
			t.Fatalf("system %d did not finish:\n%s", s.n, section)
		}
	}
	t.Log("\n" + text)
}

func itoa(n int) string { return string(rune('0' + n)) }
