package lakepipe

import (
	"testing"

	"github.com/lakekit/lakekit/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// must returns a constructor's value; the tests' options are valid, so an
// error is a bug that ends the test binary.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
