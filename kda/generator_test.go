package kda

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// seedTemplate is the record template of the seed's post, verbatim.
const seedTemplate = `{
    "sensor_id": {{random.number(50)}},
    "current_temperature": {{random.number(
        {
            "min":0,
            "max":150
        }
    )}},
    "location": "{{random.arrayElement(
        ["AUS","USA","UK"]
    )}}"
}`

func TestSeedTemplateGeneratesValidJSON(t *testing.T) {
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 42 }))
	seenLoc := map[string]int{}
	minT, maxT, maxS := 1000, -1, -1
	for range 5000 {
		var r struct {
			SensorID    *int   `json:"sensor_id"`
			Temperature *int   `json:"current_temperature"`
			Location    string `json:"location"`
		}
		rec := g.Next()
		if err := json.Unmarshal(rec, &r); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		if r.SensorID == nil || *r.SensorID < 0 || *r.SensorID > 50 {
			t.Fatalf("sensor_id out of [0,50]: %s", rec)
		}
		minT, maxT, maxS = min(minT, *r.Temperature), max(maxT, *r.Temperature), max(maxS, *r.SensorID)
		seenLoc[r.Location]++
	}
	if minT != 0 || maxT != 150 || maxS != 50 {
		t.Errorf("bounds not inclusive: temperature [%d,%d], sensor max %d", minT, maxT, maxS)
	}
	if len(seenLoc) != 3 || seenLoc["AUS"] == 0 || seenLoc["USA"] == 0 || seenLoc["UK"] == 0 {
		t.Errorf("locations %v", seenLoc)
	}
}

func TestGeneratorIsReproducible(t *testing.T) {
	tpl := MustParseTemplate(`{{random.uuid}} {{name.firstName}} {{random.number(1000)}} {{internet.ip}}`)
	a := must(NewGenerator(tpl, func(o *GeneratorOptions) { o.Seed = 7 }))
	b := must(NewGenerator(tpl, func(o *GeneratorOptions) { o.Seed = 7 }))
	c := must(NewGenerator(tpl, func(o *GeneratorOptions) { o.Seed = 8 }))
	same := true
	for range 10 {
		x, y, z := string(a.Next()), string(b.Next()), string(c.Next())
		if x != y {
			t.Fatalf("same seed differs: %q vs %q", x, y)
		}
		same = same && x == z
	}
	if same {
		t.Fatal("different seeds gave identical output")
	}
}

func TestHelpers(t *testing.T) {
	now := time.Date(2019, 12, 30, 9, 5, 7, 123456789, time.UTC)
	tests := []struct {
		tpl  string
		want string // regexp, anchored
	}{
		{`{{random.number(3)}}`, `[0-3]`},
		{`{{random.number({"min":10,"max":10})}}`, `10`},
		{`{{random.number({"min":1,"max":2,"precision":0.01})}}`, `[12]\.\d\d`},
		{`{{random.arrayElement([1, "b", true])}}`, `1|b|true`},
		{`{{random.weightedArrayElement({"weights":[0,1],"data":["no","yes"]})}}`, `yes`},
		{`{{random.uuid}}`, `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`},
		{`{{ random.boolean() }}`, `true|false`},
		{`{{date.now}}`, `2019-12-30T09:05:07\+00:00`},
		{`{{date.utc("YYYY-MM-DD HH:mm:ss.SSS")}}`, `2019-12-30 09:05:07\.123`},
		{`{{date.now("[Day] Do MMM YY, h:mm A x X")}}`, `Day 30th Dec 19, 9:05 AM 1577696707123 1577696707`},
		{`{{name.firstName}} {{name.lastName}}`, `[A-Z][a-z]+ [A-Z][a-z]+`},
		{`{{internet.ip}}`, `\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`},
		{`{{lorem.word}}`, `[a-z]+`},
		{`no helpers at all {`, `no helpers at all \{`},
	}
	for _, tc := range tests {
		t.Run(tc.tpl, func(t *testing.T) {
			tpl, err := ParseTemplate(tc.tpl)
			if err != nil {
				t.Fatal(err)
			}
			g := must(NewGenerator(tpl, func(o *GeneratorOptions) { o.Seed = 1; o.Now = func() time.Time { return now } }))
			re := regexp.MustCompile(`^(` + tc.want + `)$`)
			for range 50 {
				if got := g.Next(); !re.Match(got) {
					t.Fatalf("got %q, want /%s/", got, tc.want)
				}
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct {
		tpl, helper string
		line, col   int
	}{
		{`{"a": {{random.nubmer(5)}}}`, "random.nubmer", 1, 7},
		{"{\n  \"x\": {{faker.fake}}\n}", "faker.fake", 2, 8},
		{`{{random.number("x")}}`, "random.number", 1, 1},
		{`{{random.number({"min":5,"max":1})}}`, "random.number", 1, 1},
		{`{{random.arrayElement([])}}`, "random.arrayElement", 1, 1},
		{`{{random.uuid(1)}}`, "random.uuid", 1, 1},
		{`x {{random.number(5)`, "random.number", 1, 3},
		{`{{random.number(5) }`, "random.number", 1, 1},
		{`{{ }}`, "", 1, 1},
	}
	for _, tc := range tests {
		_, err := ParseTemplate(tc.tpl)
		var te *TemplateError
		if !errors.As(err, &te) {
			t.Fatalf("%q: err %v, want *TemplateError", tc.tpl, err)
		}
		if te.Helper != tc.helper || te.Line != tc.line || te.Col != tc.col {
			t.Errorf("%q: got %q at %d:%d, want %q at %d:%d (%v)", tc.tpl, te.Helper, te.Line, te.Col, tc.helper, tc.line, tc.col, err)
		}
		if tc.helper != "" && !strings.Contains(err.Error(), tc.helper) {
			t.Errorf("%q: message %q does not name the helper", tc.tpl, err)
		}
	}
}

// TestRunPacesAndCounts checks rate control on a virtual clock: 10 records
// at 5/s are scheduled 200 ms apart.
func TestRunPacesAndCounts(t *testing.T) {
	clock := time.Unix(0, 0)
	var slept time.Duration
	g := must(NewGenerator(MustParseTemplate(`{{random.number(9)}}`), func(o *GeneratorOptions) {
		o.Seed, o.Rate, o.Count = 3, 5, 10
		o.Now = func() time.Time { return clock }
		o.Sleep = func(_ context.Context, d time.Duration) error { slept += d; clock = clock.Add(d); return nil }
	}))
	n := 0
	if err := g.Run(context.Background(), func([]byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 10 || slept != 1800*time.Millisecond {
		t.Fatalf("emitted %d records after sleeping %v; want 10 after 1.8s", n, slept)
	}
	stop := errors.New("stop")
	g = must(NewGenerator(MustParseTemplate(`x`)))
	if err := g.Run(context.Background(), func([]byte) error { return stop }); err != stop {
		t.Fatalf("emit error not returned: %v", err)
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{seedTemplate, `{{random.number({"min":1,"max":2,"precision":0.5})}}`, `{{date.now("[x]YYYY")}}`,
		`{{random.weightedArrayElement({"weights":[1,2],"data":["a","b"]})}}`, `{{`, `{{a.b(`, `{{random.arrayElement([")"])}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := ParseTemplate(src)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) || te.Line < 1 || te.Col < 1 {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		g := must(NewGenerator(tpl, func(o *GeneratorOptions) { o.Seed = 1 }))
		g.Next()
	})
}

func BenchmarkGenerator(b *testing.B) {
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 1 }))
	var buf []byte
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		buf = g.Append(buf[:0])
	}
	reportRate(b, float64(b.N), "records", cpu0)
}
