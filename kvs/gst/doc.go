// Package gst is the camera source of the kvs producer: a small cgo binding
// over GStreamer that runs a capture pipeline (v4l2src for a camera,
// videotestsrc for tests) through x264enc into an appsink and yields H.264
// frames (AVCC, PTS, key flag) and the codec data that becomes the
// Matroska CodecPrivate. It replaces the seed's kvssink GStreamer plugin
// (the AWS C++ producer), whose build is not packaged for this platform.
//
// The binding is built only with the gstreamer build tag and needs the
// GStreamer development files and plugins:
//
//	apt-get install -y libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev \
//	  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
//	go test -tags gstreamer ./kvs/gst/
//
// It is written against GStreamer's C API directly: the Go GStreamer
// bindings (go-gst) need a newer GLib than Debian 12 ships. Without the tag
// the package holds only Options and its pipeline description.
//
//	src, err := gst.Open(ctx, func(o *gst.Options) { o.Device = "/dev/video0" })
//	p, err := kvs.NewProducer(kvc, "camera", src.Track())
//	err = kvs.Stream(ctx, p, src, kvs.AsFast)
//
// # Errors
//
// Open fails with the pipeline's parse or start error; Next returns the
// first error a pipeline element posts on the bus (a camera unplugged, caps
// that cannot be negotiated) and io.EOF at the end of stream.
//
// # Concurrency
//
// A Source is safe for concurrent use, though frames come in order only to
// one reader. GStreamer is initialised once per process, on first Open.
package gst
