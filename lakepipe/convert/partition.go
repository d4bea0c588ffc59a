package convert

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// DatePart selects what a partition key takes from its column.
type DatePart int

// Date parts.
const (
	// PartValue takes the whole value; the column then lives only in the
	// partition path, not in the files (Hive and Glue partitionKeys).
	PartValue DatePart = iota
	PartYear           // four-digit year of a date or timestamp column
	PartMonth          // two-digit month, 01–12
	PartDay            // two-digit day, 01–31
)

// PartitionKey is one Hive partition key of the output paths (key=value/).
type PartitionKey struct {
	Name   string   // key in the path, e.g. "year"
	Column string   // output column the value comes from; "" for Value
	Part   DatePart // what to take from a date or timestamp column
	Value  string   // the value of every row when Column is ""
}

// ProcessingDatePartitions returns year=/month=/day= keys holding the UTC
// date of t, zero-padded (year=2020/month=03/day=07), as the seed's ETL
// meant with datetime.now(): its str(now.month) wrote month=3, which sorts
// and filters wrongly as a string partition.
func ProcessingDatePartitions(t time.Time) []PartitionKey {
	t = t.UTC()
	return []PartitionKey{
		{Name: "year", Value: fmt.Sprintf("%04d", t.Year())},
		{Name: "month", Value: fmt.Sprintf("%02d", int(t.Month()))},
		{Name: "day", Value: fmt.Sprintf("%02d", t.Day())},
	}
}

// DatePartitions returns year=/month=/day= keys taken from a date or
// timestamp output column, which stays in the files.
func DatePartitions(column string) []PartitionKey {
	return []PartitionKey{
		{Name: "year", Column: column, Part: PartYear},
		{Name: "month", Column: column, Part: PartMonth},
		{Name: "day", Column: column, Part: PartDay},
	}
}

// partSpec is a resolved partition key.
type partSpec struct {
	key   PartitionKey
	codec int    // codec of the column, or -1 for a constant
	value string // escaped constant value
}

func (run *conversion) resolvePartitions() ([]partSpec, error) {
	var specs []partSpec
	names := map[string]bool{}
	constant := true
	for _, k := range run.c.opts.Partitions {
		if k.Name == "" || normalizeName(k.Name) != k.Name {
			return nil, &SchemaError{Msg: fmt.Sprintf("partition key %q must be lower-case letters, digits and _", k.Name)}
		}
		if names[k.Name] {
			return nil, &SchemaError{Msg: fmt.Sprintf("partition key %q appears twice", k.Name)}
		}
		names[k.Name] = true
		s := partSpec{key: k, codec: -1}
		if k.Column == "" {
			if k.Value == "" {
				s.value = HiveDefaultPartition
			} else {
				s.value = escapePartitionValue(k.Value)
			}
		} else {
			constant = false
			for i := range run.codecs {
				if run.codecs[i].Name == k.Column {
					s.codec = i
				}
			}
			if s.codec < 0 {
				return nil, &SchemaError{Msg: fmt.Sprintf("partition key %q: no output column %q", k.Name, k.Column)}
			}
			t := run.codecs[s.codec].Type
			if k.Part != PartValue && t != TypeDate && t != TypeTimestamp {
				return nil, &SchemaError{Msg: fmt.Sprintf("partition key %q: column %q is %v, not a date or timestamp", k.Name, k.Column, t)}
			}
			if k.Part == PartValue && k.Name != k.Column {
				return nil, &SchemaError{Msg: fmt.Sprintf("partition key %q takes the whole column %q: name it %q", k.Name, k.Column, k.Column)}
			}
		}
		specs = append(specs, s)
	}
	if constant {
		var b strings.Builder
		for _, s := range specs {
			b.WriteString(s.key.Name + "=" + s.value + "/")
		}
		run.constKey = b.String()
	}
	return specs, nil
}

// partitionOnly reports whether the codec's column is a whole-value
// partition key, kept out of the files.
func (run *conversion) partitionOnly(codec int) bool {
	for _, s := range run.parts {
		if s.codec == codec && s.key.Part == PartValue {
			return true
		}
	}
	return false
}

// partitionPath appends the row's partition path (k=v/…/) to buf.
func (run *conversion) partitionPath(buf []byte, row []parquet.Value, null []bool) []byte {
	for _, s := range run.parts {
		buf = append(buf, s.key.Name...)
		buf = append(buf, '=')
		if s.codec < 0 {
			buf = append(buf, s.value...)
		} else if null[s.codec] {
			buf = append(buf, HiveDefaultPartition...)
		} else {
			buf = appendEscaped(buf, partitionText(&run.codecs[s.codec], s.key.Part, row[s.codec]))
		}
		buf = append(buf, '/')
	}
	return buf
}

// partitionText renders a value as a partition value: dates as
// yyyy-MM-dd, timestamps as yyyy-MM-dd HH:mm:ss[.ffffff], as Hive does.
func partitionText(cd *colCodec, part DatePart, v parquet.Value) string {
	var t time.Time
	switch cd.Type {
	case TypeDate:
		t = time.Unix(int64(v.Int32())*86400, 0).UTC()
	case TypeTimestamp:
		t = time.UnixMicro(v.Int64()).UTC()
	case TypeString:
		return string(v.ByteArray())
	case TypeInt64:
		return strconv.FormatInt(v.Int64(), 10)
	case TypeFloat64:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64)
	case TypeBool:
		return strconv.FormatBool(v.Boolean())
	case TypeDecimal:
		return formatDecimal(v.Int64(), cd.Scale)
	}
	switch part {
	case PartYear:
		return fmt.Sprintf("%04d", t.Year())
	case PartMonth:
		return fmt.Sprintf("%02d", int(t.Month()))
	case PartDay:
		return fmt.Sprintf("%02d", t.Day())
	}
	if cd.Type == TypeDate {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04:05.999999")
}

func formatDecimal(n int64, scale int) string {
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	s := strconv.FormatUint(u, 10)
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// escapePartitionValue escapes a partition value as Hive's
// FileUtils.escapePathName does, so that no value can add a path segment
// or escape the table's prefix.
func escapePartitionValue(s string) string { return string(appendEscaped(nil, s)) }

func appendEscaped(buf []byte, s string) []byte {
	if s == "" {
		return append(buf, HiveDefaultPartition...)
	}
	const hexd = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0 {
			buf = append(buf, '%', hexd[c>>4], hexd[c&15])
			continue
		}
		buf = append(buf, c)
	}
	return buf
}

// unescapePartitionValue reverses escapePartitionValue.
func unescapePartitionValue(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
