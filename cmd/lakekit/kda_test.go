package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lakekit/lakekit/kda/kinesistest"
)

func init() {
	scriptServers["kinesis"] = serverKinesis
}

// serverKinesis is `server kinesis [STREAM=FILE…]`: kinesis-local, its
// endpoint in AWS_ENDPOINT_URL_KINESIS, with each STREAM created (one
// shard) and every non-empty line of $WORK/FILE put into it as one record
// (partition key: the line number), in order.
func serverKinesis(ts *testscript.TestScript, streams []string) {
	ctx := context.Background()
	srv, err := kinesistest.Start(ctx)
	if err != nil {
		ts.Fatalf("server kinesis: %v", err)
	}
	ts.Defer(func() { srv.Close() })
	ts.Setenv("AWS_ENDPOINT_URL_KINESIS", srv.Endpoint)
	for _, arg := range streams {
		name, file, ok := bytes.Cut([]byte(arg), []byte("="))
		if !ok {
			ts.Fatalf("server kinesis: %q: want STREAM=FILE", arg)
		}
		stream := string(name)
		if err := srv.CreateStream(ctx, stream, 1); err != nil {
			ts.Fatalf("server kinesis: %v", err)
		}
		f, err := os.Open(ts.MkAbs(string(file)))
		ts.Check(err)
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			if _, err := srv.Client.PutRecord(ctx, &kinesis.PutRecordInput{
				StreamName: &stream, Data: bytes.Clone(sc.Bytes()), PartitionKey: aws.String(strconv.Itoa(n)),
			}); err != nil {
				ts.Fatalf("server kinesis: put %s line %d: %v", stream, n, err)
			}
		}
		ts.Check(sc.Err())
		f.Close()
		fmt.Fprintf(ts.Stdout(), "stream %s ready\n", stream)
	}
}
