package convert

import (
	"testing"

	"github.com/lakekit/lakekit/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// mustConverter is NewConverter for options a test knows are valid.
func mustConverter(sink Sink, optFns ...func(*ConverterOptions)) *Converter {
	c, err := NewConverter(sink, optFns...)
	if err != nil {
		panic(err)
	}
	return c
}

// mustS3Sink is NewS3Sink for options a test knows are valid.
func mustS3Sink(client S3SinkAPI, bucket, prefix string, optFns ...func(*S3SinkOptions)) *S3Sink {
	s, err := NewS3Sink(client, bucket, prefix, optFns...)
	if err != nil {
		panic(err)
	}
	return s
}
