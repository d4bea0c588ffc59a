package sqsbatch_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

// fakeClock is a settable clock shared by a store under test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newDynamoStore(t testing.TB, optFns ...func(*sqsbatch.DynamoStoreOptions)) *sqsbatch.DynamoStore {
	t.Helper()
	ctx := context.Background()
	d := awstest.DynamoDB(t)
	table := awstest.Name(t, "idem")
	if _, err := d.CreateTable(ctx, sqsbatch.IdempotencyTableInput(table)); err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(d, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond }).
		Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return must(sqsbatch.NewDynamoStore(d, table, optFns...))
}

// TestStoreConformance runs the Store contract against both stores.
func TestStoreConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, clock *fakeClock) sqsbatch.Store
	}{
		{"memory", func(t *testing.T, clock *fakeClock) sqsbatch.Store {
			return sqsbatch.NewMemoryStore(func(o *sqsbatch.MemoryStoreOptions) { o.Now = clock.Now })
		}},
		{"dynamodb", func(t *testing.T, clock *fakeClock) sqsbatch.Store {
			return newDynamoStore(t, func(o *sqsbatch.DynamoStoreOptions) { o.Now = clock.Now })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clock := &fakeClock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
			s := tc.make(t, clock)
			claim := func(key string, want sqsbatch.ClaimState) sqsbatch.Claim {
				t.Helper()
				c, err := s.Claim(ctx, key, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if c.State != want {
					t.Fatalf("claim %q: %v, want %v", key, c.State, want)
				}
				return c
			}

			// Claim, held elsewhere, complete with a result, duplicate.
			c1 := claim("row-1", sqsbatch.Claimed)
			claim("row-1", sqsbatch.HeldElsewhere)
			if err := s.Complete(ctx, "row-1", c1.Token, []byte("receipt-42"), time.Hour); err != nil {
				t.Fatal(err)
			}
			if got := claim("row-1", sqsbatch.AlreadyCompleted); string(got.Result) != "receipt-42" {
				t.Fatalf("stored result %q", got.Result)
			}
			if err := s.Complete(ctx, "row-1", c1.Token, nil, time.Hour); !errors.Is(err, sqsbatch.ErrLeaseLost) {
				t.Fatalf("second Complete: %v", err)
			}

			// Release makes the key claimable at once.
			c2 := claim("row-2", sqsbatch.Claimed)
			if err := s.Release(ctx, "row-2", c2.Token); err != nil {
				t.Fatal(err)
			}
			c2b := claim("row-2", sqsbatch.Claimed)
			if err := s.Complete(ctx, "row-2", c2b.Token, nil, time.Hour); err != nil {
				t.Fatal(err)
			}
			if got := claim("row-2", sqsbatch.AlreadyCompleted); len(got.Result) != 0 {
				t.Fatalf("nil result came back as %q", got.Result)
			}

			// An expired lease (its worker died) is taken over; the dead
			// worker's late Complete and Release are refused.
			c3 := claim("row-3", sqsbatch.Claimed)
			clock.Advance(2 * time.Minute)
			c3b := claim("row-3", sqsbatch.Claimed)
			if c3b.Token == c3.Token {
				t.Fatal("takeover reused the token")
			}
			if err := s.Complete(ctx, "row-3", c3.Token, nil, time.Hour); !errors.Is(err, sqsbatch.ErrLeaseLost) {
				t.Fatalf("stale Complete: %v", err)
			}
			if err := s.Release(ctx, "row-3", c3.Token); !errors.Is(err, sqsbatch.ErrLeaseLost) {
				t.Fatalf("stale Release: %v", err)
			}
			if err := s.Complete(ctx, "row-3", c3b.Token, nil, time.Hour); err != nil {
				t.Fatal(err)
			}

			// A completed key is forgotten after its TTL.
			clock.Advance(2 * time.Hour)
			claim("row-1", sqsbatch.Claimed)

			// Of concurrent claims, exactly one wins.
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := s.Claim(ctx, "contended", time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if c.State == sqsbatch.Claimed {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d concurrent claims won", wins.Load())
			}
		})
	}
}

// TestIdempotencyDo checks Do's outcomes: applied once with a stored
// result, duplicate, in progress elsewhere, released on failure.
func TestIdempotencyDo(t *testing.T) {
	ctx := context.Background()
	store := &sqsbatch.MemoryStore{}
	idem := must(sqsbatch.NewIdempotency(store, sqsbatch.KeyFromJSONField("id")))
	runs := 0
	fn := func(ctx context.Context) ([]byte, error) { runs++; return []byte("r" + strconv.Itoa(runs)), nil }
	res, dup, err := idem.Do(ctx, "k", fn)
	if err != nil || dup || string(res) != "r1" {
		t.Fatalf("first: %q %v %v", res, dup, err)
	}
	res, dup, err = idem.Do(ctx, "k", fn)
	if err != nil || !dup || string(res) != "r1" || runs != 1 {
		t.Fatalf("second: %q %v %v runs=%d", res, dup, err, runs)
	}
	boom := errors.New("boom")
	if _, _, err := idem.Do(ctx, "f", func(context.Context) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failing fn: %v", err)
	}
	if _, dup, err := idem.Do(ctx, "f", fn); err != nil || dup {
		t.Fatalf("after a failure the key is free: %v %v", dup, err)
	}
	// Held by another worker: InProgressError.
	if _, err := store.Claim(ctx, "held", time.Minute); err != nil {
		t.Fatal(err)
	}
	var ip *sqsbatch.InProgressError
	if _, _, err := idem.Do(ctx, "held", fn); !errors.As(err, &ip) || ip.Key != "held" {
		t.Fatalf("held: %v", err)
	}
	if st := idem.Stats(); st.Applied != 2 || st.Duplicates != 1 || st.InProgress != 1 || st.Released != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Wrap takes keys from the message, never its SQS id.
	h := idem.Wrap(func(ctx context.Context, m types.Message) error { return nil })
	var ke *sqsbatch.KeyError
	if err := h(ctx, types.Message{MessageId: aws.String("m"), Body: aws.String(`{"other":"x"}`)}); !errors.As(err, &ke) {
		t.Fatalf("no key: %v", err)
	}
}
