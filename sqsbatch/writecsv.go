package sqsbatch

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
)

// CSVReport is what WriteCSV did.
type CSVReport struct {
	Rows      int         // records read
	Sent      int         // messages SQS took
	Offloaded int         // of which bodies went through S3
	Malformed []*RowError // rows skipped (or the one that stopped the run); at most MaxReportedErrors
	Failed    []Result    // messages that could not be sent; at most MaxReportedErrors
	// MalformedCount and FailedCount count them all.
	MalformedCount, FailedCount int
}

// MaxReportedErrors bounds CSVReport.Malformed and CSVReport.Failed.
const MaxReportedErrors = 100

// WriteCSV sends every record of src through w (one message per row, the key
// column as Message.Key, the row as a JSON body) and flushes w. Malformed
// rows are skipped and reported, or stop the run when stopOnMalformed. It
// returns once every message has a result, or ctx ends.
//
// Its error is nil when every row read was sent (malformed rows skipped as
// asked are only in the report); a *SendError when some message was not
// sent or ctx ended first (it unwraps to ctx's error, or to the *RowError
// that stopped the run); or the *RowError that stopped the run (fatal, or
// stopOnMalformed) when every message before it went through. The report
// holds the per-row outcomes; on an early return it is a snapshot that
// messages still in flight no longer change.
func WriteCSV(ctx context.Context, src *CSVSource, w *Writer, stopOnMalformed bool) (*CSVReport, error) {
	rep := &CSVReport{}
	var (
		mu      sync.Mutex
		pending int // rows sent without a result yet
		idle    = make(chan struct{}, 1)
		sent    []Result // first failures, for the SendError
	)
	done := func(r Result) {
		mu.Lock()
		if r.Err == nil {
			rep.Sent++
			if r.Offloaded {
				rep.Offloaded++
			}
		} else {
			rep.FailedCount++
			if len(rep.Failed) < MaxReportedErrors {
				rep.Failed = append(rep.Failed, r)
			}
			if len(sent) < MaxSendErrorSamples {
				sent = append(sent, r)
			}
		}
		pending--
		if pending == 0 {
			select {
			case idle <- struct{}{}:
			default:
			}
		}
		mu.Unlock()
	}
	var runErr error
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			mu.Lock()
			rep.MalformedCount++
			if len(rep.Malformed) < MaxReportedErrors {
				rep.Malformed = append(rep.Malformed, re)
			}
			mu.Unlock()
			if stopOnMalformed || re.Fatal {
				runErr = re
				break
			}
			continue
		}
		if err != nil {
			runErr = err
			break
		}
		mu.Lock()
		rep.Rows++
		pending++
		mu.Unlock()
		if idx, err := w.send(ctx, rec.Message(), done); idx < 0 {
			mu.Lock()
			rep.Rows-- // not accepted: never sent, never reported
			pending--
			mu.Unlock()
			runErr = err
			break
		}
	}
	_ = w.dispatch(ctx, always) // on ctx's end the batch stays queued; the wait below tells
	for ended := false; !ended; {
		mu.Lock()
		if pending == 0 {
			break
		}
		mu.Unlock()
		select {
		case <-idle: // may be stale: pending is checked again
		case <-ctx.Done():
			ended = true
			mu.Lock()
		}
	}
	defer mu.Unlock()
	out := *rep
	out.Malformed, out.Failed = slices.Clone(rep.Malformed), slices.Clone(rep.Failed)
	if pending > 0 && runErr == nil {
		runErr = ctx.Err()
	}
	if pending > 0 || out.FailedCount > 0 {
		return &out, &SendError{Messages: int64(out.Rows), Sent: int64(out.Sent), Failed: int64(out.FailedCount), First: slices.Clone(sent), Err: runErr}
	}
	return &out, runErr
}
