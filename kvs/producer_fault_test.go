package kvs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

// faults returns a fault hook that applies the given faults to the server's
// n-th received fragment (1-based, counting resends), each once.
func faults(m map[int]kvslocal.Fault) func(kvslocal.FragmentInfo) kvslocal.Fault {
	var mu sync.Mutex
	return func(fi kvslocal.FragmentInfo) kvslocal.Fault {
		mu.Lock()
		defer mu.Unlock()
		f := m[fi.Index]
		delete(m, fi.Index)
		return f
	}
}

func TestProducerResendsWithoutLossOrDuplicates(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	tests := []struct {
		name   string
		faults map[int]kvslocal.Fault
		// wantConns is the number of PutMedia connections: one more per
		// fault.
		wantConns int64
	}{
		{"ERROR 5000 INTERNAL_ERROR", map[int]kvslocal.Fault{3: {Error: kvs.ErrInternalError}}, 2},
		{"ERROR 4000 STREAM_READ_ERROR on the last fragment", map[int]kvslocal.Fault{10: {Error: kvs.ErrStreamReadError}}, 2},
		{"ERROR 4003 MAX_CONNECTION_DURATION_REACHED", map[int]kvslocal.Fault{6: {Error: kvs.ErrMaxConnectionDurationReached}}, 2},
		{"dropped connection", map[int]kvslocal.Fault{4: {Drop: true}}, 2},
		{"drop on the first fragment, then ERROR 5001", map[int]kvslocal.Fault{1: {Drop: true}, 7: {Error: kvs.ErrArchivalError}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) { o.Fault = faults(tt.faults) })
			name := awstest.Name(t, "cam")
			srv.CreateStream(name)
			p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) {
				o.TimecodeType = kvs.TimecodeRelative
			})
			if err != nil {
				t.Fatal(err)
			}
			putAll(t, p, frames)
			checkPersisted(t, srv, name, frames)
			s := p.Stats()
			if s.Connections != tt.wantConns || s.FailedConnections != tt.wantConns-1 || s.FragmentsResent == 0 ||
				s.FragmentsPersisted != 10 || s.FragmentsDropped != 0 || s.BufferedFragments != 0 {
				t.Errorf("stats %+v", s)
			}
			if got := srv.Connections(name); int64(got) != tt.wantConns {
				t.Errorf("server saw %d connections, want %d", got, tt.wantConns)
			}
		})
	}
}

func TestProducerDropsRejectedFragment(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) {
		o.Fault = faults(map[int]kvslocal.Fault{2: {Error: kvs.ErrMaxFragmentSizeReached}})
	})
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) { o.TimecodeType = kvs.TimecodeRelative })
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, p, frames)
	// The second fragment (frames 30–59) will never be accepted: it is
	// dropped, everything else persisted once.
	want := append(append([]kvs.Frame(nil), frames[:30]...), frames[60:]...)
	checkPersisted(t, srv, name, want)
	if s := p.Stats(); s.FragmentsDropped != 1 || s.FragmentsPersisted != 9 || s.AcksError != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestProducerStopsOnFatalError(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) {
		o.Fault = faults(map[int]kvslocal.Fault{2: {Error: kvs.ErrStreamNotActive}})
	})
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) { o.TimecodeType = kvs.TimecodeRelative })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var putErr error
	for _, f := range frames {
		if putErr = p.Put(ctx, f); putErr != nil {
			break
		}
		if f.Key {
			// Let the connection catch up so the fault happens mid-stream.
			waitFor(t, func() bool { s := p.Stats(); return s.FragmentsSent >= s.Fragments-1 || s.AcksError > 0 })
		}
	}
	closeErr := p.Close(ctx)
	var fe *kvs.FragmentError
	if !errors.As(closeErr, &fe) || !errors.Is(closeErr, kvs.ErrStreamNotActive) {
		t.Fatalf("Close = %v, want a FragmentError with STREAM_NOT_ACTIVE", closeErr)
	}
	if putErr != nil && !errors.As(putErr, &fe) {
		t.Fatalf("Put = %v", putErr)
	}
}

// waitFor polls a condition that background goroutines make true.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestProducerHTTPErrors(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	srv := kvslocal.New(t)
	// A stream the server does not have: GetDataEndpoint answers 404, which
	// is final.
	p, err := kvs.NewProducer(srv.Client(), "no-such-stream", track, testOptions, func(o *kvs.ProducerOptions) { o.TimecodeType = kvs.TimecodeRelative })
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Put(context.Background(), frames[0])
	err = p.Close(context.Background())
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("Close = %v, want ResourceNotFoundException", err)
	}
	// Final at once: no retries.
	if s := p.Stats(); s.FailedConnections != 1 || p.Endpoints().Calls() != 1 {
		t.Errorf("stats %+v, %d GetDataEndpoint calls", s, p.Endpoints().Calls())
	}
	if err := p.Put(context.Background(), frames[1]); !errors.As(err, &nf) {
		t.Errorf("Put after the failure = %v", err)
	}
}

func TestProducerBadCredentialsRejected(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	srv := kvslocal.New(t)
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	good := srv.Client()
	bad := credentialsFunc(func(ctx context.Context) (awsCreds, error) {
		return awsCreds{AccessKeyID: awstest.AccessKeyID, SecretAccessKey: "wrong", Source: "test"}, nil
	})
	p, err := kvs.NewProducer(good, name, track, testOptions, func(o *kvs.ProducerOptions) {
		o.TimecodeType, o.Credentials, o.MaxRetries = kvs.TimecodeRelative, bad, 2
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Put(context.Background(), frames[0])
	err = p.Close(context.Background())
	var he *kvs.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 403 || he.Retryable() {
		t.Fatalf("Close = %v, want a final 403 HTTPError", err)
	}
	if len(srv.Fragments(name)) != 0 || len(srv.Errors()) == 0 {
		t.Fatalf("server persisted %d fragments, logged %v", len(srv.Fragments(name)), srv.Errors())
	}
}

// TestProducerRecoversFromStalledConnection: the server stops answering
// (it holds one fragment without acknowledging anything); the producer
// notices the silence after AckTimeout, drops the connection and resends on
// a new one.
func TestProducerRecoversFromStalledConnection(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) {
		o.Fault = func(fi kvslocal.FragmentInfo) kvslocal.Fault {
			if fi.Index == 3 {
				<-release
				return kvslocal.Fault{Drop: true}
			}
			return kvslocal.Fault{}
		}
	})
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) {
		o.TimecodeType, o.AckTimeout = kvs.TimecodeRelative, 300*time.Millisecond
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, f := range frames {
		if err := p.Put(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return p.Stats().FailedConnections >= 1 })
	once.Do(func() { close(release) })
	putAll(t, p, nil)
	checkPersisted(t, srv, name, frames)
	// On a loaded machine a later connection may also look stalled for
	// 300 ms; what matters is that nothing was lost or persisted twice.
	if s := p.Stats(); s.Connections < 2 || s.FailedConnections < 1 || s.FragmentsResent == 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestProducerRotatesBeforeCredentialsExpire: temporary credentials that
// expire in 10 minutes make the connection end a TokenMargin before.
func TestProducerRotatesBeforeCredentialsExpire(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	srv := kvslocal.New(t)
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	clock := &manualClock{now: time.Now()}
	creds := credentialsFunc(func(context.Context) (awsCreds, error) {
		return awsCreds{AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey,
			CanExpire: true, Expires: clock.Now().Add(10 * time.Minute)}, nil
	})
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) {
		o.Now, o.Credentials = clock.Now, kvsCredentialsCacheFree(creds)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames[:60] {
		if err := p.Put(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return p.Stats().FragmentsPersisted == 1 })
	clock.Advance(10*time.Minute - kvs.TokenMargin)
	putAll(t, p, frames[60:])
	checkPersisted(t, srv, name, frames)
	if s := p.Stats(); s.Rotations != 1 || s.Connections != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestProducerHTTPStatusClasses(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	tests := []struct {
		name  string
		err   *kvslocal.APIError
		final bool
	}{
		{"500 InternalFailure is retried", &kvslocal.APIError{Status: 500, Code: "InternalFailure"}, false},
		{"400 ClientLimitExceededException is retried", &kvslocal.APIError{Status: 400, Code: "ClientLimitExceededException"}, false},
		{"403 NotAuthorizedException is final", &kvslocal.APIError{Status: 403, Code: "NotAuthorizedException"}, true},
		{"400 InvalidArgumentException is final", &kvslocal.APIError{Status: 400, Code: "InvalidArgumentException"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) {
				o.Reject = func(conn int) *kvslocal.APIError {
					if conn == 1 {
						return tt.err
					}
					return nil
				}
			})
			name := awstest.Name(t, "cam")
			srv.CreateStream(name)
			p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) { o.TimecodeType = kvs.TimecodeRelative })
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, f := range frames {
				if err := p.Put(ctx, f); err != nil {
					break
				}
			}
			err = p.Close(ctx)
			var he *kvs.HTTPError
			if tt.final {
				if !errors.As(err, &he) || he.StatusCode != tt.err.Status || he.ErrorType != tt.err.Code {
					t.Fatalf("Close = %v, want HTTPError %d %s", err, tt.err.Status, tt.err.Code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkPersisted(t, srv, name, frames)
			if s := p.Stats(); s.FailedConnections != 1 || s.Connections != 2 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestProducerRetryBudgetCountsFailuresInARow: a connection that persisted
// fragments before failing resets the count, so a long-running producer
// survives more drops than MaxRetries over its life.
func TestProducerRetryBudgetCountsFailuresInARow(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	drops := map[int]kvslocal.Fault{}
	for i := 2; i <= 10; i += 2 { // every other fragment drops the connection
		drops[i] = kvslocal.Fault{Drop: true}
	}
	srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) { o.Fault = faults(drops) })
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) {
		o.TimecodeType, o.MaxRetries = kvs.TimecodeRelative, 2
	})
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, p, frames)
	checkPersisted(t, srv, name, frames)
	if s := p.Stats(); s.FailedConnections < 3 {
		t.Errorf("stats %+v: want more failed connections than MaxRetries", s)
	}
}
