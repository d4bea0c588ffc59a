package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
)

func aslSample() *StateMachine {
	m := &StateMachine{Comment: "sample", StartAt: "Check", TimeoutSeconds: 3600}
	m.Add("Check", &Task{
		IO:         IO{Comment: "checks"},
		Resource:   "arn:aws:lambda:us-west-2:123456789012:function:check",
		Parameters: map[string]any{"year.$": "$.year", "step": "raw"},
		ResultPath: Null,
		Retry: []Retrier{
			{ErrorEquals: []string{"TransferIncompleteError"}, IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: Int(5), MaxDelaySeconds: 600, JitterStrategy: "FULL"},
			{ErrorEquals: []string{ErrorALL}, MaxAttempts: Int(0)},
		},
		Catch:          []Catcher{{ErrorEquals: []string{ErrorALL}, Next: "Failed", ResultPath: "$.error"}},
		TimeoutSeconds: 60, HeartbeatSeconds: 10,
		Transition: Transition{Next: "Done?"},
	})
	m.Add("Done?", &Choice{
		Choices: []ChoiceRule{
			And(Rule("$.state", "StringEquals", "READY"), Not(Rule("$.n", "NumericGreaterThan", 3))).Then("Ok"),
			Rule("$.state", "IsPresent", true).Then("Wait"),
		},
		Default: "Failed",
	})
	m.Add("Wait", &Wait{Seconds: 30, Transition: Transition{Next: "Check"}})
	m.Add("Ok", &Parallel{
		Branches:   []StateMachine{{StartAt: "P", States: States{{"P", &Pass{Result: json.RawMessage(`{"a":1}`), Transition: Transition{End: true}}}}}},
		ResultPath: "$.branches",
		Transition: Transition{Next: "Succeeded"},
	})
	m.Add("Succeeded", &Succeed{})
	m.Add("Failed", &Fail{Error: "CheckFailed", Cause: "the check failed"})
	return m
}

func TestMarshalExact(t *testing.T) {
	m := aslSample()
	if err := Validate(m); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Comment":"sample","StartAt":"Check","States":{` +
		`"Check":{"Type":"Task","Comment":"checks","Resource":"arn:aws:lambda:us-west-2:123456789012:function:check","Parameters":{"step":"raw","year.$":"$.year"},"ResultPath":null,"TimeoutSeconds":60,"HeartbeatSeconds":10,` +
		`"Retry":[{"ErrorEquals":["TransferIncompleteError"],"IntervalSeconds":30,"MaxAttempts":5,"BackoffRate":2,"MaxDelaySeconds":600,"JitterStrategy":"FULL"},{"ErrorEquals":["States.ALL"],"MaxAttempts":0}],` +
		`"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Failed","ResultPath":"$.error"}],"Next":"Done?"},` +
		`"Done?":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.state","StringEquals":"READY"},{"Not":{"Variable":"$.n","NumericGreaterThan":3}}],"Next":"Ok"},{"Variable":"$.state","IsPresent":true,"Next":"Wait"}],"Default":"Failed"},` +
		`"Wait":{"Type":"Wait","Seconds":30,"Next":"Check"},` +
		`"Ok":{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"a":1},"End":true}}}],"ResultPath":"$.branches","Next":"Succeeded"},` +
		`"Succeeded":{"Type":"Succeed"},` +
		`"Failed":{"Type":"Fail","Error":"CheckFailed","Cause":"the check failed"}},"TimeoutSeconds":3600}`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// Round trip: parse and marshal again gives the same bytes.
	back, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if !bytes.Equal(again, got) {
		t.Fatalf("round trip changed the document:\n%s", again)
	}
}

func TestParseRejects(t *testing.T) {
	tests := map[string]string{
		"unknown field":     `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Retries":[]}}}`,
		"unknown type":      `{"StartAt":"A","States":{"A":{"Type":"Sleep","End":true}}}`,
		"map":               `{"StartAt":"A","States":{"A":{"Type":"Map","End":true}}}`,
		"duplicate state":   `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"A":{"Type":"Succeed"}}}`,
		"two operators":     `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x","NumericEquals":1,"Next":"A"}]}}}`,
		"unknown operator":  `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEqual":"x","Next":"A"}]}}}`,
		"end on choice":     `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[],"End":true}}}`,
		"top-level unknown": `{"StartAt":"A","States":{"A":{"Type":"Succeed"}},"Timeout":3}`,
		"trailing":          `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}} {}`,
		"states not object": `{"StartAt":"A","States":[]}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			if m, err := Parse([]byte(doc)); err == nil {
				t.Fatalf("accepted: %+v", m)
			}
		})
	}
}

// TestValidateSeed runs the validator on the seed's definition as
// published: it must name each of its mistakes.
func TestValidateSeed(t *testing.T) {
	data, err := os.ReadFile("testdata/seed.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	err = Validate(m)
	var ves ValidationErrors
	if !errors.As(err, &ves) {
		t.Fatalf("seed accepted: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`state "LandingToRawFileTransferStatus": Retry[1].ErrorEquals: "States.All" is not a predefined error (did you mean "States.ALL"?)`,
		`state "RawCrawlerStatus": Retry[1].ErrorEquals: "States.All" is not a predefined error`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	var first *ValidationError
	if !errors.As(err, &first) || first.State == "" {
		t.Fatalf("errors.As to *ValidationError: %v", first)
	}
}

func TestValidate(t *testing.T) {
	lambda := "arn:aws:lambda:us-east-1:123456789012:function:f"
	end := Transition{End: true}
	tests := []struct {
		name string
		m    *StateMachine
		want string
	}{
		{"missing StartAt state", &StateMachine{StartAt: "X", States: States{{"A", &Succeed{}}}}, `StartAt: names no state: "X"`},
		{"unknown Next", &StateMachine{StartAt: "A", States: States{{"A", &Pass{Transition: Transition{Next: "B"}}}}}, `state "A": Next: names no state in this scope: "B"`},
		{"next and end", &StateMachine{StartAt: "A", States: States{{"A", &Pass{Transition: Transition{Next: "A", End: true}}}}}, `state "A": Next: has both Next and End`},
		{"neither next nor end", &StateMachine{StartAt: "A", States: States{{"A", &Pass{}}, {"B", &Succeed{}}}}, `state "A": Next: needs Next or End`},
		{"unreachable", &StateMachine{StartAt: "A", States: States{{"A", &Succeed{}}, {"Orphan", &Succeed{}}}}, `state "Orphan": unreachable from StartAt "A"`},
		{"no terminal", &StateMachine{StartAt: "A", States: States{{"A", &Wait{Seconds: 1, Transition: Transition{Next: "A"}}}}}, `no terminal state`},
		{"choice without rules", &StateMachine{StartAt: "A", States: States{{"A", &Choice{Default: "B"}}, {"B", &Succeed{}}}}, `state "A": Choices: a Choice needs at least one rule`},
		{"choice rule without next", &StateMachine{StartAt: "A", States: States{{"A", &Choice{Choices: []ChoiceRule{Rule("$.a", "StringEquals", "x")}, Default: "B"}}, {"B", &Succeed{}}}}, `state "A": Choices[0].Next: a top-level rule needs Next`},
		{"nested next", &StateMachine{StartAt: "A", States: States{{"A", &Choice{Choices: []ChoiceRule{And(Rule("$.a", "StringEquals", "x").Then("B")).Then("B")}}}, {"B", &Succeed{}}}}, `Choices[0].And[0].Next: a nested rule may not have Next`},
		{"operand type", &StateMachine{StartAt: "A", States: States{{"A", &Choice{Choices: []ChoiceRule{Rule("$.a", "NumericEquals", "3").Then("B")}}}, {"B", &Succeed{}}}}, `operand 3 (string) is not a number`},
		{"bad variable", &StateMachine{StartAt: "A", States: States{{"A", &Choice{Choices: []ChoiceRule{Rule("a", "StringEquals", "3").Then("B")}}}, {"B", &Succeed{}}}}, `does not start with $`},
		{"States.ALL not alone", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Retry: []Retrier{{ErrorEquals: []string{"X", ErrorALL}}}, Transition: end}}}}, `States.ALL must be alone`},
		{"States.ALL not last", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Catch: []Catcher{{ErrorEquals: []string{ErrorALL}, Next: "F"}, {ErrorEquals: []string{"X"}, Next: "F"}}, Transition: end}}, {"F", &Fail{}}}}, `state "A": Catch[0].ErrorEquals: States.ALL must be in the last entry`},
		{"misspelt States.ALL", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Catch: []Catcher{{ErrorEquals: []string{"States.All"}, Next: "F"}}, Transition: end}}, {"F", &Fail{}}}}, `did you mean "States.ALL"?`},
		{"unknown States name", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Retry: []Retrier{{ErrorEquals: []string{"States.Everything"}}}, Transition: end}}}}, `"States.Everything" is not a predefined error name`},
		{"empty ErrorEquals", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Retry: []Retrier{{}}, Transition: end}}}}, `ErrorEquals is empty`},
		{"backoff below 1", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Retry: []Retrier{{ErrorEquals: []string{"X"}, BackoffRate: 0.5}}, Transition: end}}}}, `state "A": Retry[0].BackoffRate: 0.5 is less than 1.0`},
		{"negative attempts", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Retry: []Retrier{{ErrorEquals: []string{"X"}, MaxAttempts: Int(-1)}}, Transition: end}}}}, `MaxAttempts: must be between 0`},
		{"jitter", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Retry: []Retrier{{ErrorEquals: []string{"X"}, JitterStrategy: "HALF"}}, Transition: end}}}}, `"HALF" is neither FULL nor NONE`},
		{"heartbeat", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, TimeoutSeconds: 10, HeartbeatSeconds: 10, Transition: end}}}}, `HeartbeatSeconds: 10 is not less than TimeoutSeconds 10`},
		{"resource", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: "check", Transition: end}}}}, `"check" is not an ARN`},
		{"catch next", &StateMachine{StartAt: "A", States: States{{"A", &Task{Resource: lambda, Catch: []Catcher{{ErrorEquals: []string{"X"}, Next: "Nope"}}, Transition: end}}}}, `Catch[0].Next: names no state in this scope: "Nope"`},
		{"wait fields", &StateMachine{StartAt: "A", States: States{{"A", &Wait{Seconds: 3, SecondsPath: "$.s", Transition: end}}}}, `exactly one of Seconds`},
		{"wait timestamp", &StateMachine{StartAt: "A", States: States{{"A", &Wait{Timestamp: "tomorrow", Transition: end}}}}, `not an RFC 3339 timestamp`},
		{"param path", &StateMachine{StartAt: "A", States: States{{"A", &Pass{Parameters: map[string]any{"y.$": "year"}, Transition: end}}}}, `"year" is neither a path nor an intrinsic`},
		{"unknown intrinsic", &StateMachine{StartAt: "A", States: States{{"A", &Pass{Parameters: map[string]any{"p.$": "States.format('{}', $.a)"}, Transition: end}}}}, `States.format is not an intrinsic function`},
		{"param forgot .$", &StateMachine{StartAt: "A", States: States{{"A", &Pass{Parameters: map[string]any{"y": "$.year"}, Transition: end}}}}, `looks like a path but the key does not end in .$`},
		{"result path wildcard", &StateMachine{StartAt: "A", States: States{{"A", &Pass{ResultPath: "$.a[*]", Transition: end}}}}, `reference path may not hold wildcards`},
		{"input path", &StateMachine{StartAt: "A", States: States{{"A", &Pass{IO: IO{InputPath: "a.b"}, Transition: end}}}}, `InputPath: path "a.b" does not start with $`},
		{"branch scope", &StateMachine{StartAt: "A", States: States{{"A", &Parallel{Branches: []StateMachine{{StartAt: "B", States: States{{"B", &Pass{Transition: Transition{Next: "A"}}}}}}, Transition: end}}}}, `state "A/Branches[0]/B": Next: names no state in this scope: "A"`},
		{"empty parallel", &StateMachine{StartAt: "A", States: States{{"A", &Parallel{Transition: end}}}}, `a Parallel needs at least one branch`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	doc := map[string]any{"a": map[string]any{"b": []any{"x", map[string]any{"c": true}}}, "--year": "2019"}
	tests := []struct {
		path string
		want any
		err  bool
	}{
		{"$", doc, false},
		{"$.a.b[0]", "x", false},
		{"$['a']['b'][1].c", true, false},
		{"$.--year", "2019", false},
		{"$.a.b[*]", []any{"x", map[string]any{"c": true}}, false},
		{"$.a.missing", nil, true},
		{"$.a.b[7]", nil, true},
	}
	for _, tt := range tests {
		pp, err := ParsePath(tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		got, err := pp.Get(doc)
		if (err != nil) != tt.err {
			t.Fatalf("%s: err %v", tt.path, err)
		}
		if !tt.err {
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(tt.want)
			if !bytes.Equal(a, b) {
				t.Fatalf("%s: got %s want %s", tt.path, a, b)
			}
		}
	}
	for _, bad := range []string{"", "a", "$..a", "$.", "$[", "$[x]", "$[-1]", "$.a[?(@.b)]", "$[01]"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted", bad)
		}
	}
	pp, _ := ParsePath("$.x.y")
	out, err := pp.Set(doc, 5)
	if err != nil || out.(map[string]any)["x"].(map[string]any)["y"] != 5 || doc["x"] != nil {
		t.Fatalf("set: %v %v (input changed: %v)", out, err, doc["x"])
	}
	pp, _ = ParsePath("$.--year.z")
	if _, err := pp.Set(doc, 1); err == nil {
		t.Fatal("set through a string accepted")
	}
}

func FuzzParse(f *testing.F) {
	seed, _ := os.ReadFile("testdata/seed.asl.json")
	f.Add(seed)
	sample, _ := json.Marshal(aslSample())
	f.Add(sample)
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsNull":true},"Next":"A"}]}}}`))
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":null,"End":true}}}`))
	f.Add(nestedParallels(3))
	f.Add(nestedParallels(MaxParallelNest + 1))
	f.Add(nestedRules(3))
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Parallel","Br\u0061nches":[{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}],"End":true}}}`))
	f.Add([]byte(strings.Repeat(`{"Branches":[`, 20)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		_ = Validate(m) // must not panic
		out, err := json.Marshal(m)
		if err != nil {
			return // e.g. a nil state written as null
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		out2, err := json.Marshal(m2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"$", "$$.Execution.Name", "$.a['b'][0].c", "$.a[*].b", "$.--year", "$['x']", "$..a", "$[", "a"} {
		f.Add(s)
	}
	doc := map[string]any{"a": []any{map[string]any{"b": 1}}, "--year": "2019"}
	f.Fuzz(func(t *testing.T, p string) {
		pp, err := ParsePath(p)
		if err != nil {
			return
		}
		_, _ = pp.Get(doc) // must not panic
		if !pp.Context && CheckPath(p, true) == nil {
			if _, err := pp.Set(doc, 1); err == nil && doc["x"] != nil {
				t.Fatal("Set changed its input")
			}
		}
	})
}

// nestedRules returns a Choice definition whose first rule nests n levels
// of Not around a comparison.
func nestedRules(n int) []byte {
	rule := `{"Variable":"$.a","IsNull":true}`
	for range n {
		rule = `{"Not":` + rule + `}`
	}
	rule = rule[:len(rule)-1] + `,"Next":"B"}`
	return []byte(`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[` + rule + `]},"B":{"Type":"Succeed"}}}`)
}

// TestParseHostileNesting: nesting beyond the limits is refused before
// decoding, with a typed error, at a cost bounded by the input's size.
// Before the limits, 2,000 nested Parallels (146 KB) cost 14 s and
// 1.6–3.7 GB of allocation, and 1 MB of them recursed without bound.
func TestParseHostileNesting(t *testing.T) {
	deepJSON := []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Result":` +
		strings.Repeat("[", MaxNestingDepth) + strings.Repeat("]", MaxNestingDepth) + `}}}`)
	megaBrackets := []byte(strings.Repeat(`{"Branches":[`, MaxDefinitionBytes/14))
	tests := []struct {
		name     string
		def      []byte
		what     string // "" accepted
		maxAlloc uint64
	}{
		{"2000 nested Parallels", nestedParallels(2000), "Parallel states", 64 << 10},
		{"1 MB of nested Parallels", nestedParallels(MaxDefinitionBytes / 78), "Parallel states", 64 << 10},
		{"1 MB of Branches brackets", megaBrackets, "Parallel states", 64 << 10},
		{"Parallels at the limit", nestedParallels(MaxParallelNest), "", 1 << 20},
		{"Parallels one past the limit", nestedParallels(MaxParallelNest + 1), "Parallel states", 64 << 10},
		{"rules at the limit", nestedRules(MaxRuleNest), "", 1 << 20},
		{"rules one past the limit", nestedRules(MaxRuleNest + 1), "Choice rules", 64 << 10},
		{"Result nested too deep", deepJSON, "objects and arrays", 64 << 10},
		{"escaped key counts", bytes.ReplaceAll(nestedParallels(MaxParallelNest+1), []byte("Branches"), []byte(`Br\u0061nches`)), "Parallel states", 64 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m, err := Parse(tt.def)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes: allocated %d bytes: %v", len(tt.def), alloc, err)
			if tt.what == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := Validate(m); err != nil {
					t.Fatal(err)
				}
			} else {
				var ne *NestingTooDeepError
				if !errors.As(err, &ne) || ne.What != tt.what {
					t.Fatalf("err = %v, want NestingTooDeepError for %s", err, tt.what)
				}
			}
			if alloc > tt.maxAlloc {
				t.Fatalf("Parse allocated %d bytes, want < %d", alloc, tt.maxAlloc)
			}
		})
	}
}

func TestParseDefinitionTooLarge(t *testing.T) {
	def := chain(MaxDefinitionBytes + 100)
	_, err := Parse(def)
	var te *DefinitionTooLargeError
	if !errors.As(err, &te) || te.Size != len(def) || te.Limit != MaxDefinitionBytes {
		t.Fatalf("err = %v, want DefinitionTooLargeError", err)
	}
	if _, err := Parse(chain(MaxDefinitionBytes)); err != nil {
		t.Fatalf("a definition of exactly the limit: %v", err)
	}
}

// TestParseValidateLinear: parsing and validating 1 MB of states nested
// MaxParallelNest deep allocates a small multiple of what the flat chain
// of the same size does (the re-reading of nested levels by encoding/json
// is bounded by the nesting limit), and doubling a chain doubles the
// allocation.
func TestParseValidateLinear(t *testing.T) {
	measure := func(def []byte) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m, err := Parse(def)
		if err == nil {
			err = Validate(m)
		}
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	half, full := measure(chain(MaxDefinitionBytes/2)), measure(chain(MaxDefinitionBytes))
	deep := measure(deepChain(MaxParallelNest, MaxDefinitionBytes))
	t.Logf("chain 512 KB: %d bytes; chain 1 MB: %d bytes; 1 MB inside %d Parallels: %d bytes", half, full, MaxParallelNest, deep)
	if full > 3*half {
		t.Errorf("doubling a chain multiplied its allocation by %.1f", float64(full)/float64(half))
	}
	if full > 128<<20 || deep > 5*full {
		t.Errorf("1 MB definitions allocated %d (flat) and %d (nested) bytes", full, deep)
	}
}
