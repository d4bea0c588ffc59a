package s3sim

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Object is one object of the Sim: metadata and a virtual size, and a body
// only when one was put (at most MaxBodySize bytes).
type Object struct {
	Key  string
	Size int64
	// ETag is the quoted entity tag; "" makes one from the key and size.
	ETag         string
	LastModified time.Time
	ContentType  string
	Metadata     map[string]string // x-amz-meta-*, lower-case names
	Tags         map[string]string
	StorageClass string // "" is STANDARD
	Body         []byte
}

// bucket holds one bucket's objects; keys are kept sorted lazily.
type bucket struct {
	objs    map[string]*Object
	sorted  []string
	pending []string // keys added since the last sort, unsorted
	uploads map[string]*upload
}

type upload struct {
	obj   Object // what the completed object carries (no size yet)
	parts map[int32]part
}

type part struct {
	etag string
	size int64
}

type store struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	uploads int
}

// CreateBucket creates an empty bucket (no error if it exists).
func (s *Sim) CreateBucket(name string) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	s.store.bucket(name)
}

func (st *store) bucket(name string) *bucket {
	b := st.buckets[name]
	if b == nil {
		b = &bucket{objs: map[string]*Object{}, uploads: map[string]*upload{}}
		st.buckets[name] = b
	}
	return b
}

// PutObjects adds objects to bucket (created if missing) without a
// request: a test or benchmark seeds its source this way.
func (s *Sim) PutObjects(bucketName string, objs ...Object) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	b := s.store.bucket(bucketName)
	for _, o := range objs {
		if o.ETag == "" {
			o.ETag = virtualETag(o.Key, o.Size)
		}
		if o.LastModified.IsZero() {
			o.LastModified = s.wallStart
		}
		b.put(&o)
	}
}

// Objects returns bucket's objects in key order.
func (s *Sim) Objects(bucketName string) []Object {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	b := s.store.buckets[bucketName]
	if b == nil {
		return nil
	}
	out := make([]Object, 0, len(b.objs))
	for _, k := range b.keys() {
		out = append(out, *b.objs[k])
	}
	return out
}

func (b *bucket) put(o *Object) {
	if _, ok := b.objs[o.Key]; !ok {
		b.pending = append(b.pending, o.Key)
	}
	b.objs[o.Key] = o
}

func (b *bucket) keys() []string {
	if len(b.pending) > 0 {
		slices.Sort(b.pending)
		merged := make([]string, 0, len(b.sorted)+len(b.pending))
		i, j := 0, 0
		for i < len(b.sorted) || j < len(b.pending) {
			if j >= len(b.pending) || i < len(b.sorted) && b.sorted[i] < b.pending[j] {
				merged = append(merged, b.sorted[i])
				i++
			} else {
				merged = append(merged, b.pending[j])
				j++
			}
		}
		b.sorted, b.pending = merged, b.pending[:0]
	}
	// deleted keys leave the index here
	if len(b.sorted) != len(b.objs) {
		b.sorted = slices.DeleteFunc(b.sorted, func(k string) bool { _, ok := b.objs[k]; return !ok })
	}
	return b.sorted
}

func virtualETag(key string, size int64) string {
	sum := md5.Sum([]byte(key + "\x00" + strconv.FormatInt(size, 10)))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// listing is one ListObjectsV2 page.
type listing struct {
	objs      []Object
	prefixes  []string
	truncated bool
	last      string // last entry returned, for the continuation token
}

// list returns the entries of b under prefix after start (exclusive; a
// common prefix given as start skips its keys), at most maxKeys.
func (b *bucket) list(prefix, delim, start string, maxKeys int) listing {
	keys := b.keys()
	i := sort.SearchStrings(keys, max(prefix, start))
	skip := func(cp string) int {
		return sort.Search(len(keys), func(x int) bool { return keys[x] > cp && !strings.HasPrefix(keys[x], cp) })
	}
	if start != "" && delim != "" && strings.HasSuffix(start, delim) && strings.HasPrefix(start, prefix) {
		i = max(i, skip(start))
	}
	for i < len(keys) && keys[i] <= start {
		i++
	}
	var l listing
	for ; i < len(keys) && strings.HasPrefix(keys[i], prefix); i++ {
		if len(l.objs)+len(l.prefixes) >= maxKeys {
			l.truncated = true
			break
		}
		k := keys[i]
		if delim != "" {
			if j := strings.Index(k[len(prefix):], delim); j >= 0 {
				cp := k[:len(prefix)+j+len(delim)]
				l.prefixes = append(l.prefixes, cp)
				l.last = cp
				i = skip(cp) - 1
				continue
			}
		}
		l.objs = append(l.objs, *b.objs[k])
		l.last = k
	}
	return l
}

func newUploadID(n int) string { return fmt.Sprintf("s3sim-upload-%08d", n) }

func multipartETag(parts []part) string {
	h := md5.New()
	for _, p := range parts {
		raw, _ := hex.DecodeString(strings.Trim(p.etag, `"`))
		h.Write(raw)
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}
