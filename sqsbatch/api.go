package sqsbatch

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// The AWS calls this package makes, one interface per operation, with the
// SDK's own signatures: pass an *sqs.Client, *s3.Client or *dynamodb.Client.

// SendMessageBatchAPI is the SQS call the [Writer] makes.
type SendMessageBatchAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// GetQueueAttributesAPI reads a queue's limits and ARN.
type GetQueueAttributesAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// ReceiveMessageAPI is the long poll of the [Consumer] and the DLQ tools.
type ReceiveMessageAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
}

// DeleteMessageBatchAPI acknowledges processed messages.
type DeleteMessageBatchAPI interface {
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// ChangeMessageVisibilityBatchAPI extends (heartbeat) or ends (release) the
// visibility of received messages.
type ChangeMessageVisibilityBatchAPI interface {
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// ConsumerAPI is what a [Consumer] needs from SQS.
type ConsumerAPI interface {
	ReceiveMessageAPI
	DeleteMessageBatchAPI
	ChangeMessageVisibilityBatchAPI
}

// PutObjectAPI stores offloaded message bodies (extended-client format).
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// GetObjectAPI reads CSV objects and offloaded message bodies.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// DynamoDBAPI is the writes a [DynamoStore] makes (claim, complete,
// release); [DynamoStoreAPI] is everything it needs.
type DynamoDBAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}
