package mlpipeline

import (
	"testing"

	"github.com/lakekit/lakekit/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }
