package rekog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lakekit/lakekit/internal/opt"
)

// Rekognition image limits (Amazon Rekognition Developer Guide, "Guidelines
// and quotas").
const (
	// MaxImageBytes is the largest image Rekognition accepts as raw bytes
	// (Image.Bytes): 5 MB.
	MaxImageBytes = 5 * 1024 * 1024
	// MaxS3ImageBytes is the largest image Rekognition accepts as an S3
	// object reference: 15 MB.
	MaxS3ImageBytes = 15 * 1024 * 1024
	// MinImageDimension is the smallest width and height, in pixels,
	// Rekognition analyses.
	MinImageDimension = 80
	// MaxImageDimension is the largest width or height, in pixels,
	// Rekognition analyses.
	MaxImageDimension = 10000
	// MaxNameBytes bounds the caller-supplied name an object key is built
	// from, leaving room for a prefix and extension within S3's 1,024-byte
	// key limit.
	MaxNameBytes = 200
)

// DefaultGateMaxPixels is the largest frame, in pixels (width×height),
// [GatedSearch] decodes: 3840×2160 (4K UHD), above any camera stream Kinesis
// Video carries. Decoding costs 4–8 bytes per pixel and pigo's scan grows
// with the area, so a 389 KB PNG declaring 10000×10000 would otherwise cost
// about 720 MB and 15 s; the dimensions are read from the header first.
const DefaultGateMaxPixels = 3840 * 2160

// Format is an image format recognised by its magic bytes.
type Format string

// The formats Rekognition accepts.
const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
)

// ContentType returns the MIME type of the format.
func (f Format) ContentType() string { return "image/" + string(f) }

// Ext returns the file extension used in object keys, with its dot.
func (f Format) Ext() string {
	if f == FormatJPEG {
		return ".jpg"
	}
	return "." + string(f)
}

// Reason says why an image or a name was rejected. API layers map every
// reason to a 4xx answer.
type Reason string

// Reasons for InvalidImageError and InvalidNameError.
const (
	ReasonEmpty     Reason = "empty"           // no image data
	ReasonPrefix    Reason = "bad_prefix"      // data URL is not data:image/<type>;base64,
	ReasonBase64    Reason = "bad_base64"      // payload is not base64
	ReasonFormat    Reason = "bad_format"      // bytes are neither JPEG nor PNG
	ReasonMismatch  Reason = "type_mismatch"   // declared type differs from the bytes (strict mode)
	ReasonCorrupt   Reason = "corrupt"         // header unreadable
	ReasonTooLarge  Reason = "too_large"       // over the byte limit
	ReasonTooSmall  Reason = "too_small"       // under MinImageDimension
	ReasonTooWide   Reason = "too_wide"        // over MaxImageDimension
	ReasonPixels    Reason = "too_many_pixels" // width×height over DecodeOptions.MaxPixels
	ReasonName      Reason = "bad_name"        // name unusable as a key
	ReasonNameLong  Reason = "name_too_long"   // name over MaxNameBytes
	ReasonNameEmpty Reason = "name_empty"      // no name
	ReasonNameChars Reason = "name_character"  // control, separator or reserved character
)

// InvalidImageError reports an image rejected by DecodeImage.
type InvalidImageError struct {
	Reason Reason
	Detail string
	// Width and Height are the image's dimensions when its header was
	// read (zero otherwise).
	Width, Height int
	// Limit is the limit the image exceeded or fell short of, in the
	// reason's unit: bytes (ReasonTooLarge), pixels per side
	// (ReasonTooSmall, ReasonTooWide) or pixels (ReasonPixels); zero for
	// other reasons.
	Limit int
}

func (e *InvalidImageError) Error() string {
	return fmt.Sprintf("rekog: invalid image (%s): %s", e.Reason, e.Detail)
}

// InvalidNameError reports a caller-supplied name rejected by ObjectKey.
type InvalidNameError struct {
	Reason Reason
	Detail string
}

func (e *InvalidNameError) Error() string {
	return fmt.Sprintf("rekog: invalid name (%s): %s", e.Reason, e.Detail)
}

// Image is a decoded, validated image.
type Image struct {
	Bytes  []byte
	Format Format // from the magic bytes
	Width  int
	Height int
	// Declared is the format the data URL claimed ("jpeg", "png", "gif"…);
	// empty for raw base64.
	Declared string
}

// DecodeOptions tune DecodeImage and ValidateImage. The zero value applies
// Rekognition's limits for images sent as bytes; negative fields, and
// MaxBytes above MaxS3ImageBytes, are an *OptionError.
type DecodeOptions struct {
	// MaxBytes is the largest decoded image accepted. Default
	// MaxImageBytes; at most MaxS3ImageBytes.
	MaxBytes int
	// MinDimension is the smallest width and height accepted. Default
	// MinImageDimension.
	MinDimension int
	// StrictType rejects a data URL whose declared type differs from the
	// bytes. Default false: the bytes decide, because clients commonly
	// label every image "image/jpeg" (the seed's app does).
	StrictType bool
	// MaxPixels is the largest width×height accepted. Default
	// MaxImageDimension², Rekognition's own limit (no cap beyond
	// MaxImageDimension per side); callers that decode the pixels
	// themselves set a lower one (GatedSearch uses GateOptions.MaxPixels,
	// default DefaultGateMaxPixels).
	MaxPixels int
}

// withDefaults validates o and returns it with its zero fields set to
// their defaults.
func (o DecodeOptions) withDefaults() (DecodeOptions, error) {
	const typ = "rekog.DecodeOptions"
	if err := opt.Range(typ, "MaxBytes", o.MaxBytes, 0, MaxS3ImageBytes); err != nil {
		return o, err
	}
	if err := opt.Min(typ, "MinDimension", o.MinDimension, 0); err != nil {
		return o, err
	}
	if err := opt.Min(typ, "MaxPixels", o.MaxPixels, 0); err != nil {
		return o, err
	}
	o.MaxBytes = opt.Default(o.MaxBytes, MaxImageBytes)
	o.MinDimension = opt.Default(o.MinDimension, MinImageDimension)
	o.MaxPixels = opt.Default(o.MaxPixels, MaxImageDimension*MaxImageDimension)
	return o, nil
}

func decodeOptions(optFns []func(*DecodeOptions)) (DecodeOptions, error) {
	var o DecodeOptions
	for _, f := range optFns {
		f(&o)
	}
	return o.withDefaults()
}

// MaxDataURLHeaderBytes bounds the part of a data URL before its comma
// ("data:image/png;charset=…;base64"): a longer header is rejected without
// looking further, so a body of semicolons costs no allocation.
const MaxDataURLHeaderBytes = 1024

// DecodeImage decodes a data URL ("data:image/jpeg;base64,…") or raw
// base64, and validates the result: JPEG or PNG by magic bytes, size, and
// dimensions read from the header. The payload's length is checked before
// it is decoded, so an oversized upload costs no allocation, and the header
// is parsed in place (at most MaxDataURLHeaderBytes), never split. Base64
// may use the standard or URL alphabet, with or without padding; ASCII
// whitespace (line breaks inserted by some encoders) is ignored. Errors
// are *InvalidImageError, or *OptionError for options it cannot honour.
func DecodeImage(s string, optFns ...func(*DecodeOptions)) (*Image, error) {
	o, err := decodeOptions(optFns)
	if err != nil {
		return nil, err
	}
	return decodeImage(s, o)
}

// decodeImage is DecodeImage with options already defaulted.
func decodeImage(s string, opts DecodeOptions) (*Image, error) {
	payload := s
	declared := ""
	if len(s) >= 5 && strings.EqualFold(s[:5], "data:") {
		head := s[5:]
		if len(head) > MaxDataURLHeaderBytes {
			head = head[:MaxDataURLHeaderBytes]
		}
		comma := strings.IndexByte(head, ',')
		if comma < 0 {
			if len(s)-5 > MaxDataURLHeaderBytes {
				return nil, &InvalidImageError{Reason: ReasonPrefix, Detail: fmt.Sprintf("data URL has no comma in its first %d bytes", MaxDataURLHeaderBytes)}
			}
			return nil, &InvalidImageError{Reason: ReasonPrefix, Detail: "data URL has no comma"}
		}
		meta := head[:comma]
		payload = s[5+comma+1:]
		mediaType, last := meta, meta
		if i := strings.IndexByte(meta, ';'); i >= 0 {
			mediaType, last = meta[:i], meta[strings.LastIndexByte(meta, ';')+1:]
		}
		mediaType = strings.ToLower(strings.TrimSpace(mediaType))
		sub, ok := strings.CutPrefix(mediaType, "image/")
		if !ok || sub == "" {
			return nil, &InvalidImageError{Reason: ReasonPrefix, Detail: fmt.Sprintf("media type %q is not an image", truncate(mediaType, 40))}
		}
		if last == meta || !strings.EqualFold(strings.TrimSpace(last), "base64") {
			return nil, &InvalidImageError{Reason: ReasonPrefix, Detail: "data URL is not base64-encoded"}
		}
		declared = sub
	}
	max := opts.MaxBytes
	// Count before stripping whitespace: the decoded size is known
	// without copying the payload.
	n := len(payload) - countSpace(payload)
	for i := len(payload) - 1; i >= 0 && n > 0; i-- {
		if c := payload[i]; c == '=' {
			n--
		} else if !isSpace(c) {
			break
		}
	}
	if n <= 0 {
		return nil, &InvalidImageError{Reason: ReasonEmpty, Detail: "no image data"}
	}
	if base64.RawStdEncoding.DecodedLen(n) > max {
		return nil, &InvalidImageError{Reason: ReasonTooLarge, Detail: fmt.Sprintf("image exceeds %d bytes", max), Limit: max}
	}
	data, err := decodeBase64(payload, n)
	if err != nil {
		return nil, &InvalidImageError{Reason: ReasonBase64, Detail: err.Error()}
	}
	return validateImage(data, declared, opts)
}

// ValidateImage checks raw image bytes as DecodeImage does. declared is the
// type the client claimed ("" when none). Only the header is read: the
// pixels are never decoded, so a small file declaring a huge image costs
// nothing here, and a caller that decodes afterwards is bounded by
// DecodeOptions.MaxPixels.
func ValidateImage(data []byte, declared string, optFns ...func(*DecodeOptions)) (*Image, error) {
	o, err := decodeOptions(optFns)
	if err != nil {
		return nil, err
	}
	return validateImage(data, declared, o)
}

// validateImage is ValidateImage with options already defaulted.
func validateImage(data []byte, declared string, opts DecodeOptions) (*Image, error) {
	if len(data) == 0 {
		return nil, &InvalidImageError{Reason: ReasonEmpty, Detail: "no image data"}
	}
	if max := opts.MaxBytes; len(data) > max {
		return nil, &InvalidImageError{Reason: ReasonTooLarge, Detail: fmt.Sprintf("image is %d bytes, limit %d", len(data), max), Limit: max}
	}
	img := &Image{Bytes: data, Declared: declared}
	var err error
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		img.Format = FormatJPEG
		cfg, e := jpeg.DecodeConfig(bytes.NewReader(data))
		img.Width, img.Height, err = cfg.Width, cfg.Height, e
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		img.Format = FormatPNG
		cfg, e := png.DecodeConfig(bytes.NewReader(data))
		img.Width, img.Height, err = cfg.Width, cfg.Height, e
	default:
		return nil, &InvalidImageError{Reason: ReasonFormat, Detail: "bytes are neither JPEG nor PNG"}
	}
	if err != nil {
		return nil, &InvalidImageError{Reason: ReasonCorrupt, Detail: fmt.Sprintf("%s header: %v", img.Format, err)}
	}
	w, h := img.Width, img.Height
	if opts.StrictType && declared != "" && !sameFormat(declared, img.Format) {
		return nil, &InvalidImageError{Reason: ReasonMismatch, Detail: fmt.Sprintf("declared image/%s, bytes are %s", truncate(declared, 20), img.Format), Width: w, Height: h}
	}
	if min := opts.MinDimension; w < min || h < min {
		return nil, &InvalidImageError{Reason: ReasonTooSmall, Detail: fmt.Sprintf("image is %dx%d, minimum %dx%d", w, h, min, min), Width: w, Height: h, Limit: min}
	}
	if w > MaxImageDimension || h > MaxImageDimension {
		return nil, &InvalidImageError{Reason: ReasonTooWide, Detail: fmt.Sprintf("image is %dx%d, maximum %d per side", w, h, MaxImageDimension), Width: w, Height: h, Limit: MaxImageDimension}
	}
	if max := opts.MaxPixels; int64(w)*int64(h) > int64(max) {
		return nil, &InvalidImageError{Reason: ReasonPixels, Detail: fmt.Sprintf("image is %dx%d (%d pixels), limit %d pixels", w, h, int64(w)*int64(h), max), Width: w, Height: h, Limit: max}
	}
	return img, nil
}

func sameFormat(declared string, f Format) bool {
	switch strings.ToLower(declared) {
	case "jpeg", "jpg", "pjpeg":
		return f == FormatJPEG
	case "png", "x-png":
		return f == FormatPNG
	}
	return false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
}

func countSpace(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			n++
		}
	}
	return n
}

// decodeBase64 decodes the first n base64 characters of s, skipping ASCII
// whitespace, into a buffer of exactly the decoded size: the payload is
// never copied whole (an 8 MB body of spaces costs a 4 KiB buffer).
func decodeBase64(s string, n int) ([]byte, error) {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	enc = enc.Strict()
	out := make([]byte, enc.DecodedLen(n))
	chunk := make([]byte, 0, 4096) // a multiple of 4: whole quanta
	o := 0
	flush := func() error {
		k, err := enc.Decode(out[o:], chunk)
		o += k
		chunk = chunk[:0]
		return err
	}
	for i := 0; i < len(s) && n > 0; i++ {
		if isSpace(s[i]) {
			continue
		}
		chunk = append(chunk, s[i])
		n--
		if len(chunk) == cap(chunk) {
			if err := flush(); err != nil {
				return nil, errors.New("payload is not valid base64")
			}
		}
	}
	if err := flush(); err != nil {
		return nil, errors.New("payload is not valid base64")
	}
	return out[:o], nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ObjectKey returns the S3 key for an image named by a caller: prefix +
// name + the extension of the detected format (an image extension already
// on the name is replaced, so "scan.png" holding JPEG bytes becomes
// "scan.jpg"). The name is rejected, never rewritten, when it could escape
// the prefix or confuse a reader of the key: path separators, "." or ".."
// segments, control or invisible characters, invalid UTF-8, characters S3
// advises against (\ { } ^ % ` [ ] " < > ~ # |), a leading or trailing
// dot or space, or more than MaxNameBytes bytes. Errors are *InvalidNameError.
func ObjectKey(prefix, name string, f Format) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	base := name
	lower := strings.ToLower(base)
	for _, ext := range []string{".jpeg", ".jpg", ".png"} {
		if strings.HasSuffix(lower, ext) && len(base) > len(ext) {
			base = base[:len(base)-len(ext)]
			break
		}
	}
	return prefix + base + f.Ext(), nil
}

// ValidateName applies ObjectKey's rules to a caller-supplied name.
func ValidateName(name string) error {
	switch {
	case name == "":
		return &InvalidNameError{ReasonNameEmpty, "name is empty"}
	case len(name) > MaxNameBytes:
		return &InvalidNameError{ReasonNameLong, fmt.Sprintf("name is %d bytes, limit %d", len(name), MaxNameBytes)}
	case !utf8.ValidString(name):
		return &InvalidNameError{ReasonNameChars, "name is not UTF-8"}
	case name == "." || name == ".." || strings.Contains(name, ".."):
		return &InvalidNameError{ReasonName, "name contains a dot-dot sequence"}
	case strings.HasPrefix(name, "."):
		return &InvalidNameError{ReasonName, "name starts with a dot"}
	case strings.HasSuffix(name, "."):
		return &InvalidNameError{ReasonName, "name ends with a dot"}
	case strings.TrimSpace(name) != name:
		return &InvalidNameError{ReasonName, "name has leading or trailing space"}
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			return &InvalidNameError{ReasonNameChars, "name contains a path separator"}
		case strings.ContainsRune("{}^%`[]\"<>~#|", r):
			return &InvalidNameError{ReasonNameChars, fmt.Sprintf("name contains reserved character %q", r)}
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError ||
			(unicode.IsSpace(r) && r != ' '):
			return &InvalidNameError{ReasonNameChars, fmt.Sprintf("name contains control or invisible character %U", r)}
		}
	}
	return nil
}
