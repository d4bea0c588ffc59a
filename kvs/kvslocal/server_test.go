package kvslocal

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/h264sample"
)

// postPutMedia sends a signed PutMedia request with body (chunked unless
// fixedLength) and returns the status and the acknowledgements.
func postPutMedia(t *testing.T, srv *Server, headers map[string]string, body []byte, fixedLength bool) (int, []kvs.Ack) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if !fixedLength {
		rd = io.MultiReader(rd) // hides the length: chunked
	}
	req, _ := http.NewRequest(http.MethodPost, srv.Endpoint+kvs.PutMediaPath, rd)
	if fixedLength {
		req.ContentLength = int64(len(body))
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey},
		req, kvs.EmptyPayloadHash, kvs.SigningName, awstest.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var acks []kvs.Ack
	if resp.StatusCode == http.StatusOK {
		d := kvs.NewAckDecoder(resp.Body)
		for {
			a, err := d.Next()
			if err != nil {
				break
			}
			acks = append(acks, a)
		}
	}
	return resp.StatusCode, acks
}

type testCluster struct {
	Timecode    uint64       `ebml:"Timecode"`
	SimpleBlock []ebml.Block `ebml:"SimpleBlock"`
}

func cluster(t *testing.T, tc uint64, blocks ...ebml.Block) []byte {
	var b bytes.Buffer
	if err := ebml.Marshal(&struct {
		Cluster testCluster `ebml:"Cluster"`
	}{testCluster{tc, blocks}}, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPutMediaProtocolChecks(t *testing.T) {
	srv := New(t)
	srv.CreateStream("cam")
	src, err := kvs.LoopAnnexB(h264sample.TestSrc, 30, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := kvs.NewMuxer(src.Track(), func(o *kvs.MuxerOptions) { o.TimecodeType = kvs.TimecodeRelative })
	if err != nil {
		t.Fatal(err)
	}
	key, _ := src.Next(context.Background())
	delta, _ := src.Next(context.Background())
	kb := ebml.Block{TrackNumber: 1, Keyframe: true, Data: [][]byte{key.Data}}
	db := ebml.Block{TrackNumber: 1, Timecode: 33, Data: [][]byte{delta.Data}}
	head := m.Header()
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	hdr := map[string]string{kvs.HeaderStreamName: "cam", kvs.HeaderTimecodeType: "RELATIVE", kvs.HeaderProducerStart: "1700000000.000"}
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for a, b := range hdr {
			h[a] = b
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	tests := []struct {
		name      string
		headers   map[string]string
		body      []byte
		fixed     bool
		status    int
		wantAcks  string // event types, and ErrorIds for ERROR
		persisted int
	}{
		{"two good fragments", hdr, cat(head, cluster(t, 0, kb, db), cluster(t, 1000, kb)), false, 200, "BUFFERING RECEIVED PERSISTED BUFFERING RECEIVED PERSISTED", 2},
		{"not chunked", hdr, cat(head, cluster(t, 0, kb)), true, 400, "", 0},
		{"unknown stream", with(kvs.HeaderStreamName, "nope"), head, false, 404, "", 0},
		{"name and ARN", with(kvs.HeaderStreamARN, "arn:aws:kinesisvideo:us-east-1:0:stream/cam/1"), head, false, 400, "", 0},
		{"bad timecode type", with(kvs.HeaderTimecodeType, "LATER"), head, false, 400, "", 0},
		{"relative without start", with(kvs.HeaderProducerStart, ""), head, false, 400, "", 0},
		{"garbage", hdr, cat(head, []byte{0x00, 0x01, 0x02}), false, 200, "ERROR 4006", 0},
		{"no key frame", hdr, cat(head, cluster(t, 0, db)), false, 200, "BUFFERING ERROR 4006", 0},
		{"timecode goes back", hdr, cat(head, cluster(t, 2000, kb), cluster(t, 1000, kb)), false, 200, "BUFFERING RECEIVED PERSISTED BUFFERING ERROR 4004", 1},
		{"unknown track", hdr, cat(head, cluster(t, 0, ebml.Block{TrackNumber: 2, Keyframe: true, Data: [][]byte{key.Data}})), false, 200, "BUFFERING ERROR 4010", 0},
		{"no frames", hdr, cat(head, cluster(t, 0)), false, 200, "BUFFERING ERROR 4011", 0},
		{"too long", hdr, cat(head, cluster(t, 0, kb, ebml.Block{TrackNumber: 1, Timecode: 25000, Data: [][]byte{delta.Data}})), false, 200, "BUFFERING ERROR 4002", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Fragments("cam"))
			status, acks := postPutMedia(t, srv, tt.headers, tt.body, tt.fixed)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			var got []string
			for _, a := range acks {
				s := string(a.EventType)
				if a.EventType == kvs.AckError {
					s += " " + itoa(int(a.ErrorID))
				}
				if a.EventType != kvs.AckIdle {
					got = append(got, s)
				}
			}
			if strings.Join(got, " ") != tt.wantAcks {
				t.Errorf("acks %q, want %q", strings.Join(got, " "), tt.wantAcks)
			}
			if n := len(srv.Fragments("cam")) - before; n != tt.persisted {
				t.Errorf("%d fragments persisted, want %d", n, tt.persisted)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestGetDataEndpoint(t *testing.T) {
	srv := New(t)
	arn := srv.CreateStream("cam")
	c, err := kvs.NewEndpointCache(srv.Client(), kvs.StreamRef(arn))
	if err != nil {
		t.Fatal(err)
	}
	ep, err := c.Get(context.Background())
	if err != nil || ep != srv.Endpoint {
		t.Fatalf("Get = %q, %v", ep, err)
	}
}

// TestReject: a connection refused by the Reject hook is answered with the
// APIError's status and type; the producer's next connection succeeds.
func TestReject(t *testing.T) {
	reject := &APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "injected"}
	if got := reject.Error(); got != "InternalFailure: injected" {
		t.Fatalf("Error() = %q", got)
	}
	srv := New(t, func(o *ServerOptions) {
		o.Reject = func(conn int) *APIError {
			if conn == 1 {
				return reject
			}
			return nil
		}
	})
	srv.CreateStream("cam")
	src, err := kvs.LoopAnnexB(h264sample.TestSrc, h264sample.FPS, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := kvs.NewProducer(srv.Client(), "cam", src.Track(), func(o *kvs.ProducerOptions) {
		o.RetryBaseDelay, o.RetryMaxDelay = time.Millisecond, time.Millisecond
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := kvs.Stream(ctx, p, src, kvs.AsFast); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.FailedConnections != 1 || s.FragmentsPersisted != 5 {
		t.Fatalf("stats %+v", s)
	}
	if n := srv.Calls("POST /putMedia"); n != 2 {
		t.Fatalf("%d PutMedia calls, want 2", n)
	}
}
