package kinesistest_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/lakekit/lakekit/kda/kinesistest"
)

// In a test, srv := kinesistest.New(t) starts the server and the test's
// end stops it; outside a test, as here, Start gives the same server and
// the caller closes it.
func Example() {
	ctx := context.Background()
	srv, err := kinesistest.Start(ctx)
	if err != nil {
		fmt.Println(err) // names the command that installs the npm servers
		return
	}
	defer srv.Close()
	srv.Client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("clicks"), ShardCount: aws.Int32(1)})
	out, err := srv.Client.ListStreams(ctx, &kinesis.ListStreamsInput{})
	fmt.Println(out.StreamNames, err)
	// Output: [clicks] <nil>
}

// StartFirehose is NewFirehose outside a test.
func ExampleStartFirehose() {
	f := kinesistest.StartFirehose("anomalies")
	defer f.Close()
	f.Client.PutRecord(context.Background(), &firehose.PutRecordInput{
		DeliveryStreamName: aws.String("anomalies"), Record: &fhtypes.Record{Data: []byte(`{"score":4.2}` + "\n")}})
	fmt.Printf("%q\n", f.Records("anomalies"))
	// Output: ["{\"score\":4.2}\n"]
}
