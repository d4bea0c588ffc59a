package s3copy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// maxCopyResult bounds the CopyObject answer body read into memory. S3's is
// a few hundred bytes; a 200 answer may also carry whitespace keep-alives
// before its result or error.
const maxCopyResult = 1 << 20

// copyObjectOpts are the request options of the copier's CopyObject calls:
// noRetry's, and a lighter answer decoder. CopyObject answers are decoded by
// the SDK twice with encoding/xml (once to look for S3's "200 with an
// <Error> body", once for the result), each time behind a fresh 4 KiB
// bufio.Reader: about a fifth of the bytes allocated per copied object.
// copyResultDeserializer reads the small body once, answers a
// <CopyObjectResult> itself, and hands every other answer (non-2xx, a 200
// whose root is <Error>, transport errors) to the SDK's own decoder, so
// errors look exactly as they do without it.
func copyObjectOpts(o *s3.Options) {
	noRetry(o)
	o.APIOptions = append(o.APIOptions[:len(o.APIOptions):len(o.APIOptions)], swapCopyDeserializer)
}

// swapCopyDeserializer puts copyResultDeserializer in place of the SDK's
// CopyObject deserializer and its 200-error check. If the SDK's stack does
// not have them under the expected names the stack is left as it is.
// TestSDKMiddlewareIDs fails when the SDK renames either.
func swapCopyDeserializer(s *middleware.Stack) error {
	d := &copyResultDeserializer{}
	orig, err := s.Deserialize.Swap(idOperationDeserializer, d)
	if err != nil {
		return nil
	}
	d.orig = orig
	_, _ = s.Deserialize.Remove(idProcess200Error)
	return nil
}

// The IDs of the SDK middleware s3copy replaces or removes. An SDK that
// renamed one would silently turn its optimisation off:
// TestSDKMiddlewareIDs checks each against the real client's stacks.
const (
	// idOperationDeserializer is every operation's answer decoder
	// (Deserialize step).
	idOperationDeserializer = "OperationDeserializer"
	// idProcess200Error is S3's check for a 200 whose body is an <Error>
	// (Deserialize step), which copyResultDeserializer does itself.
	idProcess200Error = "S3:ProcessResponseFor200Error"
	// idClientRequestID adds the amz-sdk-invocation-id header (Build step).
	idClientRequestID = "ClientRequestID"
)

type copyResultDeserializer struct {
	orig middleware.DeserializeMiddleware // the SDK's: errors go to it
}

func (*copyResultDeserializer) ID() string { return idOperationDeserializer }

// replay is a DeserializeHandler that returns an answer already received.
type replay struct {
	out middleware.DeserializeOutput
	md  middleware.Metadata
	err error
}

func (r replay) HandleDeserialize(context.Context, middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
	return r.out, r.md, r.err
}

func (d *copyResultDeserializer) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return d.orig.HandleDeserialize(ctx, in, replay{out, md, err})
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCopyResult))
	_ = resp.Body.Close()
	if err != nil {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("failed to read response body, %w", err)}
	}
	res, isError, err := parseCopyResult(body)
	if isError {
		// As the SDK does: a 200 whose body is an <Error> is a 500.
		resp.StatusCode = 500
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return d.orig.HandleDeserialize(ctx, in, replay{out, md, nil})
	}
	if err != nil {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response body, %w", err), Snapshot: body[:min(len(body), 1024)]}
	}
	h := resp.Header
	o := &s3.CopyObjectOutput{
		CopyObjectResult:     res,
		ServerSideEncryption: types.ServerSideEncryption(h.Get("x-amz-server-side-encryption")),
		SSECustomerAlgorithm: optString(h.Get("x-amz-server-side-encryption-customer-algorithm")),
		SSEKMSKeyId:          optString(h.Get("x-amz-server-side-encryption-aws-kms-key-id")),
		VersionId:            optString(h.Get("x-amz-version-id")),
		CopySourceVersionId:  optString(h.Get("x-amz-copy-source-version-id")),
		Expiration:           optString(h.Get("x-amz-expiration")),
		RequestCharged:       types.RequestCharged(h.Get("x-amz-request-charged")),
	}
	if v := h.Get("x-amz-server-side-encryption-bucket-key-enabled"); v != "" {
		o.BucketKeyEnabled = aws.Bool(v == "true")
	}
	out.Result = o
	return out, md, nil
}

var errNotCopyResult = errors.New("root element is not CopyObjectResult")

// parseCopyResult decodes a CopyObject answer body: nil for an empty body
// (as the SDK does), isError when its root element is <Error>. Elements
// other than the result's ETag, LastModified and checksums are ignored.
func parseCopyResult(body []byte) (res *types.CopyObjectResult, isError bool, err error) {
	root, rest, ok := rootElement(body)
	switch {
	case !ok:
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, false, nil
		}
		return nil, false, errors.New("no root element")
	case root == "Error":
		return nil, true, nil
	case root != "CopyObjectResult":
		return nil, false, fmt.Errorf("%w: %q", errNotCopyResult, root)
	}
	res = &types.CopyObjectResult{}
	for _, f := range []struct {
		name string
		dst  **string
	}{
		{"ETag", &res.ETag}, {"ChecksumCRC32", &res.ChecksumCRC32}, {"ChecksumCRC32C", &res.ChecksumCRC32C},
		{"ChecksumCRC64NVME", &res.ChecksumCRC64NVME}, {"ChecksumSHA1", &res.ChecksumSHA1}, {"ChecksumSHA256", &res.ChecksumSHA256},
	} {
		if v, ok := elementText(rest, f.name); ok {
			*f.dst = &v
		}
	}
	if v, ok := elementText(rest, "ChecksumType"); ok {
		res.ChecksumType = types.ChecksumType(v)
	}
	if v, ok := elementText(rest, "LastModified"); ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, false, fmt.Errorf("LastModified %q: %w", v, err)
		}
		res.LastModified = &t
	}
	return res, false, nil
}

// rootElement returns the name of the document's first element and the
// bytes after its start tag, skipping the XML declaration, comments and
// whitespace.
func rootElement(b []byte) (name string, rest []byte, ok bool) {
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 || i+1 >= len(b) {
			return "", nil, false
		}
		b = b[i+1:]
		switch b[0] {
		case '?', '!':
			end := bytes.IndexByte(b, '>')
			if end < 0 {
				return "", nil, false
			}
			b = b[end+1:]
			continue
		}
		end := bytes.IndexAny(b, " \t\r\n/>")
		if end <= 0 {
			return "", nil, false
		}
		return string(b[:end]), b[end:], true
	}
}

// elementText returns the unescaped text of the first <name>…</name> in b
// (a flat element with no attributes, as S3 writes them).
func elementText(b []byte, name string) (string, bool) {
	open := "<" + name + ">"
	i := bytes.Index(b, []byte(open))
	if i < 0 {
		return "", false
	}
	b = b[i+len(open):]
	j := bytes.Index(b, []byte("</"+name+">"))
	if j < 0 {
		return "", false
	}
	v := b[:j]
	if bytes.IndexByte(v, '&') >= 0 {
		return unescapeXML(v), true
	}
	return string(v), true
}

// unescapeXML replaces XML's five named entities and numeric character
// references; anything else is kept as it is. (html.UnescapeString would
// do too, but builds a table of 2,000 HTML entities on first use.)
func unescapeXML(v []byte) string {
	var sb strings.Builder
	sb.Grow(len(v))
	for len(v) > 0 {
		i := bytes.IndexByte(v, '&')
		if i < 0 {
			sb.Write(v)
			break
		}
		sb.Write(v[:i])
		v = v[i:]
		end := bytes.IndexByte(v, ';')
		if end < 0 {
			sb.Write(v)
			break
		}
		ent := string(v[1:end])
		switch ent {
		case "quot":
			sb.WriteByte('"')
		case "amp":
			sb.WriteByte('&')
		case "lt":
			sb.WriteByte('<')
		case "gt":
			sb.WriteByte('>')
		case "apos":
			sb.WriteByte('\'')
		default:
			r, ok := charRef(ent)
			if !ok {
				sb.WriteByte('&') // not an entity: keep it, look on after "&"
				v = v[1:]
				continue
			}
			sb.WriteRune(r)
		}
		v = v[end+1:]
	}
	return sb.String()
}

// charRef decodes the inside of a numeric character reference ("#34",
// "#x22").
func charRef(ent string) (rune, bool) {
	num, ok := strings.CutPrefix(ent, "#")
	if !ok || num == "" {
		return 0, false
	}
	base := 10
	if h, ok := strings.CutPrefix(num, "x"); ok {
		num, base = h, 16
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil || !utf8.ValidRune(rune(n)) {
		return 0, false
	}
	return rune(n), true
}
