// Package intake stands for a lakekit user's own code, in a module of its
// own: it forwards the rows of CSV order files that land in S3 to an SQS
// queue, one message per row, and remembers in a DynamoDB table which files
// it forwarded, so that a file delivered twice (S3 event notifications are
// at least once) is sent once. Its tests (intake_test.go) run it against
// lakekit's test kit: s3test, sqstest.
package intake

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/sqsbatch"
)

// ErrSeen is returned for a file that was forwarded before.
var ErrSeen = errors.New("intake: file already forwarded")

// Intake forwards order files.
type Intake struct {
	S3       *s3.Client
	SQS      *sqs.Client
	DynamoDB *dynamodb.Client
	// Table is the DynamoDB table of forwarded files: hash key "file", a
	// string.
	Table string
	// QueueURL is the queue the rows go to.
	QueueURL string
}

// Forward sends every row of the CSV object bucket/key to the queue as a
// JSON object keyed by its header, and returns how many it sent. A file
// forwarded before gives ErrSeen; a malformed row stops it with the
// row's *sqsbatch.RowError, after which the file may be forwarded again.
func (in *Intake) Forward(ctx context.Context, bucket, key string) (int, error) {
	file := bucket + "/" + key
	if err := in.claim(ctx, file); err != nil {
		return 0, err
	}
	n, err := in.send(ctx, bucket, key)
	if err != nil {
		// Not forwarded: let the retry in.
		_, derr := in.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &in.Table,
			Key: map[string]ddbtypes.AttributeValue{"file": &ddbtypes.AttributeValueMemberS{Value: file}}})
		return n, errors.Join(err, derr)
	}
	return n, nil
}

func (in *Intake) claim(ctx context.Context, file string) error {
	_, err := in.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &in.Table,
		Item:                map[string]ddbtypes.AttributeValue{"file": &ddbtypes.AttributeValueMemberS{Value: file}},
		ConditionExpression: aws.String("attribute_not_exists(#f)"), ExpressionAttributeNames: map[string]string{"#f": "file"}})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: s3://%s", ErrSeen, file)
	}
	return err
}

func (in *Intake) send(ctx context.Context, bucket, key string) (int, error) {
	obj, err := in.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return 0, err
	}
	defer obj.Body.Close()
	src, err := sqsbatch.NewCSV(obj.Body)
	if err != nil {
		return 0, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	var msgs []sqsbatch.Message
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
		}
		msgs = append(msgs, rec.Message())
	}
	w, err := sqsbatch.NewWriter(in.SQS, in.QueueURL)
	if err != nil {
		return 0, err
	}
	defer w.Close(ctx)
	if _, err := w.SendAll(ctx, msgs); err != nil {
		return 0, err
	}
	return len(msgs), nil
}
