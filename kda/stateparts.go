package kda

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxDynamoDBStateParts bounds the items a state over
// MaxDynamoDBStateBytes is split into (about 12.8 MB in all). A
// RANDOM_CUT_FOREST with KDA's defaults holds 100 trees of 256 points:
// about 750 KB of state for two numeric columns, two parts.
const MaxDynamoDBStateParts = 32

// A state over MaxDynamoDBStateBytes is stored in parts: the items
// "<application>#state-part/<key>/<slot>/<i>" hold its pieces, and the
// state's own item holds, instead of the state, the number of parts, the
// slot, the size and the SHA-256. Each write goes to the slot the item
// does not point at and flips the item last, so a crash mid-write leaves
// the previous state whole; State checks size and hash.

func (c *DynamoDBCheckpoints) partKey(key string, slot, i int) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"shard": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("%s#state-part/%s/%d/%d", c.app, key, slot, i)}}
}

func numAttr(item map[string]ddbtypes.AttributeValue, name string) (int, bool) {
	v, ok := item[name].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v.Value)
	return n, err == nil
}

func numValue(n int) *ddbtypes.AttributeValueMemberN {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(n)}
}

// setStateParts writes state in parts (see above).
func (c *DynamoDBCheckpoints) setStateParts(ctx context.Context, key string, state []byte) error {
	parts := (len(state) + MaxDynamoDBStateBytes - 1) / MaxDynamoDBStateBytes
	if parts > MaxDynamoDBStateParts {
		return &StateTooLargeError{Key: key, Size: len(state), Limit: MaxDynamoDBStateParts * MaxDynamoDBStateBytes}
	}
	head, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.table, Key: c.stateKey(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	slot := 0
	if s, ok := numAttr(head.Item, "slot"); ok && s == 0 {
		slot = 1
	}
	for i := range parts {
		item := c.partKey(key, slot, i)
		item["state"] = &ddbtypes.AttributeValueMemberB{Value: state[i*MaxDynamoDBStateBytes : min(len(state), (i+1)*MaxDynamoDBStateBytes)]}
		if _, err := c.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &c.table, Item: item}); err != nil {
			return err
		}
	}
	sum := sha256.Sum256(state)
	item := c.stateKey(key)
	item["parts"], item["slot"], item["size"] = numValue(parts), numValue(slot), numValue(len(state))
	item["sha256"] = &ddbtypes.AttributeValueMemberB{Value: sum[:]}
	item["updated"] = &ddbtypes.AttributeValueMemberS{Value: c.now().UTC().Format(time.RFC3339Nano)}
	_, err = c.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &c.table, Item: item})
	return err
}

// stateParts reads the parts the state item head points at.
func (c *DynamoDBCheckpoints) stateParts(ctx context.Context, key string, head map[string]ddbtypes.AttributeValue) ([]byte, error) {
	parts, ok1 := numAttr(head, "parts")
	slot, ok2 := numAttr(head, "slot")
	size, ok3 := numAttr(head, "size")
	sum, ok4 := head["sha256"].(*ddbtypes.AttributeValueMemberB)
	if !ok1 || !ok2 || !ok3 || !ok4 || parts < 1 || parts > MaxDynamoDBStateParts || size > parts*MaxDynamoDBStateBytes {
		return nil, fmt.Errorf("kda: state %q: the item's parts, slot, size or sha256 is missing or out of range", key)
	}
	state := make([]byte, 0, size)
	for i := range parts {
		out, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.table, Key: c.partKey(key, slot, i), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, err
		}
		v, ok := out.Item["state"].(*ddbtypes.AttributeValueMemberB)
		if !ok {
			return nil, fmt.Errorf("kda: state %q: part %d of %d is missing", key, i+1, parts)
		}
		state = append(state, v.Value...)
	}
	if got := sha256.Sum256(state); len(state) != size || !bytes.Equal(got[:], sum.Value) {
		return nil, fmt.Errorf("kda: state %q: its %d parts make %d bytes that do not match the item's size %d and SHA-256", key, parts, len(state), size)
	}
	return state, nil
}
