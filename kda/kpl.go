package kda

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
)

// kplMagic starts every record aggregated by the Kinesis Producer Library.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// UserRecord is one record carried inside a Kinesis record: the record
// itself, or one of the user records of a KPL aggregate.
type UserRecord struct {
	PartitionKey    string
	ExplicitHashKey string
	Data            []byte
	// SubSequence is the index inside the aggregate (0 when not aggregated).
	SubSequence int
	Aggregated  bool
}

// ErrBadAggregate is a record with the KPL magic and a valid MD5 whose
// protobuf body is malformed.
var ErrBadAggregate = errors.New("kda: malformed KPL aggregated record")

// Deaggregate returns the user records of a Kinesis record. A KPL aggregate
// (magic bytes, protobuf AggregatedRecord, MD5 of the protobuf) yields its
// records; anything else, including a record whose MD5 does not match (as
// the KCL does), yields the record itself with partitionKey.
//
// Each UserRecord's Data aliases data (capped, so appending to it copies):
// change data and the records change. Memory is bounded by the input: the
// aggregate is walked once to count its records and keys, so every slice
// is allocated once at its final size, and each key is copied once.
func Deaggregate(data []byte, partitionKey string) ([]UserRecord, error) {
	single := []UserRecord{{PartitionKey: partitionKey, Data: data}}
	if len(data) < len(kplMagic)+md5.Size || !bytes.HasPrefix(data, kplMagic) {
		return single, nil
	}
	body := data[len(kplMagic) : len(data)-md5.Size]
	sum := md5.Sum(body)
	if !bytes.Equal(sum[:], data[len(data)-md5.Size:]) {
		return single, nil
	}
	// Pass 1: check the framing and count, allocating nothing.
	var npk, nehk, nrec int
	err := pbFields(body, func(field, wire int, _ uint64, _ []byte) error {
		switch {
		case field == 1 && wire == 2:
			npk++
		case field == 2 && wire == 2:
			nehk++
		case field == 3 && wire == 2:
			nrec++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Pass 2: the key tables (records may come before them in the message).
	pks, ehks := make([]string, 0, npk), make([]string, 0, nehk)
	_ = pbFields(body, func(field, wire int, _ uint64, b []byte) error {
		switch {
		case field == 1 && wire == 2:
			pks = append(pks, string(b))
		case field == 2 && wire == 2:
			ehks = append(ehks, string(b))
		}
		return nil
	})
	// Pass 3: the records.
	out := make([]UserRecord, 0, nrec)
	err = pbFields(body, func(field, wire int, _ uint64, b []byte) error {
		if field != 3 || wire != 2 {
			return nil
		}
		var pk, ehk uint64
		var hasPK, hasEHK, hasData bool
		u := UserRecord{SubSequence: len(out), Aggregated: true}
		err := pbFields(b, func(f, w int, v uint64, bb []byte) error {
			switch {
			case f == 1 && w == 0:
				pk, hasPK = v, true
			case f == 2 && w == 0:
				ehk, hasEHK = v, true
			case f == 3 && w == 2:
				u.Data, hasData = bb, true
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !hasPK || !hasData || pk >= uint64(len(pks)) || hasEHK && ehk >= uint64(len(ehks)) {
			return fmt.Errorf("%w: record %d has a missing or out-of-range field", ErrBadAggregate, len(out))
		}
		u.PartitionKey = pks[pk]
		if hasEHK {
			u.ExplicitHashKey = ehks[ehk]
		}
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pbFields walks a protobuf message's fields. For varints v is set; for
// length-delimited fields b is set. Fixed-size fields are skipped.
func pbFields(b []byte, fn func(field, wire int, v uint64, b []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return fmt.Errorf("%w: bad field key", ErrBadAggregate)
		}
		b = b[n:]
		field, wire := int(key>>3), int(key&7)
		if field == 0 {
			return fmt.Errorf("%w: field number 0", ErrBadAggregate)
		}
		switch wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return fmt.Errorf("%w: bad varint", ErrBadAggregate)
			}
			b = b[n:]
			if err := fn(field, wire, v, nil); err != nil {
				return err
			}
		case 1, 5:
			size := 8
			if wire == 5 {
				size = 4
			}
			if len(b) < size {
				return fmt.Errorf("%w: truncated fixed field", ErrBadAggregate)
			}
			b = b[size:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return fmt.Errorf("%w: bad length", ErrBadAggregate)
			}
			end := n + int(l)
			if err := fn(field, wire, 0, b[n:end:end]); err != nil {
				return err
			}
			b = b[end:]
		default:
			return fmt.Errorf("%w: unsupported wire type %d", ErrBadAggregate, wire)
		}
	}
	return nil
}

// userRecords de-aggregates a Kinesis record for the consumers (the Lambda
// adapter and the polling Consumer), which treat a malformed aggregate
// alike: the record is handed on as it is, one raw user record, so the
// application sees it (the SQL engine sends it to error_stream) instead of
// it blocking its shard until it expires. Nothing is dropped.
func userRecords(data []byte, partitionKey string) []UserRecord {
	urs, err := Deaggregate(data, partitionKey)
	if err != nil {
		return []UserRecord{{PartitionKey: partitionKey, Data: data}}
	}
	return urs
}
