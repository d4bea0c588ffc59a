package deploycheck

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
)

// taskInput is the input the committed state machine sends to a Task
// state: its Parameters with the template's DefinitionSubstitutions
// applied (subs) and the "key.$": "$.field" paths read from the execution
// input.
func taskInput(t *testing.T, state string, subs map[string]string, execution map[string]any) (map[string]any, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", "ml-pipeline", "statemachine.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		States map[string]struct {
			Parameters map[string]any
			Retry      []struct{ ErrorEquals []string }
			Catch      []struct{ ErrorEquals []string }
		}
	}
	if err := json.Unmarshal(data, &def); err != nil {
		t.Fatal(err)
	}
	st, ok := def.States[state]
	if !ok {
		t.Fatalf("the state machine has no state %s", state)
	}
	in := map[string]any{}
	for k, v := range st.Parameters {
		if path, ok := strings.CutSuffix(k, ".$"); ok {
			in[path] = execution[strings.TrimPrefix(v.(string), "$.")]
			continue
		}
		if s, ok := v.(string); ok {
			for name, val := range subs {
				s = strings.ReplaceAll(s, "${"+name+"}", val)
			}
			v = s
		}
		in[k] = v
	}
	var retried []string
	for _, r := range st.Retry {
		retried = append(retried, r.ErrorEquals...)
	}
	return in, retried
}

// TestMLPipelineTransfer: the transfer-status Lambda answers a missing raw
// copy with the typed error the state machine's VerifyLandingToRaw retrier
// matches (TransferIncompleteError); file-transfer copies the landed file;
// transfer-status then passes. Each is invoked with the input the committed
// state machine sends.
func TestMLPipelineTransfer(t *testing.T) {
	ctx := context.Background()
	srv := awstest.S3Server(t)
	c := srv.S3()
	bucket := awstest.Name(t, "lake")
	createBucket(t, c, bucket)
	key := "data/landing/customers_20190821.csv"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("id,name\n1,Ada\n")}); err != nil {
		t.Fatal(err)
	}
	// What invoke-step-function starts the execution with (lakepipe's
	// landing key parse of this key).
	execution := map[string]any{"year": "2019", "month": "08", "day": "21", "dataset": "customers", "bucket": bucket, "key": key}
	subs := map[string]string{"Bucket": bucket}
	env := withEnv(templateEnv(t, "examples/ml-pipeline/template.yaml", "TransferStatusFunction", nil), map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint})

	verify, retried := taskInput(t, "VerifyLandingToRaw", subs, execution)
	status := startLambda(t, "ml-pipeline-transfer-status", env)
	code, body := status.invoke(t, verify)
	var lambdaErr struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(body, &lambdaErr); err != nil || code != 200 {
		t.Fatalf("transfer-status answered %d %s", code, body)
	}
	if lambdaErr.ErrorType != "TransferIncompleteError" || !slices.Contains(retried, lambdaErr.ErrorType) {
		t.Fatalf("before the copy transfer-status failed with errorType %q (%s); the state's retriers match %v", lambdaErr.ErrorType, lambdaErr.ErrorMessage, retried)
	}

	copyIn, _ := taskInput(t, "LandingToRaw", subs, execution)
	transfer := startLambda(t, "ml-pipeline-file-transfer", withEnv(templateEnv(t, "examples/ml-pipeline/template.yaml", "FileTransferFunction", nil), map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}))
	code, body = transfer.invoke(t, copyIn)
	if code != 200 || strings.Contains(string(body), "errorType") {
		t.Fatalf("file-transfer answered %d %s", code, body)
	}
	transferBody := string(body)
	keys := listKeys(t, c, bucket)
	if countPrefix(keys, "data/raw/customers/") != 1 {
		t.Fatalf("objects %v, want the file under data/raw/customers/…", keys)
	}

	code, body = status.invoke(t, verify)
	if code != 200 || strings.Contains(string(body), "errorType") {
		t.Fatalf("after the copy transfer-status answered %d %s", code, body)
	}
	recordEffect(t, "ml-pipeline-transfer-status", "VerifyLandingToRaw's task input (from statemachine.asl.json), before the copy", "errorType TransferIncompleteError, which the state's Retry matches")
	recordEffect(t, "ml-pipeline-file-transfer", "LandingToRaw's task input", "the landed file copied under data/raw/customers/…; response "+transferBody)
	recordEffect(t, "ml-pipeline-transfer-status", "the same input after the copy", "success")
}
