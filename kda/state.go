package kda

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/lakekit/lakekit/kda/internal/engine"
)

// StateError reports window state that RestoreState cannot use: corrupt,
// truncated, of another encoding version, or saved by a different
// application. Offset is the byte where reading stopped.
type StateError = engine.StateError

// MaxStateBytes bounds the window state RestoreState reads (64 MiB).
const MaxStateBytes = engine.MaxStateBytes

// MaxOrderRows bounds the rows a streaming ORDER BY gathers for one value
// of its leading expression (100,000): at that many they come out sorted
// as a run, the value's later rows in runs of their own, and an
// Evaluation_Error row in the error_stream says so.
const MaxOrderRows = engine.MaxOrderRows

// MaxDynamoDBStateBytes is the largest state DynamoDBCheckpoints stores
// in one item: DynamoDB's 400 KB item limit less room for the key and
// attribute names. A larger one is split into up to MaxDynamoDBStateParts
// items.
const MaxDynamoDBStateBytes = 400*1024 - 1024

// StateTooLargeError is returned by DynamoDBCheckpoints.SetState for a
// state over MaxDynamoDBStateParts × MaxDynamoDBStateBytes. Nothing is
// written: the previous state stays. A state that large means many open
// groups or partitions; keep it in S3 or shorten the windows.
type StateTooLargeError struct {
	Key   string
	Size  int
	Limit int
}

func (e *StateTooLargeError) Error() string {
	return fmt.Sprintf("kda: window state %q is %d bytes, over the %d bytes a DynamoDB item holds", e.Key, e.Size, e.Limit)
}

// StateStore keeps an engine's window state between invocations. The
// checkpoint stores implement it.
type StateStore interface {
	// State returns the state saved under key, nil when there is none.
	State(ctx context.Context, key string) ([]byte, error)
	// SetState saves state under key.
	SetState(ctx context.Context, key string, state []byte) error
}

// State returns the engine's window state: the open tumbling, stagger and
// MONOTONIC windows' groups, the sliding windows' rows and running values,
// and the last ROWTIME.
// RestoreState on an engine compiled from the same application continues
// from it, so that windows span Lambda invocations and restarts: the same
// records give the same rows however they are split. Rows already
// emitted are not in it.
func (e *Engine) State() []byte { return e.e.MarshalState() }

// RestoreState replaces the engine's window state with one State
// returned. A state that cannot be used is a *StateError and leaves the
// engine unchanged.
func (e *Engine) RestoreState(state []byte) error { return e.e.RestoreState(state) }

// SaveState stores the engine's window state in store under key.
func (e *Engine) SaveState(ctx context.Context, store StateStore, key string) error {
	return store.SetState(ctx, key, e.State())
}

// LoadState restores the state saved under key in store, if any; it
// reports whether there was one.
func (e *Engine) LoadState(ctx context.Context, store StateStore, key string) (bool, error) {
	b, err := store.State(ctx, key)
	if err != nil || b == nil {
		return false, err
	}
	if err := e.RestoreState(b); err != nil {
		return false, fmt.Errorf("state %q: %w", key, err)
	}
	return true, nil
}

// State implements StateStore.
func (c *MemoryCheckpoints) State(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.states[key]; ok {
		return append([]byte{}, b...), nil
	}
	return nil, nil
}

// SetState implements StateStore.
func (c *MemoryCheckpoints) SetState(_ context.Context, key string, state []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.states == nil {
		c.states = map[string][]byte{}
	}
	c.states[key] = append([]byte{}, state...)
	return nil
}

// stateKey keys a state item apart from the shards' checkpoints.
func (c *DynamoDBCheckpoints) stateKey(key string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"shard": &ddbtypes.AttributeValueMemberS{Value: c.app + "#state/" + key}}
}

// State implements StateStore with a consistent read of the item
// "<application>#state/<key>".
func (c *DynamoDBCheckpoints) State(ctx context.Context, key string) ([]byte, error) {
	out, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.table, Key: c.stateKey(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	if v, ok := out.Item["state"].(*ddbtypes.AttributeValueMemberB); ok {
		if v.Value == nil {
			return []byte{}, nil
		}
		return v.Value, nil
	}
	if _, ok := out.Item["parts"]; ok {
		return c.stateParts(ctx, key, out.Item)
	}
	return nil, nil
}

// SetState implements StateStore. A state over MaxDynamoDBStateBytes is
// split into parts (see MaxDynamoDBStateParts); one over all the parts
// hold is a *StateTooLargeError and is not written.
func (c *DynamoDBCheckpoints) SetState(ctx context.Context, key string, state []byte) error {
	if len(state) > MaxDynamoDBStateBytes {
		return c.setStateParts(ctx, key, state)
	}
	if len(state) == 0 {
		return errors.New("kda: SetState needs a state (an engine's State is never empty)")
	}
	item := c.stateKey(key)
	item["state"] = &ddbtypes.AttributeValueMemberB{Value: state}
	item["updated"] = &ddbtypes.AttributeValueMemberS{Value: c.now().UTC().Format(time.RFC3339Nano)}
	_, err := c.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &c.table, Item: item})
	return err
}
