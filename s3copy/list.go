package s3copy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// shard is one part of the tree listed by one paginator: rel is relative to
// both src.Prefix and dst.Prefix. delim lists it with the "/" delimiter
// (its common prefixes become shards); after, when set, is the key its
// listing starts after (a shard split after its first page).
type shard struct {
	rel   string
	depth int
	delim bool
	after string
}

// splitChildren is the most sub-folders a shard's first page may span for
// the adaptive listing to split the shard (ShardDepth zero): at most 10
// in a page of 1,000 keys is about 100 keys or more each, so listing them
// apart costs at most ten times the requests of listing them flat (pages
// of 100 instead of 1,000), against round trips run side by side. On
// s3sim's seed workload this splits folders and sub-folders down to the
// dt= partitions (about 280 objects each) as ShardDepth 3 does; the
// 20,000-object tree of BenchmarkCopy20k (about 80 objects a partition)
// stays split by folder.
const splitChildren = 10

// list discovers shards and lists them, ListConcurrency at a time (or
// adaptively, see CopierOptions.ListConcurrency), sending source objects
// to the workers as pages arrive. Only pending shard names are queued:
// objects are streamed, one page per paginator at a time.
func (r *run) list(ctx context.Context) error {
	q := &shardQueue{r: r, queue: []shard{{delim: r.o.ShardDepth >= 0}}, limit: r.o.ListConcurrency}
	q.cond = sync.NewCond(&q.mu)
	if q.limit == 0 {
		q.limit = DefaultMaxListConcurrency
	}
	q.mu.Lock()
	q.grow(ctx, min(q.limit, DefaultListConcurrency))
	if r.o.ListConcurrency > 0 {
		q.grow(ctx, q.limit)
	}
	q.mu.Unlock()
	q.wg.Wait()
	return q.err
}

// shardQueue holds a run's pending shards and its paginators.
type shardQueue struct {
	r     *run
	limit int // paginators at most

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []shard
	active  int // shards being listed
	running int // paginators
	err     error
	wg      sync.WaitGroup
}

// grow starts up to n more paginators, within limit; q.mu is held.
func (q *shardQueue) grow(ctx context.Context, n int) {
	for ; n > 0 && q.running < q.limit; n-- {
		q.running++
		q.wg.Go(func() { q.paginate(ctx) })
	}
}

// starved starts another paginator (adaptive ListConcurrency) while the
// workers have no listed object waiting and shards wait for a paginator.
func (q *shardQueue) starved(ctx context.Context) {
	if q.r.o.ListConcurrency != 0 || len(q.r.tasks) != 0 {
		return
	}
	q.mu.Lock()
	if len(q.queue) > 0 {
		q.grow(ctx, 1)
	}
	q.mu.Unlock()
}

func (q *shardQueue) push(s shard) {
	q.mu.Lock()
	q.queue = append(q.queue, s)
	q.mu.Unlock()
	q.cond.Signal()
}

// take waits for a pending shard; false when there will be none.
//
// It takes a random pending shard, not the last one pushed: the copies of
// shards listed at once then spread over the tree's folders (S3's
// partitions) instead of piling onto one folder at a time. On s3sim's seed
// workload, LIFO order held the copy at one folder partition's 3,500
// writes/s. Except the rest of a shard known to be large (one split after
// its first page: after is set), which goes first: its pages are listed
// one after the other, the run's critical path. On s3sim's hot-partition
// workload (80% of the objects in one dt= partition) a random turn started
// that partition's 242 pages 20 s into the run.
func (q *shardQueue) take() (shard, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && q.active > 0 && q.err == nil {
		q.cond.Wait()
	}
	if len(q.queue) == 0 || q.err != nil {
		q.cond.Broadcast()
		return shard{}, false
	}
	i := slices.IndexFunc(q.queue, func(s shard) bool { return s.after != "" })
	if i < 0 {
		i = rand.IntN(len(q.queue))
	}
	s := q.queue[i]
	q.queue[i] = q.queue[len(q.queue)-1]
	q.queue = q.queue[:len(q.queue)-1]
	q.active++
	return s, true
}

// paginate lists shards until none is left.
func (q *shardQueue) paginate(ctx context.Context) {
	for {
		s, ok := q.take()
		if !ok {
			return
		}
		err := q.r.listShard(ctx, s, q.push, func() { q.starved(ctx) })
		q.mu.Lock()
		q.active--
		if err != nil && q.err == nil {
			q.err = err
		}
		q.mu.Unlock()
		q.cond.Broadcast()
		q.starved(ctx)
	}
}

// item is one entry of a listing: an object, or a common prefix (obj nil).
type item struct {
	rel string
	obj *Object
}

// pager streams a listing's entries in key order.
type pager struct {
	r      *run
	in     s3.ListObjectsV2Input
	trim   int // bytes of the location prefix to cut for rel
	page   []item
	i      int
	pages  int // fetched
	done   bool
	source bool
	// fetched, if set, is called after each page.
	fetched func()
}

func (r *run) newPager(loc Location, rel string, delim bool, owner string, source bool) *pager {
	p := &pager{r: r, trim: len(loc.Prefix), source: source}
	p.in = s3.ListObjectsV2Input{
		Bucket:              aws.String(loc.Bucket),
		Prefix:              aws.String(loc.Prefix + rel),
		ExpectedBucketOwner: optString(owner),
	}
	if delim {
		p.in.Delimiter = aws.String("/")
	}
	return p
}

// peek returns the next entry without consuming it, nil at the end.
func (p *pager) peek(ctx context.Context) (*item, error) {
	for p.i >= len(p.page) {
		if p.done {
			return nil, nil
		}
		if err := p.fetch(ctx); err != nil {
			return nil, err
		}
	}
	return &p.page[p.i], nil
}

func (p *pager) fetch(ctx context.Context) error {
	var out *s3.ListObjectsV2Output
	_, err := p.r.do(ctx, paceKey(Location{Prefix: aws.ToString(p.in.Prefix)[:p.trim]}, aws.ToString(p.in.Prefix)), &p.r.n.list, func(ctx context.Context) error {
		var err error
		out, err = p.r.c.client.ListObjectsV2(ctx, &p.in, noRetry)
		return err
	})
	if err != nil {
		return fmt.Errorf("s3copy: list s3://%s/%s: %w", aws.ToString(p.in.Bucket), aws.ToString(p.in.Prefix), err)
	}
	contents := out.Contents
	if after := aws.ToString(p.in.StartAfter); after != "" {
		// A server that ignores start-after would list again what the
		// shard's first page sent.
		contents = slices.DeleteFunc(contents, func(o types.Object) bool { return aws.ToString(o.Key) <= after })
	}
	if p.in.Delimiter != nil {
		// An object whose key holds the delimiter below the prefix belongs
		// to a common prefix, and its shard lists it. S3 never returns one
		// here, but some servers (gofakes3) return a folder marker "a/" both
		// as an object and as a common prefix: dropping it avoids copying
		// it twice.
		plen := len(aws.ToString(p.in.Prefix))
		contents = slices.DeleteFunc(contents, func(o types.Object) bool {
			k := aws.ToString(o.Key)
			return len(k) < plen || strings.Contains(k[plen:], "/")
		})
	}
	p.page = mergePage(p.page[:0], contents, out.CommonPrefixes, p.trim)
	p.i = 0
	p.pages++
	if p.source {
		p.r.n.listed.Add(int64(len(contents)))
	}
	more, err := NextListPage(&p.in, out)
	if err != nil {
		return err
	}
	p.done = !more
	if p.fetched != nil {
		p.fetched()
	}
	return nil
}

// NextListPage checks a ListObjectsV2 answer out to the request in and
// reports whether the listing goes on; if it does, in.ContinuationToken is
// set for the next page. A truncated page with no continuation token (which
// would end the listing early in silence) or with in's own token again
// (which would list the same page forever) is an error wrapping
// ErrListing. Every listing loop over ListObjectsV2 in lakekit ends its
// pages with it.
func NextListPage(in *s3.ListObjectsV2Input, out *s3.ListObjectsV2Output) (more bool, err error) {
	next := aws.ToString(out.NextContinuationToken)
	switch {
	case !aws.ToBool(out.IsTruncated):
		return false, nil
	case next == "":
		return false, fmt.Errorf("s3copy: list s3://%s/%s: %w: truncated page with no continuation token",
			aws.ToString(in.Bucket), aws.ToString(in.Prefix), ErrListing)
	case next == aws.ToString(in.ContinuationToken):
		return false, fmt.Errorf("s3copy: list s3://%s/%s: %w: continuation token %q returned again",
			aws.ToString(in.Bucket), aws.ToString(in.Prefix), ErrListing, next)
	}
	in.ContinuationToken = &next
	return true, nil
}

// mergePage interleaves a page's objects and common prefixes in key order
// (each list is sorted on its own).
func mergePage(dst []item, objs []types.Object, prefixes []types.CommonPrefix, trim int) []item {
	objects := make([]Object, len(objs))
	i, j := 0, 0
	for i < len(objs) || j < len(prefixes) {
		if j >= len(prefixes) || (i < len(objs) && aws.ToString(objs[i].Key) < aws.ToString(prefixes[j].Prefix)) {
			objects[i] = objectFrom(objs[i])
			dst = append(dst, item{rel: objects[i].Key[trim:], obj: &objects[i]})
			i++
		} else {
			dst = append(dst, item{rel: aws.ToString(prefixes[j].Prefix)[trim:]})
			j++
		}
	}
	return dst
}

func (p *pager) next() { p.i++ }

// listShard lists one shard of the source (and of the destination, in
// sync mode), merging the two listings by relative key. starved is called
// after each page (the listing may need another paginator).
func (r *run) listShard(ctx context.Context, s shard, push func(shard), starved func()) error {
	delim := s.delim || r.o.ShardDepth > 0 && s.depth < r.o.ShardDepth
	src := r.newPager(r.src, s.rel, delim, r.o.ExpectedSourceBucketOwner, true)
	src.in.StartAfter = optString(s.after)
	var dst *pager
	if r.sync {
		dst = r.newPager(r.dst, s.rel, delim, r.o.ExpectedBucketOwner, false)
	}
	child := func(rel string) shard { return r.child(s, rel) }
	// The adaptive listing may split a flat shard of a plain copy after
	// its first page.
	mayShard := r.o.ShardDepth == 0 && !r.sync && !delim
	var deletes []string
	defer func() {
		if len(deletes) > 0 {
			r.deleteBatch(context.WithoutCancel(ctx), deletes)
		}
	}()
	src.fetched = starved
	for {
		if mayShard && src.pages == 1 && src.i == len(src.page) && !src.done {
			mayShard = false
			if after, ok := r.splitAfter(s, src); ok {
				push(shard{rel: s.rel, depth: s.depth, delim: true, after: after})
				return nil
			}
		}
		a, err := src.peek(ctx)
		if err != nil {
			return err
		}
		var b *item
		if dst != nil {
			if b, err = dst.peek(ctx); err != nil {
				return err
			}
		}
		if a == nil && b == nil {
			return nil
		}
		switch {
		case b == nil || (a != nil && a.rel < b.rel): // source only
			src.next()
			if a.obj == nil {
				push(child(a.rel))
				continue
			}
			if err := r.send(ctx, task{src: *a.obj}); err != nil {
				return err
			}
		case a == nil || b.rel < a.rel: // destination only
			dst.next()
			if !r.o.DeleteRemoved {
				continue
			}
			if b.obj == nil {
				push(child(b.rel))
				continue
			}
			deletes = append(deletes, b.obj.Key)
			if len(deletes) == MaxDeleteObjects {
				r.deleteBatch(ctx, deletes)
				deletes = deletes[:0]
			}
		default: // both
			src.next()
			dst.next()
			if a.obj == nil {
				push(child(a.rel))
			} else if err := r.sendBoth(ctx, *a.obj, b.obj); err != nil {
				return err
			}
		}
	}
}

// sendBoth hands the workers a source object listed at both sides (dst
// nil: the destination has a folder there), or skips it when SkipUnchanged
// finds it unchanged.
func (r *run) sendBoth(ctx context.Context, src Object, dst *Object) error {
	if dst == nil {
		return r.send(ctx, task{src: src})
	}
	d := *dst
	t := task{src: src, dst: &d}
	if r.o.SkipUnchanged {
		switch compareListed(src, d) {
		case verdictSame:
			r.skip(src, d.Key)
			return nil
		case verdictChecksum:
			t.check = true // a worker compares stored checksums
		}
	}
	return r.send(ctx, t)
}

// child is the shard of s's common prefix rel. The adaptive listing lists
// it flat first (it is split later if its first page says so); a fixed
// ShardDepth lists it delimited while it is shallower. A child that holds
// s's start-after key starts there too.
func (r *run) child(s shard, rel string) shard {
	c := shard{rel: rel, depth: s.depth + 1, delim: r.o.ShardDepth > 0 && s.depth+1 < r.o.ShardDepth}
	if strings.HasPrefix(s.after, r.src.Prefix+rel) {
		c.after = s.after
	}
	return c
}

// splitAfter decides whether the adaptive listing splits shard s after its
// first page (all of which has been sent): when the page's keys fall in
// at most splitChildren sub-folders below the shard, the rest of the shard
// is listed with the delimiter, starting after the page's last key.
func (r *run) splitAfter(s shard, p *pager) (string, bool) {
	if len(p.page) == 0 {
		return "", false
	}
	children := map[string]bool{}
	for _, it := range p.page {
		rest := it.rel[len(s.rel):]
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			continue
		}
		if children[rest[:i]] = true; len(children) > splitChildren {
			return "", false
		}
	}
	if len(children) == 0 {
		return "", false
	}
	return r.src.Prefix + p.page[len(p.page)-1].rel, true
}

func (r *run) send(ctx context.Context, t task) error {
	if r.stop.Load() != nil {
		return errStopped
	}
	select {
	case r.tasks <- t:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// record records a completed object in the manifest. A failure is logged
// once per run (each later Record would likely fail alike), counted, and
// makes the run's error non-nil: the copies stand, but a rerun would copy
// them again.
func (r *run) record(m Manifest, o Object) {
	err := m.Record(o.Key, o.ETag, o.Size)
	if err == nil {
		return
	}
	if r.manifestFails.Add(1) == 1 {
		r.failMu.Lock()
		r.manifestErr = err
		r.failMu.Unlock()
		r.o.Logger.Warn("s3copy: manifest record failed; a rerun will copy again what this run does not record", "err", err)
	}
}

func (r *run) skip(o Object, dstKey string) {
	// An object the manifest holds already is not recorded again (a sync
	// run would otherwise append every unchanged object each time).
	if m := r.o.Manifest; m != nil && !r.o.DryRun && !m.Completed(o.Key, o.ETag, o.Size) {
		r.record(m, o)
	}
	r.report(ObjectResult{SrcKey: o.Key, DstKey: dstKey, Size: o.Size, Action: ActionSkipped})
}

// Unchanged reports whether dst is an up-to-date copy of src as far as
// their listings tell: same size, and same ETag when both are MD5s. A
// multipart ETag ("…-N") is not an MD5 and differs with the part size, so
// when either is one the copy counts as unchanged if its size matches and
// it is not older than the source. (Copy itself first compares the stored
// full-object checksums in that case, when both objects have one.)
func Unchanged(src, dst Object) bool {
	switch compareListed(src, dst) {
	case verdictSame:
		return true
	case verdictChecksum:
		return !dst.LastModified.Before(src.LastModified)
	}
	return false
}

type verdict int

const (
	verdictDiffer   verdict = iota
	verdictSame             // same size and MD5 ETag
	verdictChecksum         // same size, an ETag is multipart: ask the checksums
)

func compareListed(src, dst Object) verdict {
	switch {
	case src.Size != dst.Size:
		return verdictDiffer
	case src.ETag == dst.ETag:
		return verdictSame
	case isMultipartETag(src.ETag) || isMultipartETag(dst.ETag):
		return verdictChecksum
	}
	return verdictDiffer
}

func isMultipartETag(etag string) bool { return strings.Contains(etag, "-") }

// deleteBatch deletes up to MaxDeleteObjects destination keys (DeleteRemoved).
func (r *run) deleteBatch(ctx context.Context, keys []string) {
	if r.o.DryRun {
		for _, k := range keys {
			r.report(ObjectResult{DstKey: k, Action: ActionDryRun})
		}
		return
	}
	ids := make([]types.ObjectIdentifier, len(keys))
	for i := range keys {
		ids[i] = types.ObjectIdentifier{Key: aws.String(keys[i])}
	}
	var out *s3.DeleteObjectsOutput
	attempts, err := r.do(ctx, paceKey(r.dst, keys[0]), &r.n.del, func(ctx context.Context) error {
		var err error
		out, err = r.c.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket:              aws.String(r.dst.Bucket),
			Delete:              &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
			ExpectedBucketOwner: optString(r.o.ExpectedBucketOwner),
		}, noRetry)
		return err
	})
	if errors.Is(err, errStopped) {
		return // not attempted
	}
	failed := map[string]error{}
	if err != nil {
		for _, k := range keys {
			failed[k] = err
		}
	} else {
		for _, e := range out.Errors {
			failed[aws.ToString(e.Key)] = fmt.Errorf("%s: %s", aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	for _, k := range keys {
		if ferr, ok := failed[k]; ok {
			r.report(ObjectResult{DstKey: k, Action: ActionFailed, Attempts: attempts,
				Err: &ObjectError{DstKey: k, Op: "DeleteObjects", Err: ferr}})
			continue
		}
		r.report(ObjectResult{DstKey: k, Action: ActionDeleted, Attempts: attempts})
	}
}
