package s3sim

import (
	"fmt"
	"strings"
	"time"
)

// S3's multipart limits, as the bound uses them.
const (
	maxCopySize = 5 << 30
	minPartSize = 5 << 20
	maxParts    = 10000
)

// Bound is a lower bound on the simulated time of copying a set of objects
// on a Sim, whatever the client does, and what it is made of.
type Bound struct {
	Objects, Bytes int64
	// Requests is the fewest requests the copy needs: one CopyObject per
	// object up to 5 GiB, CreateMultipartUpload + ⌈size/5 GiB⌉
	// UploadPartCopy + CompleteMultipartUpload above, and the listing's
	// pages (a flat listing: ⌈objects/1,000⌉).
	Requests int64
	// ConnectionSeconds is the connection time those requests hold: mean
	// first-byte latency each, plus bytes at CopyBandwidth, plus the
	// listing's per-key time.
	ConnectionSeconds float64
	// Connections is ConnectionSeconds ÷ MaxConnections.
	Connections time.Duration
	// Rate is the time the writes need at the destination's request rate:
	// a fluid model where the rate is min(partitions(t)·WriteRate,
	// MaxConnections ÷ mean request time), the destination starting as one
	// partition (plus SimOptions.Partitions) and splitting, every
	// SplitAfter, one level of the destination keys' split points (as if
	// every partition were at its limit all along: the fastest S3 allows).
	Rate time.Duration
	// Listing is the listing's critical path: one round trip per level of
	// folders below the source prefix (discovering the shards), then the
	// largest leaf folder's pages one after the other, then one copy.
	Listing time.Duration
	// Largest is the largest object's critical path: CreateMultipartUpload,
	// its largest part (split into at most 10,000 parts, at least 5 MiB
	// each), CompleteMultipartUpload; a single CopyObject up to 5 GiB if
	// that is faster.
	Largest time.Duration
	// Total is the largest of Connections, Rate, Listing and Largest.
	Total time.Duration
}

// String prints the bound and its parts in simulated seconds.
func (b Bound) String() string {
	return fmt.Sprintf("lower bound %.1fs: connections %.1fs (%d requests, %.0f connection-seconds), rate %.1fs, listing %.2fs, largest object %.2fs (%d objects, %.1f GB)",
		b.Total.Seconds(), b.Connections.Seconds(), b.Requests, b.ConnectionSeconds, b.Rate.Seconds(), b.Listing.Seconds(), b.Largest.Seconds(), b.Objects, float64(b.Bytes)/1e9)
}

// LowerBound computes the bound for copying objs (keys under srcPrefix) to
// dstPrefix of another bucket, under the Sim's model.
func (s *Sim) LowerBound(objs []Object, srcPrefix, dstPrefix string) Bound {
	o := s.o
	lat := s.MeanLatency().Seconds()
	var b Bound
	var writes int64
	dst := make([]string, len(objs))
	for i, obj := range objs {
		b.Objects++
		b.Bytes += obj.Size
		dst[i] = dstPrefix + strings.TrimPrefix(obj.Key, srcPrefix)
		bytesTime := float64(obj.Size) / o.CopyBandwidth
		if obj.Size <= maxCopySize {
			writes++
			b.ConnectionSeconds += lat + bytesTime
		} else {
			parts := (obj.Size + maxCopySize - 1) / maxCopySize
			writes += parts + 2
			b.ConnectionSeconds += float64(parts+2)*lat + bytesTime
		}
		single := time.Duration((lat + bytesTime) * float64(time.Second))
		part := max((obj.Size+maxParts-1)/maxParts, minPartSize)
		multi := time.Duration((3*lat + float64(min(part, obj.Size))/o.CopyBandwidth) * float64(time.Second))
		if obj.Size > maxCopySize || multi < single {
			single = multi
		}
		b.Largest = max(b.Largest, single)
	}
	pages := (b.Objects + MaxKeys - 1) / MaxKeys
	b.Requests = writes + pages
	b.ConnectionSeconds += float64(pages)*lat + float64(b.Objects)*o.ListPerKey.Seconds()
	b.Connections = time.Duration(b.ConnectionSeconds / float64(o.MaxConnections) * float64(time.Second))
	b.Rate = s.rateBound(writes, dst, b.ConnectionSeconds/float64(b.Requests))
	b.Listing = listingPath(objs, srcPrefix, lat, o.ListPerKey.Seconds())
	b.Total = max(b.Connections, b.Rate, b.Listing, b.Largest)
	return b
}

// rateBound is the fluid model of Bound.Rate.
func (s *Sim) rateBound(writes int64, keys []string, meanRequest float64) time.Duration {
	connRate := float64(s.o.MaxConnections) / meanRequest
	levels := splitLevels(keys, 1+len(s.o.Partitions))
	step := s.o.SplitAfter.Seconds()
	left := float64(writes)
	t := 0.0
	for i := 0; ; i++ {
		parts := levels[min(i, len(levels)-1)]
		rate := min(float64(parts)*float64(s.o.WriteRate), connRate)
		if s.o.SplitAfter < 0 || i >= len(levels)-1 || left <= rate*step {
			return time.Duration((t + left/rate) * float64(time.Second))
		}
		left -= rate * step
		t += step
	}
}

// splitLevels returns the number of partitions the keys' partition holds
// after 0, 1, 2… rounds of splits (each round splits every partition at
// its split points), up to eight rounds.
func splitLevels(keys []string, start int) []int {
	type group struct {
		prefix string
		keys   []string
	}
	levels := []int{start}
	groups := []group{{keys: keys}}
	for range 8 {
		var next []group
		count := 0
		for _, g := range groups {
			children := splitPoints(g.prefix, g.keys)
			if len(children) == 0 {
				count++
				continue
			}
			byChild := map[string][]string{}
			for _, k := range g.keys {
				for _, c := range children {
					if strings.HasPrefix(k, c) {
						byChild[c] = append(byChild[c], k)
						break
					}
				}
			}
			for _, c := range children {
				next = append(next, group{prefix: c, keys: byChild[c]})
			}
			count += len(children)
		}
		if count == levels[len(levels)-1] {
			break
		}
		levels = append(levels, max(count, start))
		groups = next
	}
	return levels
}

// listingPath is Bound.Listing.
func listingPath(objs []Object, prefix string, lat, perKey float64) time.Duration {
	depth := 0
	leaf := map[string]int{}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		depth = max(depth, strings.Count(rel, "/"))
		leaf[o.Key[:strings.LastIndexByte(o.Key, '/')+1]]++
	}
	largest := 0
	for _, n := range leaf {
		largest = max(largest, n)
	}
	pages := (largest + MaxKeys - 1) / MaxKeys
	secs := float64(depth)*lat + float64(pages)*lat + float64(largest)*perKey + lat
	return time.Duration(secs * float64(time.Second))
}
