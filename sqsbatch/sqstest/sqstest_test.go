package sqstest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/sqsbatch/sqstest"
)

func TestNew(t *testing.T) {
	ctx := context.Background()
	srv := sqstest.New(t)
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %s", srv.Endpoint)
	}
	t.Run("queue", func(t *testing.T) {
		q := srv.NewQueue(t, map[string]string{"VisibilityTimeout": "5"})
		if _, err := srv.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q, MessageBody: aws.String("hi")}); err != nil {
			t.Fatal(err)
		}
		out, err := srv.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, WaitTimeSeconds: 1})
		if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "hi" {
			t.Fatalf("received %+v, %v", out, err)
		}
	})
	t.Run("fifo", func(t *testing.T) {
		q := srv.NewQueue(t, map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
		if !strings.HasSuffix(q, ".fifo") {
			t.Fatalf("FIFO queue URL %s", q)
		}
	})
	t.Run("sns to sqs", func(t *testing.T) {
		q := srv.NewQueue(t, nil)
		attrs, err := srv.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &q, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		topic, err := srv.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String(attrs.Attributes["QueueArn"]), Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.SNS.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("unknown face")}); err != nil {
			t.Fatal(err)
		}
		out, err := srv.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, WaitTimeSeconds: 2})
		if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "unknown face" {
			t.Fatalf("received %+v, %v", out, err)
		}
	})
}

func TestNewDynamoDB(t *testing.T) {
	ctx := context.Background()
	d := sqstest.NewDynamoDB(t)
	table := aws.String("seen")
	if _, err := d.Client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: table, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(d.Client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: table}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	put := func() error {
		_, err := d.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, ConditionExpression: aws.String("attribute_not_exists(id)"),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "m-1"}}})
		return err
	}
	if err := put(); err != nil {
		t.Fatal(err)
	}
	var ccf *ddbtypes.ConditionalCheckFailedException
	if err := put(); !errors.As(err, &ccf) {
		t.Fatalf("second conditional put: %v", err)
	}
}
