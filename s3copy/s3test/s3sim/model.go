package s3sim

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Op is the kind of a request.
type Op uint8

// The requests the Sim answers.
const (
	OpUnknown Op = iota
	OpListObjectsV2
	OpHeadObject
	OpGetObject
	OpGetObjectTagging
	OpHeadBucket
	OpCopyObject
	OpPutObject
	OpDeleteObject
	OpCreateBucket
	OpCreateMultipartUpload
	OpUploadPartCopy
	OpCompleteMultipartUpload
	OpAbortMultipartUpload
	numOps
)

var opNames = [numOps]string{"Unknown", "ListObjectsV2", "HeadObject", "GetObject", "GetObjectTagging", "HeadBucket",
	"CopyObject", "PutObject", "DeleteObject", "CreateBucket", "CreateMultipartUpload", "UploadPartCopy",
	"CompleteMultipartUpload", "AbortMultipartUpload"}

// String returns the operation's S3 name.
func (op Op) String() string { return opNames[op] }

// Write reports whether op counts against the PUT/COPY/POST/DELETE rate
// (else GET/HEAD).
func (op Op) Write() bool { return op >= OpCopyObject }

// Second is one simulated second of a partition's requests.
type Second struct {
	Reads, Writes int32 // accepted
	SlowDowns     int32 // answered 503 SlowDown
}

// partition is one partitioned prefix of a bucket.
type partition struct {
	bucket, prefix string
	created        time.Duration
	ops            [numOps]int64
	slow           int64
	series         []Second
	evaluated      int // seconds before this one are counted in streak
	streak         int
	sample         []string // keys served while at the limit
}

const maxSample = 4096

// bucketParts are one bucket's partitions, looked up by longest prefix.
type bucketParts struct {
	bucket   string
	byPrefix map[string]*partition
	lens     []int // distinct prefix lengths, longest first
}

func (s *Sim) bucketParts(bucket string) *bucketParts {
	bp := s.parts[bucket]
	if bp == nil {
		bp = &bucketParts{bucket: bucket, byPrefix: map[string]*partition{}}
		s.parts[bucket] = bp
		bp.add(s, "", 0)
	}
	return bp
}

func (bp *bucketParts) add(s *Sim, prefix string, at time.Duration) {
	if _, ok := bp.byPrefix[prefix]; ok {
		return
	}
	p := &partition{bucket: bp.bucket, prefix: prefix, created: at, evaluated: int(at / time.Second)}
	bp.byPrefix[prefix] = p
	s.order = append(s.order, p)
	if !slices.Contains(bp.lens, len(prefix)) {
		bp.lens = append(bp.lens, len(prefix))
		slices.SortFunc(bp.lens, func(a, b int) int { return b - a })
	}
}

func (bp *bucketParts) lookup(key string) *partition {
	for _, l := range bp.lens {
		if l <= len(key) {
			if p, ok := bp.byPrefix[key[:l]]; ok {
				return p
			}
		}
	}
	return bp.byPrefix[""]
}

// admit counts a request of op on key at simulated time now against its
// partition and reports whether the partition accepts it.
func (s *Sim) admit(bucket, key string, op Op, now time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[op]++
	bp := s.bucketParts(bucket)
	p := bp.lookup(key)
	sec := int(now / time.Second)
	if s.roll(bp, p, sec) {
		p = bp.lookup(key) // split: the key may have a new partition
		s.roll(bp, p, sec)
	}
	for len(p.series) <= sec {
		p.series = append(p.series, Second{})
	}
	c := &p.series[sec]
	p.ops[op]++
	switch {
	case key == "":
		// A bucket-level request (HeadBucket, a listing of the whole
		// bucket) names no key range: it counts, but is no split point.
	case len(p.sample) < maxSample:
		p.sample = append(p.sample, key)
	default:
		p.sample[s.seq.Load()%maxSample] = key
	}
	accept := true
	if op.Write() {
		accept = int(c.Writes) < s.o.WriteRate
		if accept {
			c.Writes++
		}
	} else {
		accept = int(c.Reads) < s.o.ReadRate
		if accept {
			c.Reads++
		}
	}
	if !accept {
		c.SlowDowns++
		p.slow++
		s.slow++
	}
	if s.o.SeriesDepth > 0 {
		s.countPrefix(bucket, key, op, sec, accept)
	}
	return accept
}

// prefixSeries is one key prefix's per-second counters (SeriesDepth).
type prefixSeries struct {
	bucket, prefix string
	series         []Second
}

// countPrefix counts a request in its SeriesDepth prefix's second sec;
// s.mu is held.
func (s *Sim) countPrefix(bucket, key string, op Op, sec int, accept bool) {
	n := 0
	for range s.o.SeriesDepth {
		i := strings.IndexByte(key[n:], '/')
		if i < 0 {
			break
		}
		n += i + 1
	}
	id := bucket + "/" + key[:n]
	ps := s.series[id]
	if ps == nil {
		ps = &prefixSeries{bucket: bucket, prefix: key[:n]}
		s.series[id] = ps
	}
	for len(ps.series) <= sec {
		ps.series = append(ps.series, Second{})
	}
	c := &ps.series[sec]
	switch {
	case !accept:
		c.SlowDowns++
	case op.Write():
		c.Writes++
	default:
		c.Reads++
	}
}

// roll accounts p's seconds before sec: a partition offered at least half
// its limit (accepted and throttled requests) in each of SplitAfter
// consecutive seconds splits. It reports a split.
func (s *Sim) roll(bp *bucketParts, p *partition, sec int) bool {
	for ; p.evaluated < sec; p.evaluated++ {
		var c Second
		if p.evaluated < len(p.series) {
			c = p.series[p.evaluated]
		}
		if 2*int(c.Writes+c.SlowDowns) >= s.o.WriteRate || 2*int(c.Reads+c.SlowDowns) >= s.o.ReadRate {
			p.streak++
		} else {
			p.streak = 0
			p.sample = p.sample[:0]
		}
	}
	if s.o.SplitAfter < 0 || p.streak < max(1, int(s.o.SplitAfter/time.Second)) {
		return false
	}
	children := splitPoints(p.prefix, p.sample)
	p.streak = 0
	p.sample = p.sample[:0]
	for _, c := range children {
		bp.add(s, c, time.Duration(sec)*time.Second)
	}
	return len(children) > 0
}

// splitPoints returns the prefixes a partition splits into: below the keys'
// longest common prefix, one per next segment (up to and including "/"),
// or per next character for keys with no "/" left.
func splitPoints(prefix string, keys []string) []string {
	if len(keys) == 0 {
		return nil
	}
	lcp := keys[0]
	for _, k := range keys[1:] {
		n := 0
		for n < len(lcp) && n < len(k) && lcp[n] == k[n] {
			n++
		}
		lcp = lcp[:n]
	}
	l := max(len(lcp), len(prefix))
	set := map[string]bool{}
	for _, k := range keys {
		if len(k) <= l {
			continue // the common prefix itself stays in the parent
		}
		if i := strings.IndexByte(k[l:], '/'); i >= 0 {
			set[k[:l+i+1]] = true
		} else {
			set[k[:l+1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// acquire takes one of the endpoint's connections.
func (s *Sim) acquire(ctx context.Context) error {
	select {
	case s.conns <- struct{}{}:
	default:
		s.mu.Lock()
		s.queued++
		s.mu.Unlock()
		select {
		case s.conns <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	s.active++
	s.maxConn = max(s.maxConn, s.active)
	s.mu.Unlock()
	return nil
}

func (s *Sim) release() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
	<-s.conns
}

// Stats are the Sim's counters, in simulated time.
type Stats struct {
	Elapsed   time.Duration    // simulated time since New
	Requests  map[string]int64 // by operation, SlowDowns included
	SlowDowns int64
	// Queued counts requests that waited for a connection; MaxInFlight is
	// the most served at once.
	Queued      int64
	MaxInFlight int
	// Partitions holds every partition in the order they were created.
	Partitions []PartitionStats
	// Prefixes holds, with SimOptions.SeriesDepth set, every key prefix of
	// that depth a request named (a listing's prefix, an object's key), in
	// bucket and prefix order.
	Prefixes []PrefixStats
}

// PrefixStats are one key prefix's per-second counters: its requests
// whatever partition served them.
type PrefixStats struct {
	Bucket, Prefix string
	PerSecond      []Second // index: simulated second
}

// PartitionStats are one partitioned prefix's counters.
type PartitionStats struct {
	Bucket, Prefix string
	Created        time.Duration    // simulated time of its split (0: from the start)
	Requests       map[string]int64 // by operation
	SlowDowns      int64
	PerSecond      []Second // index: simulated second
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	el := s.Elapsed()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Elapsed: el, Requests: opMap(&s.ops), SlowDowns: s.slow, Queued: s.queued, MaxInFlight: s.maxConn}
	for _, p := range s.order {
		st.Partitions = append(st.Partitions, PartitionStats{Bucket: p.bucket, Prefix: p.prefix, Created: p.created,
			Requests: opMap(&p.ops), SlowDowns: p.slow, PerSecond: slices.Clone(p.series)})
	}
	for _, ps := range s.series {
		st.Prefixes = append(st.Prefixes, PrefixStats{Bucket: ps.bucket, Prefix: ps.prefix, PerSecond: slices.Clone(ps.series)})
	}
	slices.SortFunc(st.Prefixes, func(a, b PrefixStats) int {
		return strings.Compare(a.Bucket+"/"+a.Prefix, b.Bucket+"/"+b.Prefix)
	})
	return st
}

func opMap(ops *[numOps]int64) map[string]int64 {
	m := map[string]int64{}
	for i, n := range ops {
		if n > 0 {
			m[Op(i).String()] = n
		}
	}
	return m
}
