package kda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Checkpointer stores, per shard, the sequence number of the last record
// processed. Implementations must be safe for concurrent use.
type Checkpointer interface {
	// Checkpoint returns the shard's checkpoint, "" when there is none.
	Checkpoint(ctx context.Context, shardID string) (string, error)
	// SetCheckpoint records seq (or ShardEnd) for the shard.
	SetCheckpoint(ctx context.Context, shardID, seq string) error
}

// MemoryCheckpoints is an in-process Checkpointer and StateStore. The
// zero value is ready.
type MemoryCheckpoints struct {
	mu     sync.Mutex
	m      map[string]string
	states map[string][]byte
}

// Checkpoint implements Checkpointer.
func (c *MemoryCheckpoints) Checkpoint(_ context.Context, shardID string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[shardID], nil
}

// SetCheckpoint implements Checkpointer.
func (c *MemoryCheckpoints) SetCheckpoint(_ context.Context, shardID, seq string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[shardID] = seq
	return nil
}

// CheckpointTableAPI is the DynamoDB calls DynamoDBCheckpoints makes.
type CheckpointTableAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// ErrCheckpointBehind is returned by DynamoDBCheckpoints.SetCheckpoint when
// the stored checkpoint is already further along: another consumer owns
// the shard, or this one is replaying.
var ErrCheckpointBehind = errors.New("kda: stored checkpoint is ahead of this one")

// DynamoDBCheckpoints keeps checkpoints in a DynamoDB table whose partition
// key is the string attribute "shard". Items are keyed
// "<application>/<shard id>" so applications can share a table. A
// checkpoint never moves backwards: SetCheckpoint with an older sequence
// number fails with ErrCheckpointBehind (sequence numbers are compared as
// numbers, through a zero-padded copy in "seq_sort"). As a StateStore it
// keeps each window state in the item "<application>#state/<key>", or
// split over items "<application>#state-part/<key>/…" when it is over
// MaxDynamoDBStateBytes.
type DynamoDBCheckpoints struct {
	client     CheckpointTableAPI
	table, app string
	now        func() time.Time
}

// DynamoDBCheckpointsOptions configures DynamoDBCheckpoints.
type DynamoDBCheckpointsOptions struct {
	// Now stamps each checkpoint's "updated" attribute. Default time.Now.
	Now func() time.Time
}

// NewDynamoDBCheckpoints returns checkpoints for application app in table
// (see CreateCheckpointTableInput).
func NewDynamoDBCheckpoints(client CheckpointTableAPI, table, app string, optFns ...func(*DynamoDBCheckpointsOptions)) (*DynamoDBCheckpoints, error) {
	if table == "" || app == "" {
		return nil, errors.New("kda: NewDynamoDBCheckpoints needs a table and an application name")
	}
	var o DynamoDBCheckpointsOptions
	for _, f := range optFns {
		f(&o)
	}
	o.Now = orNow(o.Now)
	return &DynamoDBCheckpoints{client: client, table: table, app: app, now: o.Now}, nil
}

// CreateCheckpointTableInput is the table DynamoDBCheckpoints expects,
// on-demand billing.
func CreateCheckpointTableInput(table string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("shard"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("shard"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}
}

func (c *DynamoDBCheckpoints) key(shardID string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"shard": &ddbtypes.AttributeValueMemberS{Value: c.app + "/" + shardID}}
}

// Checkpoint implements Checkpointer with a consistent read.
func (c *DynamoDBCheckpoints) Checkpoint(ctx context.Context, shardID string) (string, error) {
	out, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.table, Key: c.key(shardID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", err
	}
	if v, ok := out.Item["seq"].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return "", nil
}

// seqSort pads a sequence number so that string order is numeric order;
// ShardEnd sorts after every number.
func seqSort(seq string) string {
	if seq == ShardEnd {
		return "~"
	}
	if len(seq) >= 80 {
		return seq
	}
	return strings.Repeat("0", 80-len(seq)) + seq
}

// SetCheckpoint implements Checkpointer.
func (c *DynamoDBCheckpoints) SetCheckpoint(ctx context.Context, shardID, seq string) error {
	item := c.key(shardID)
	item["seq"] = &ddbtypes.AttributeValueMemberS{Value: seq}
	item["seq_sort"] = &ddbtypes.AttributeValueMemberS{Value: seqSort(seq)}
	item["updated"] = &ddbtypes.AttributeValueMemberS{Value: c.now().UTC().Format(time.RFC3339Nano)}
	_, err := c.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &c.table,
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#k) OR #s <= :s"),
		ExpressionAttributeNames:  map[string]string{"#k": "shard", "#s": "seq_sort"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": item["seq_sort"]},
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: shard %s at %s", ErrCheckpointBehind, shardID, seq)
	}
	return err
}
