package sqsbatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lakekit/lakekit/internal/opt"
)

// Attribute names of a DynamoStore item besides its key.
const (
	dynStatus     = "status"
	dynToken      = "claim_token"
	dynLeaseUntil = "lease_until_ms"
	dynResult     = "result"
	// DynamoTTLAttribute holds the item's expiry in Unix seconds; enable
	// DynamoDB TTL on it so old keys are removed. Expired items are treated
	// as absent before DynamoDB gets round to deleting them.
	DynamoTTLAttribute = "expires_at"

	statusInProgress = "IN_PROGRESS"
	statusCompleted  = "COMPLETED"
)

// DefaultDynamoKeyAttribute is the partition key attribute of a DynamoStore
// table.
const DefaultDynamoKeyAttribute = "id"

// DynamoGetItemAPI is the read a DynamoStore makes after a refused claim
// (dynalite, like older DynamoDB, lacks ReturnValuesOnConditionCheckFailure).
type DynamoGetItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// DynamoStoreAPI is what a DynamoStore needs: an *dynamodb.Client.
type DynamoStoreAPI interface {
	DynamoDBAPI
	DynamoGetItemAPI
}

// DynamoStore is a Store in a DynamoDB table with a string partition key,
// using conditional writes. Several processes may share it.
type DynamoStore struct {
	client DynamoStoreAPI
	table  string
	keyAtt string
	now    func() time.Time
}

// DynamoStoreOptions configure a DynamoStore.
type DynamoStoreOptions struct {
	// KeyAttribute is the table's string partition key attribute. Default
	// DefaultDynamoKeyAttribute.
	KeyAttribute string
	// Now is the clock leases and TTLs are written and compared on. Default
	// time.Now. Expiry comparisons use the writing process's clock, so
	// processes sharing a table need synchronised clocks (leases are
	// minutes; NTP skew is milliseconds).
	Now func() time.Time
}

// NewDynamoStore returns a store on table. It returns an *OptionError when
// table is empty.
func NewDynamoStore(client DynamoStoreAPI, table string, optFns ...func(*DynamoStoreOptions)) (*DynamoStore, error) {
	var o DynamoStoreOptions
	for _, f := range optFns {
		f(&o)
	}
	if table == "" {
		return nil, &OptionError{Type: "sqsbatch.NewDynamoStore", Field: "table", Value: `""`, Want: "a table name"}
	}
	o.KeyAttribute = opt.Default(o.KeyAttribute, DefaultDynamoKeyAttribute)
	if o.Now == nil {
		o.Now = time.Now
	}
	return &DynamoStore{client: client, table: table, keyAtt: o.KeyAttribute, now: o.Now}, nil
}

// IdempotencyTableInput returns the CreateTable input of a DynamoStore
// table (on-demand capacity). Enable TTL on DynamoTTLAttribute afterwards.
func IdempotencyTableInput(table string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            &table,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(DefaultDynamoKeyAttribute), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(DefaultDynamoKeyAttribute), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}
}

func (s *DynamoStore) clock() time.Time { return s.now() }

func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

func (s *DynamoStore) key(k string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{s.keyAtt: str(k)}
}

// Claim implements Store.
func (s *DynamoStore) Claim(ctx context.Context, key string, lease time.Duration) (Claim, error) {
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	token := hex.EncodeToString(rnd[:])
	for attempt := 0; attempt < 5; attempt++ {
		now := s.clock()
		item := s.key(key)
		item[dynStatus] = str(statusInProgress)
		item[dynToken] = str(token)
		item[dynLeaseUntil] = num(now.Add(lease).UnixMilli())
		item[DynamoTTLAttribute] = num(now.Add(lease).Add(time.Hour).Unix())
		_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           &s.table,
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(#k) OR (#st = :inprog AND #lu < :nowms) OR #exp < :nows"),
			ExpressionAttributeNames: map[string]string{
				"#k": s.keyAtt, "#st": dynStatus, "#lu": dynLeaseUntil, "#exp": DynamoTTLAttribute,
			},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":inprog": str(statusInProgress), ":nowms": num(now.UnixMilli()), ":nows": num(now.Unix()),
			},
		})
		if err == nil {
			return Claim{State: Claimed, Token: token}, nil
		}
		var ccf *ddbtypes.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return Claim{}, err
		}
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: s.key(key), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return Claim{}, err
		}
		if len(out.Item) == 0 {
			continue // released or deleted in between: claim again
		}
		now = s.clock()
		if exp, ok := numAttr(out.Item[DynamoTTLAttribute]); ok && exp < now.Unix() {
			continue
		}
		switch stringAttr(out.Item[dynStatus]) {
		case statusCompleted:
			var res []byte
			if b, ok := out.Item[dynResult].(*ddbtypes.AttributeValueMemberB); ok {
				res = b.Value
			}
			return Claim{State: AlreadyCompleted, Result: res}, nil
		case statusInProgress:
			if lu, ok := numAttr(out.Item[dynLeaseUntil]); ok && lu < now.UnixMilli() {
				continue // expired in between
			}
			return Claim{State: HeldElsewhere}, nil
		default:
			return Claim{}, fmt.Errorf("sqsbatch: idempotency item %q has status %q", key, stringAttr(out.Item[dynStatus]))
		}
	}
	return Claim{State: HeldElsewhere}, nil
}

// Complete implements Store.
func (s *DynamoStore) Complete(ctx context.Context, key, token string, result []byte, ttl time.Duration) error {
	update := "SET #st = :done, #exp = :exp REMOVE #lu"
	values := map[string]ddbtypes.AttributeValue{
		":done": str(statusCompleted), ":exp": num(s.clock().Add(ttl).Unix()),
		":tok": str(token), ":inprog": str(statusInProgress),
	}
	names := map[string]string{"#st": dynStatus, "#exp": DynamoTTLAttribute, "#lu": dynLeaseUntil, "#tok": dynToken}
	if result != nil {
		update = "SET #st = :done, #exp = :exp, #res = :res REMOVE #lu"
		values[":res"] = &ddbtypes.AttributeValueMemberB{Value: result}
		names["#res"] = dynResult
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: s.key(key),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#tok = :tok AND #st = :inprog"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrLeaseLost
	}
	return err
}

// Release implements Store.
func (s *DynamoStore) Release(ctx context.Context, key, token string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: s.key(key),
		ConditionExpression:       aws.String("#tok = :tok AND #st = :inprog"),
		ExpressionAttributeNames:  map[string]string{"#tok": dynToken, "#st": dynStatus},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":tok": str(token), ":inprog": str(statusInProgress)},
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrLeaseLost
	}
	return err
}

func numAttr(v ddbtypes.AttributeValue) (int64, bool) {
	n, ok := v.(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	return i, err == nil
}

func stringAttr(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
