// Package kvs streams H.264 video to Amazon Kinesis Video Streams from Go.
// AWS ships producer SDKs only for C/C++/Java/Android, and aws-sdk-go-v2 has
// no PutMedia; this package speaks the PutMedia protocol itself, in pure Go:
//
//   - GetDataEndpoint(PUT_MEDIA) by stream name or ARN, cached and
//     refreshed (EndpointCache);
//   - H.264 handling: Annex-B parsing and access-unit framing
//     (AnnexBReader), Annex-B → AVCC conversion, the
//     AVCDecoderConfigurationRecord (AVCConfig) and SPS parsing for the
//     picture size;
//   - a Matroska muxer (Muxer) writing what PutMedia takes: an EBML header,
//     one Segment of unknown size with Info and one V_MPEG4/ISO/AVC track
//     whose CodecPrivate is the configuration record, then one Cluster per
//     fragment, each starting at a key frame, with SimpleBlocks;
//   - the PutMedia client (Producer): a chunked POST /putMedia signed with
//     SigV4 (service kinesisvideo, the empty-payload hash for the endless
//     body), the acknowledgement stream decoded into typed events
//     (AckDecoder: BUFFERING, RECEIVED, PERSISTED, ERROR with its ErrorID,
//     IDLE), fragments kept until PERSISTED and sent again after an ERROR
//     or a dropped or stalled connection (no acknowledgement for
//     AckTimeout), connections rotated before KVS's limit and before
//     temporary credentials expire, a bounded buffer (drop-oldest or block)
//     and Stats;
//   - file sources (AnnexBSource, MKVSource) for users without a camera;
//     the camera source is kvs/gst (cgo, build tag gstreamer).
//
// Credentials come from the SDK configuration and are never logged, nor is
// frame data.
//
// kvs/kvslocal is a local PutMedia/GetDataEndpoint server for tests and
// local runs; kvs/h264sample embeds a 10-second H.264 test stream.
//
//	src, _ := kvs.LoopAnnexB(h264sample.TestSrc, h264sample.FPS, 1)
//	p, err := kvs.NewProducer(kinesisvideo.NewFromConfig(cfg), "camera", src.Track())
//	if err != nil { … }
//	err = kvs.Stream(ctx, p, src, kvs.Realtime) // paced like a live camera
//	err = p.Close(ctx)                   // waits until every fragment is PERSISTED
//
// # Matroska and ebml-go
//
// Every element is encoded and decoded by github.com/at-wat/ebml-go's
// Marshal and Unmarshal. Its mkvcore stream writer is not used: it rebases
// Cluster timecodes on the first frame (so ABSOLUTE fragment timecodes
// cannot be written), decides Cluster boundaries itself inside a goroutine,
// and writes one continuous stream — while a producer must know each
// fragment's bytes and timecode to match acknowledgements, keep and resend
// fragments, and restart the stream with a new header on every connection.
// Its reader's TrackEntry has no CodecPrivate. For reading live streams,
// ebml.Unmarshal into a channel field delivered the next-to-last Cluster a
// second time at the end of an unknown-size Segment (ebml-go v0.19.4), so
// MKVReader splits the stream into top-level elements itself (finding the
// end of unknown-size Clusters) and hands each whole element to
// ebml.Unmarshal.
//
// # Errors
//
// Constructors refuse invalid options with *OptionError naming the field.
// Put returns nil once a frame is buffered; frames that cannot start a
// fragment are counted in Stats.FramesSkipped. Connection failures are
// retried with exponential backoff and full jitter up to ProducerOptions.MaxRetries
// in a row; after that, or on a final error, Put and Close return it:
// *HTTPError (errors.As; Retryable tells 403/404 from 5xx and throttling)
// or *FragmentError carrying the ERROR acknowledgement, which unwraps to its
// ErrorID (errors.Is(err, kvs.ErrStreamNotActive); ErrorID.Class says
// retry, drop the fragment, or stop). Fragment-level ERRORs
// (ClassDropFragment) drop only that fragment and are counted in
// Stats.FragmentsDropped. Parsers wrap ErrBadAck, ErrBadMKV, ErrBadSPS and
// ErrBadConfigRecord; the muxer returns ErrNeedKeyFrame and
// ErrTimecodeOrder.
//
// # Concurrency
//
// A Producer is safe for concurrent use; Put calls are serialised. It runs
// one background goroutine per producer, and per connection one goroutine
// reading acknowledgements; ProducerOptions.OnAck is called synchronously from the
// latter. A Muxer, AnnexBReader, AckDecoder, MKVReader and the sources are
// not safe for concurrent use. EndpointCache is.
package kvs
