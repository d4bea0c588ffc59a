package deploycheck

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kda"
)

// TestKDALambdaDestinationUnderRIE: a LambdaSink invokes a KDA Lambda
// destination (testdata/kdadest, built as make lambdas builds a main)
// running under AWS's Runtime Interface Emulator, through the real SDK
// client and the emulator's Invoke endpoint. The rows the function
// answers DeliveryFailed for are sent again and delivered; every row is
// delivered once.
func TestKDALambdaDestinationUnderRIE(t *testing.T) {
	const pkg = "deploycheck-kdadest"
	bootstrap(t, "streaming-analytics-app") // builds the example mains into mainsDir
	dir := filepath.Join(mainsDir, pkg)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", filepath.Join(dir, "bootstrap"), "./testdata/kdadest")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./testdata/kdadest: %v\n%s", err, out)
	}
	e := startLambda(t, pkg, nil)
	base := strings.TrimSuffix(e.url, "/2015-03-31/functions/function/invocations")
	client := lambda.New(lambda.Options{Region: awstest.Region, BaseEndpoint: aws.String(base),
		Credentials: credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, "")})
	sink, err := kda.NewLambdaSink(client, "function", func(o *kda.LambdaSinkOptions) {
		o.Sleep = func(context.Context, time.Duration) error { return nil }
		o.MaxPayloadBytes = 1 << 10 // several invocations
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 60
	for i := range n {
		row := fmt.Sprintf(`{"i":%d}`, i)
		if i%4 == 0 {
			row = fmt.Sprintf(`flaky{"i":%d}`, i)
		}
		if err := sink.Put(ctx, []byte(row), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := sink.Stats()
	if st.Records != n || st.Retried != n/4 || st.Invocations < 3 {
		t.Fatalf("stats %+v", st)
	}
	if got := e.waitCount("delivered ", n); got != n {
		t.Fatalf("the function delivered %d rows, want %d", got, n)
	}
	for i := range n {
		if !strings.Contains(e.out.String(), fmt.Sprintf(`{"i":%d}`+"\n", i)) {
			t.Fatalf("row %d not delivered", i)
		}
	}
}
