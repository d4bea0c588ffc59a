package kda

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// testStateParts: states over one item's limit round-trip through parts,
// the slots alternate, a small state after a large one is one item
// again, and a part changed behind the store's back is an error, not a
// wrong state.
func testStateParts(t *testing.T, store *DynamoDBCheckpoints) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 1))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for i, n := range []int{MaxDynamoDBStateBytes + 1, 3*MaxDynamoDBStateBytes - 7, 100, 2 * MaxDynamoDBStateBytes} {
		want := random(n)
		if err := store.SetState(ctx, "parts", want); err != nil {
			t.Fatalf("state %d (%d bytes): %v", i, n, err)
		}
		if got, err := store.State(ctx, "parts"); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("state %d (%d bytes): read %d bytes, %v", i, n, len(got), err)
		}
	}
	// The last state is in two parts of the slot its item names.
	head, err := store.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &store.table, Key: store.stateKey("parts")})
	if err != nil {
		t.Fatal(err)
	}
	slot, _ := numAttr(head.Item, "slot")
	item := store.partKey("parts", slot, 1)
	item["state"] = &ddbtypes.AttributeValueMemberB{Value: random(MaxDynamoDBStateBytes)}
	if _, err := store.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &store.table, Item: item}); err != nil {
		t.Fatal(err)
	}
	if b, err := store.State(ctx, "parts"); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("a changed part read as %d bytes, %v", len(b), err)
	}
}
