package s3copy

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrKeyChar: a key holds a character S3 listings cannot carry (see
// KeyCharError); match with errors.Is, or errors.As a *KeyCharError for the
// key and the offset.
var ErrKeyChar = errors.New("s3copy: key holds a character S3 listings cannot carry")

// KeyCharError is CheckKey's error for a key with a control character, a
// non-character XML 1.0 excludes, or bytes that are not UTF-8.
//
// S3 accepts any UTF-8 key, but its listings are XML 1.0 documents, which
// cannot carry C0 control characters other than tab, newline and carriage
// return, nor U+FFFE and U+FFFF: a ListObjectsV2 page with such a key is
// broken for XML parsers (the SDK's included), and tab, newline and
// carriage return are mangled by XML line-end handling and by every
// line-based tool downstream. The copier refuses to write such keys:
// every Unicode control character (C0 U+0000–U+001F, DEL U+007F and C1
// U+0080–U+009F, invisible and almost always the trace of a wrong
// decoding), U+FFFE, U+FFFF and invalid UTF-8 (which S3 rejects).
type KeyCharError struct {
	Key    string
	Offset int  // byte offset of the character in Key
	Rune   rune // the character; utf8.RuneError when Invalid
	// Invalid is true when the bytes at Offset are not UTF-8.
	Invalid bool
}

func (e *KeyCharError) Error() string {
	if e.Invalid {
		return fmt.Sprintf("s3copy: key %q is not valid UTF-8 at byte %d", e.Key, e.Offset)
	}
	kind := "control character"
	if e.Rune == 0xFFFE || e.Rune == 0xFFFF {
		kind = "non-character"
	}
	return fmt.Sprintf("s3copy: key %q has %s %U at byte %d, which S3 listings (XML 1.0) cannot carry", e.Key, kind, e.Rune, e.Offset)
}

func (e *KeyCharError) Unwrap() error { return ErrKeyChar }

// badKeyRune reports whether a key may not hold r.
func badKeyRune(r rune) bool {
	return r < 0x20 || r >= 0x7F && r <= 0x9F || r == 0xFFFE || r == 0xFFFF
}

// checkKeyChars returns a *KeyCharError for the first character of key a
// key may not hold.
func checkKeyChars(key string) error {
	for i := 0; i < len(key); {
		c := key[i]
		if c >= 0x20 && c < 0x7F {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(key[i:])
		if r == utf8.RuneError && size <= 1 {
			return &KeyCharError{Key: key, Offset: i, Rune: utf8.RuneError, Invalid: true}
		}
		if badKeyRune(r) {
			return &KeyCharError{Key: key, Offset: i, Rune: r}
		}
		i += size
	}
	return nil
}

// CheckKey reports whether key is a safe object key under prefix: it must
// start with prefix, be at most MaxKeyLength bytes, be UTF-8 with no
// control character, U+FFFE or U+FFFF (see KeyCharError), and its part
// below the prefix must be non-empty, not start with "/" and hold no "."
// or ".." path segments (which tools that map keys to paths would resolve
// outside the prefix). It returns nil, ErrKeyEscapes, ErrKeyTooLong or a
// *KeyCharError (errors.Is ErrKeyChar).
func CheckKey(prefix, key string) error {
	rel, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return fmt.Errorf("%w: %q is not under %q", ErrKeyEscapes, key, prefix)
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("%w: %d bytes", ErrKeyTooLong, len(key))
	}
	if err := checkKeyChars(key); err != nil {
		return err
	}
	if rel == "" || rel[0] == '/' {
		return fmt.Errorf("%w: %q", ErrKeyEscapes, key)
	}
	// Segments are checked in the whole key below the prefix, and the
	// segment the prefix may end inside is checked whole.
	start := strings.LastIndexByte(prefix, '/') + 1
	for seg := range strings.SplitSeq(key[start:], "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q", ErrKeyEscapes, key)
		}
	}
	return nil
}
