package kda

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/lakekit/lakekit/internal/awstest"
)

// throttlingProxy sits between the Producer and kinesis-local. For the
// entries it picks, it does not forward them and answers as Kinesis does
// under load: the entry carries ProvisionedThroughputExceededException (or
// InternalFailure) while the rest of the request succeeds.
type throttlingProxy struct {
	next PutRecordsAPI
	// failFirst decides, on a record's first appearance, whether it fails
	// and with which code ("" = forward).
	failFirst func(data []byte) string
	mu        sync.Mutex
	seen      map[string]int
	requests  int
}

func (p *throttlingProxy) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	p.mu.Lock()
	p.requests++
	codes := make([]string, len(in.Records))
	var fwd []kintypes.PutRecordsRequestEntry
	for i, e := range in.Records {
		k := string(e.Data)
		p.seen[k]++
		if p.seen[k] == 1 {
			codes[i] = p.failFirst(e.Data)
		}
		if codes[i] == "" {
			fwd = append(fwd, e)
		}
	}
	p.mu.Unlock()
	var real []kintypes.PutRecordsResultEntry
	if len(fwd) > 0 {
		fin := *in
		fin.Records = fwd
		out, err := p.next.PutRecords(ctx, &fin, optFns...)
		if err != nil {
			return nil, err
		}
		real = out.Records
	}
	out := &kinesis.PutRecordsOutput{}
	for _, c := range codes {
		if c == "" {
			out.Records = append(out.Records, real[0])
			real = real[1:]
			continue
		}
		out.Records = append(out.Records, kintypes.PutRecordsResultEntry{ErrorCode: aws.String(c), ErrorMessage: aws.String("Rate exceeded for shard shardId-000000000000")})
		out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
	}
	return out, nil
}

func noSleep(context.Context, time.Duration) error { return nil }

func TestProducerRetriesPartialFailureOnKinesisLocal(t *testing.T) {
	ctx := context.Background()
	c := awstest.Kinesis(t)
	arn := newStream(t, c, 2)
	proxy := &throttlingProxy{next: c, seen: map[string]int{}, failFirst: func(d []byte) string {
		var i int
		fmt.Sscanf(string(d), `{"i":%d}`, &i)
		switch {
		case i%7 == 3:
			return "ProvisionedThroughputExceededException"
		case i%11 == 5:
			return "InternalFailure"
		case i == 42:
			return "KMSAccessDeniedException" // not retryable: reported, never resent
		}
		return ""
	}}
	p, err := NewProducer(proxy, arn, func(o *ProducerOptions) {
		o.PartitionKey = FieldPartitionKey("i")
		o.Sleep = noSleep
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 700 // two requests
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Data: fmt.Appendf(nil, `{"i":%d}`, i)}
	}
	res, err := p.Put(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for i, r := range res {
		switch {
		case i == 42:
			var re *RecordError
			if !errors.As(r.Err, &re) || re.Code != "KMSAccessDeniedException" || re.Retryable() || r.Attempts != 1 {
				t.Fatalf("record 42: %+v", r)
			}
		case r.Err != nil || r.SequenceNumber == "" || r.ShardID == "":
			t.Fatalf("record %d: %+v", i, r)
		case i%7 == 3 || i%11 == 5:
			if r.Attempts != 2 {
				t.Fatalf("record %d made %d attempts, want 2", i, r.Attempts)
			}
			retried++
		case r.Attempts != 1:
			t.Fatalf("record %d made %d attempts", i, r.Attempts)
		}
	}
	st := p.Stats()
	if st.Records != n-1 || st.Failed != 1 || st.Retried != int64(retried) || retried < 100 {
		t.Fatalf("stats %+v, retried %d", st, retried)
	}
	// Every accepted record is in the stream exactly once.
	got := map[string]int{}
	for _, d := range streamData(t, c, arn) {
		got[d]++
	}
	if len(got) != n-1 {
		t.Fatalf("stream holds %d distinct records, want %d", len(got), n-1)
	}
	for k, v := range got {
		if v != 1 {
			t.Fatalf("%s stored %d times", k, v)
		}
	}
}

// recordingPut answers success and records request sizes.
type recordingPut struct {
	mu       sync.Mutex
	requests []int
	bytes    []int
	inFlight int
	maxIn    int
	gate     chan struct{}
	entered  chan struct{}
}

func (r *recordingPut) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	r.mu.Lock()
	r.inFlight++
	r.maxIn = max(r.maxIn, r.inFlight)
	n := 0
	for _, e := range in.Records {
		n += len(e.Data) + len(*e.PartitionKey)
	}
	r.requests = append(r.requests, len(in.Records))
	r.bytes = append(r.bytes, n)
	r.mu.Unlock()
	if r.entered != nil {
		r.entered <- struct{}{}
	}
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	r.inFlight--
	r.mu.Unlock()
	out := &kinesis.PutRecordsOutput{}
	for range in.Records {
		out.Records = append(out.Records, kintypes.PutRecordsResultEntry{ShardId: aws.String("shardId-0"), SequenceNumber: aws.String("1")})
	}
	return out, nil
}

func TestProducerBatchLimits(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		n, size   int
		maxRecord int
		wantReqs  int
		tooLarge  int
	}{
		{"count", 1201, 10, 0, 3, 0},
		{"bytes", 30, 400 << 10, 0, 3, 0}, // 12 records of 400 KiB fill 5 MiB
		{"too large", 3, 1 << 20, 0, 1, 0},
		{"larger records allowed", 3, 2 << 20, 4 << 20, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rp := &recordingPut{}
			p, err := NewProducer(rp, "s", func(o *ProducerOptions) {
				o.PartitionKey = ConstantPartitionKey("k")
				if tc.maxRecord > 0 {
					o.MaxRecordBytes = tc.maxRecord
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			recs := make([]Record, tc.n)
			for i := range recs {
				recs[i].Data = make([]byte, tc.size)
			}
			res, err := p.Put(ctx, recs)
			if err != nil {
				t.Fatal(err)
			}
			tooLarge := 0
			for _, r := range res {
				if errors.Is(r.Err, ErrRecordTooLarge) {
					tooLarge++
				}
			}
			if tc.name == "too large" && tooLarge != 3 {
				t.Fatalf("%d too large, want 3", tooLarge)
			}
			if tc.name != "too large" && len(rp.requests) != tc.wantReqs {
				t.Fatalf("%d requests %v, want %d", len(rp.requests), rp.requests, tc.wantReqs)
			}
			for i, c := range rp.requests {
				if c > MaxPutRecordsEntries || rp.bytes[i] > MaxPutRecordsBytes {
					t.Fatalf("request %d: %d entries, %d bytes", i, c, rp.bytes[i])
				}
			}
		})
	}
}

func TestProducerBoundsInFlight(t *testing.T) {
	rp := &recordingPut{gate: make(chan struct{}), entered: make(chan struct{})}
	p, _ := NewProducer(rp, "s", func(o *ProducerOptions) { o.MaxInFlight = 2 })
	recs := make([]Record, 5*MaxPutRecordsEntries)
	for i := range recs {
		recs[i].Data = []byte("x")
	}
	done := make(chan struct{})
	go func() { _, _ = p.Put(context.Background(), recs); close(done) }()
	// Two requests enter and block; each release lets exactly one more in.
	<-rp.entered
	<-rp.entered
	for range 3 {
		rp.gate <- struct{}{}
		<-rp.entered
	}
	rp.gate <- struct{}{}
	rp.gate <- struct{}{}
	<-done
	if rp.maxIn != 2 || len(rp.requests) != 5 {
		t.Fatalf("max in flight %d over %d requests", rp.maxIn, len(rp.requests))
	}
}

func TestPartitionKeys(t *testing.T) {
	f := FieldPartitionKey("sensor_id")
	if k := f([]byte(`{"sensor_id": 17}`)); k != "17" {
		t.Fatalf("numeric field key %q", k)
	}
	if k := f([]byte(`{"sensor_id": "abc"}`)); k != "abc" {
		t.Fatalf("string field key %q", k)
	}
	if a, b := f([]byte(`x`)), f([]byte(`x`)); len(a) != 32 || a == b {
		t.Fatalf("random fallback %q %q", a, b)
	}
}

func BenchmarkProducerKinesisLocal(b *testing.B) {
	c := awstest.Kinesis(b)
	arn := newStream(b, c, 2)
	p, _ := NewProducer(c, arn)
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 1 }))
	recs := make([]Record, 2000)
	for i := range recs {
		recs[i].Data = g.Next()
	}
	n := 0
	for b.Loop() {
		res, err := p.Put(context.Background(), recs)
		if err != nil || res[0].Err != nil {
			b.Fatal(err, res[0].Err)
		}
		n += len(recs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
