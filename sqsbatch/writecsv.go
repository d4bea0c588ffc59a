package sqsbatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// OnMalformed says what WriteCSV does with a malformed row.
type OnMalformed int

const (
	// SkipMalformed skips and reports malformed rows and goes on.
	SkipMalformed OnMalformed = iota
	// StopOnMalformed ends the run at the first malformed row.
	StopOnMalformed
)

// WriteCSV sends every record of src through w (one message per row, the key
// column as Message.Key, the row as a JSON body) and flushes w. Malformed
// rows are skipped and reported (SkipMalformed), or stop the run
// (StopOnMalformed). It returns once every message has a result, or ctx
// ends.
//
// Its error is nil when every row read was sent (malformed rows skipped as
// asked are only in the report); a *SendError when some message was not
// sent or ctx ended first (it unwraps to ctx's error, or to the *RowError
// that stopped the run); or the *RowError that stopped the run (fatal, or
// StopOnMalformed) when every message before it went through. The report
// holds the per-row outcomes; on an early return it is a snapshot that
// messages still in flight no longer change.
func WriteCSV(ctx context.Context, src *CSVSource, w *Writer, onMalformed OnMalformed) (*CSVReport, error) {
	r := &csvRun{idle: make(chan struct{}, 1)}
	runErr := r.read(ctx, src, w, onMalformed)
	_ = w.dispatch(ctx, always) // on ctx's end the batch stays queued; the wait below tells
	r.wait(ctx)
	defer r.mu.Unlock()
	out := r.rep
	out.Malformed, out.Failed = slices.Clone(r.rep.Malformed), slices.Clone(r.rep.Failed)
	if r.pending > 0 && runErr == nil {
		runErr = ctx.Err()
	}
	if r.pending > 0 || out.FailedCount > 0 {
		return &out, &SendError{Messages: int64(out.Rows), Sent: int64(out.Sent), Failed: int64(out.FailedCount), First: slices.Clone(r.first), Err: runErr}
	}
	return &out, runErr
}

// csvRun is the state of one WriteCSV, shared with the Writer's result
// callbacks.
type csvRun struct {
	mu      sync.Mutex
	rep     CSVReport
	pending int           // rows sent without a result yet
	idle    chan struct{} // signalled when pending drops to 0
	first   []Result      // first failures, for the SendError
}

// done records one message's result.
func (r *csvRun) done(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.Err == nil {
		r.rep.Sent++
		if res.Offloaded {
			r.rep.Offloaded++
		}
	} else {
		r.rep.FailedCount++
		if len(r.rep.Failed) < MaxReportedErrors {
			r.rep.Failed = append(r.rep.Failed, res)
		}
		if len(r.first) < MaxSendErrorSamples {
			r.first = append(r.first, res)
		}
	}
	r.pending--
	if r.pending == 0 {
		select {
		case r.idle <- struct{}{}:
		default:
		}
	}
}

// read sends src's records through w until the end of src, a malformed
// row that stops the run, or a refused send, and returns what ended it
// early.
func (r *csvRun) read(ctx context.Context, src *CSVSource, w *Writer, onMalformed OnMalformed) error {
	for {
		rec, err := src.Next()
		if err == io.EOF {
			return nil
		}
		var re *RowError
		if errors.As(err, &re) {
			r.mu.Lock()
			r.rep.MalformedCount++
			if len(r.rep.Malformed) < MaxReportedErrors {
				r.rep.Malformed = append(r.rep.Malformed, re)
			}
			r.mu.Unlock()
			if onMalformed == StopOnMalformed || re.Fatal {
				return re
			}
			continue
		}
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.rep.Rows++
		r.pending++
		r.mu.Unlock()
		m := rec.Message()
		if w.fifo {
			m.DeduplicationID = fifoID(m.Key)
			m.GroupID = m.DeduplicationID
		}
		if idx, err := w.send(ctx, m, r.done); idx < 0 {
			r.mu.Lock()
			r.rep.Rows-- // not accepted: never sent, never reported
			r.pending--
			r.mu.Unlock()
			return err
		}
	}
}

// wait returns, holding r.mu, once every message sent has a result or ctx
// ends.
func (r *csvRun) wait(ctx context.Context) {
	for {
		r.mu.Lock()
		if r.pending == 0 {
			return
		}
		r.mu.Unlock()
		select {
		case <-r.idle: // may be stale: pending is checked again
		case <-ctx.Done():
			r.mu.Lock()
			return
		}
	}
}

// maxFIFOIDLength is the longest MessageDeduplicationId and MessageGroupId.
const maxFIFOIDLength = 128

// fifoID returns key as a FIFO deduplication and group id: itself when
// SQS accepts it (1 to 128 ASCII letters, digits and punctuation), else its
// SHA-256 in hex.
func fifoID(key string) string {
	ok := key != "" && len(key) <= maxFIFOIDLength
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] > ' ' && key[i] <= '~'
	}
	if ok {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
