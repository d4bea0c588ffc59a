package lakepipe

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestLandingParseKey(t *testing.T) {
	p, err := NewLandingParser()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, dataset, date string
		mismatch           string // expected reason substring; "" = matches
	}{
		{key: "data/landing/customers_20190821.csv", dataset: "customers", date: "2019-08-21"},
		{key: "data/landing/daily_customers_20190821.csv", dataset: "daily_customers", date: "2019-08-21"},
		{key: "data/landing/sales-eu.v2_20200229.csv", dataset: "sales-eu.v2", date: "2020-02-29"},
		{key: "data/landing/customers_20190230.csv", mismatch: "bad date"},
		{key: "data/landing/customers_2019082.csv", mismatch: "does not match"},
		{key: "data/landing/customers_20190821.csv.tmp", mismatch: "does not match"},
		{key: "data/landing/customers_20190821.CSV", mismatch: "does not match"},
		{key: "data/landing/_20190821.csv", mismatch: "does not match"},
		{key: "data/landing/sub/customers_20190821.csv", mismatch: "not directly"},
		{key: "data/raw/customers_20190821.csv", mismatch: "not under"},
		{key: "data/landing/../raw/customers_20190821.csv", mismatch: "not directly"},
		{key: "data/landing/..", mismatch: "clean"},
		{key: "data/landing/", mismatch: "clean"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			l, err := p.ParseKey("lake", tt.key, "seq1")
			if tt.mismatch != "" {
				var km *KeyMismatchError
				if !errors.As(err, &km) || km.Key != tt.key || !strings.Contains(km.Reason, tt.mismatch) {
					t.Fatalf("got %v, want KeyMismatchError naming the key with %q", err, tt.mismatch)
				}
				if !strings.Contains(err.Error(), tt.key) {
					t.Fatalf("message %q does not name the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Dataset != tt.dataset || l.Date.Format(time.DateOnly) != tt.date {
				t.Fatalf("got %s %s", l.Dataset, l.Date.Format(time.DateOnly))
			}
			if !strings.HasPrefix(l.ExecutionName, strings.ReplaceAll(tt.date, "-", "")+"-") || len(l.ExecutionName) != 8+1+DefaultExecutionSuffixLen {
				t.Fatalf("execution name %q", l.ExecutionName)
			}
		})
	}
}

func TestLandingCustomPattern(t *testing.T) {
	p, err := NewLandingParser(func(o *LandingOptions) {
		o.Prefix = "in"
		o.Pattern = "export-{yyyy-MM-dd}-{name}.tsv"
		o.SuffixLen = 2
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.ParseKey("b", "in/export-2021-03-16-orders.tsv", "")
	if err != nil {
		t.Fatal(err)
	}
	in := l.Input()
	if l.Dataset != "orders" || in.Year != "2021" || in.Month != "03" || in.Day != "16" || len(l.ExecutionName) != 11 {
		t.Fatalf("%+v %+v", l, in)
	}
	for _, bad := range []string{"{name}.csv", "{yyyyMMdd}.csv", "{name}_{yyyyMMdd}_{yyyyMMdd}", "{name}_{hh}", "{name", "a/{name}_{yyyyMMdd}"} {
		if _, err := NewLandingParser(func(o *LandingOptions) { o.Pattern = bad }); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

// A real S3 notification: the key is URL-encoded (space as '+'), and the
// same event delivered twice yields the same execution name.
const landingEventJSON = `{"Records":[
 {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2","eventTime":"2019-08-21T06:00:00.000Z","eventName":"ObjectCreated:Put",
  "s3":{"s3SchemaVersion":"1.0","bucket":{"name":"bucketname","arn":"arn:aws:s3:::bucketname"},
        "object":{"key":"data/landing/customers_20190821.csv","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0A1B2C3D4E5F678901"}}},
 {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
  "s3":{"bucket":{"name":"bucketname"},"object":{"key":"data/landing/bad+name%3F.csv","sequencer":"0A1B2C3D4E5F678902"}}},
 {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectRemoved:Delete",
  "s3":{"bucket":{"name":"bucketname"},"object":{"key":"data/landing/x.csv"}}},
 {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Copy",
  "s3":{"bucket":{"name":"bucketname"},"object":{"key":"data/landing/my+orders_20190822.csv","sequencer":"0A1B2C3D4E5F678903"}}}
]}`

func TestLandingParseEvent(t *testing.T) {
	var ev events.S3Event
	if err := json.Unmarshal([]byte(landingEventJSON), &ev); err != nil {
		t.Fatal(err)
	}
	p, _ := NewLandingParser()
	ls, err := p.ParseEvent(ev)
	if len(ls) != 1 || ls[0].Dataset != "customers" || ls[0].Bucket != "bucketname" {
		t.Fatalf("landings %+v", ls)
	}
	var km *KeyMismatchError
	if !errors.As(err, &km) || km.Key != "data/landing/bad name?.csv" {
		t.Fatalf("error %v: want the decoded key named", err)
	}
	if !strings.Contains(err.Error(), "my orders_20190822.csv") {
		t.Fatalf("error %v: want the second bad key too", err)
	}
	again, _ := p.ParseEvent(ev)
	if again[0].ExecutionName != ls[0].ExecutionName {
		t.Fatal("a duplicated notification got another execution name")
	}
	in, _ := json.Marshal(ls[0].Input())
	if want := `{"year":"2019","month":"08","day":"21","dataset":"customers","bucket":"bucketname","key":"data/landing/customers_20190821.csv"}`; string(in) != want {
		t.Fatalf("input %s", in)
	}
}

func FuzzLandingParseKey(f *testing.F) {
	for _, s := range []string{"data/landing/customers_20190821.csv", "data/landing/a_b_20000101.csv",
		"data/landing/../x_20190821.csv", "data/landing/x_99999999.csv", "", "data/landing/%zz"} {
		f.Add(s)
	}
	p, _ := NewLandingParser()
	f.Fuzz(func(t *testing.T, key string) {
		l, err := p.ParseKey("b", key, "")
		if err != nil {
			var km *KeyMismatchError
			if !errors.As(err, &km) || km.Key != key {
				t.Fatalf("error %v is not a KeyMismatchError naming the key", err)
			}
			return
		}
		if !strings.HasPrefix(key, DefaultLandingPrefix) || strings.Contains(strings.TrimPrefix(key, DefaultLandingPrefix), "/") {
			t.Fatalf("accepted %q outside the landing zone", key)
		}
		if l.Dataset == "" || strings.ContainsAny(l.Dataset, "/ ") || len(l.ExecutionName) > MaxExecutionNameLen {
			t.Fatalf("bad landing %+v", l)
		}
		if want := l.Dataset + "_" + l.Date.Format("20060102") + ".csv"; DefaultLandingPrefix+want != key {
			t.Fatalf("parsed %q as %q", key, want)
		}
	})
}
