package s3copy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ManifestS3API is what S3Manifest calls.
type ManifestS3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3Manifest write policy: a segment is written once S3ManifestFlushEvery
// records are gathered, or on the first Record after the last segment is
// S3ManifestFlushInterval old, and on Flush.
const (
	S3ManifestFlushEvery    = 10000
	S3ManifestFlushInterval = 10 * time.Second
)

// S3Manifest is a Manifest kept in S3, for runs whose local disk does not
// outlive them (Lambda, containers). S3 objects can't be appended to, so
// the manifest is a prefix of segment objects: every S3ManifestFlushEvery
// records, and on Flush, the new records are written as one more segment
// (same line format as FileManifest). Opening it reads every segment; a
// line that is not a record is a *ManifestError (segments are written
// whole, so none can be torn). A killed run loses at most the records of
// its unwritten segment: S3ManifestFlushEvery, and no more than the last
// S3ManifestFlushInterval's.
type S3Manifest struct {
	client ManifestS3API
	loc    Location
	owner  string
	run    string

	mu        sync.Mutex
	done      map[string]manifestEntry
	pending   bytes.Buffer
	count     int
	seq       int
	lastWrite time.Time
}

// OpenS3Manifest loads the manifest stored under loc (a prefix used only
// for it; keep it outside the copied trees). owner, if not empty, is sent
// as ExpectedBucketOwner.
func OpenS3Manifest(ctx context.Context, client ManifestS3API, loc Location, owner string) (*S3Manifest, error) {
	m := &S3Manifest{client: client, loc: loc, owner: owner, done: map[string]manifestEntry{},
		run: strconv.FormatInt(time.Now().UnixNano(), 36), lastWrite: time.Now()}
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket), Prefix: aws.String(loc.Prefix),
		ExpectedBucketOwner: optString(owner)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3copy: list manifest %s: %w", loc, err)
		}
		for _, o := range page.Contents {
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: o.Key, ExpectedBucketOwner: optString(owner)})
			if err != nil {
				return nil, fmt.Errorf("s3copy: read manifest segment %s: %w", aws.ToString(o.Key), err)
			}
			// A segment is written whole by one PutObject: no line of it
			// may be torn.
			_, err = readManifest(out.Body, "s3://"+loc.Bucket+"/"+aws.ToString(o.Key), false, m.done)
			out.Body.Close()
			if err != nil {
				var me *ManifestError
				if errors.As(err, &me) {
					return nil, err
				}
				return nil, fmt.Errorf("s3copy: read manifest segment %s: %w", aws.ToString(o.Key), err)
			}
		}
	}
	return m, nil
}

// Len returns the number of completed objects the manifest holds.
func (m *S3Manifest) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.done)
}

// Completed implements Manifest.
func (m *S3Manifest) Completed(key, etag string, size int64) bool {
	m.mu.Lock()
	e, ok := m.done[key]
	m.mu.Unlock()
	return ok && e.etag == etag && e.size == size
}

// Record implements Manifest.
func (m *S3Manifest) Record(key, etag string, size int64) error {
	m.mu.Lock()
	m.done[key] = manifestEntry{etag: etag, size: size}
	m.pending.WriteString(formatManifestLine(key, etag, size))
	m.count++
	full := m.count >= S3ManifestFlushEvery || time.Since(m.lastWrite) >= S3ManifestFlushInterval
	m.mu.Unlock()
	if full {
		ctx, cancel := context.WithTimeout(context.Background(), AbortTimeout)
		defer cancel()
		return m.Flush(ctx)
	}
	return nil
}

// Flush implements Manifest: it writes the pending records as a segment.
func (m *S3Manifest) Flush(ctx context.Context) error {
	m.mu.Lock()
	if m.count == 0 {
		m.mu.Unlock()
		return nil
	}
	body := bytes.Clone(m.pending.Bytes())
	m.pending.Reset()
	m.count = 0
	m.seq++
	m.lastWrite = time.Now()
	key := fmt.Sprintf("%s%s-%06d.tsv", m.loc.Prefix, m.run, m.seq)
	m.mu.Unlock()
	_, err := m.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.loc.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("text/tab-separated-values"), ExpectedBucketOwner: optString(m.owner)})
	if err != nil {
		// Keep the records for the next Flush.
		m.mu.Lock()
		rest := bytes.Clone(m.pending.Bytes())
		m.pending.Reset()
		m.pending.Write(body)
		m.pending.Write(rest)
		m.count += bytes.Count(body, []byte("\n"))
		m.mu.Unlock()
		return errors.Join(fmt.Errorf("s3copy: write manifest segment %s", key), err)
	}
	return nil
}
