package kda

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"testing"
)

// TestDeaggregateKnownBytes decodes an aggregate written out by hand from
// the KPL's protobuf definition (messages.proto): partition_key_table=["a"],
// records=[{partition_key_index:0, data:"hi"}].
func TestDeaggregateKnownBytes(t *testing.T) {
	body, _ := hex.DecodeString("0a0161" + "1a06" + "0800" + "1a026869")
	sum := md5.Sum(body)
	data := append(append(append([]byte(nil), KPLMagic...), body...), sum[:]...)
	urs, err := Deaggregate(data, "outer")
	if err != nil {
		t.Fatal(err)
	}
	if len(urs) != 1 || urs[0].PartitionKey != "a" || string(urs[0].Data) != "hi" || !urs[0].Aggregated {
		t.Fatalf("%+v", urs)
	}
	if !bytes.Equal(Aggregate([]UserRecord{{PartitionKey: "a", Data: []byte("hi")}}), data) {
		t.Fatal("Aggregate does not produce the KPL bytes")
	}
}

func TestDeaggregate(t *testing.T) {
	in := []UserRecord{
		{PartitionKey: "k1", Data: []byte(`{"a":1}`)},
		{PartitionKey: "k2", ExplicitHashKey: "12345", Data: []byte(`{"a":2}`)},
		{PartitionKey: "k1", Data: []byte{}},
	}
	agg := Aggregate(in)
	out, err := Deaggregate(agg, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("%d records", len(out))
	}
	for i := range in {
		if out[i].PartitionKey != in[i].PartitionKey || out[i].ExplicitHashKey != in[i].ExplicitHashKey ||
			!bytes.Equal(out[i].Data, in[i].Data) || out[i].SubSequence != i {
			t.Errorf("record %d: %+v, want %+v", i, out[i], in[i])
		}
	}
	// Not aggregated, or a corrupted checksum: the record itself, as the KCL does.
	for _, data := range [][]byte{[]byte(`{"plain":true}`), append(agg[:len(agg)-1:len(agg)-1], agg[len(agg)-1]^1)} {
		out, err := Deaggregate(data, "pk")
		if err != nil || len(out) != 1 || out[0].Aggregated || out[0].PartitionKey != "pk" || !bytes.Equal(out[0].Data, data) {
			t.Fatalf("%q: %+v %v", data, out, err)
		}
	}
	// Valid checksum, bad body: an error.
	body := []byte{0x1a, 0x02, 0x08, 0x05} // record with partition_key_index 5 and no table
	sum := md5.Sum(body)
	bad := append(append(append([]byte(nil), KPLMagic...), body...), sum[:]...)
	if _, err := Deaggregate(bad, "pk"); !errors.Is(err, ErrBadAggregate) {
		t.Fatalf("bad aggregate: %v", err)
	}
}

func FuzzDeaggregate(f *testing.F) {
	f.Add(Aggregate([]UserRecord{{PartitionKey: "a", Data: []byte("x")}, {PartitionKey: "b", ExplicitHashKey: "1", Data: []byte("y")}}))
	f.Add([]byte("plain"))
	f.Fuzz(func(t *testing.T, body []byte) {
		// Fuzz the protobuf body under a valid checksum, where parsing happens.
		sum := md5.Sum(body)
		data := append(append(append([]byte(nil), KPLMagic...), body...), sum[:]...)
		out, err := Deaggregate(data, "pk")
		if err != nil {
			if !errors.Is(err, ErrBadAggregate) {
				t.Fatalf("error %v", err)
			}
			return
		}
		again, err := Deaggregate(Aggregate(out), "pk")
		if err != nil || len(again) != len(out) {
			t.Fatalf("re-aggregation: %v %d/%d", err, len(again), len(out))
		}
	})
}
