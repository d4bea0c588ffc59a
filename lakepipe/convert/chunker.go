package convert

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
)

// chunker cuts the input into chunks of RowGroupRows records (or
// RowGroupBytes bytes) and hands each to the committer's queue (order)
// and to a worker (work), taking a token for it first.
func (run *conversion) chunker(ctx context.Context, r io.Reader, line int64, tokens chan<- struct{},
	work, order chan<- *chunk, free <-chan []byte) error {
	o := &run.c.opts
	// The first chunk's size is estimated from the sample; later ones from
	// the previous chunk.
	lastChunk := min(run.avgRecord*o.RowGroupRows, o.RowGroupBytes)
	c := &chunkBuf{
		buf:       make([]byte, 0, max(lastChunk+lastChunk/8+chunkReadSize, 4*chunkReadSize)),
		lastChunk: lastChunk, line: line, nextQuote: -1,
		delim: o.Delimiter, maxRecord: o.MaxRecordBytes,
	}
	send := func(ch *chunk, to chan<- *chunk) error {
		select {
		case to <- ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		rows, err := c.scanRecords(o.RowGroupRows, o.RowGroupBytes)
		if err != nil {
			return err
		}
		if rows >= o.RowGroupRows || c.scan >= o.RowGroupBytes || c.eof && c.scan > 0 {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			ch := c.cut(free)
			if err := send(ch, order); err != nil {
				return err
			}
			if err := send(ch, work); err != nil {
				return err
			}
			continue
		}
		if c.eof {
			return nil
		}
		if err := c.read(r); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// chunkReadSize is how much the chunker reads at a time.
const chunkReadSize = 1 << 20

// chunkBuf is the chunker's input buffer: buf[:scan] holds the complete
// records of the next chunk.
type chunkBuf struct {
	buf       []byte
	scan      int   // the end of the records scanned so far
	rows      int   // records in buf[:scan]
	line      int64 // the line of buf[0]
	nextQuote int   // index of the next '"' at or after scan (len(buf): none); -1: unknown
	eof       bool
	lastChunk int // the previous chunk's size, which sizes buffers
	delim     byte
	maxRecord int
}

// scanRecords extends buf[:scan] by whole records until it holds
// maxRows records or maxBytes bytes or reaches the end of buf, and
// returns the records it holds. At EOF an incomplete last record counts
// as one (the worker quarantines it).
func (c *chunkBuf) scanRecords(maxRows, maxBytes int) (int, error) {
	for c.rows < maxRows && c.scan < maxBytes && c.scan < len(c.buf) {
		// Fast path: the line ends before the next quote, so it is a
		// whole record; one IndexByte per line.
		if c.nextQuote < c.scan {
			c.nextQuote = len(c.buf)
			if q := bytes.IndexByte(c.buf[c.scan:], '"'); q >= 0 {
				c.nextQuote = c.scan + q
			}
		}
		if nl := bytes.IndexByte(c.buf[c.scan:], '\n'); nl >= 0 && c.scan+nl < c.nextQuote {
			c.scan, c.rows = c.scan+nl+1, c.rows+1
			continue
		}
		end, _, complete, _ := recordEnd(c.buf, c.scan, c.delim)
		if !complete {
			if end-c.scan > c.maxRecord {
				return c.rows, &RecordTooLongError{Line: c.line + int64(bytes.Count(c.buf[:c.scan], []byte{'\n'})), Limit: c.maxRecord}
			}
			if c.eof {
				c.scan, c.rows = len(c.buf), c.rows+1
			}
			break
		}
		c.scan, c.rows = end, c.rows+1
	}
	return c.rows, nil
}

// cut returns buf[:scan] as a chunk and keeps the rest in a new buffer,
// a spare one from free when there is one.
func (c *chunkBuf) cut(free <-chan []byte) *chunk {
	end := c.scan
	ch := &chunk{data: c.buf[:end:end], line: c.line, done: make(chan struct{})}
	c.line += int64(bytes.Count(ch.data, []byte{'\n'}))
	var next []byte
	select {
	case next = <-free:
	default:
	}
	c.lastChunk = end
	want := max(c.lastChunk+c.lastChunk/8+chunkReadSize, len(c.buf)-end+chunkReadSize)
	if cap(next) < want {
		next = make([]byte, 0, want)
	}
	c.buf = append(next[:0], c.buf[end:]...)
	c.scan, c.rows = 0, 0
	c.nextQuote = -1
	return ch
}

// read appends the next read of r to buf, growing it when less than a
// read's room is left.
func (c *chunkBuf) read(r io.Reader) error {
	if cap(c.buf)-len(c.buf) < chunkReadSize {
		c.buf = slices.Grow(c.buf, max(cap(c.buf), c.lastChunk/2, chunkReadSize))
	}
	n, err := r.Read(c.buf[len(c.buf):cap(c.buf)])
	c.buf = c.buf[:len(c.buf)+n]
	c.nextQuote = -1 // "no quote" meant none up to the old end
	if err == io.EOF {
		c.eof = true
	} else if err != nil {
		return fmt.Errorf("convert: reading input: %w", err)
	}
	return nil
}
