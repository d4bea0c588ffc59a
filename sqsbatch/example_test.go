package sqsbatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/sqsbatch"
)

func ExampleNewCSV() {
	in := "\xEF\xBB\xBForder_id,note\r\n" +
		"A-1,\"two lines,\r\nand a comma\"\r\n" +
		"A-2\r\n" + // malformed: one field
		"A-3,plain\r\n"
	src, err := sqsbatch.NewCSV(strings.NewReader(in), func(o *sqsbatch.CSVOptions) { o.KeyColumn = "order_id" })
	if err != nil {
		panic(err)
	}
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		var re *sqsbatch.RowError
		if errors.As(err, &re) {
			fmt.Println("skipped line", re.Line)
			continue
		}
		fmt.Printf("line %d key %s body %s\n", rec.Line, rec.Key, rec.JSON())
	}
	// Output:
	// line 2 key A-1 body {"order_id": "A-1", "note": "two lines,\nand a comma"}
	// skipped line 4
	// line 5 key A-3 body {"order_id": "A-3", "note": "plain"}
}

func ExampleEncodePointer() {
	body := sqsbatch.EncodePointer(sqsbatch.Pointer{Bucket: "payloads", Key: "offload/0f3a"})
	fmt.Println(body)
	p, _ := sqsbatch.DecodePointer(body)
	fmt.Println(p.Bucket, p.Key)
	// Output:
	// ["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"payloads","s3Key":"offload/0f3a"}]
	// payloads offload/0f3a
}

func ExampleIdempotency_Do() {
	ctx := context.Background()
	idem, err := sqsbatch.NewIdempotency(sqsbatch.NewMemoryStore(), nil)
	if err != nil {
		panic(err)
	}
	charge := func(ctx context.Context) ([]byte, error) {
		fmt.Println("charging order A-1")
		return []byte("receipt-7"), nil
	}
	for range 3 {
		res, dup, err := idem.Do(ctx, "A-1", charge)
		fmt.Println(string(res), dup, err)
	}
	// Output:
	// charging order A-1
	// receipt-7 false <nil>
	// receipt-7 true <nil>
	// receipt-7 true <nil>
}

func ExampleNewLambdaHandler() {
	h := sqsbatch.NewLambdaHandler(func(ctx context.Context, m types.Message) error {
		if strings.Contains(aws.ToString(m.Body), "bad") {
			return errors.New("cannot process")
		}
		return nil
	})
	resp, _ := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: `{"id":"1"}`},
		{MessageId: "m2", Body: `{"id":"bad"}`},
		{MessageId: "m3", Body: `{"id":"3"}`},
	}})
	fmt.Printf("%+v\n", resp.BatchItemFailures)
	// Output:
	// [{ItemIdentifier:m2}]
}
