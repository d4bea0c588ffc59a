// Package kvslocal is a local server for the Kinesis Video Streams producer
// protocol, for tests, benchmarks and local runs: there is no local Kinesis
// Video server. It answers GetDataEndpoint (REST JSON, as the control plane
// does) and PutMedia (a chunked Matroska upload answered by a stream of JSON
// acknowledgements), checks every request's SigV4 signature against the
// local test credentials, parses the Matroska it receives with ebml-go,
// checks each fragment the way KVS documents (ErrorIds 4001, 4002, 4004,
// 4006, 4010, 4011), keeps what it persisted for inspection, and can inject
// ERROR acknowledgements and dropped connections.
//
// The server listens on 127.0.0.1 (plain HTTP). It accepts the same static
// credentials and region as lakekit's other local servers
// (internal/awstest), and, unlike them, links none of the emulators, so
// that a producer binary may embed it for its local mode.
//
// # Errors
//
// Requests are answered as KVS answers them: 403 InvalidSignatureException
// for a bad signature, 404 ResourceNotFoundException for an unknown stream,
// 400 InvalidArgumentException for bad headers or a body that is not
// chunked; problems inside the Matroska stream become ERROR
// acknowledgements, after which the server reads no further. Errors
// returns every one of them, for tests to assert on.
//
// # Concurrency
//
// A Server is safe for concurrent use; each PutMedia connection is served
// on its own goroutines.
package kvslocal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"

	"github.com/lakekit/lakekit/internal/opt"
	"github.com/lakekit/lakekit/kvs"
)

// Limits the server enforces, as KVS does.
const (
	MaxFragmentSize     = 50 << 20         // ErrorId 4001
	MaxFragmentDuration = 20 * time.Second // ErrorId 4002
	maxSkew             = 5 * time.Minute
	// drainTimeout bounds how long a connection that the server ends is
	// read and discarded, waiting for the client to close it: closing with
	// unread data would send a TCP reset, which can destroy
	// acknowledgements already sent but not yet read by the client.
	drainTimeout = 10 * time.Second
)

// Fault is what the fault hook asks the server to do with a fragment
// instead of persisting it.
type Fault struct {
	// Error, when non-zero, answers the fragment with an ERROR
	// acknowledgement of this id and ends the connection, as KVS does.
	Error kvs.ErrorID
	// Drop ends the connection before acknowledging the fragment, the way a
	// load balancer or a network failure does: the response stops without
	// its chunked terminator and the server's side of the TCP connection is
	// shut down (acknowledgements already sent are still delivered).
	Drop bool
}

// FragmentInfo describes a received fragment to the fault hook.
type FragmentInfo struct {
	Stream     string
	Connection int   // 1-based connection number on the stream
	Index      int   // 1-based count of fragments received by the server on the stream
	Timecode   int64 // Cluster timecode
	Frames     int
}

// StoredFrame is one frame of a persisted fragment.
type StoredFrame struct {
	Timecode int64 // absolute: Cluster timecode plus block offset (ms)
	Key      bool
	Size     int
	Sum      uint32 // Checksum of the frame bytes
}

// StoredFragment is a persisted fragment.
type StoredFragment struct {
	Number         string
	Timecode       int64
	TimecodeType   kvs.TimecodeType
	ProducerStart  time.Time
	Connection     int
	Frames         []StoredFrame
	Size           int
	ServerReceived time.Time
}

// OptionError reports a ServerOptions field Start refuses. Branch on it
// with errors.As.
type OptionError = opt.Error

// DefaultIdleInterval is how often, by default, the server sends IDLE on a
// connection that carries no data (KVS sends one every few seconds).
const DefaultIdleInterval = 3 * time.Second

// ServerOptions configures the server.
type ServerOptions struct {
	// IdleInterval is how often an IDLE acknowledgement is sent on a
	// connection that carries no data. Default DefaultIdleInterval;
	// negative is an *OptionError.
	IdleInterval time.Duration
	// Fault, when set, is called for every complete fragment before it is
	// persisted; a non-zero Fault replaces the persistence.
	Fault func(FragmentInfo) Fault
	// KeepMedia keeps the raw bytes of every PutMedia body (see Media).
	KeepMedia bool
	// Reject, when set, is called with each PutMedia connection's number on
	// its stream; a non-nil *APIError answers the request with that status
	// and error type instead of 200 (for example 500 InternalFailure, 400
	// ClientLimitExceededException).
	Reject func(conn int) *APIError
}

type stream struct {
	name, arn   string
	fragments   []StoredFragment
	received    int
	connections int
	media       [][]byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C of a frame's bytes, as StoredFrame.Sum holds
// it (hardware-accelerated: the server checksums every frame it persists).
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Static credentials, region and account the server accepts and puts in
// ARNs: the same as internal/awstest's.
const (
	AccessKeyID     = "S3RVER"
	SecretAccessKey = "S3RVER"
	Region          = "us-east-1"
	AccountID       = "000000000000"
)

// APIError is an error answer of the service: an HTTP status and the error
// type sent in x-amzn-ErrorType.
type APIError struct {
	Status  int // 400 when zero
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Server is the local Kinesis Video server.
type Server struct {
	// Endpoint is the base URL, http://127.0.0.1:port; it is also the data
	// endpoint GetDataEndpoint returns.
	Endpoint string
	// Config is an aws.Config for Endpoint: region, static credentials.
	Config aws.Config

	opts ServerOptions
	hs   *http.Server
	ln   net.Listener

	mu      sync.Mutex
	streams map[string]*stream // by name
	errs    []error
	calls   map[string]int
}

// New starts a server closed when the test ends.
func New(tb testing.TB, optFns ...func(*ServerOptions)) *Server {
	tb.Helper()
	s, err := Start(optFns...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Start starts a server for a program that is not a test; the caller closes
// it.
func Start(optFns ...func(*ServerOptions)) (*Server, error) {
	var o ServerOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := opt.Min("kvslocal.ServerOptions", "IdleInterval", o.IdleInterval, 0); err != nil {
		return nil, err
	}
	o.IdleInterval = opt.Default(o.IdleInterval, DefaultIdleInterval)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("kvslocal: %w", err)
	}
	s := &Server{opts: o, ln: ln, streams: map[string]*stream{}, calls: map[string]int{}}
	s.Endpoint = "http://" + ln.Addr().String()
	s.Config = aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.Endpoint),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /getDataEndpoint", s.count(s.getDataEndpoint))
	mux.HandleFunc("POST /putMedia", s.count(s.putMedia))
	s.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

func (s *Server) count(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[r.Method+" "+r.URL.Path]++
		s.mu.Unlock()
		h(w, r)
	}
}

// Calls returns how many requests a route ("POST /putMedia") received.
func (s *Server) Calls(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[route]
}

// Close stops the server and its connections.
func (s *Server) Close() error {
	return s.hs.Close()
}

// SetFault replaces the fault hook.
func (s *Server) SetFault(f func(FragmentInfo) Fault) {
	s.mu.Lock()
	s.opts.Fault = f
	s.mu.Unlock()
}

// Client returns a Kinesis Video control-plane client for the server.
func (s *Server) Client(optFns ...func(*kinesisvideo.Options)) *kinesisvideo.Client {
	return kinesisvideo.NewFromConfig(s.Config, optFns...)
}

// CreateStream adds a stream and returns its ARN.
func (s *Server) CreateStream(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[name]; ok {
		return st.arn
	}
	arn := fmt.Sprintf("arn:aws:kinesisvideo:%s:%s:stream/%s/1700000000000", Region, AccountID, name)
	s.streams[name] = &stream{name: name, arn: arn}
	return arn
}

// Fragments returns the persisted fragments of a stream, in order.
func (s *Server) Fragments(name string) []StoredFragment {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[name]; ok {
		return append([]StoredFragment(nil), st.fragments...)
	}
	return nil
}

// Connections returns how many PutMedia connections the stream received.
func (s *Server) Connections(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[name]; ok {
		return st.connections
	}
	return 0
}

// Media returns the raw PutMedia bodies received for the stream (with
// ServerOptions.KeepMedia), one per connection.
func (s *Server) Media(name string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[name]; ok {
		return append([][]byte(nil), st.media...)
	}
	return nil
}

// Errors returns the protocol errors the server answered (bad signatures,
// bad headers, rejected fragments), for tests to assert on.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *Server) recordErr(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *Server) lookup(name, arn string) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != "" {
		return s.streams[name]
	}
	for _, st := range s.streams {
		if st.arn == arn {
			return st
		}
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request, payloadHash string) bool {
	if err := VerifySigV4(r, AccessKeyID, SecretAccessKey, kvs.SigningName, payloadHash, time.Now(), maxSkew); err != nil {
		s.recordErr(fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, err))
		writeError(w, http.StatusForbidden, "InvalidSignatureException", err.Error())
		return false
	}
	return true
}

// getDataEndpoint answers the control plane's GetDataEndpoint.
func (s *Server) getDataEndpoint(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidArgumentException", err.Error())
		return
	}
	sum := sha256.Sum256(body)
	if !s.verify(w, r, hex.EncodeToString(sum[:])) {
		return
	}
	var in struct{ APIName, StreamName, StreamARN string }
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidArgumentException", "request body is not JSON")
		return
	}
	if (in.StreamName == "") == (in.StreamARN == "") {
		writeError(w, http.StatusBadRequest, "InvalidArgumentException", "specify exactly one of StreamName and StreamARN")
		return
	}
	switch in.APIName {
	case "PUT_MEDIA", "GET_MEDIA", "LIST_FRAGMENTS", "GET_MEDIA_FOR_FRAGMENT_LIST",
		"GET_HLS_STREAMING_SESSION_URL", "GET_DASH_STREAMING_SESSION_URL", "GET_CLIP", "GET_IMAGES":
	default:
		writeError(w, http.StatusBadRequest, "InvalidArgumentException", "unknown APIName "+in.APIName)
		return
	}
	if s.lookup(in.StreamName, in.StreamARN) == nil {
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "stream not found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"DataEndpoint": s.Endpoint})
}

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
