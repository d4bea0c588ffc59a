package sqsbatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// Idempotency defaults.
const (
	// DefaultLease is how long a claimed key stays in progress before
	// another worker may take it over (the holder is presumed dead). It must
	// exceed the handler's running time.
	DefaultLease = 5 * time.Minute
	// DefaultCompletedTTL is how long a completed key is remembered: SQS's
	// longest message retention, so no redelivery outlives the record.
	DefaultCompletedTTL = 14 * 24 * time.Hour
)

// ClaimState is what Store.Claim found.
type ClaimState int

const (
	// Claimed: the caller holds the key and must Complete or Release it.
	Claimed ClaimState = iota
	// AlreadyCompleted: the key's effect was applied; Claim.Result holds
	// what was stored with it.
	AlreadyCompleted
	// HeldElsewhere: another worker holds an unexpired claim.
	HeldElsewhere
)

func (s ClaimState) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case AlreadyCompleted:
		return "completed"
	case HeldElsewhere:
		return "in progress elsewhere"
	}
	return "ClaimState(" + strconv.Itoa(int(s)) + ")"
}

// Claim is the answer of Store.Claim.
type Claim struct {
	State  ClaimState
	Token  string // identifies this claim, for Complete and Release
	Result []byte // stored result, when AlreadyCompleted
}

// Store records which keys are in progress or completed. Implementations
// must make Claim atomic: of two concurrent claims of one key, at most one
// gets Claimed.
type Store interface {
	// Claim takes key as in progress for lease, unless it is completed or
	// held by an unexpired claim.
	Claim(ctx context.Context, key string, lease time.Duration) (Claim, error)
	// Complete marks key completed, storing result (may be nil), for ttl.
	// It returns ErrLeaseLost if the claim identified by token is no longer
	// the key's.
	Complete(ctx context.Context, key, token string, result []byte, ttl time.Duration) error
	// Release drops the claim so the key may be tried again at once. It
	// returns ErrLeaseLost if the claim is no longer the key's.
	Release(ctx context.Context, key, token string) error
}

// ErrLeaseLost says a claim expired and was taken over before it was
// completed or released.
var ErrLeaseLost = errors.New("sqsbatch: idempotency claim lost (lease expired and taken over)")

// InProgressError is returned for a message whose key another worker is
// processing: the message is not deleted and comes back later, when the
// other worker has completed (the duplicate is then suppressed) or
// released the key.
type InProgressError struct{ Key string }

func (e *InProgressError) Error() string {
	return fmt.Sprintf("sqsbatch: key %q is being processed elsewhere; retry later", e.Key)
}

// KeyError is a message from which no idempotency key could be taken.
type KeyError struct {
	MessageID string
	Err       error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("sqsbatch: message %s: idempotency key: %v", e.MessageID, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// KeyFunc returns a message's idempotency key: the record's unique column,
// never the SQS message id (a producer sending a row twice makes two
// message ids).
type KeyFunc func(m types.Message) (string, error)

// KeyFromJSONField takes the key from a top-level string field of a JSON
// object body, such as the bodies CSV records become.
func KeyFromJSONField(field string) KeyFunc {
	return func(m types.Message) (string, error) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &obj); err != nil {
			return "", fmt.Errorf("body is not a JSON object: %w", err)
		}
		raw, ok := obj[field]
		if !ok {
			return "", fmt.Errorf("no field %q", field)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("field %q is not a string", field)
		}
		if s == "" {
			return "", fmt.Errorf("field %q is empty", field)
		}
		return s, nil
	}
}

// KeyFromAttribute takes the key from a String message attribute (see
// WriterOptions.KeyAttribute of the Writer).
func KeyFromAttribute(name string) KeyFunc {
	return func(m types.Message) (string, error) {
		a, ok := m.MessageAttributes[name]
		if !ok || aws.ToString(a.StringValue) == "" {
			return "", fmt.Errorf("no attribute %q", name)
		}
		return aws.ToString(a.StringValue), nil
	}
}

// IdempotencyOptions configure an Idempotency.
type IdempotencyOptions struct {
	// Lease is how long a claim lasts. Default DefaultLease.
	Lease time.Duration
	// CompletedTTL is how long a completed key is remembered. Default
	// DefaultCompletedTTL.
	CompletedTTL time.Duration
	// WaitInProgress is how long Do waits, polling the store, for a key held
	// by another worker to be completed or released before it gives up with
	// an *InProgressError. A concurrent duplicate usually finishes within
	// milliseconds, while a message given back waits out its visibility
	// timeout. Default DefaultWaitInProgress; negative: do not wait.
	WaitInProgress time.Duration
}

// DefaultWaitInProgress is IdempotencyOptions.WaitInProgress's default.
const DefaultWaitInProgress = time.Second

// IdempotencyStats is a snapshot of an Idempotency's counters.
type IdempotencyStats struct {
	Applied    int64 // effects applied and completed
	Duplicates int64 // messages suppressed because their key was completed
	InProgress int64 // messages put back because their key was held elsewhere
	Released   int64 // claims released after the effect failed
}

// Idempotency applies each key's effect once. See the package doc.
type Idempotency struct {
	store Store
	key   KeyFunc
	opts  IdempotencyOptions

	applied, duplicates, inProgress, released atomic.Int64
}

// NewIdempotency returns an Idempotency over store; key names each message's
// key (for Wrap; Do takes the key directly).
// It returns an *OptionError for a negative Lease or CompletedTTL.
func NewIdempotency(store Store, key KeyFunc, optFns ...func(*IdempotencyOptions)) (*Idempotency, error) {
	var o IdempotencyOptions
	for _, f := range optFns {
		f(&o)
	}
	const typ = "sqsbatch.IdempotencyOptions"
	if err := errors.Join(opt.Min(typ, "Lease", o.Lease, 0), opt.Min(typ, "CompletedTTL", o.CompletedTTL, 0)); err != nil {
		return nil, err
	}
	o.Lease = opt.Default(o.Lease, DefaultLease)
	o.CompletedTTL = opt.Default(o.CompletedTTL, DefaultCompletedTTL)
	o.WaitInProgress = opt.Default(o.WaitInProgress, DefaultWaitInProgress)
	return &Idempotency{store: store, key: key, opts: o}, nil
}

// Stats returns a snapshot of the counters.
func (i *Idempotency) Stats() IdempotencyStats {
	return IdempotencyStats{Applied: i.applied.Load(), Duplicates: i.duplicates.Load(), InProgress: i.inProgress.Load(), Released: i.released.Load()}
}

// Do runs fn once for key. If key was completed it returns the stored result
// with duplicate true and does not run fn. If another worker holds key it
// returns an *InProgressError. If fn fails the claim is released and fn's
// error returned. The result of fn is stored with the completion.
//
// Completion runs even if ctx is cancelled after fn returned, so that an
// applied effect is recorded. If the completion itself fails the error is
// returned and, once the lease expires, the key may be applied again: make
// effects that cannot tolerate that idempotent in themselves.
func (i *Idempotency) Do(ctx context.Context, key string, fn func(ctx context.Context) ([]byte, error)) (result []byte, duplicate bool, err error) {
	var c Claim
	deadline := time.Now().Add(i.opts.WaitInProgress)
	for poll := 10 * time.Millisecond; ; poll = min(2*poll, 200*time.Millisecond) {
		c, err = i.store.Claim(ctx, key, i.opts.Lease)
		if err != nil {
			return nil, false, fmt.Errorf("sqsbatch: claim %q: %w", key, err)
		}
		if c.State != HeldElsewhere || !time.Now().Before(deadline) {
			break
		}
		if backoff.Sleep(ctx, poll) != nil {
			break
		}
	}
	switch c.State {
	case AlreadyCompleted:
		i.duplicates.Add(1)
		return c.Result, true, nil
	case HeldElsewhere:
		i.inProgress.Add(1)
		return nil, false, &InProgressError{Key: key}
	}
	res, ferr := fn(ctx)
	bg := context.WithoutCancel(ctx)
	if ferr != nil {
		i.released.Add(1)
		if rerr := i.store.Release(bg, key, c.Token); rerr != nil && !errors.Is(rerr, ErrLeaseLost) {
			return nil, false, errors.Join(ferr, fmt.Errorf("sqsbatch: release %q: %w", key, rerr))
		}
		return nil, false, ferr
	}
	if err := i.store.Complete(bg, key, c.Token, res, i.opts.CompletedTTL); err != nil {
		return res, false, fmt.Errorf("sqsbatch: complete %q: %w", key, err)
	}
	i.applied.Add(1)
	return res, false, nil
}

// Wrap returns a Handler that runs h at most once per key (see Do): a
// message whose key is completed is acknowledged without running h; one
// whose key is held elsewhere fails with *InProgressError and comes back.
func (i *Idempotency) Wrap(h Handler) Handler {
	return func(ctx context.Context, m types.Message) error {
		if i.key == nil {
			return &KeyError{MessageID: aws.ToString(m.MessageId), Err: errors.New("no KeyFunc configured")}
		}
		key, err := i.key(m)
		if err != nil {
			return &KeyError{MessageID: aws.ToString(m.MessageId), Err: err}
		}
		_, _, err = i.Do(ctx, key, func(ctx context.Context) ([]byte, error) { return nil, h(ctx, m) })
		return err
	}
}

// MemoryStore is a Store in process memory, for tests and single-process
// consumers. The zero value is ready to use (on time.Now).
type MemoryStore struct {
	mu    sync.Mutex
	recs  map[string]memRecord
	seq   uint64
	clock func() time.Time
}

// MemoryStoreOptions configure a MemoryStore.
type MemoryStoreOptions struct {
	// Now is the clock leases and TTLs are read on. Default time.Now.
	Now func() time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(optFns ...func(*MemoryStoreOptions)) *MemoryStore {
	var o MemoryStoreOptions
	for _, f := range optFns {
		f(&o)
	}
	return &MemoryStore{clock: o.Now}
}

type memRecord struct {
	completed bool
	token     string
	expires   time.Time // lease end, or completed TTL end
	result    []byte
}

func (s *MemoryStore) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, key string, lease time.Duration) (Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if r, ok := s.recs[key]; ok && now.Before(r.expires) {
		if r.completed {
			return Claim{State: AlreadyCompleted, Result: r.result}, nil
		}
		return Claim{State: HeldElsewhere}, nil
	}
	if s.recs == nil {
		s.recs = map[string]memRecord{}
	}
	s.seq++
	tok := strconv.FormatUint(s.seq, 36)
	s.recs[key] = memRecord{token: tok, expires: now.Add(lease)}
	return Claim{State: Claimed, Token: tok}, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, key, token string, result []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[key]
	if !ok || r.token != token || r.completed {
		return ErrLeaseLost
	}
	s.recs[key] = memRecord{completed: true, token: token, expires: s.now().Add(ttl), result: append([]byte(nil), result...)}
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[key]
	if !ok || r.token != token || r.completed {
		return ErrLeaseLost
	}
	delete(s.recs, key)
	return nil
}
