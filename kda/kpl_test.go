package kda

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"unsafe"
)

// TestDeaggregateKnownBytes decodes an aggregate written out by hand from
// the KPL's protobuf definition (messages.proto): partition_key_table=["a"],
// records=[{partition_key_index:0, data:"hi"}].
func TestDeaggregateKnownBytes(t *testing.T) {
	body, _ := hex.DecodeString("0a0161" + "1a06" + "0800" + "1a026869")
	sum := md5.Sum(body)
	data := append(append(append([]byte(nil), kplMagic...), body...), sum[:]...)
	urs, err := Deaggregate(data, "outer")
	if err != nil {
		t.Fatal(err)
	}
	if len(urs) != 1 || urs[0].PartitionKey != "a" || string(urs[0].Data) != "hi" || !urs[0].Aggregated {
		t.Fatalf("%+v", urs)
	}
	if !bytes.Equal(aggregate([]UserRecord{{PartitionKey: "a", Data: []byte("hi")}}), data) {
		t.Fatal("Aggregate does not produce the KPL bytes")
	}
}

func TestDeaggregate(t *testing.T) {
	in := []UserRecord{
		{PartitionKey: "k1", Data: []byte(`{"a":1}`)},
		{PartitionKey: "k2", ExplicitHashKey: "12345", Data: []byte(`{"a":2}`)},
		{PartitionKey: "k1", Data: []byte{}},
	}
	agg := aggregate(in)
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
	bad := append(append(append([]byte(nil), kplMagic...), body...), sum[:]...)
	if _, err := Deaggregate(bad, "pk"); !errors.Is(err, ErrBadAggregate) {
		t.Fatalf("bad aggregate: %v", err)
	}
}

func FuzzDeaggregate(f *testing.F) {
	f.Add(aggregate([]UserRecord{{PartitionKey: "a", Data: []byte("x")}, {PartitionKey: "b", ExplicitHashKey: "1", Data: []byte("y")}}))
	f.Add([]byte("plain"))
	f.Add([]byte{0x1a, 0x04, 0x08, 0x00, 0x1a, 0x00, 0x0a, 0x00})             // a record before the key table
	f.Add([]byte{0x0a, 0x00, 0x1a, 0x04, 0x08, 0x00, 0x1a, 0x00, 0x1a, 0x02}) // truncated second record
	f.Add([]byte{0x0a, 0x00, 0x1a, 0x06, 0x08, 0x00, 0x10, 0x00, 0x1a, 0x00}) // hash key index without a table
	f.Fuzz(func(t *testing.T, body []byte) {
		// Fuzz the protobuf body under a valid checksum, where parsing happens.
		sum := md5.Sum(body)
		data := append(append(append([]byte(nil), kplMagic...), body...), sum[:]...)
		out, err := Deaggregate(data, "pk")
		if err != nil {
			if !errors.Is(err, ErrBadAggregate) {
				t.Fatalf("error %v", err)
			}
			return
		}
		for _, u := range out {
			if cap(u.Data) != len(u.Data) || len(u.Data) > len(body) {
				t.Fatalf("Data of %d bytes, capacity %d, from a %d-byte body", len(u.Data), cap(u.Data), len(body))
			}
		}
		again, err := Deaggregate(aggregate(out), "pk")
		if err != nil || len(again) != len(out) {
			t.Fatalf("re-aggregation: %v %d/%d", err, len(again), len(out))
		}
	})
}

// kplWithChecksum frames a protobuf body as a KPL aggregate.
func kplWithChecksum(body []byte) []byte {
	sum := md5.Sum(body)
	return append(append(append([]byte(nil), kplMagic...), body...), sum[:]...)
}

// TestDeaggregateMemoryIsBounded: a 12 MB aggregate of the smallest
// possible records, or of nothing but partition keys, allocates a bounded
// multiple of its size (it took 363 MB: growing slices of intermediate
// records, then the output, then copying every key).
func TestDeaggregateMemoryIsBounded(t *testing.T) {
	const size = 12 << 20
	tiny := []byte{0x0a, 0x00} // partition key table: [""]
	for len(tiny) < size {
		tiny = append(tiny, 0x1a, 0x04, 0x08, 0x00, 0x1a, 0x00) // record {pk 0, data ""}
	}
	keys := bytes.Repeat([]byte{0x0a, 0x01, 'k'}, size/3) // a table of 4M one-byte keys, no records
	for _, tc := range []struct {
		name    string
		body    []byte
		records int
	}{{"tiny records", tiny, (len(tiny) - 2) / 6}, {"key table", keys, 0}} {
		data := kplWithChecksum(tc.body)
		var out []UserRecord
		var err error
		alloc := allocBytes(func() { out, err = Deaggregate(data, "pk") })
		if err != nil || len(out) != tc.records {
			t.Fatalf("%s: %d records, %v", tc.name, len(out), err)
		}
		// The output itself is one UserRecord per record (72 bytes for 6
		// bytes of input); allow that and a small multiple of the input.
		limit := uint64(len(out))*uint64(unsafe.Sizeof(UserRecord{})) + 8*uint64(len(data))
		t.Logf("%s: %.1f MB in, %d records, %.1f MB allocated (limit %.1f MB)", tc.name, float64(len(data))/1e6, len(out), float64(alloc)/1e6, float64(limit)/1e6)
		if alloc > limit {
			t.Fatalf("%s: allocated %d bytes for %d bytes (limit %d)", tc.name, alloc, len(data), limit)
		}
	}
	// Data aliases the input, capped so that appending to it cannot
	// overwrite the next record.
	agg := aggregate([]UserRecord{{PartitionKey: "a", Data: []byte("xy")}, {PartitionKey: "a", Data: []byte("z")}})
	out, err := Deaggregate(agg, "a")
	if err != nil || len(out) != 2 {
		t.Fatal(out, err)
	}
	_ = append(out[0].Data, '!')
	if again, _ := Deaggregate(agg, "a"); len(again) != 2 || string(again[1].Data) != "z" || cap(out[0].Data) != 2 {
		t.Fatalf("append to Data reached the next record: %+v", again)
	}
}

// aggregate packs user records into one KPL aggregated record, as the KPL
// does (partition keys and explicit hash keys deduplicated into tables).
// The caller puts the result with any one of the records' partition keys.
func aggregate(recs []UserRecord) []byte {
	var body []byte
	pkIdx, ehkIdx := map[string]uint64{}, map[string]uint64{}
	var pkOrder, ehkOrder []string
	for _, r := range recs {
		if _, ok := pkIdx[r.PartitionKey]; !ok {
			pkIdx[r.PartitionKey] = uint64(len(pkOrder))
			pkOrder = append(pkOrder, r.PartitionKey)
		}
		if r.ExplicitHashKey != "" {
			if _, ok := ehkIdx[r.ExplicitHashKey]; !ok {
				ehkIdx[r.ExplicitHashKey] = uint64(len(ehkOrder))
				ehkOrder = append(ehkOrder, r.ExplicitHashKey)
			}
		}
	}
	for _, k := range pkOrder {
		body = pbBytes(body, 1, []byte(k))
	}
	for _, k := range ehkOrder {
		body = pbBytes(body, 2, []byte(k))
	}
	for _, r := range recs {
		var m []byte
		m = binary.AppendUvarint(m, 1<<3) // field 1, varint
		m = binary.AppendUvarint(m, pkIdx[r.PartitionKey])
		if r.ExplicitHashKey != "" {
			m = binary.AppendUvarint(m, 2<<3) // field 2, varint
			m = binary.AppendUvarint(m, ehkIdx[r.ExplicitHashKey])
		}
		m = pbBytes(m, 3, r.Data)
		body = pbBytes(body, 3, m)
	}
	sum := md5.Sum(body)
	out := append(append([]byte(nil), kplMagic...), body...)
	return append(out, sum[:]...)
}

func pbBytes(dst []byte, field int, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(field)<<3|2)
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}
