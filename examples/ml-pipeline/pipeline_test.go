package mlpipeline

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe"
	"github.com/lakekit/lakekit/lakepipe/asl"
)

func pipelineTestConfig() DefinitionConfig {
	return DefinitionConfig{Bucket: "bucketname", Functions: SeedFunctions("us-west-2", "123456789012")}
}

func pipelineTestJSON(t *testing.T) []byte {
	t.Helper()
	m, err := Definition(pipelineTestConfig())
	if err != nil {
		t.Fatal(err)
	}
	def, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// TestDefinitionStepFunctionsLocal: stepfunctions-local 1.3.1 accepts
// the generated definition with CreateStateMachine; a broken definition is refused, so the check can fail.
func TestDefinitionStepFunctionsLocal(t *testing.T) {
	ctx := context.Background()
	c := awstest.StepFunctions(t)
	def := string(pipelineTestJSON(t))
	out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(awstest.Name(t, "pipeline")), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/service-role/StepFunctions-pipeline"),
	})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	// (stepfunctions-local 1.3.1 answers DescribeStateMachine with the
	// definition as an object, which the SDK cannot decode: list instead.)
	list, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sm := range list.StateMachines {
		found = found || aws.ToString(sm.StateMachineArn) == aws.ToString(out.StateMachineArn)
	}
	if !found {
		t.Fatalf("%s not listed", aws.ToString(out.StateMachineArn))
	}
	broken := strings.Replace(def, `"Next": "`+StateVerifyRaw+`"`, `"Next": "NoSuchState"`, 1)
	if _, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(awstest.Name(t, "broken")), Definition: aws.String(broken),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/service-role/StepFunctions-pipeline"),
	}); err == nil {
		t.Fatal("stepfunctions-local accepted a Next to no state")
	}
}

// TestDefinitionASLValidator runs the npm asl-validator on the
// definition, and on a broken one to prove it can say no.
func TestDefinitionASLValidator(t *testing.T) {
	tool := awstest.NodeTool(t, "asl-validator/dist/bin/asl-validator.js")
	dir := t.TempDir()
	def := pipelineTestJSON(t)
	run := func(doc []byte) (string, error) {
		path := filepath.Join(dir, "def.json")
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("node", tool, "--json-path", path).CombinedOutput()
		return string(out), err
	}
	if out, err := run(def); err != nil {
		t.Fatalf("asl-validator refused the definition: %v\n%s", err, out)
	}
	broken := strings.Replace(string(def), `"BackoffRate": 2`, `"BackoffRate": "fast"`, 1)
	out, err := run([]byte(broken))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("asl-validator on a broken definition: %v\n%s", err, out)
	}
}

func TestDefinitionShape(t *testing.T) {
	m, err := Definition(pipelineTestConfig())
	if err != nil {
		t.Fatal(err)
	}
	verify := m.States.Get(StateVerifyRaw).(*asl.Task)
	r := verify.Retry[0]
	if r.ErrorEquals[0] != "TransferIncompleteError" || r.IntervalSeconds != 30 || r.BackoffRate != 2 || *r.MaxAttempts != 5 {
		t.Fatalf("verify retrier %+v", r)
	}
	if job := m.States.Get(StateGlueJob).(*asl.Task); job.Resource != lakepipe.GlueStartJobRunSync {
		t.Fatalf("glue job resource %s", job.Resource)
	}
	if _, err := Definition(DefinitionConfig{}); err == nil {
		t.Fatal("empty config accepted")
	}
}
