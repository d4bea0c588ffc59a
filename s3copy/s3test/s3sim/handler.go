package s3sim

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// answer is a request's outcome, written after its simulated time.
type answer struct {
	status int
	header http.Header
	body   []byte
	extra  time.Duration // beyond the first-byte latency: copy time, listing time
}

func errAnswer(status int, code, msg, resource string) answer {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>S3SIM</RequestId><HostId>s3sim</HostId></Error>`,
		code, xmlEscape(msg), xmlEscape(resource))
	return answer{status: status, body: []byte(body)}
}

var slowDown = errAnswer(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.", "")

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ServeHTTP answers one S3 request after its simulated latency.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	bucketName, key := splitPath(r.URL.Path)
	q := r.URL.Query()
	op := classify(r.Method, bucketName, key, q, r.Header)
	if err := s.acquire(ctx); err != nil {
		return
	}
	defer s.release()
	n := s.seq.Add(1)
	lat := s.latency(n)
	var a answer
	rateKey := key
	if op == OpListObjectsV2 {
		rateKey = q.Get("prefix")
	}
	if op == OpUnknown || bucketName == "" {
		a = errAnswer(http.StatusNotImplemented, "NotImplemented", "s3sim does not implement this request", r.URL.Path)
	} else if !s.admit(bucketName, rateKey, op, s.Elapsed()) {
		a = slowDown
	} else {
		a = s.exec(op, r, bucketName, key, q)
	}
	if err := s.Sleep(ctx, lat+a.extra); err != nil {
		return
	}
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if len(a.body) > 0 {
		w.Header().Set("Content-Type", "application/xml")
		if r.Method == http.MethodHead {
			a.body = nil
		}
	}
	w.Header().Set("x-amz-request-id", strconv.FormatUint(n, 10))
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func cutBucket(s string) (bucket, prefix string, ok bool) { return strings.Cut(s, "/") }

func classify(method, bucket, key string, q url.Values, h http.Header) Op {
	if key == "" {
		switch {
		case method == http.MethodHead:
			return OpHeadBucket
		case method == http.MethodGet && q.Get("list-type") == "2":
			return OpListObjectsV2
		case method == http.MethodPut:
			return OpCreateBucket
		}
		return OpUnknown
	}
	switch method {
	case http.MethodHead:
		return OpHeadObject
	case http.MethodGet:
		if q.Has("tagging") {
			return OpGetObjectTagging
		}
		return OpGetObject
	case http.MethodPut:
		switch {
		case q.Has("uploadId") && h.Get("x-amz-copy-source") != "":
			return OpUploadPartCopy
		case q.Has("uploadId"), q.Has("tagging"), q.Has("acl"):
			return OpUnknown // UploadPart with a body, PutObjectTagging: not simulated
		case h.Get("x-amz-copy-source") != "":
			return OpCopyObject
		}
		return OpPutObject
	case http.MethodPost:
		switch {
		case q.Has("uploads"):
			return OpCreateMultipartUpload
		case q.Has("uploadId"):
			return OpCompleteMultipartUpload
		}
	case http.MethodDelete:
		if q.Has("uploadId") {
			return OpAbortMultipartUpload
		}
		return OpDeleteObject
	}
	return OpUnknown
}

// exec carries out an accepted request on the store.
func (s *Sim) exec(op Op, r *http.Request, bucketName, key string, q url.Values) answer {
	st := &s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if op == OpCreateBucket {
		st.bucket(bucketName)
		return answer{}
	}
	b := st.buckets[bucketName]
	if b == nil {
		return errAnswer(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", bucketName)
	}
	switch op {
	case OpHeadBucket:
		return answer{header: http.Header{"X-Amz-Bucket-Region": {"us-east-1"}}}
	case OpListObjectsV2:
		return s.listObjects(b, bucketName, q)
	case OpHeadObject, OpGetObject:
		return s.getObject(b, key, op)
	case OpGetObjectTagging:
		return getTagging(b, key)
	case OpPutObject:
		return s.putObject(b, key, r)
	case OpDeleteObject:
		delete(b.objs, key)
		return answer{status: http.StatusNoContent}
	case OpCopyObject:
		return s.copyObject(b, key, r)
	case OpCreateMultipartUpload:
		return s.createUpload(b, bucketName, key, r)
	case OpUploadPartCopy:
		return s.uploadPartCopy(b, key, r, q)
	case OpCompleteMultipartUpload:
		return s.completeUpload(b, bucketName, key, r, q)
	case OpAbortMultipartUpload:
		if _, ok := b.uploads[q.Get("uploadId")]; !ok {
			return errAnswer(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist", key)
		}
		delete(b.uploads, q.Get("uploadId"))
		return answer{status: http.StatusNoContent}
	}
	return errAnswer(http.StatusNotImplemented, "NotImplemented", "not simulated", key)
}

func noSuchKey(key string) answer {
	return errAnswer(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", key)
}

func (s *Sim) listObjects(b *bucket, name string, q url.Values) answer {
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys := MaxKeys
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errAnswer(http.StatusBadRequest, "InvalidArgument", "max-keys must be a non-negative integer", name)
		}
		maxKeys = min(n, MaxKeys)
	}
	start := q.Get("start-after")
	token := q.Get("continuation-token")
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return errAnswer(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect", name)
		}
		start = string(raw)
	}
	l := b.list(prefix, delim, start, maxKeys)
	enc := func(v string) string { return v }
	urlEnc := q.Get("encoding-type") == "url"
	if urlEnc {
		enc = func(v string) string { return strings.ReplaceAll(url.QueryEscape(v), "%2F", "/") }
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&buf, `<ListBucketResult xmlns="%s"><Name>%s</Name><Prefix>%s</Prefix>`, xmlns, xmlEscape(name), xmlEscape(enc(prefix)))
	if token != "" {
		fmt.Fprintf(&buf, `<ContinuationToken>%s</ContinuationToken>`, token)
	}
	if s := q.Get("start-after"); s != "" {
		fmt.Fprintf(&buf, `<StartAfter>%s</StartAfter>`, xmlEscape(enc(s)))
	}
	fmt.Fprintf(&buf, `<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys>`, len(l.objs)+len(l.prefixes), maxKeys)
	if delim != "" {
		fmt.Fprintf(&buf, `<Delimiter>%s</Delimiter>`, xmlEscape(enc(delim)))
	}
	if urlEnc {
		buf.WriteString(`<EncodingType>url</EncodingType>`)
	}
	fmt.Fprintf(&buf, `<IsTruncated>%t</IsTruncated>`, l.truncated)
	if l.truncated {
		fmt.Fprintf(&buf, `<NextContinuationToken>%s</NextContinuationToken>`, base64.RawURLEncoding.EncodeToString([]byte(l.last)))
	}
	for _, o := range l.objs {
		fmt.Fprintf(&buf, `<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>%s</ETag><Size>%d</Size><StorageClass>%s</StorageClass></Contents>`,
			xmlEscape(enc(o.Key)), o.LastModified.UTC().Format(isoTime), xmlEscape(o.ETag), o.Size, storageClass(o.StorageClass))
	}
	for _, p := range l.prefixes {
		fmt.Fprintf(&buf, `<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>`, xmlEscape(enc(p)))
	}
	buf.WriteString(`</ListBucketResult>`)
	return answer{body: buf.Bytes(), extra: time.Duration(len(l.objs)+len(l.prefixes)) * s.o.ListPerKey}
}

const isoTime = "2006-01-02T15:04:05.000Z"

func storageClass(c string) string {
	if c == "" {
		return "STANDARD"
	}
	return c
}

func objectHeader(o *Object) http.Header {
	h := http.Header{}
	h.Set("Content-Length", strconv.FormatInt(o.Size, 10))
	h.Set("ETag", o.ETag)
	h.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	ct := o.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	for k, v := range o.Metadata {
		h.Set("x-amz-meta-"+k, v)
	}
	if len(o.Tags) > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(len(o.Tags)))
	}
	if o.StorageClass != "" && o.StorageClass != "STANDARD" {
		h.Set("x-amz-storage-class", o.StorageClass)
	}
	return h
}

func (s *Sim) getObject(b *bucket, key string, op Op) answer {
	o := b.objs[key]
	if o == nil {
		return noSuchKey(key)
	}
	a := answer{header: objectHeader(o)}
	if op == OpGetObject {
		if int64(len(o.Body)) != o.Size {
			if o.Size > MaxBodySize {
				return errAnswer(http.StatusNotImplemented, "NotImplemented", "s3sim keeps no body for objects over 1 MiB", key)
			}
			a.body = make([]byte, o.Size) // a virtual object reads as zeros
		} else {
			a.body = o.Body
		}
	}
	return a
}

func getTagging(b *bucket, key string) answer {
	o := b.objs[key]
	if o == nil {
		return noSuchKey(key)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Tagging xmlns="%s"><TagSet>`, xmlns)
	for k, v := range o.Tags {
		fmt.Fprintf(&buf, `<Tag><Key>%s</Key><Value>%s</Value></Tag>`, xmlEscape(k), xmlEscape(v))
	}
	buf.WriteString(`</TagSet></Tagging>`)
	return answer{body: buf.Bytes()}
}

// headerObject reads what a PUT, a copy with REPLACE or a multipart upload
// sets from its request headers.
func headerObject(key string, h http.Header) (Object, error) {
	o := Object{Key: key, ContentType: h.Get("Content-Type"), StorageClass: h.Get("x-amz-storage-class")}
	for k, v := range h {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok {
			if o.Metadata == nil {
				o.Metadata = map[string]string{}
			}
			o.Metadata[name] = v[0]
		}
	}
	if t := h.Get("x-amz-tagging"); t != "" {
		vals, err := url.ParseQuery(t)
		if err != nil {
			return o, err
		}
		o.Tags = map[string]string{}
		for k, v := range vals {
			o.Tags[k] = v[0]
		}
	}
	return o, nil
}

func (s *Sim) putObject(b *bucket, key string, r *http.Request) answer {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
	if err != nil {
		return errAnswer(http.StatusBadRequest, "IncompleteBody", err.Error(), key)
	}
	if len(body) > MaxBodySize {
		return errAnswer(http.StatusBadRequest, "EntityTooLarge", "s3sim keeps bodies up to 1 MiB", key)
	}
	o, err := headerObject(key, r.Header)
	if err != nil {
		return errAnswer(http.StatusBadRequest, "InvalidArgument", "bad x-amz-tagging", key)
	}
	sum := md5.Sum(body)
	o.Size, o.Body, o.ETag, o.LastModified = int64(len(body)), body, `"`+hex.EncodeToString(sum[:])+`"`, s.Now()
	b.put(&o)
	return answer{header: http.Header{"Etag": {o.ETag}}}
}

// copySource finds the object x-amz-copy-source names and checks
// x-amz-copy-source-if-match.
func (s *Sim) copySource(r *http.Request) (*Object, answer, bool) {
	src := r.Header.Get("x-amz-copy-source")
	src, _, _ = strings.Cut(src, "?versionId=")
	src, err := url.PathUnescape(strings.TrimPrefix(src, "/"))
	if err != nil {
		return nil, errAnswer(http.StatusBadRequest, "InvalidArgument", "bad x-amz-copy-source", src), false
	}
	bucketName, key := splitPath(src)
	b := s.store.buckets[bucketName]
	if b == nil {
		return nil, errAnswer(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", bucketName), false
	}
	o := b.objs[key]
	if o == nil {
		return nil, noSuchKey(key), false
	}
	if m := r.Header.Get("x-amz-copy-source-if-match"); m != "" && strings.Trim(m, `"`) != strings.Trim(o.ETag, `"`) {
		return nil, errAnswer(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", key), false
	}
	return o, answer{}, true
}

func (s *Sim) copyTime(n int64) time.Duration {
	return time.Duration(float64(n) * float64(time.Second) / s.o.CopyBandwidth)
}

func (s *Sim) copyObject(b *bucket, key string, r *http.Request) answer {
	src, a, ok := s.copySource(r)
	if !ok {
		return a
	}
	if src.Size > 5<<30 {
		return errAnswer(http.StatusBadRequest, "InvalidRequest", "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120", key)
	}
	o := *src
	o.Key, o.LastModified = key, s.Now()
	if r.Header.Get("x-amz-metadata-directive") == "REPLACE" {
		h, err := headerObject(key, r.Header)
		if err != nil {
			return errAnswer(http.StatusBadRequest, "InvalidArgument", "bad x-amz-tagging", key)
		}
		o.ContentType, o.Metadata = h.ContentType, h.Metadata
	}
	if r.Header.Get("x-amz-tagging-directive") == "REPLACE" {
		h, err := headerObject(key, r.Header)
		if err != nil {
			return errAnswer(http.StatusBadRequest, "InvalidArgument", "bad x-amz-tagging", key)
		}
		o.Tags = h.Tags
	}
	o.StorageClass = r.Header.Get("x-amz-storage-class")
	b.put(&o)
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<CopyObjectResult xmlns="%s"><LastModified>%s</LastModified><ETag>%s</ETag></CopyObjectResult>`,
		xmlns, o.LastModified.UTC().Format(isoTime), xmlEscape(o.ETag))
	return answer{body: []byte(body), extra: s.copyTime(o.Size)}
}

func (s *Sim) createUpload(b *bucket, bucketName, key string, r *http.Request) answer {
	o, err := headerObject(key, r.Header)
	if err != nil {
		return errAnswer(http.StatusBadRequest, "InvalidArgument", "bad x-amz-tagging", key)
	}
	s.store.uploads++
	id := newUploadID(s.store.uploads)
	b.uploads[id] = &upload{obj: o, parts: map[int32]part{}}
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<InitiateMultipartUploadResult xmlns="%s"><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>`,
		xmlns, xmlEscape(bucketName), xmlEscape(key), id)
	return answer{body: []byte(body)}
}

func (s *Sim) uploadPartCopy(b *bucket, key string, r *http.Request, q url.Values) answer {
	u := b.uploads[q.Get("uploadId")]
	if u == nil {
		return errAnswer(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist", key)
	}
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return errAnswer(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", key)
	}
	src, a, ok := s.copySource(r)
	if !ok {
		return a
	}
	first, last := int64(0), src.Size-1
	if rg := r.Header.Get("x-amz-copy-source-range"); rg != "" {
		_, err := fmt.Sscanf(rg, "bytes=%d-%d", &first, &last)
		if err != nil || first < 0 || last < first || last >= src.Size {
			return errAnswer(http.StatusBadRequest, "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy", key)
		}
	}
	size := last - first + 1
	if size > 5<<30 {
		return errAnswer(http.StatusBadRequest, "InvalidRequest", "part larger than 5 GiB", key)
	}
	sum := md5.Sum(fmt.Appendf(nil, "%s %d-%d", src.ETag, first, last))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	u.parts[int32(n)] = part{etag: etag, size: size}
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<CopyPartResult xmlns="%s"><LastModified>%s</LastModified><ETag>%s</ETag></CopyPartResult>`,
		xmlns, s.Now().UTC().Format(isoTime), etag)
	return answer{body: []byte(body), extra: s.copyTime(size)}
}

type completeBody struct {
	Parts []struct {
		PartNumber int32
		ETag       string
	} `xml:"Part"`
}

func (s *Sim) completeUpload(b *bucket, bucketName, key string, r *http.Request, q url.Values) answer {
	id := q.Get("uploadId")
	u := b.uploads[id]
	if u == nil {
		return errAnswer(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist", key)
	}
	var cb completeBody
	if err := xml.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&cb); err != nil || len(cb.Parts) == 0 {
		return errAnswer(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema", key)
	}
	parts := make([]part, len(cb.Parts))
	var size int64
	for i, p := range cb.Parts {
		got, ok := u.parts[p.PartNumber]
		if !ok || strings.Trim(got.etag, `"`) != strings.Trim(p.ETag, `"`) {
			return errAnswer(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found", key)
		}
		if i > 0 && p.PartNumber <= cb.Parts[i-1].PartNumber {
			return errAnswer(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order", key)
		}
		if i < len(cb.Parts)-1 && got.size < 5<<20 {
			return errAnswer(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size", key)
		}
		parts[i] = got
		size += got.size
	}
	o := u.obj
	o.Size, o.ETag, o.LastModified = size, multipartETag(parts), s.Now()
	b.put(&o)
	delete(b.uploads, id)
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<CompleteMultipartUploadResult xmlns="%s"><Location>%s/%s/%s</Location><Bucket>%s</Bucket><Key>%s</Key><ETag>%s</ETag></CompleteMultipartUploadResult>`,
		xmlns, Endpoint, xmlEscape(bucketName), xmlEscape(key), xmlEscape(bucketName), xmlEscape(key), xmlEscape(o.ETag))
	return answer{body: []byte(body)}
}
