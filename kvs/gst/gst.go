//go:build gstreamer

package gst

/*
#cgo pkg-config: gstreamer-1.0 gstreamer-app-1.0
#include <stdlib.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>

static void kvs_gst_init(void) {
	if (!gst_is_initialized()) gst_init(NULL, NULL);
}

// kvs_bus_error returns the pipeline's pending error message, or NULL.
static char *kvs_bus_error(GstElement *p) {
	GstBus *bus = gst_element_get_bus(p);
	GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	gst_object_unref(bus);
	if (msg == NULL) return NULL;
	GError *gerr = NULL;
	gchar *dbg = NULL;
	gst_message_parse_error(msg, &gerr, &dbg);
	char *out = g_strdup_printf("%s: %s", GST_OBJECT_NAME(msg->src), gerr != NULL ? gerr->message : "error");
	if (gerr != NULL) g_error_free(gerr);
	g_free(dbg);
	gst_message_unref(msg);
	return out;
}

// kvs_launch parses and starts a pipeline; on failure it returns NULL and
// an error message to free with g_free.
static GstElement *kvs_launch(const char *desc, char **err) {
	GError *gerr = NULL;
	GstElement *p = gst_parse_launch(desc, &gerr);
	if (gerr != NULL) {
		*err = g_strdup(gerr->message);
		g_error_free(gerr);
		if (p != NULL) gst_object_unref(p);
		return NULL;
	}
	if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		*err = kvs_bus_error(p);
		if (*err == NULL) *err = g_strdup("pipeline refused to start");
		gst_element_set_state(p, GST_STATE_NULL);
		gst_object_unref(p);
		return NULL;
	}
	return p;
}

static GstAppSink *kvs_sink(GstElement *p) {
	GstElement *s = gst_bin_get_by_name(GST_BIN(p), "kvssink");
	return s == NULL ? NULL : GST_APP_SINK(s);
}

typedef struct {
	guint8 *data;
	gsize size;
	guint8 *codec;
	gsize codec_size;
	gint64 pts, dts;
	int key;
} kvs_frame;

// kvs_pull waits up to timeout ns for a frame: 1 with a frame (free data
// and codec with g_free), 0 on timeout, -1 at end of stream.
static int kvs_pull(GstAppSink *sink, guint64 timeout, kvs_frame *f) {
	GstSample *s = gst_app_sink_try_pull_sample(sink, timeout);
	if (s == NULL) return gst_app_sink_is_eos(sink) ? -1 : 0;
	GstBuffer *b = gst_sample_get_buffer(s);
	GstMapInfo m;
	memset(f, 0, sizeof *f);
	if (b == NULL || !gst_buffer_map(b, &m, GST_MAP_READ)) {
		gst_sample_unref(s);
		return 0;
	}
	f->data = g_memdup2(m.data, m.size);
	f->size = m.size;
	gst_buffer_unmap(b, &m);
	f->pts = GST_BUFFER_PTS_IS_VALID(b) ? (gint64)GST_BUFFER_PTS(b) : -1;
	f->dts = GST_BUFFER_DTS_IS_VALID(b) ? (gint64)GST_BUFFER_DTS(b) : -1;
	f->key = !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
	GstCaps *caps = gst_sample_get_caps(s);
	if (caps != NULL && gst_caps_get_size(caps) > 0) {
		const GValue *v = gst_structure_get_value(gst_caps_get_structure(caps, 0), "codec_data");
		if (v != NULL && G_VALUE_HOLDS(v, GST_TYPE_BUFFER)) {
			GstBuffer *cb = gst_value_get_buffer(v);
			if (cb != NULL && gst_buffer_map(cb, &m, GST_MAP_READ)) {
				f->codec = g_memdup2(m.data, m.size);
				f->codec_size = m.size;
				gst_buffer_unmap(cb, &m);
			}
		}
	}
	gst_sample_unref(s);
	return 1;
}

static void kvs_stop(GstElement *p, GstAppSink *sink) {
	gst_element_set_state(p, GST_STATE_NULL);
	if (sink != NULL) gst_object_unref(sink);
	gst_object_unref(p);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unsafe"

	"github.com/lakekit/lakekit/kvs"
)

// Source runs a GStreamer pipeline and yields its H.264 frames. It
// implements kvs.Source.
type Source struct {
	mu       sync.Mutex
	pipeline *C.GstElement
	sink     *C.GstAppSink
	track    kvs.Track
	first    *kvs.Frame
	start    int64
	started  bool
	closed   bool
	desc     string
}

// pullTimeout is how long one pull waits before checking the context.
const pullTimeout = 100 * time.Millisecond

// Open starts the pipeline the options describe and waits for its first
// frame, which carries the codec data (the AVCDecoderConfigurationRecord)
// that the Track needs.
func Open(ctx context.Context, optFns ...func(*Options)) (*Source, error) {
	var o Options
	for _, f := range optFns {
		f(&o)
	}
	desc, err := o.Pipeline()
	if err != nil {
		return nil, err
	}
	C.kvs_gst_init()
	cdesc := C.CString(desc)
	defer C.free(unsafe.Pointer(cdesc))
	var cerr *C.char
	p := C.kvs_launch(cdesc, &cerr)
	if p == nil {
		msg := C.GoString(cerr)
		C.g_free(C.gpointer(cerr))
		return nil, fmt.Errorf("gst: start pipeline %q: %s", desc, msg)
	}
	s := &Source{pipeline: p, sink: C.kvs_sink(p), desc: desc}
	if s.sink == nil {
		C.kvs_stop(p, nil)
		return nil, errors.New("gst: the pipeline has no appsink named kvssink")
	}
	f, codec, err := s.pull(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	if len(codec) == 0 {
		s.Close()
		return nil, errors.New("gst: the first H.264 buffer carries no codec_data: caps must be stream-format=avc")
	}
	cfg, err := kvs.ParseAVCConfig(codec)
	if err != nil {
		s.Close()
		return nil, err
	}
	if cfg.LengthSize != 4 {
		s.Close()
		return nil, fmt.Errorf("gst: %d-byte NAL lengths; the muxer writes 4", cfg.LengthSize)
	}
	if s.track, err = kvs.TrackFromAVCConfig(cfg); err != nil {
		s.Close()
		return nil, err
	}
	s.first = &f
	return s, nil
}

// PipelineDescription returns the gst-launch description that runs.
func (s *Source) PipelineDescription() string { return s.desc }

// Track implements kvs.Source.
func (s *Source) Track() kvs.Track { return s.track }

// Next implements kvs.Source: io.EOF at the end of stream.
func (s *Source) Next(ctx context.Context) (kvs.Frame, error) {
	if s.first != nil {
		f := *s.first
		s.first = nil
		return f, nil
	}
	f, _, err := s.pull(ctx)
	return f, err
}

func (s *Source) pull(ctx context.Context) (kvs.Frame, []byte, error) {
	for {
		f, codec, got, err := s.pullOnce(ctx)
		if got || err != nil {
			return f, codec, err
		}
	}
}

// pullOnce waits up to pullTimeout for a frame, holding the lock only that
// long so that Close is never blocked for more.
func (s *Source) pullOnce(ctx context.Context) (kvs.Frame, []byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return kvs.Frame{}, nil, false, errors.New("gst: source closed")
	}
	if err := ctx.Err(); err != nil {
		return kvs.Frame{}, nil, false, err
	}
	var cf C.kvs_frame
	switch C.kvs_pull(s.sink, C.guint64(pullTimeout), &cf) {
	case 0:
		if err := s.busError(); err != nil {
			return kvs.Frame{}, nil, false, err
		}
		return kvs.Frame{}, nil, false, nil
	case -1:
		if err := s.busError(); err != nil {
			return kvs.Frame{}, nil, false, err
		}
		return kvs.Frame{}, nil, false, io.EOF
	}
	data := C.GoBytes(unsafe.Pointer(cf.data), C.int(cf.size))
	C.g_free(C.gpointer(cf.data))
	var codec []byte
	if cf.codec != nil {
		codec = C.GoBytes(unsafe.Pointer(cf.codec), C.int(cf.codec_size))
		C.g_free(C.gpointer(cf.codec))
	}
	pts := int64(cf.pts)
	if pts < 0 {
		pts = int64(cf.dts)
	}
	if pts < 0 {
		return kvs.Frame{}, nil, false, errors.New("gst: buffer without timestamps")
	}
	if !s.started {
		s.start, s.started = pts, true
	}
	return kvs.Frame{Data: data, Key: cf.key != 0, PTS: time.Duration(pts - s.start)}, codec, true, nil
}

// busError returns the pipeline's pending error, if any; s.mu is held.
func (s *Source) busError() error {
	msg := C.kvs_bus_error(s.pipeline)
	if msg == nil {
		return nil
	}
	defer C.g_free(C.gpointer(msg))
	return errors.New("gst: " + C.GoString(msg))
}

// Close stops the pipeline and releases it. It is safe to call more than
// once.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	C.kvs_stop(s.pipeline, s.sink)
	return nil
}
