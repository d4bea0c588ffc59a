package kda_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lakekit/lakekit/kda"
)

// printSink is a Sink that prints each row: a Delivery or a FirehoseSink
// in a real application.
type printSink struct{ name string }

func (s printSink) Put(_ context.Context, row []byte, _ time.Time) error {
	fmt.Printf("%s: %s\n", s.name, row)
	return nil
}

func (printSink) Flush(context.Context) error { return nil }

// Example runs the seed's anomaly pump on three records: one hot reading,
// one normal, and one that does not match the schema.
func Example() {
	sql := `
CREATE OR REPLACE STREAM "anomaly_data_stream" ("sensor_id" INTEGER, "current_temperature" INTEGER, "location" VARCHAR(16));
CREATE OR REPLACE PUMP "STREAM_PUMP_ANOMALY" AS INSERT INTO "anomaly_data_stream"
SELECT STREAM "sensor_id", "current_temperature", "location"
FROM "SOURCE_SQL_STREAM_001" WHERE "current_temperature" > 100;`
	input := kda.Input{Columns: []kda.Column{
		{Name: "sensor_id", Type: kda.Integer},
		{Name: "current_temperature", Type: kda.Integer},
		{Name: "location", Type: kda.Varchar(16)},
	}}
	arrival := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC) // the Kinesis record's, in HandleRecord
	engine, err := kda.NewEngine(sql, []kda.Input{input}, func(o *kda.EngineOptions) {
		o.Now = func() time.Time { return arrival } // stamps ERROR_TIME; default time.Now
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	app, err := kda.NewApp(engine, "",
		kda.Output{Stream: "anomaly_data_stream", Sink: printSink{"anomaly"}},
		kda.Output{Stream: kda.ErrorStream, Sink: printSink{"error"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for _, rec := range []string{
		`{"sensor_id": 7, "current_temperature": 120, "location": "AUS"}`,
		`{"sensor_id": 8, "current_temperature": 99, "location": "UK"}`,
		`{"sensor_id": "x"}`,
	} {
		if err := app.Process(ctx, []byte(rec), arrival); err != nil {
			fmt.Println(err)
		}
	}
	// An application in a Lambda would now be
	// lambda.Start(kda.NewLambdaHandler(app.HandleRecord, …)).
	if err := app.Flush(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// anomaly: {"sensor_id":7,"current_temperature":120,"location":"AUS"}
	// error: {"ERROR_TIME":"2026-01-01 10:00:00.000","ERROR_LEVEL":"Error","ERROR_NAME":"Input_Schema_Mismatch","MESSAGE":"column \"sensor_id\": string value for INTEGER column","DATA_ROWTIME":"2026-01-01 10:00:00.000","DATA_ROW":"{\"sensor_id\": \"x\"}","PUMP_NAME":null}
}

func ExampleNewEngine() {
	sql := `
CREATE OR REPLACE STREAM "anomaly_data_stream" ("sensor_id" INTEGER, "current_temperature" INTEGER, "location" VARCHAR(16));
CREATE OR REPLACE PUMP "STREAM_PUMP_ANOMALY" AS INSERT INTO "anomaly_data_stream"
SELECT STREAM "sensor_id", "current_temperature", "location"
FROM "SOURCE_SQL_STREAM_001" WHERE "current_temperature" > 100;`
	cols, _ := kda.DiscoverSchema([][]byte{[]byte(`{"sensor_id": 7, "current_temperature": 120, "location": "AUS"}`)})
	engine, err := kda.NewEngine(sql, []kda.Input{{Columns: cols}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = engine.Subscribe("anomaly_data_stream", func(r kda.Row) { fmt.Println(string(r.AppendJSON(nil))) })
	_ = engine.Subscribe(kda.ErrorStream, func(r kda.Row) { fmt.Println("error:", r.Get("MESSAGE").S) })
	for _, rec := range []string{
		`{"sensor_id": 7, "current_temperature": 120, "location": "AUS"}`,
		`{"sensor_id": 8, "current_temperature": 99, "location": "UK"}`,
		`{"sensor_id": "x"}`,
	} {
		_ = engine.InsertJSON(kda.DefaultInputStream, []byte(rec), time.Time{})
	}
	// Output:
	// {"sensor_id":7,"current_temperature":120,"location":"AUS"}
	// error: column "sensor_id": string value for INTEGER column
}

func ExampleNewEngine_tumblingWindow() {
	sql := `
CREATE STREAM "avg_by_location" ("location" VARCHAR(16), "avg_temp" DOUBLE, "readings" BIGINT);
CREATE PUMP "AVG_PUMP" AS INSERT INTO "avg_by_location"
SELECT STREAM "location", AVG("current_temperature"), COUNT(*)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY "location", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE);`
	input := kda.Input{Columns: []kda.Column{{Name: "current_temperature", Type: kda.Integer}, {Name: "location", Type: kda.Varchar(16)}}}
	engine, err := kda.NewEngine(sql, []kda.Input{input})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = engine.Subscribe("avg_by_location", func(r kda.Row) {
		fmt.Println(r.Time().Format("15:04"), string(r.AppendJSON(nil)))
	})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for i, rec := range []string{`{"current_temperature":90,"location":"UK"}`, `{"current_temperature":110,"location":"UK"}`, `{"current_temperature":50,"location":"AUS"}`} {
		_ = engine.InsertJSON(kda.DefaultInputStream, []byte(rec), t0.Add(time.Duration(i)*10*time.Second))
	}
	engine.Advance(t0.Add(time.Minute))
	// Output:
	// 10:01 {"location":"UK","avg_temp":100.0,"readings":2}
	// 10:01 {"location":"AUS","avg_temp":50.0,"readings":1}
}

func ExampleParsePrefix() {
	at := time.Date(2019, 12, 30, 10, 0, 0, 0, time.UTC)
	for _, s := range []string{"year=!{timestamp:YYYY}/", "year=!{timestamp:yyyy}/"} {
		p, _ := kda.ParsePrefix(s)
		fmt.Println(p.Render(kda.PrefixValues{Time: at}), len(p.Warnings) > 0)
	}
	// Output:
	// year=2020/ true
	// year=2019/ false
}

func ExampleNewGenerator() {
	tpl := kda.MustParseTemplate(`{"sensor_id": {{random.number(50)}}, "at": "{{date.utc("YYYY-MM-DD HH:mm")}}"}`)
	g, err := kda.NewGenerator(tpl, func(o *kda.GeneratorOptions) {
		o.Seed = 1
		o.Now = func() time.Time { return time.Date(2026, 7, 1, 12, 30, 0, 0, time.UTC) }
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(g.Next()))
	// Output:
	// {"sensor_id": 26, "at": "2026-07-01 12:30"}
}
