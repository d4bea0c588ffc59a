package kvslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lakekit/lakekit/kvs"
)

// tee keeps a copy of what is read, for ServerOptions.KeepMedia.
type tee struct {
	r    io.Reader
	keep []byte
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.keep = append(t.keep, p[:n]...)
	return n, err
}

// header is the stream header in force on a connection.
type header struct {
	docType string
	scale   uint64
	tracks  []kvs.TrackEntry
}

// ackWriter serialises acknowledgements on the response.
type ackWriter struct {
	mu     sync.Mutex
	w      io.Writer
	rc     *http.ResponseController
	last   time.Time
	closed bool // the handler has returned: the ResponseWriter is gone
	hijack bool
}

func (a *ackWriter) hijacked() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hijack
}

// drop hijacks the connection, shuts down its sending side and waits for
// the client to close it.
func (a *ackWriter) drop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed, a.hijack = true, true
	conn, _, err := a.rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_ = conn.SetReadDeadline(time.Now().Add(drainTimeout))
	_, _ = io.Copy(io.Discard, conn)
	_ = conn.Close()
}

func (a *ackWriter) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
}

func (a *ackWriter) send(ack kvs.Ack) {
	b, _ := json.Marshal(ack)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	_, _ = a.w.Write(append(b, '\n'))
	_ = a.rc.Flush()
	a.last = time.Now()
}

func (s *Server) putMedia(w http.ResponseWriter, r *http.Request) {
	if !s.verify(w, r, kvs.EmptyPayloadHash) {
		return
	}
	req, apiErr := s.parsePutMedia(r)
	if apiErr != nil {
		writeError(w, apiErr.Status, apiErr.Code, apiErr.Message)
		return
	}
	sess, apiErr := s.admit(req)
	if apiErr != nil {
		writeError(w, apiErr.Status, apiErr.Code, apiErr.Message)
		return
	}
	rc := http.NewResponseController(w)
	// The acknowledgements flow while the body is still being read.
	if err := rc.EnableFullDuplex(); err != nil {
		writeError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	sess.acks = &ackWriter{w: w, rc: rc, last: time.Now()}
	sess.rc = rc
	sess.body = r.Body
	if s.opts.KeepMedia {
		kept := &tee{r: r.Body}
		sess.body = kept
		defer func() {
			s.mu.Lock()
			req.st.media = append(req.st.media, kept.keep)
			s.mu.Unlock()
		}()
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer sess.acks.close()
	go s.sendIdleAcks(ctx, sess.acks)
	s.readFragments(sess)
}

// putMediaRequest is what PutMedia's headers ask for.
type putMediaRequest struct {
	st     *stream
	tcType kvs.TimecodeType
	start  time.Time // the producer start timestamp; zero when absent
}

// parsePutMedia checks PutMedia's transfer encoding and headers and finds
// the stream, answering with the error the service gives.
func (s *Server) parsePutMedia(r *http.Request) (putMediaRequest, *APIError) {
	bad := func(msg string) (putMediaRequest, *APIError) {
		return putMediaRequest{}, &APIError{Status: http.StatusBadRequest, Code: "InvalidArgumentException", Message: msg}
	}
	if r.ProtoMajor == 1 && (len(r.TransferEncoding) == 0 || r.TransferEncoding[0] != "chunked") {
		return bad("PutMedia streams its body with chunked transfer encoding")
	}
	name, arn := r.Header.Get(kvs.HeaderStreamName), r.Header.Get(kvs.HeaderStreamARN)
	if (name == "") == (arn == "") {
		return bad("specify exactly one of x-amzn-stream-name and x-amzn-stream-arn")
	}
	req := putMediaRequest{tcType: kvs.TimecodeType(r.Header.Get(kvs.HeaderTimecodeType))}
	if req.tcType != kvs.TimecodeAbsolute && req.tcType != kvs.TimecodeRelative {
		return bad("x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE")
	}
	if v := r.Header.Get(kvs.HeaderProducerStart); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return bad("bad x-amzn-producer-start-timestamp")
		}
		req.start = time.UnixMilli(int64(f*1000 + 0.5))
	} else if req.tcType == kvs.TimecodeRelative {
		return bad("RELATIVE timecodes need x-amzn-producer-start-timestamp")
	}
	if req.st = s.lookup(name, arn); req.st == nil {
		return putMediaRequest{}, &APIError{Status: http.StatusNotFound, Code: "ResourceNotFoundException", Message: "stream not found"}
	}
	return req, nil
}

// mediaSession is one PutMedia connection being read.
type mediaSession struct {
	putMediaRequest
	conn  int // the stream's connection number, from 1
	fault func(FragmentInfo) Fault
	acks  *ackWriter
	rc    *http.ResponseController
	body  io.Reader
}

// admit counts the connection and asks the Reject hook whether to refuse it.
func (s *Server) admit(req putMediaRequest) (*mediaSession, *APIError) {
	s.mu.Lock()
	req.st.connections++
	sess := &mediaSession{putMediaRequest: req, conn: req.st.connections, fault: s.opts.Fault}
	rejectFn := s.opts.Reject
	s.mu.Unlock()
	if rejectFn == nil {
		return sess, nil
	}
	e := rejectFn(sess.conn)
	if e == nil {
		return sess, nil
	}
	s.recordErr(fmt.Errorf("stream %s connection %d rejected: %s", req.st.name, sess.conn, e.Code))
	refused := *e
	if refused.Status == 0 {
		refused.Status = http.StatusBadRequest
	}
	return nil, &refused
}

// sendIdleAcks sends an IDLE acknowledgement whenever nothing else was sent
// for IdleInterval, until ctx ends.
func (s *Server) sendIdleAcks(ctx context.Context, acks *ackWriter) {
	t := time.NewTicker(s.opts.IdleInterval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			acks.mu.Lock()
			idle := time.Since(acks.last) >= s.opts.IdleInterval
			acks.mu.Unlock()
			if idle {
				acks.send(kvs.Ack{EventType: kvs.AckIdle})
			}
		}
	}
}

// drain stops acknowledging and reads what is left of the body, so the
// producer sees its error acknowledgement rather than a reset connection.
func (m *mediaSession) drain() {
	m.acks.close()
	_ = m.rc.SetReadDeadline(time.Now().Add(drainTimeout))
	_, _ = io.Copy(io.Discard, m.body)
}

// reject records and acknowledges a refused fragment (tc < 0: no timecode).
func (s *Server) reject(m *mediaSession, tc int64, id kvs.ErrorID, msg string) {
	s.recordErr(fmt.Errorf("stream %s fragment %d: %s: %s", m.st.name, tc, id.String(), msg))
	a := kvs.Ack{EventType: kvs.AckError, ErrorID: id, ErrorCode: id.String()}
	if tc >= 0 {
		a.FragmentTimecode, a.HasTimecode = tc, true
	}
	m.acks.send(a)
}

// readFragments reads the MKV stream element by element, checking and
// persisting each cluster, until the body ends or a fragment is refused.
func (s *Server) readFragments(m *mediaSession) {
	mr := kvs.NewMKVReader(m.body)
	mr.MaxElement = MaxFragmentSize + 1<<20
	mr.OnClusterTimecode = func(tc uint64) {
		m.acks.send(kvs.Ack{EventType: kvs.AckBuffering, FragmentTimecode: int64(tc), HasTimecode: true, FragmentNumber: fragmentNumber(m.conn, int64(tc))})
	}
	var h header
	var lastTC int64 = -1
	for {
		el, err := mr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			if errors.Is(err, kvs.ErrBadMKV) {
				s.reject(m, -1, kvs.ErrInvalidMKVData, err.Error())
				m.drain()
			}
			// Otherwise the connection broke: nothing to answer.
			return
		}
		var derr error
		switch el.ID {
		case kvs.IDEBML:
			h = header{}
			h.docType, derr = kvs.DecodeDocType(el.Raw)
		case kvs.IDInfo:
			h.scale, derr = kvs.DecodeInfo(el.Raw)
		case kvs.IDTracks:
			h.tracks, derr = kvs.DecodeTracks(el.Raw)
		case kvs.IDCluster:
			var c kvs.Cluster
			if c, derr = kvs.DecodeCluster(el.Raw); derr == nil {
				if !s.cluster(m, h, c, &lastTC) {
					return
				}
			}
		}
		if derr != nil {
			s.reject(m, -1, kvs.ErrInvalidMKVData, derr.Error())
			m.drain()
			return
		}
	}
}

// cluster checks and persists one decoded cluster; false ends the
// connection.
func (s *Server) cluster(m *mediaSession, h header, c kvs.Cluster, lastTC *int64) bool {
	tc := int64(c.Timecode)
	if id, msg := check(h, c, *lastTC); id != 0 {
		s.reject(m, tc, id, msg)
		m.drain()
		return false
	}
	*lastTC = tc
	if !s.persist(m.st, m.conn, m.fault, m.tcType, m.start, c, m.acks) {
		if !m.acks.hijacked() {
			m.drain()
		}
		return false
	}
	return true
}

// persist stores one checked fragment and acknowledges it, unless the fault
// hook says otherwise; false ends the connection.
func (s *Server) persist(st *stream, conn int, fault func(FragmentInfo) Fault, tcType kvs.TimecodeType, start time.Time, c kvs.Cluster, acks *ackWriter) bool {
	tc := int64(c.Timecode)
	s.mu.Lock()
	st.received++
	info := FragmentInfo{Stream: st.name, Connection: conn, Index: st.received, Timecode: tc, Frames: len(c.SimpleBlock)}
	s.mu.Unlock()
	if fault != nil {
		if f := fault(info); f.Drop {
			acks.drop()
			return false
		} else if f.Error != 0 {
			acks.send(kvs.Ack{EventType: kvs.AckError, FragmentTimecode: tc, HasTimecode: true, ErrorID: f.Error, ErrorCode: f.Error.String()})
			return false
		}
	}
	num := fragmentNumber(conn, tc)
	acks.send(kvs.Ack{EventType: kvs.AckReceived, FragmentTimecode: tc, HasTimecode: true, FragmentNumber: num})
	frag := StoredFragment{Number: num, Timecode: tc, TimecodeType: tcType, ProducerStart: start, Connection: conn, ServerReceived: time.Now()}
	for _, b := range c.SimpleBlock {
		var sum uint32
		size := 0
		for _, d := range b.Data {
			sum = crc32.Update(sum, castagnoli, d)
			size += len(d)
		}
		frag.Frames = append(frag.Frames, StoredFrame{Timecode: tc + int64(b.Timecode), Key: b.Keyframe, Size: size, Sum: sum})
		frag.Size += size
	}
	s.mu.Lock()
	st.fragments = append(st.fragments, frag)
	s.mu.Unlock()
	acks.send(kvs.Ack{EventType: kvs.AckPersisted, FragmentTimecode: tc, HasTimecode: true, FragmentNumber: num})
	return true
}

// check applies KVS's fragment checks.
func check(h header, c kvs.Cluster, lastTC int64) (kvs.ErrorID, string) {
	if h.docType != "matroska" && h.docType != "webm" {
		return kvs.ErrInvalidMKVData, "DocType " + h.docType
	}
	tracks := h.tracks
	if len(tracks) == 0 {
		return kvs.ErrInvalidMKVData, "no tracks"
	}
	if len(tracks) > 3 {
		return kvs.ErrMoreThanAllowedTracksFound, fmt.Sprintf("%d tracks", len(tracks))
	}
	if h.scale != kvs.TimecodeScale {
		return kvs.ErrInvalidMKVData, fmt.Sprintf("TimecodeScale %d", h.scale)
	}
	for _, t := range tracks {
		if t.CodecID == kvs.CodecIDH264 {
			if _, err := kvs.ParseAVCConfig(t.CodecPrivate); err != nil {
				return kvs.ErrInvalidMKVData, err.Error()
			}
		}
	}
	if int64(c.Timecode) <= lastTC {
		return kvs.ErrFragmentTimecodeLesserThanPrev, fmt.Sprintf("%d after %d", c.Timecode, lastTC)
	}
	if len(c.BlockGroup) > 0 {
		return kvs.ErrInvalidMKVData, "BlockGroups are not supported by this server"
	}
	if len(c.SimpleBlock) == 0 {
		return kvs.ErrFramesMissingForTrack, "no frames"
	}
	if !c.SimpleBlock[0].Keyframe {
		return kvs.ErrInvalidMKVData, "fragment does not start with a key frame"
	}
	size := 0
	var maxOff int16
	for _, b := range c.SimpleBlock {
		found := false
		for _, t := range tracks {
			found = found || t.TrackNumber == b.TrackNumber
		}
		if !found {
			return kvs.ErrTrackNumberMismatch, fmt.Sprintf("block of track %d", b.TrackNumber)
		}
		for _, d := range b.Data {
			size += len(d)
		}
		maxOff = max(maxOff, b.Timecode)
	}
	if size > MaxFragmentSize {
		return kvs.ErrMaxFragmentSizeReached, fmt.Sprintf("%d bytes", size)
	}
	if time.Duration(maxOff)*time.Millisecond > MaxFragmentDuration {
		return kvs.ErrMaxFragmentDurationReached, fmt.Sprintf("%d ms", maxOff)
	}
	for _, t := range tracks {
		found := false
		for _, b := range c.SimpleBlock {
			found = found || b.TrackNumber == t.TrackNumber
		}
		if !found {
			return kvs.ErrFramesMissingForTrack, fmt.Sprintf("no frames for track %d", t.TrackNumber)
		}
	}
	return 0, ""
}

// fragmentNumber returns a KVS-like fragment number, a long decimal string,
// the same for every acknowledgement of a fragment on a connection.
func fragmentNumber(conn int, tc int64) string {
	return fmt.Sprintf("91343852333%06d%020d", conn, tc)
}
