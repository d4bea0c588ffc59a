package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestStatePath(t *testing.T) {
	for state, want := range map[string]string{
		"":                              "",
		"Check":                         "States Check",
		"P/Branches[1]/Inner":           "States P Branches 1 States Inner",
		"P/Branches[0]":                 "States P Branches 0",
		"P/Branches[0]/Q/Branches[2]/X": "States P Branches 0 States Q Branches 2 States X",
	} {
		if got := strings.Join(statePath(state), " "); got != want {
			t.Errorf("statePath(%q) = %q, want %q", state, got, want)
		}
	}
	if got := strings.Join(fieldPath("Retry[1].ErrorEquals"), " "); got != "Retry 1 ErrorEquals" {
		t.Errorf("fieldPath = %q", got)
	}
}

// TestJSONLocateDottedKey finds "year.$" from the validator's field
// "Parameters.year.$".
func TestJSONLocateDottedKey(t *testing.T) {
	data := []byte("{\n \"Parameters\": {\n  \"year.$\": \"year\"\n }\n}")
	root, err := jsonLocate(data)
	if err != nil {
		t.Fatal(err)
	}
	if l, c := lineCol(data, root.find(fieldPath("Parameters.year.$")).pos); l != 3 || c != 3 {
		t.Fatalf("at %d:%d, want 3:3", l, c)
	}
}

// FuzzJSONLocate checks that any input is either refused or located with
// positions inside it, and that lookups on the result never panic.
func FuzzJSONLocate(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a": [1, {"b": 2}], "c.d": {"e": null}}`, `{"a":`, "[[[[1]]]]", `{"States":{"X":{"Next":"Y"}}}`} {
		f.Add([]byte(s), "States.X.Next")
	}
	if data, err := os.ReadFile("../../lakepipe/asl/testdata/seed.asl.json"); err == nil {
		f.Add(data, "States.LandingToRawFileTransfer.Catch[1].ErrorEquals")
	}
	f.Fuzz(func(t *testing.T, data []byte, field string) {
		root, err := jsonLocate(data)
		if err != nil {
			return
		}
		var walk func(n *jsonNode)
		walk = func(n *jsonNode) {
			if n.pos < 0 || n.pos > len(data) {
				t.Fatalf("position %d outside %d bytes", n.pos, len(data))
			}
			for _, m := range n.members {
				walk(m.node)
			}
			for _, e := range n.elems {
				walk(e)
			}
		}
		walk(root)
		n := root.find(fieldPath(field))
		if l, c := lineCol(data, n.pos); l < 1 || c < 1 {
			t.Fatalf("lineCol = %d:%d", l, c)
		}
		root.findKey(field)
		if n := parseErrorNode(root, fmt.Errorf("asl: state %q: asl: state %q: json: unknown field %q", field, field, field)); n == nil {
			t.Fatal("parseErrorNode found nothing, not even the document")
		}
	})
}

// FuzzParseHandlers checks that a handlers file is refused or gives every
// resource at least one answer, each a result, an error or an echo.
func FuzzParseHandlers(f *testing.F) {
	for _, s := range []string{`{}`, `{"arn:a": {"result": 1}}`, `{"arn:a": [{"error": "E", "cause": "c"}, {}]}`, `{"arn:a": []}`, `{"arn:a": {"result": 1, "error": "E"}}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, err := parseHandlers(data)
		if err != nil {
			return
		}
		for res, h := range hs {
			if len(h.answers) == 0 {
				t.Fatalf("%s: no answers", res)
			}
			for _, a := range h.answers {
				if a.Error != "" && a.Result != nil {
					t.Fatalf("%s: result and error", res)
				}
				if a.Result != nil && !json.Valid(a.Result) {
					t.Fatalf("%s: result %q is not JSON", res, a.Result)
				}
			}
		}
	})
}
