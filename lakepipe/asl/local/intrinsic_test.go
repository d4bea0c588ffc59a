package local

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

func TestIntrinsics(t *testing.T) {
	input := []byte(`{"prefix":"data/raw/","dataset":"customers","year":"2019","n":41,"doc":"{\"a\":[1,2]}","list":[1,2,3]}`)
	tests := []struct {
		expr string
		want string // JSON of the result, or "!" + error substring
	}{
		{`States.Format('{}{}/year={}/', $.prefix, $.dataset, $.year)`, `"data/raw/customers/year=2019/"`},
		{`States.Format('n={} ok={} \{lit\} it\'s', $.n, true)`, `"n=41 ok=true {lit} it's"`},
		{`States.StringToJson($.doc)`, `{"a":[1,2]}`},
		{`States.JsonToString($.list)`, `"[1,2,3]"`},
		{`States.Array($.year, 2, States.MathAdd($.n, 1))`, `["2019",2,42]`},
		{`States.ArrayLength($.list)`, `3`},
		{`States.MathAdd($.n, -1)`, `40`},
		{`States.Format('{}', $.missing)`, "!does not exist"},
		{`States.Format('{} {}', $.year)`, "!more {} than arguments"},
		{`States.UUID()`, "!not supported"},
		{`States.MathAdd($.year, 1)`, "!two integers"},
		{`States.Format('x)`, "!unclosed"},
	}
	for _, tt := range tests {
		m := &asl.StateMachine{StartAt: "P"}
		m.Add("P", &asl.Pass{Parameters: map[string]any{"v.$": tt.expr}, Transition: asl.Transition{End: true}})
		r, err := New(m, func(o *RunnerOptions) { vc := NewVirtualClock(t0); o.Now, o.Sleep = vc.Now, vc.Sleep })
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		ex, err := r.Run(context.Background(), "i", input)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(tt.want, "!") {
			if ex.Status != StatusFailed || ex.Error != asl.ErrorIntrinsicFailure || !strings.Contains(ex.Cause, tt.want[1:]) {
				t.Errorf("%s: %s %s %s", tt.expr, ex.Status, ex.Error, ex.Cause)
			}
			continue
		}
		var out struct{ V json.RawMessage }
		if err := json.Unmarshal(ex.Output, &out); err != nil || string(out.V) != tt.want {
			t.Errorf("%s: got %s (%s %s), want %s", tt.expr, ex.Output, ex.Error, ex.Cause, tt.want)
		}
	}
}
