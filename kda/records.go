package kda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// RecordsError is a records dump that ReadRecords cannot read: Document is
// the index of the JSON document in the input (0 for the first), Path the
// JSON path of the fault in it ("Records[3].Data").
type RecordsError struct {
	Document int
	Path     string
	Msg      string
}

func (e *RecordsError) Error() string {
	return fmt.Sprintf("kda: records document %d: %s: %s", e.Document, e.Path, e.Msg)
}

// dumpRecord is a record of `aws kinesis get-records` output (Data,
// PartitionKey, …) or of a Lambda Kinesis event (kinesis.data, …).
type dumpRecord struct {
	SequenceNumber              string          `json:"SequenceNumber"`
	ApproximateArrivalTimestamp json.RawMessage `json:"ApproximateArrivalTimestamp"`
	Data                        *string         `json:"Data"`
	PartitionKey                string          `json:"PartitionKey"`
	Kinesis                     *struct {
		SequenceNumber              string          `json:"sequenceNumber"`
		ApproximateArrivalTimestamp json.RawMessage `json:"approximateArrivalTimestamp"`
		Data                        *string         `json:"data"`
		PartitionKey                string          `json:"partitionKey"`
	} `json:"kinesis"`
	EventID string `json:"eventID"`
}

// ReadRecords reads a dump of Kinesis records: the JSON that `aws kinesis
// get-records` prints ({"Records": [{"SequenceNumber", "ApproximateArrivalTimestamp",
// "Data" (base64), "PartitionKey"}], …}) or a Lambda Kinesis event
// ({"Records": [{"kinesis": {…}, "eventID": "shardId-…:…"}]}), or any number
// of either one after the other (pages of get-records appended to one
// file). ApproximateArrivalTimestamp is epoch seconds with a fraction, as
// the CLI prints it by default, or an ISO 8601 string (the CLI's
// cli_timestamp_format iso8601); it becomes the record's ArrivalTime, the
// ROWTIME a replay stamps. KPL aggregates are de-aggregated, as the Lambda
// adapter and the Consumer do. Errors are *RecordsError.
func ReadRecords(r io.Reader) ([]KinesisRecord, error) {
	dec := json.NewDecoder(r)
	var out []KinesisRecord
	for doc := 0; ; doc++ {
		var d struct {
			Records *[]dumpRecord `json:"Records"`
		}
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			if doc == 0 {
				return nil, &RecordsError{Path: "$", Msg: "no JSON document"}
			}
			return out, nil
		}
		if err != nil {
			return nil, &RecordsError{Document: doc, Path: "$", Msg: err.Error()}
		}
		if d.Records == nil {
			return nil, &RecordsError{Document: doc, Path: "Records", Msg: "missing: not get-records output or a Lambda Kinesis event"}
		}
		for i, dr := range *d.Records {
			krs, err := dr.records(doc, fmt.Sprintf("Records[%d]", i))
			if err != nil {
				return nil, err
			}
			out = append(out, krs...)
		}
	}
}

// records converts one dumped record into its user records.
func (dr dumpRecord) records(doc int, path string) ([]KinesisRecord, error) {
	seq, ts, data, pk, shard := dr.SequenceNumber, dr.ApproximateArrivalTimestamp, dr.Data, dr.PartitionKey, ""
	dataPath, tsPath := path+".Data", path+".ApproximateArrivalTimestamp"
	if k := dr.Kinesis; k != nil {
		seq, ts, data, pk = k.SequenceNumber, k.ApproximateArrivalTimestamp, k.Data, k.PartitionKey
		dataPath, tsPath = path+".kinesis.data", path+".kinesis.approximateArrivalTimestamp"
		shard, _, _ = strings.Cut(dr.EventID, ":")
	}
	if data == nil {
		return nil, &RecordsError{Document: doc, Path: dataPath, Msg: "missing"}
	}
	raw, err := base64.StdEncoding.DecodeString(*data)
	if err != nil {
		return nil, &RecordsError{Document: doc, Path: dataPath, Msg: "not base64: " + err.Error()}
	}
	at, err := parseArrival(ts)
	if err != nil {
		return nil, &RecordsError{Document: doc, Path: tsPath, Msg: err.Error()}
	}
	var krs []KinesisRecord
	for _, u := range userRecords(raw, pk) {
		krs = append(krs, KinesisRecord{UserRecord: u, ShardID: shard, SequenceNumber: seq, ArrivalTime: at})
	}
	return krs, nil
}

// parseArrival reads an arrival timestamp: epoch seconds (a JSON number,
// read as decimal digits so that 1545084650.987 is exactly .987) or an
// ISO 8601 string.
func parseArrival(ts json.RawMessage) (time.Time, error) {
	ts = bytes.TrimSpace(ts)
	if len(ts) == 0 || string(ts) == "null" {
		return time.Time{}, errors.New("missing")
	}
	if ts[0] == '"' {
		var s string
		if err := json.Unmarshal(ts, &s); err != nil {
			return time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", s)
		}
		return t.UTC(), nil
	}
	s := string(ts)
	secs, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || len(frac) > 9 || sec < 0 || sec > 1<<40 || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%s is not epoch seconds", truncate(s, 40))
	}
	ns := int64(0)
	if frac != "" {
		ns, _ = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	}
	return time.Unix(sec, ns).UTC(), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
