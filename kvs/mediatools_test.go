//go:build mediatools

package kvs

// Tests that check the muxer's output with independent tools: ffprobe and
// ffmpeg (Debian ffmpeg) and mkvinfo (Debian mkvtoolnix). They fail, never
// skip, when the tools are missing:
//
//	apt-get install -y ffmpeg mkvtoolnix
//	go test -tags mediatools ./kvs/...

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/kvs/h264sample"
)

const aptMediaTools = "apt-get install -y ffmpeg mkvtoolnix"

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required by the mediatools tests: %s", name, aptMediaTools)
	}
	return p
}

func run(t *testing.T, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(tool(t, name), args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String()
}

// ValidateMKV checks a Matroska file with ffprobe, mkvinfo and ffmpeg: no
// errors, one H.264 track of the given size, the number of frames and of
// key frames, and that ffmpeg decodes every frame to the same pictures as
// the reference (an Annex-B file), when given.
func ValidateMKV(t *testing.T, path string, width, height, frames, clusters int, reference string) {
	t.Helper()
	out, errOut := run(t, "ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", path)
	if strings.TrimSpace(errOut) != "" {
		t.Errorf("ffprobe reported errors:\n%s", errOut)
	}
	var probe struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			FormatName string `json:"format_name"`
		} `json:"format"`
	}
	if err := json.Unmarshal([]byte(out), &probe); err != nil {
		t.Fatal(err)
	}
	if len(probe.Streams) != 1 || probe.Streams[0].CodecName != "h264" || probe.Streams[0].Width != width ||
		probe.Streams[0].Height != height || probe.Streams[0].NbReadFrames != itoa(frames) ||
		!strings.Contains(probe.Format.FormatName, "matroska") {
		t.Errorf("ffprobe: %s", out)
	}
	info, errOut := run(t, "mkvinfo", "-v", path)
	if strings.Contains(strings.ToLower(info+errOut), "error") {
		t.Errorf("mkvinfo reported errors:\n%s%s", info, errOut)
	}
	if !strings.Contains(info, "Codec ID: V_MPEG4/ISO/AVC") || !strings.Contains(info, "Document type: matroska") {
		t.Errorf("mkvinfo: no H.264 track:\n%s", info[:min(len(info), 2000)])
	}
	if got := strings.Count(info, "+ Cluster\n"); got != clusters {
		t.Errorf("mkvinfo shows %d clusters, want %d", got, clusters)
	}
	// Every Cluster's first block is a key frame: mkvinfo -v prints
	// "Simple block: key, ..." for them.
	for i, c := range strings.Split(info, "+ Cluster\n")[1:] {
		at := strings.Index(c, "Simple block: ")
		if at < 0 || !strings.HasPrefix(c[at:], "Simple block: key,") {
			t.Errorf("cluster %d does not start with a key frame", i)
		}
	}
	decoded, errOut := run(t, "ffmpeg", "-v", "error", "-i", path, "-f", "framemd5", "-")
	if strings.TrimSpace(errOut) != "" {
		t.Errorf("ffmpeg decode errors:\n%s", errOut)
	}
	if n := countFrames(decoded); n != frames {
		t.Errorf("ffmpeg decoded %d frames, want %d", n, frames)
	}
	if reference != "" {
		ref, _ := run(t, "ffmpeg", "-v", "error", "-i", reference, "-f", "framemd5", "-")
		if md5s(decoded) != md5s(ref) {
			t.Errorf("decoded pictures differ from the reference stream's")
		}
	}
}

func countFrames(framemd5 string) int {
	n := 0
	for _, l := range strings.Split(framemd5, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

// md5s returns the picture hashes of a framemd5 listing, without timestamps.
func md5s(framemd5 string) string {
	var b strings.Builder
	for _, l := range strings.Split(framemd5, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",")
		b.WriteString(strings.TrimSpace(f[len(f)-1]) + "\n")
	}
	return b.String()
}

func TestMuxerOutputValidatedByMediaTools(t *testing.T) {
	track, frames := LoadFixture(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.h264")
	if err := os.WriteFile(ref, h264sample.TestSrc, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		frag     time.Duration
		tcType   TimecodeType
		clusters int
	}{
		{"1s absolute", time.Second, TimecodeAbsolute, 10},
		{"3s relative", 3 * time.Second, TimecodeRelative, 4},
		{"10s relative", 10 * time.Second, TimecodeRelative, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stream, _ := muxAll(t, track, frames, func(o *MuxerOptions) {
				o.FragmentDuration, o.TimecodeType, o.StartTime = tt.frag, tt.tcType, time.Now()
			})
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".mkv")
			if err := os.WriteFile(path, stream, 0o644); err != nil {
				t.Fatal(err)
			}
			ValidateMKV(t, path, 320, 240, len(frames), tt.clusters, ref)
		})
	}
}

// TestMKVSourceReadsFFmpegOutput reads a Matroska file written by ffmpeg
// (not by this package) as a file source.
func TestMKVSourceReadsFFmpegOutput(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.h264")
	if err := os.WriteFile(ref, h264sample.TestSrc, 0o644); err != nil {
		t.Fatal(err)
	}
	mkv := filepath.Join(dir, "ffmpeg.mkv")
	run(t, "ffmpeg", "-v", "error", "-r", "30", "-i", ref, "-c", "copy", mkv)
	f, err := os.Open(mkv)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := NewMKVSource(f)
	if err != nil {
		t.Fatal(err)
	}
	_, frames := LoadFixture(t)
	n := 0
	for ; ; n++ {
		fr, err := src.Next(t.Context())
		if err != nil {
			break
		}
		if n < len(frames) && (fr.Key != frames[n].Key) {
			t.Fatalf("frame %d key=%v", n, fr.Key)
		}
	}
	if n != len(frames) || src.Track().Width != 320 {
		t.Fatalf("%d frames, track %+v", n, src.Track())
	}
}
