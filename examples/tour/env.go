package main

import (
	"context"
	"errors"
	"sync"

	"github.com/lakekit/lakekit/internal/awstest"
)

// env starts the local servers the systems ask for, once each, and stops
// them all at the end of the tour.
type env struct {
	mu      sync.Mutex
	s3      *awstest.Server
	servers map[awstest.Kind]*awstest.Server
}

// S3 returns the tour's in-process gofakes3 server.
func (e *env) S3() *awstest.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.s3 == nil {
		e.s3 = awstest.StartS3()
	}
	return e.s3
}

// Node returns the tour's npm server of the given kind, starting it on first
// use.
func (e *env) Node(ctx context.Context, kind awstest.Kind) (*awstest.Server, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.servers[kind]; s != nil {
		return s, nil
	}
	s, err := awstest.Start(ctx, kind)
	if err != nil {
		return nil, err
	}
	if e.servers == nil {
		e.servers = map[awstest.Kind]*awstest.Server{}
	}
	e.servers[kind] = s
	return s, nil
}

// Close stops every server the tour started.
func (e *env) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for _, s := range e.servers {
		errs = append(errs, s.Close())
	}
	e.servers = nil
	errs = append(errs, e.s3.Close())
	e.s3 = nil
	return errors.Join(errs...)
}
