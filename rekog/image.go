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
	ReasonEmpty     Reason = "empty"          // no image data
	ReasonPrefix    Reason = "bad_prefix"     // data URL is not data:image/<type>;base64,
	ReasonBase64    Reason = "bad_base64"     // payload is not base64
	ReasonFormat    Reason = "bad_format"     // bytes are neither JPEG nor PNG
	ReasonMismatch  Reason = "type_mismatch"  // declared type differs from the bytes (strict mode)
	ReasonCorrupt   Reason = "corrupt"        // header unreadable
	ReasonTooLarge  Reason = "too_large"      // over the byte limit
	ReasonTooSmall  Reason = "too_small"      // under MinImageDimension
	ReasonTooWide   Reason = "too_wide"       // over MaxImageDimension
	ReasonName      Reason = "bad_name"       // name unusable as a key
	ReasonNameLong  Reason = "name_too_long"  // name over MaxNameBytes
	ReasonNameEmpty Reason = "name_empty"     // no name
	ReasonNameChars Reason = "name_character" // control, separator or reserved character
)

// InvalidImageError reports an image rejected by DecodeImage.
type InvalidImageError struct {
	Reason Reason
	Detail string
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

// DecodeOptions tune DecodeImage. The zero value applies Rekognition's
// limits for images sent as bytes.
type DecodeOptions struct {
	// MaxBytes is the largest decoded image accepted. Default
	// MaxImageBytes; values above MaxS3ImageBytes are lowered to it.
	MaxBytes int
	// MinDimension is the smallest width and height accepted. Default
	// MinImageDimension.
	MinDimension int
	// StrictType rejects a data URL whose declared type differs from the
	// bytes. Default false: the bytes decide, because clients commonly
	// label every image "image/jpeg" (the seed's app does).
	StrictType bool
}

func (o DecodeOptions) maxBytes() int {
	switch {
	case o.MaxBytes <= 0:
		return MaxImageBytes
	case o.MaxBytes > MaxS3ImageBytes:
		return MaxS3ImageBytes
	}
	return o.MaxBytes
}

func (o DecodeOptions) minDimension() int {
	if o.MinDimension <= 0 {
		return MinImageDimension
	}
	return o.MinDimension
}

// DecodeImage decodes a data URL ("data:image/jpeg;base64,…") or raw
// base64, and validates the result: JPEG or PNG by magic bytes, size, and
// dimensions read from the header. The payload's length is checked before
// it is decoded, so an oversized upload costs no allocation. Base64 may use
// the standard or URL alphabet, with or without padding; ASCII whitespace
// (line breaks inserted by some encoders) is ignored. Errors are
// *InvalidImageError.
func DecodeImage(s string, opts DecodeOptions) (*Image, error) {
	payload := s
	declared := ""
	if len(s) >= 5 && strings.EqualFold(s[:5], "data:") {
		meta, data, ok := strings.Cut(s[5:], ",")
		if !ok {
			return nil, &InvalidImageError{ReasonPrefix, "data URL has no comma"}
		}
		params := strings.Split(meta, ";")
		mediaType := strings.ToLower(strings.TrimSpace(params[0]))
		sub, ok := strings.CutPrefix(mediaType, "image/")
		if !ok || sub == "" {
			return nil, &InvalidImageError{ReasonPrefix, fmt.Sprintf("media type %q is not an image", truncate(mediaType, 40))}
		}
		if !strings.EqualFold(strings.TrimSpace(params[len(params)-1]), "base64") {
			return nil, &InvalidImageError{ReasonPrefix, "data URL is not base64-encoded"}
		}
		declared = sub
		payload = data
	}
	payload = stripSpace(payload)
	if payload == "" {
		return nil, &InvalidImageError{ReasonEmpty, "no image data"}
	}
	max := opts.maxBytes()
	if base64.RawStdEncoding.DecodedLen(len(strings.TrimRight(payload, "="))) > max {
		return nil, &InvalidImageError{ReasonTooLarge, fmt.Sprintf("image exceeds %d bytes", max)}
	}
	data, err := decodeBase64(payload)
	if err != nil {
		return nil, &InvalidImageError{ReasonBase64, err.Error()}
	}
	return ValidateImage(data, declared, opts)
}

// ValidateImage checks raw image bytes as DecodeImage does. declared is the
// type the client claimed ("" when none).
func ValidateImage(data []byte, declared string, opts DecodeOptions) (*Image, error) {
	if len(data) == 0 {
		return nil, &InvalidImageError{ReasonEmpty, "no image data"}
	}
	if max := opts.maxBytes(); len(data) > max {
		return nil, &InvalidImageError{ReasonTooLarge, fmt.Sprintf("image is %d bytes, limit %d", len(data), max)}
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
		return nil, &InvalidImageError{ReasonFormat, "bytes are neither JPEG nor PNG"}
	}
	if err != nil {
		return nil, &InvalidImageError{ReasonCorrupt, fmt.Sprintf("%s header: %v", img.Format, err)}
	}
	if opts.StrictType && declared != "" && !sameFormat(declared, img.Format) {
		return nil, &InvalidImageError{ReasonMismatch, fmt.Sprintf("declared image/%s, bytes are %s", truncate(declared, 20), img.Format)}
	}
	if min := opts.minDimension(); img.Width < min || img.Height < min {
		return nil, &InvalidImageError{ReasonTooSmall, fmt.Sprintf("image is %dx%d, minimum %dx%d", img.Width, img.Height, min, min)}
	}
	if img.Width > MaxImageDimension || img.Height > MaxImageDimension {
		return nil, &InvalidImageError{ReasonTooWide, fmt.Sprintf("image is %dx%d, maximum %d per side", img.Width, img.Height, MaxImageDimension)}
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

func stripSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n\f") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n', '\f':
			return -1
		}
		return r
	}, s)
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	out, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("payload is not valid base64")
	}
	return out, nil
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
