package sqstest_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/sqsbatch/sqstest"
)

// In a test, srv := sqstest.New(t) starts the server and the test's
// end stops it; outside a test, as here, Start gives the same server and
// the caller closes it.
func Example() {
	ctx := context.Background()
	srv, err := sqstest.Start(ctx)
	if err != nil {
		fmt.Println(err) // names the command that installs the npm servers
		return
	}
	defer srv.Close()
	q, _ := srv.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders")})
	srv.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(`{"order":1}`)})
	out, _ := srv.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	for _, m := range out.Messages {
		fmt.Println(aws.ToString(m.Body))
	}
	// Output: {"order":1}
}

// StartDynamoDB is NewDynamoDB outside a test.
func ExampleStartDynamoDB() {
	ctx := context.Background()
	d, err := sqstest.StartDynamoDB(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	out, err := d.Client.ListTables(ctx, &dynamodb.ListTablesInput{})
	fmt.Println(len(out.TableNames), err)
	// Output: 0 <nil>
}
