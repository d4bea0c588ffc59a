package s3copy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) != "" {
		serveS3() // the benchmarks' out-of-process server
		return
	}
	if os.Getenv(copyEnv) != "" {
		copyChild() // a benchmark's copy in a process of its own
		return
	}
	awstest.Main(m)
}

// awkwardKeys are relative keys with folders, partitions and characters
// that need encoding in CopySource.
func awkwardKeys() []string {
	return []string{
		"folder1/part-0000.csv",
		"folder1/year=2024/month=01/day=02/part-0001.parquet",
		"folder1/year=2024/month=01/day=03/part-0002.parquet",
		"folder2/with space/a b.txt",
		"folder2/unicode/日本語-ñ-é.json",
		"folder2/plus+sign/a+b=c&d.txt",
		"folder2/percent/100%25 real %.txt",
		"folder2/odd/#hash?query;semi:colon,comma'quote\"dq<>.txt",
		"folder3/" + strings.Repeat("long-segment/", 70) + "end.bin",
		"top-level.txt",
		"folder1/", // folder marker
	}
}

func mkBucket(t testing.TB, c *s3.Client, prefix string) string {
	t.Helper()
	b := awstest.Name(t, prefix)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	return b
}

func put(t testing.TB, c *s3.Client, bucket, key string, body []byte, mod func(*s3.PutObjectInput)) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	if mod != nil {
		mod(in)
	}
	if _, err := c.PutObject(context.Background(), in); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func get(t testing.TB, c *s3.Client, bucket, key string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, out
}

// listAll returns key → size of every object under prefix.
func listAll(t testing.TB, c *s3.Client, bucket, prefix string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			got[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return got
}

func body(key string) []byte { return []byte("content of " + key) }

func TestCopyTreeAwkwardKeys(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		srcPrefix, dstPrefix string
		sameBucket           bool
		shardDepth           int
	}{
		{"cross-bucket", "raw/", "processed/", false, 0},
		{"same-bucket", "raw/", "processed/", true, 0},
		{"root-to-prefix", "", "copy/", false, 0},
		{"single-paginator", "raw/", "", false, -1},
		{"deep-shards", "raw/", "p/", false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := awstest.S3(t)
			sb := mkBucket(t, c, "src")
			db := sb
			if !tc.sameBucket {
				db = mkBucket(t, c, "dst")
			}
			for _, k := range awkwardKeys() {
				put(t, c, sb, tc.srcPrefix+k, body(k), nil)
			}
			var mu sync.Mutex
			var results []s3copy.ObjectResult
			cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
				o.Concurrency = 8
				o.ShardDepth = tc.shardDepth
				o.OnObject = func(r s3copy.ObjectResult) { mu.Lock(); results = append(results, r); mu.Unlock() }
			}))
			res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: tc.srcPrefix}, s3copy.Location{Bucket: db, Prefix: tc.dstPrefix})
			if err != nil {
				t.Fatalf("Copy: %v (failed: %+v)", err, res.Failed)
			}
			n := int64(len(awkwardKeys()))
			if res.Stats.Copied != n || res.Stats.Listed != n || res.Stats.Failed != 0 {
				t.Fatalf("stats %+v, want %d copied", res.Stats, n)
			}
			// One paginator per shard: the root, then one per folder
			// (folder1..3) at depth 1, or a single one.
			wantLists := map[int]int64{0: 4, -1: 1}
			if w, ok := wantLists[tc.shardDepth]; ok && res.Stats.Requests.List != w {
				t.Errorf("%d list requests, want %d", res.Stats.Requests.List, w)
			}
			if res.Stats.Requests.Copy != n || res.Stats.Requests.Head != 0 {
				t.Errorf("requests %+v: want one CopyObject per object and no HEAD", res.Stats.Requests)
			}
			if len(results) != int(n) {
				t.Errorf("OnObject called %d times, want %d", len(results), n)
			}
			got := listAll(t, c, db, tc.dstPrefix)
			for _, k := range awkwardKeys() {
				size, ok := got[tc.dstPrefix+k]
				if !ok {
					t.Errorf("missing %q", tc.dstPrefix+k)
					continue
				}
				if size != int64(len(body(k))) {
					t.Errorf("%q: size %d", k, size)
				}
				b, _ := get(t, c, db, tc.dstPrefix+k)
				if !bytes.Equal(b, body(k)) {
					t.Errorf("%q: body %q", k, b)
				}
			}
			if tc.sameBucket {
				if len(got) != int(n) {
					t.Errorf("destination holds %d objects, want %d", len(got), n)
				}
			}
			if st := cp.Stats(); st.Copied != n {
				t.Errorf("Copier.Stats().Copied = %d", st.Copied)
			}
		})
	}
}

// TestCopyPreservesMetadataSingle runs on s3rver, which keeps metadata on
// copies. Tags on a single CopyObject are carried by S3 itself (the default
// TaggingDirective COPY); s3rver does not copy them, so the test checks
// that the copier leaves the directive alone.
func TestCopyPreservesMetadataSingle(t *testing.T) {
	c, rec := s3rverRecorded(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	put(t, c, sb, "a/obj.json", []byte(`{"a":1}`), func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("application/json")
		in.ContentEncoding = aws.String("identity")
		in.CacheControl = aws.String("max-age=60")
		in.Metadata = map[string]string{"origin": "landing", "batch": "42"}
	})
	cp := must(s3copy.New(c))
	res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "a/"}, s3copy.Location{Bucket: db, Prefix: "b/"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Requests.Total() != res.Stats.Requests.List+res.Stats.Requests.Bucket+1 {
		t.Errorf("requests %+v: want one CopyObject", res.Stats.Requests)
	}
	checkCarried(t, c, db, "b/obj.json", "application/json", map[string]string{"origin": "landing", "batch": "42"}, nil)
	copies := rec.find(http.MethodPut, "")
	var sent *http.Request
	for _, r := range copies {
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			sent = r
		}
	}
	if sent == nil {
		t.Fatal("no CopyObject recorded")
	}
	for _, h := range []string{"X-Amz-Metadata-Directive", "X-Amz-Tagging-Directive", "X-Amz-Tagging", "X-Amz-Server-Side-Encryption"} {
		if v := sent.Header.Get(h); v != "" {
			t.Errorf("CopyObject sent %s: %q; the defaults carry everything", h, v)
		}
	}
	if got := sent.Header.Get("X-Amz-Copy-Source-If-Match"); got == "" {
		t.Error("CopyObject sent no x-amz-copy-source-if-match")
	}
}

func checkCarried(t *testing.T, c *s3.Client, bucket, key, contentType string, meta, tags map[string]string) {
	t.Helper()
	_, out := get(t, c, bucket, key)
	if got := aws.ToString(out.ContentType); got != contentType {
		t.Errorf("%s: content type %q, want %q", key, got, contentType)
	}
	if !maps.Equal(lower(out.Metadata), meta) {
		t.Errorf("%s: metadata %v, want %v", key, out.Metadata, meta)
	}
	if tags == nil {
		return
	}
	tg, err := c.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, x := range tg.TagSet {
		got[aws.ToString(x.Key)] = aws.ToString(x.Value)
	}
	if !maps.Equal(got, tags) {
		t.Errorf("%s: tags %v, want %v", key, got, tags)
	}
}

func lower(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func TestCopyOverrides(t *testing.T) {
	c, rec := s3rverRecorded(t) // gofakes3 merges metadata on REPLACE
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	put(t, c, sb, "a/x.csv", []byte("a,b\n"), func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("text/plain")
		in.CacheControl = aws.String("max-age=5")
		in.Metadata = map[string]string{"old": "1"}
	})
	cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.Overrides.ContentType = aws.String("text/csv")
		o.Overrides.Metadata = map[string]string{"new": "2"}
		o.Overrides.Tags = map[string]string{"zone": "processed"}
		o.Encryption = s3copy.EncryptionSet
		o.ServerSideEncryption = types.ServerSideEncryptionAes256
	}))
	res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "a/"}, s3copy.Location{Bucket: db, Prefix: "b/"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Requests.Head != 1 {
		t.Errorf("Head requests %d, want 1 (REPLACE needs the source headers)", res.Stats.Requests.Head)
	}
	checkCarried(t, c, db, "b/x.csv", "text/csv", map[string]string{"new": "2"}, nil)
	if _, out := get(t, c, db, "b/x.csv"); aws.ToString(out.CacheControl) != "max-age=5" {
		t.Errorf("cache control not kept under REPLACE: %q", aws.ToString(out.CacheControl))
	}
	var sent *http.Request
	for _, r := range rec.find(http.MethodPut, "") {
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			sent = r
		}
	}
	if sent == nil {
		t.Fatal("no CopyObject recorded")
	}
	for h, want := range map[string]string{
		"X-Amz-Metadata-Directive": "REPLACE", "X-Amz-Tagging-Directive": "REPLACE", "X-Amz-Tagging": "zone=processed",
		"X-Amz-Server-Side-Encryption": "AES256",
	} {
		if got := sent.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

func TestKeyMapEscapeRejected(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	for _, k := range []string{"in/ok.txt", "in/evil.txt", "in/dots.txt", "in/abs.txt", "in/../up.txt"} {
		put(t, c, sb, k, body(k), nil)
	}
	cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.KeyMap = func(src, dst s3copy.Location, key string) (string, error) {
			rel := strings.TrimPrefix(key, src.Prefix)
			switch rel {
			case "evil.txt":
				return "elsewhere/evil.txt", nil
			case "dots.txt":
				return dst.Prefix + "a/../../dots.txt", nil
			case "abs.txt":
				return dst.Prefix + "/abs.txt", nil
			}
			return dst.Prefix + rel, nil
		}
	}))
	res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "in/"}, s3copy.Location{Bucket: db, Prefix: "out/"})
	var ce *s3copy.CopyError
	if !errors.As(err, &ce) || ce.Failed != 4 {
		t.Fatalf("err = %v, want a CopyError with 4 failures", err)
	}
	for _, f := range res.Failed {
		if !errors.Is(f.Err, s3copy.ErrKeyEscapes) {
			t.Errorf("%s: %v, want ErrKeyEscapes", f.SrcKey, f.Err)
		}
		var oe *s3copy.ObjectError
		if !errors.As(f.Err, &oe) || oe.Op != "map" {
			t.Errorf("%s: want ObjectError with Op map, got %v", f.SrcKey, f.Err)
		}
	}
	got := listAll(t, c, db, "")
	if len(got) != 1 || got["out/ok.txt"] == 0 {
		t.Errorf("destination %v, want only out/ok.txt", got)
	}
}

func TestCheckKey(t *testing.T) {
	for _, tc := range []struct {
		prefix, key string
		want        error
	}{
		{"out/", "out/a.txt", nil},
		{"out/", "out/a/b/c.txt", nil},
		{"out/", "out/a..b/c.txt", nil},
		{"out/", "out/.hidden", nil},
		{"", "a.txt", nil},
		{"out", "out-2/a", nil},
		{"out/", "other/a.txt", s3copy.ErrKeyEscapes},
		{"out/", "out/", s3copy.ErrKeyEscapes},
		{"out/", "out//a", s3copy.ErrKeyEscapes},
		{"out/", "out/../a", s3copy.ErrKeyEscapes},
		{"out/", "out/a/./b", s3copy.ErrKeyEscapes},
		{"out/", "out/a/..", s3copy.ErrKeyEscapes},
		{"out", "out/../x", s3copy.ErrKeyEscapes},
		{"o", "o..", nil},
		{"out/x", "out/x/../..", s3copy.ErrKeyEscapes},
		{"out/", "out/" + strings.Repeat("a", 1021), s3copy.ErrKeyTooLong},
		{"out/", "out/" + strings.Repeat("a", 1020), nil},
		{"out/", "out/日本語/ñ-é\uFEFF\uFFFD😀", nil},
		{"out/", "out/a\x00b", s3copy.ErrKeyChar},
		{"out/", "out/a\tb", s3copy.ErrKeyChar},
		{"out/", "out/a\nb", s3copy.ErrKeyChar},
		{"out/", "out/a\rb", s3copy.ErrKeyChar},
		{"out/", "out/a\x1fb", s3copy.ErrKeyChar},
		{"out/", "out/a\x7fb", s3copy.ErrKeyChar},
		{"out/", "out/a\u0085b", s3copy.ErrKeyChar},
		{"out/", "out/a\u009fb", s3copy.ErrKeyChar},
		{"out/", "out/a\uFFFEb", s3copy.ErrKeyChar},
		{"out/", "out/a\uFFFF", s3copy.ErrKeyChar},
		{"out/", "out/a\xffb", s3copy.ErrKeyChar},
		{"out/", "out/a\xed\xa0\x80", s3copy.ErrKeyChar}, // a UTF-16 surrogate
		{"o\x01/", "o\x01/a", s3copy.ErrKeyChar},         // the prefix is part of the key
	} {
		err := s3copy.CheckKey(tc.prefix, tc.key)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckKey(%q, %.40q) = %v, want %v", tc.prefix, tc.key, err, tc.want)
		}
	}
}

// TestCheckKeyCharError: the error names the key (quoted) and the byte
// offset of the first character refused.
func TestCheckKeyCharError(t *testing.T) {
	for _, tc := range []struct {
		key     string
		offset  int
		r       rune
		invalid bool
		msg     string
	}{
		{"out/ok/a\x01b", 8, 0x01, false, `s3copy: key "out/ok/a\x01b" has control character U+0001 at byte 8, which S3 listings (XML 1.0) cannot carry`},
		{"out/é\u0085", 6, 0x85, false, `s3copy: key "out/é\u0085" has control character U+0085 at byte 6, which S3 listings (XML 1.0) cannot carry`},
		{"out/\uFFFF", 4, 0xFFFF, false, `s3copy: key "out/\uffff" has non-character U+FFFF at byte 4, which S3 listings (XML 1.0) cannot carry`},
		{"out/ab\xc3", 6, 0xFFFD, true, `s3copy: key "out/ab\xc3" is not valid UTF-8 at byte 6`},
	} {
		err := s3copy.CheckKey("out/", tc.key)
		var ke *s3copy.KeyCharError
		if !errors.As(err, &ke) || ke.Key != tc.key || ke.Offset != tc.offset || ke.Rune != tc.r || ke.Invalid != tc.invalid {
			t.Errorf("CheckKey(%q) = %v (%+v)", tc.key, err, ke)
			continue
		}
		if err.Error() != tc.msg {
			t.Errorf("message\n%s\nwant\n%s", err, tc.msg)
		}
	}
}

// TestControlCharacterKeyFailsObject: a source key with a control
// character is reported failed with a *KeyCharError (no request sent for
// it); the other objects are copied.
func TestControlCharacterKeyFailsObject(t *testing.T) {
	c, oc := countedS3(t, nil)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	put(t, c, sb, "in/ok.txt", []byte("x"), nil)
	res, err := must(s3copy.New(c)).CopyObjects(context.Background(), s3copy.Location{Bucket: sb, Prefix: "in/"}, s3copy.Location{Bucket: db, Prefix: "out/"},
		[]s3copy.Object{{Key: "in/ok.txt", Size: 1}, {Key: "in/bell\a.txt", Size: 1}})
	var ce *s3copy.CopyError
	var ke *s3copy.KeyCharError
	if !errors.As(err, &ce) || ce.Failed != 1 || res.Stats.Copied != 1 || !errors.As(res.Failed[0].Err, &ke) || ke.Offset != 8 {
		t.Fatalf("err %v, stats %+v", err, res.Stats)
	}
	t.Logf("failure: %v", res.Failed[0].Err)
	if oc.count("CopyObject") != 1 {
		t.Errorf("%d CopyObject requests, want 1", oc.count("CopyObject"))
	}
}

func TestOverlapRejected(t *testing.T) {
	cp := must(s3copy.New(awstest.S3(t)))
	for _, tc := range [][2]string{{"a/", "a/b/"}, {"a/b/", "a/"}, {"", "x/"}, {"a", "a-copy/"}, {"a/", "a/"}} {
		_, err := cp.Copy(context.Background(), s3copy.Location{Bucket: "b", Prefix: tc[0]}, s3copy.Location{Bucket: "b", Prefix: tc[1]})
		if !errors.Is(err, s3copy.ErrOverlap) {
			t.Errorf("%q → %q: %v, want ErrOverlap", tc[0], tc[1], err)
		}
	}
}

func TestSyncSkipDryRunDelete(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	src := s3copy.Location{Bucket: sb, Prefix: "raw/"}
	dst := s3copy.Location{Bucket: db, Prefix: "proc/"}
	for i := range 30 {
		k := fmt.Sprintf("raw/f%d/obj-%02d", i%3, i)
		put(t, c, sb, k, body(k), nil)
	}
	cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.SkipUnchanged = true; o.DeleteRemoved = true; o.Concurrency = 4 }))
	res, err := cp.Copy(context.Background(), src, dst)
	if err != nil || res.Stats.Copied != 30 {
		t.Fatalf("first sync: %v %+v", err, res.Stats)
	}
	// Change one, remove one at the source, add strays at the destination.
	put(t, c, sb, "raw/f0/obj-00", []byte("changed!"), nil)
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(sb), Key: aws.String("raw/f1/obj-01")}); err != nil {
		t.Fatal(err)
	}
	put(t, c, db, "proc/f2/stray", []byte("x"), nil)
	put(t, c, db, "proc/gone-folder/stray", []byte("x"), nil)
	put(t, c, db, "outside/keep", []byte("x"), nil)
	before := listAll(t, c, db, "")

	dry := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.SkipUnchanged = true; o.DeleteRemoved = true; o.DryRun = true }))
	res, err = dry.Copy(context.Background(), src, dst)
	if err != nil {
		t.Fatal(err)
	}
	// 1 changed object to copy + 3 deletions (obj-01, two strays).
	if res.Stats.DryRun != 4 || res.Stats.Skipped != 28 || res.Stats.Copied != 0 || res.Stats.Deleted != 0 {
		t.Fatalf("dry run stats %+v", res.Stats)
	}
	if res.Stats.Requests.Copy != 0 || res.Stats.Requests.Delete != 0 {
		t.Fatalf("dry run sent writes: %+v", res.Stats.Requests)
	}
	if after := listAll(t, c, db, ""); !maps.Equal(before, after) {
		t.Fatalf("dry run changed the destination:\n%v\n%v", before, after)
	}

	res, err = cp.Copy(context.Background(), src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Copied != 1 || res.Stats.Skipped != 28 || res.Stats.Deleted != 3 {
		t.Fatalf("second sync stats %+v", res.Stats)
	}
	got := listAll(t, c, db, "")
	want := map[string]int64{"outside/keep": 1}
	for k, v := range listAll(t, c, sb, "raw/") {
		want["proc/"+strings.TrimPrefix(k, "raw/")] = v
	}
	if !maps.Equal(got, want) {
		t.Fatalf("after sync\n got %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	if b, _ := get(t, c, db, "proc/f0/obj-00"); string(b) != "changed!" {
		t.Errorf("changed object not recopied: %q", b)
	}
}

func TestSkipUnchangedCustomKeyMapHeads(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	for i := range 5 {
		put(t, c, sb, fmt.Sprintf("in/%d.csv", i), body("x"), nil)
	}
	km := func(src, dst s3copy.Location, key string) (string, error) {
		return dst.Prefix + "dt=2024-01-01/" + strings.TrimPrefix(key, src.Prefix), nil
	}
	mk := func() *s3copy.Copier {
		return must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.KeyMap = km; o.SkipUnchanged = true }))
	}
	src, dst := s3copy.Location{Bucket: sb, Prefix: "in/"}, s3copy.Location{Bucket: db, Prefix: "zone/"}
	if res, err := mk().Copy(context.Background(), src, dst); err != nil || res.Stats.Copied != 5 {
		t.Fatalf("%v %+v", err, res.Stats)
	}
	res, err := mk().Copy(context.Background(), src, dst)
	if err != nil || res.Stats.Skipped != 5 || res.Stats.Requests.Copy != 0 || res.Stats.Requests.Head != 5 {
		t.Fatalf("%v %+v", err, res.Stats)
	}
	if _, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.KeyMap = km; o.DeleteRemoved = true })).Copy(context.Background(), src, dst); !errors.Is(err, s3copy.ErrDeleteNeedsPrefixMap) {
		t.Errorf("DeleteRemoved with custom KeyMap: %v", err)
	}
}

func TestVerify(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	for i := range 4 {
		put(t, c, sb, fmt.Sprintf("v/%d", i), body(fmt.Sprint(i)), nil)
	}
	res, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Verify = true })).Copy(context.Background(),
		s3copy.Location{Bucket: sb, Prefix: "v/"}, s3copy.Location{Bucket: db, Prefix: "w/"})
	if err != nil || res.Stats.Copied != 4 || res.Stats.Requests.Head != 4 {
		t.Fatalf("%v %+v", err, res.Stats)
	}
}

func TestStorageClassCarried(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	put(t, c, sb, "s/ia", []byte("x"), func(in *s3.PutObjectInput) { in.StorageClass = types.StorageClassStandardIa })
	if _, err := must(s3copy.New(c)).Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "s/"}, s3copy.Location{Bucket: db, Prefix: "s/"}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(db)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 1 {
		t.Fatalf("%d objects", len(out.Contents))
	}
	t.Logf("storage class at destination: %q", out.Contents[0].StorageClass)
}

func TestProgressAndOwnerHeaders(t *testing.T) {
	srv := awstest.S3Server(t)
	rec := &recorder{}
	c := srv.S3(func(o *s3.Options) { rec.inner = o.HTTPClient; o.HTTPClient = rec })
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	for i := range 20 {
		put(t, c, sb, fmt.Sprintf("p/%02d", i), body("x"), nil)
	}
	var mu sync.Mutex
	var calls []s3copy.Stats
	cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.ExpectedBucketOwner = "111122223333"
		o.ExpectedSourceBucketOwner = "444455556666"
		o.Progress = func(s s3copy.Stats) { mu.Lock(); calls = append(calls, s); mu.Unlock() }
	}))
	res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "p/"}, s3copy.Location{Bucket: db, Prefix: "q/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1].Copied != 20 || calls[len(calls)-1] != res.Stats {
		t.Fatalf("progress calls %d, last %+v, result %+v", len(calls), calls[len(calls)-1], res.Stats)
	}
	if st := cp.Stats(); st.Copied != 20 || st.Requests != res.Stats.Requests {
		t.Errorf("Copier.Stats %+v", st)
	}
	var copies, lists int
	for _, r := range rec.find(http.MethodPut, "") {
		if r.Header.Get("X-Amz-Copy-Source") == "" {
			continue
		}
		copies++
		if r.Header.Get("X-Amz-Expected-Bucket-Owner") != "111122223333" || r.Header.Get("X-Amz-Source-Expected-Bucket-Owner") != "444455556666" {
			t.Errorf("CopyObject owner headers: %q %q", r.Header.Get("X-Amz-Expected-Bucket-Owner"), r.Header.Get("X-Amz-Source-Expected-Bucket-Owner"))
		}
	}
	for _, r := range rec.find(http.MethodGet, "list-type=2") {
		if strings.Contains(r.URL.Path, sb) {
			lists++
			if r.Header.Get("X-Amz-Expected-Bucket-Owner") != "444455556666" {
				t.Errorf("source listing owner header %q", r.Header.Get("X-Amz-Expected-Bucket-Owner"))
			}
		}
	}
	if copies != 20 || lists == 0 {
		t.Errorf("%d copies, %d source listings recorded", copies, lists)
	}
}

// checksumHeads injects stored full-object checksums into HeadObject
// answers (gofakes3 keeps none), and gives the objects of one bucket
// multipart ETags in listings (gofakes3 gives MD5s even to multipart
// uploads).
type checksumHeads struct {
	s3copy.API
	sums            map[string]string // bucket/key → CRC64NVME
	multipartBucket string
}

func (c checksumHeads) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out, err := c.API.ListObjectsV2(ctx, in, optFns...)
	if err == nil && aws.ToString(in.Bucket) == c.multipartBucket {
		for i := range out.Contents {
			out.Contents[i].ETag = aws.String(`"` + strings.Trim(aws.ToString(out.Contents[i].ETag), `"`) + `-1"`)
		}
	}
	return out, err
}

func (c checksumHeads) HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	out, err := c.API.HeadObject(ctx, in, optFns...)
	if err == nil && in.ChecksumMode == types.ChecksumModeEnabled {
		if v, ok := c.sums[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]; ok {
			out.ChecksumType = types.ChecksumTypeFullObject
			out.ChecksumCRC64NVME = aws.String(v)
		}
	}
	return out, err
}

func TestSkipUnchangedMultipartETagsUseChecksums(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	for _, k := range []string{"same", "changed", "nochecksum"} {
		put(t, c, sb, "m/"+k, []byte("0123456789"), nil)
		put(t, c, db, "n/"+k, []byte("0123456789"), nil)
	}
	api := checksumHeads{API: c, multipartBucket: db, sums: map[string]string{
		sb + "/m/same": "AAA", db + "/n/same": "AAA",
		sb + "/m/changed": "AAA", db + "/n/changed": "BBB",
	}}
	var mu sync.Mutex
	actions := map[string]s3copy.Action{}
	res, err := must(s3copy.New(api, func(o *s3copy.CopierOptions) {
		o.SkipUnchanged = true
		o.OnObject = func(r s3copy.ObjectResult) { mu.Lock(); actions[r.SrcKey] = r.Action; mu.Unlock() }
	})).Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "m/"}, s3copy.Location{Bucket: db, Prefix: "n/"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]s3copy.Action{"m/same": s3copy.ActionSkipped, "m/changed": s3copy.ActionCopied, "m/nochecksum": s3copy.ActionSkipped}
	if !maps.Equal(actions, want) {
		t.Errorf("actions %v, want %v", actions, want)
	}
	if res.Stats.Requests.Head != 6 {
		t.Errorf("%d HeadObject requests, want 2 per multipart-ETag pair", res.Stats.Requests.Head)
	}
}

// etagLies alters CopyObject answers and source encryption to exercise the
// free ETag check.
type etagLies struct {
	s3copy.API
	copyETag  string                     // ETag CopyObject answers with
	copySSE   types.ServerSideEncryption // encryption CopyObject reports
	sourceSSE types.ServerSideEncryption // encryption HeadObject reports
}

func (e etagLies) CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	out, err := e.API.CopyObject(ctx, in, optFns...)
	if err == nil {
		out.CopyObjectResult.ETag = aws.String(e.copyETag)
		out.ServerSideEncryption = e.copySSE
	}
	return out, err
}

func (e etagLies) HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	out, err := e.API.HeadObject(ctx, in, optFns...)
	if err == nil {
		out.ServerSideEncryption = e.sourceSSE
	}
	return out, err
}

func TestCopyETagCheck(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lie       etagLies
		wantErr   bool
		wantHeads int64
	}{
		{"mismatch", etagLies{copyETag: `"bad"`, copySSE: types.ServerSideEncryptionAes256, sourceSSE: types.ServerSideEncryptionAes256}, true, 1},
		{"kms copy", etagLies{copyETag: `"bad"`, copySSE: types.ServerSideEncryptionAwsKms}, false, 0},
		{"kms source", etagLies{copyETag: `"bad"`, copySSE: types.ServerSideEncryptionAes256, sourceSSE: types.ServerSideEncryptionAwsKms}, false, 1},
		{"multipart etag", etagLies{copyETag: `"abc-2"`}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := awstest.S3(t)
			sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
			put(t, c, sb, "e/x", []byte("x"), nil)
			tc.lie.API = c
			res, err := must(s3copy.New(tc.lie)).Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "e/"}, s3copy.Location{Bucket: db, Prefix: "f/"})
			if tc.wantErr != (err != nil) || res.Stats.Requests.Head != tc.wantHeads {
				t.Fatalf("err %v, heads %d", err, res.Stats.Requests.Head)
			}
			if tc.wantErr && !errors.Is(res.Failed[0].Err, s3copy.ErrVerify) {
				t.Errorf("want ErrVerify, got %v", res.Failed[0].Err)
			}
		})
	}
}

func TestNewHTTPClientPool(t *testing.T) {
	for _, conc := range []int{0, 8, 256, 1000} {
		tr := s3copy.NewHTTPClient(conc).GetTransport()
		want := conc
		if conc == 0 {
			want = s3copy.DefaultMaxConcurrency
		}
		if tr.MaxIdleConnsPerHost < want || tr.MaxIdleConns < want {
			t.Errorf("concurrency %d: %d idle per host, %d in all", conc, tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
		}
	}
}

// must returns v, panicking on err: the constructors' options in these
// tests are valid, so an error is a bug in the test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestNewRefusesInvalidOptions: values New cannot honour are an
// *OptionError naming the field, not a silent clamp.
func TestNewRefusesInvalidOptions(t *testing.T) {
	for field, f := range map[string]func(*s3copy.CopierOptions){
		"PartSize":           func(o *s3copy.CopierOptions) { o.PartSize = s3copy.MinPartSize - 1 },
		"MultipartThreshold": func(o *s3copy.CopierOptions) { o.MultipartThreshold = s3copy.MaxCopyObjectSize + 1 },
		"MaxBackoff":         func(o *s3copy.CopierOptions) { o.MinBackoff, o.MaxBackoff = time.Second, time.Millisecond },
		"Concurrency":        func(o *s3copy.CopierOptions) { o.Concurrency = -1 },
		"MaxConcurrency":     func(o *s3copy.CopierOptions) { o.Concurrency, o.MaxConcurrency = 64, 128 },
	} {
		_, err := s3copy.New(nil, f)
		var oe *s3copy.OptionError
		if !errors.As(err, &oe) || oe.Field != field {
			t.Errorf("%s: got %v, want an *OptionError", field, err)
		}
	}
}

// TestExpiresCarried: the source's Expires header, read from the SDK's
// ExpiresString, is sent with a copy that replaces the metadata and with a
// multipart upload (neither carries it by itself).
func TestExpiresCarried(t *testing.T) {
	c, rec := s3rverRecorded(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	expires := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	put(t, c, sb, "a/x.csv", []byte("a,b\n"), func(in *s3.PutObjectInput) { in.Expires = &expires })
	for _, tc := range []struct {
		name, query string
		opts        func(*s3copy.CopierOptions)
	}{
		{"replace", "", func(o *s3copy.CopierOptions) { o.Overrides.ContentType = aws.String("text/csv") }},
		{"multipart", "uploads", func(o *s3copy.CopierOptions) { o.MultipartThreshold = 1 }},
	} {
		if _, err := must(s3copy.New(c, tc.opts)).Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "a/"},
			s3copy.Location{Bucket: db, Prefix: tc.name + "/"}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var sent *http.Request
		for _, r := range rec.find(http.MethodPut, "") {
			if strings.HasPrefix(r.URL.Path, "/"+db+"/"+tc.name+"/") && r.Header.Get("X-Amz-Copy-Source") != "" {
				sent = r
			}
		}
		if tc.query != "" {
			sent = nil
			for _, r := range rec.find(http.MethodPost, tc.query) {
				if strings.HasPrefix(r.URL.Path, "/"+db+"/"+tc.name+"/") {
					sent = r
				}
			}
		}
		if sent == nil {
			t.Fatalf("%s: no copy request recorded", tc.name)
		}
		if got, want := sent.Header.Get("Expires"), expires.Format(http.TimeFormat); got != want {
			t.Errorf("%s: sent Expires %q, want %q", tc.name, got, want)
		}
	}
}
