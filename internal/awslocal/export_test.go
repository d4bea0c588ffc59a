package awslocal

import "testing"

// SetSourceDir makes NodeDir take dir for the checkout's install until the
// test ends.
func SetSourceDir(tb testing.TB, dir string) {
	old := sourceDir
	sourceDir = func() string { return dir }
	tb.Cleanup(func() { sourceDir = old })
}
