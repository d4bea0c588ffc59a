package sqsbatch

import (
	"context"
	"errors"
	"io"
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
// returns once every message has a result; the error is for the run as a
// whole (ctx, a fatal CSV error, or a malformed row when stopOnMalformed);
// per-row outcomes are in the report.
func WriteCSV(ctx context.Context, src *CSVSource, w *Writer, stopOnMalformed bool) (*CSVReport, error) {
	rep := &CSVReport{}
	var mu sync.Mutex
	var wg sync.WaitGroup
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
		}
		mu.Unlock()
		wg.Done()
	}
	var runErr error
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			rep.MalformedCount++
			if len(rep.Malformed) < MaxReportedErrors {
				rep.Malformed = append(rep.Malformed, re)
			}
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
		rep.Rows++
		wg.Add(1)
		if idx, err := w.send(ctx, rec.Message(), done); idx < 0 {
			wg.Done()
			runErr = err
			break
		}
	}
	_ = w.dispatch(ctx) // a failure is reported through done
	if err := waitCtx(ctx, &wg); err != nil {
		return rep, err
	}
	return rep, runErr
}
