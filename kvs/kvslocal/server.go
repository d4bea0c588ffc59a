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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
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
