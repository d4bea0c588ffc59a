package kda

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func kinesisEvent(shard string, seqs []int, data func(i int) []byte) []events.KinesisEventRecord {
	var out []events.KinesisEventRecord
	for _, s := range seqs {
		seq := fmt.Sprintf("4960000000000000000000000000000000000000000000000%03d", s)
		out = append(out, events.KinesisEventRecord{
			EventID:        shard + ":" + seq,
			EventSourceArn: "arn:aws:kinesis:us-east-1:000000000000:stream/sensors",
			Kinesis: events.KinesisRecord{SequenceNumber: seq, PartitionKey: "pk", Data: data(s),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.Unix(1_700_000_000+int64(s), 0)}},
		})
	}
	return out
}

func TestLambdaHandlerReportsFirstFailurePerShard(t *testing.T) {
	plain := func(i int) []byte { return fmt.Appendf(nil, `{"i":%d}`, i) }
	var ev events.KinesisEvent
	ev.Records = append(ev.Records, kinesisEvent("shardId-000000000000", []int{1, 2, 3, 4}, plain)...)
	ev.Records = append(ev.Records, kinesisEvent("shardId-000000000001", []int{11, 12}, func(i int) []byte {
		if i == 12 { // a KPL aggregate of three user records
			return aggregate([]UserRecord{{PartitionKey: "a", Data: []byte("12a")}, {PartitionKey: "b", Data: []byte("12b")}, {PartitionKey: "c", Data: []byte("12c")}})
		}
		return plain(i)
	})...)
	var seen []string
	h := NewLambdaHandler(func(_ context.Context, r KinesisRecord) error {
		seen = append(seen, string(r.Data))
		if string(r.Data) == `{"i":2}` {
			return errors.New("downstream unavailable")
		}
		return nil
	})
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[1].Kinesis.SequenceNumber {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	want := `[{"i":1} {"i":2} {"i":11} 12a 12b 12c]`
	if fmt.Sprint(seen) != want {
		t.Fatalf("handled %v, want %s (records after a failure in the same shard must wait)", seen, want)
	}
}

func TestLambdaHandlerAfterBatchFailureRetriesAll(t *testing.T) {
	var ev events.KinesisEvent
	ev.Records = append(ev.Records, kinesisEvent("shardId-000000000000", []int{1, 2}, func(int) []byte { return []byte("x") })...)
	ev.Records = append(ev.Records, kinesisEvent("shardId-000000000001", []int{5}, func(int) []byte { return []byte("y") })...)
	h := NewLambdaHandler(func(context.Context, KinesisRecord) error { return nil }, func(o *LambdaOptions) {
		o.AfterBatch = func(context.Context) error { return errors.New("flush failed") }
	})
	resp, _ := h(context.Background(), ev)
	if len(resp.BatchItemFailures) != 2 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Kinesis.SequenceNumber ||
		resp.BatchItemFailures[1].ItemIdentifier != ev.Records[2].Kinesis.SequenceNumber {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
}

// TestLambdaHandlerPassesBadAggregateOn: a KPL record with a valid checksum
// and a malformed body reaches the handler whole instead of failing the
// batch item, so it cannot block its shard until it expires.
func TestLambdaHandlerPassesBadAggregateOn(t *testing.T) {
	body := []byte{0x1a, 0x02, 0x08, 0x05} // record with partition_key_index 5 and no table
	sum := md5.Sum(body)
	bad := append(append(append([]byte(nil), kplMagic...), body...), sum[:]...)
	var ev events.KinesisEvent
	ev.Records = kinesisEvent("shardId-000000000000", []int{1, 2}, func(i int) []byte {
		if i == 1 {
			return bad
		}
		return []byte(`{"i":2}`)
	})
	var seen [][]byte
	h := NewLambdaHandler(func(_ context.Context, r KinesisRecord) error {
		seen = append(seen, r.Data)
		return nil
	})
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v, want none", resp.BatchItemFailures)
	}
	if len(seen) != 2 || !bytes.Equal(seen[0], bad) || string(seen[1]) != `{"i":2}` {
		t.Fatalf("handler saw %q", seen)
	}
}
