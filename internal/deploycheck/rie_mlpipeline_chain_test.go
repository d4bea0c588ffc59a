package deploycheck

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe"
	"github.com/lakekit/lakekit/lakepipe/asl"
	"github.com/lakekit/lakekit/lakepipe/asl/local"
	"github.com/lakekit/lakekit/lakepipe/gluetest"
)

// TestSystem5Chain runs seed system 5 through its five emulated Lambdas,
// each with the environment examples/ml-pipeline/template.yaml gives it:
//
//   - a CSV lands under data/landing/ → the S3 notification (aws-lambda-go's
//     s3-event.json, with a second record whose key does not match the
//     landing pattern) → invoke-step-function → an execution of the
//     committed statemachine.asl.json (the template's
//     DefinitionSubstitutions applied) on stepfunctions-local; the same
//     notification again (S3 delivers at least once) is a duplicate;
//   - that execution's input, read back from stepfunctions-local, is run
//     through the same definition by lakepipe's local ASL runner on a
//     virtual clock (stepfunctions-local cannot call Lambdas, and its Wait
//     states take real time), every Lambda Task bound to its emulated
//     Lambda over the emulator's invoke API, the Glue job integration to
//     the wire-protocol Glue: copy to raw, verify, raw crawl polled to done,
//     the job, refined crawl, archive, verify.
//
// A second execution whose landed file is gone: file-transfer finds
// nothing to copy, and transfer-status answers TransferIncompleteError,
// which VerifyLandingToRaw's Retry matches by name five times before its
// Catch sends the execution to LandingToRawFailed.
// Finally crawler-status on a crawler that never ran answers the typed
// error the states' Catch sees, CrawlerFailedError.
func TestSystem5Chain(t *testing.T) {
	ctx := context.Background()
	s3srv := awstest.S3Server(t)
	s3c := s3srv.S3()
	sfnSrv := awstest.Shared(t, awstest.StepFunctionsLocal)
	sf := sfnSrv.StepFunctions()
	glueSrv := gluetest.New(t)
	bucket := awstest.Name(t, "lake")
	createBucket(t, s3c, bucket)
	landed := "data/landing/customers_20190821.csv"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &landed, Body: strings.NewReader("email_id,retailer_name,units_purchased\na@example.com,Acme Retail,3\n")}); err != nil {
		t.Fatal(err)
	}

	// The Lambdas' names, as !Ref of each function gives them to the
	// definition's substitutions.
	names := map[string]string{
		"FileTransferFunction": "ml-pipeline-file-transfer", "TransferStatusFunction": "ml-pipeline-transfer-status",
		"CrawlerStartFunction": "ml-pipeline-crawler-start", "CrawlerStatusFunction": "ml-pipeline-crawler-status",
	}
	def := deployedDefinition(t, bucket, names)
	sm, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(awstest.Name(t, "Datapipeline-for-SageMaker")),
		Definition: aws.String(string(def)), RoleArn: aws.String("arn:aws:iam::000000000000:role/pipeline")})
	if err != nil {
		t.Fatalf("stepfunctions-local refused the committed definition: %v", err)
	}

	sdk := map[string]string{"AWS_ENDPOINT_URL_S3": s3srv.Endpoint, "AWS_ENDPOINT_URL_SFN": sfnSrv.Endpoint, "AWS_ENDPOINT_URL_GLUE": glueSrv.Endpoint}
	refs := map[string]string{"Pipeline": aws.ToString(sm.StateMachineArn), "BucketName": bucket}
	env := func(id string) map[string]string {
		return withEnv(templateEnv(t, "examples/ml-pipeline/template.yaml", id, refs), sdk)
	}
	trigger := startLambda(t, "ml-pipeline-invoke-step-function", env("InvokeStepFunctionFunction"))
	var note events.S3Event
	sample(t, "s3-event.json", &note)
	note.Records[0].S3.Bucket.Name, note.Records[0].S3.Bucket.Arn = bucket, "arn:aws:s3:::"+bucket
	note.Records[0].S3.Object.Key = landed
	stray := note.Records[0]
	stray.S3.Object.Key = "data/landing/notes.csv"
	note.Records = append(note.Records, stray)
	status, body := trigger.invoke(t, note)
	var res lakepipe.TriggerResult
	if err := json.Unmarshal(body, &res); status != 200 || err != nil || len(res.Started) != 1 || !slices.Equal(res.Skipped, []string{"data/landing/notes.csv"}) {
		t.Fatalf("invoke-step-function answered %d %s, want one execution started and notes.csv skipped", status, body)
	}
	started := res.Started[0]
	desc, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &started.ExecutionARN})
	if err != nil {
		t.Fatalf("stepfunctions-local has no execution %s: %v", started.ExecutionARN, err)
	}
	// stepfunctions-local would call its Lambda endpoint next: stop it.
	_, _ = sf.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: &started.ExecutionARN})
	var input lakepipe.ExecutionInput
	if err := json.Unmarshal([]byte(aws.ToString(desc.Input)), &input); err != nil {
		t.Fatal(err)
	}
	if input != (lakepipe.ExecutionInput{Year: "2019", Month: "08", Day: "21", Dataset: "customers", Bucket: bucket, Key: landed}) {
		t.Fatalf("execution input %+v", input)
	}
	status, body = trigger.invoke(t, note)
	if err := json.Unmarshal(body, &res); status != 200 || err != nil || !slices.Equal(res.Duplicates, []string{started.Name}) || len(res.Started) != 0 {
		t.Fatalf("the repeated notification answered %d %s, want execution %s reported as a duplicate", status, body, started.Name)
	}

	// The execution, every Lambda Task through the emulator.
	glueSrv.AddCrawler("raw")
	glueSrv.AddCrawler("refined")
	var jobArgs map[string]string
	glueSrv.AddJob("raw-refined", func(_ context.Context, args map[string]string) error {
		jobArgs = args
		return nil
	})
	m, err := asl.Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	clock := local.NewVirtualClock(time.Date(2019, 8, 21, 6, 0, 0, 0, time.UTC))
	runner, err := local.New(m, func(o *local.RunnerOptions) { o.Now, o.Sleep = clock.Now, clock.Sleep })
	if err != nil {
		t.Fatal(err)
	}
	calls := &invokeCounts{n: map[string]int{}}
	for id, pkg := range names {
		runner.Handle("arn:aws:lambda:us-east-1:000000000000:function:"+pkg, calls.handler(t, startLambda(t, pkg, env(id))))
	}
	jobs, err := lakepipe.NewJobs(glueSrv.Client, func(o *lakepipe.PollOptions) { o.Sleep = local.Sleep })
	if err != nil {
		t.Fatal(err)
	}
	runner.Handle(lakepipe.GlueStartJobRunSync, jobs.SyncHandler())
	ex, err := runner.Run(ctx, started.Name, []byte(aws.ToString(desc.Input)))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Status != local.StatusSucceeded {
		t.Fatalf("execution %s in %s: %s: %s", ex.Status, ex.FailedState, ex.Error, ex.Cause)
	}
	keys := listKeys(t, s3c, bucket)
	if countPrefix(keys, "data/raw/customers/year=2019/month=08/day=21/") != 1 || countPrefix(keys, "data/archive/") != 1 || countPrefix(keys, "data/landing/") != 0 {
		t.Fatalf("lake holds %v, want the file in its raw partition and the archive, none left in landing", keys)
	}
	if glueSrv.Crawls("raw") != 1 || glueSrv.Crawls("refined") != 1 {
		t.Fatalf("crawls raw %d refined %d, want one each", glueSrv.Crawls("raw"), glueSrv.Crawls("refined"))
	}
	if jobArgs["--dataset"] != "customers" || jobArgs["--year"] != "2019" || jobArgs["--refined_prefix"] != "data/refined/" {
		t.Fatalf("Glue job arguments %v", jobArgs)
	}
	// Each crawl: start, then RUNNING, STOPPING, READY+SUCCEEDED (one
	// step per GetCrawler, as gluetest moves it).
	want := map[string]int{"ml-pipeline-file-transfer": 2, "ml-pipeline-transfer-status": 2, "ml-pipeline-crawler-start": 2, "ml-pipeline-crawler-status": 6}
	if !mapsEqual(calls.n, want) {
		t.Fatalf("emulated invokes %v, want %v", calls.n, want)
	}

	// A landing whose file is gone by the time the execution copies it.
	gone := input
	gone.Key, gone.Day = "data/landing/customers_20190822.csv", "22"
	goneIn, _ := json.Marshal(gone)
	ex, err = runner.Run(ctx, "gone", goneIn)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, e := range ex.History {
		if e.Type == "TaskFailed" {
			failed = append(failed, e.State+": "+e.Error)
		}
	}
	wantFailed := slices.Repeat([]string{"VerifyLandingToRaw: " + lakepipe.ErrNameTransferIncomplete}, 6)
	if ex.Status != local.StatusFailed || ex.Error != "LandingToRawFailed" || !slices.Equal(failed, wantFailed) {
		t.Fatalf("execution with the file gone: %s %s (%s), failed tasks %v; want VerifyLandingToRaw failed 6 times with %s (1 + the 5 its Retry allows), then caught into LandingToRawFailed",
			ex.Status, ex.Error, ex.Cause, failed, lakepipe.ErrNameTransferIncomplete)
	}
	waited := ex.Stop.Sub(ex.Start)

	never := startLambda(t, "ml-pipeline-crawler-status", env("CrawlerStatusFunction"))
	glueSrv.AddCrawler("never-ran")
	_, body = never.invoke(t, map[string]string{"crawler": "never-ran"})
	var lambdaErr struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(body, &lambdaErr); err != nil || lambdaErr.ErrorType != lakepipe.ErrNameCrawlerFailed {
		t.Fatalf("crawler-status on a crawler that never ran answered %s, want errorType %s", body, lakepipe.ErrNameCrawlerFailed)
	}

	recordEffect(t, "ml-pipeline-invoke-step-function", "S3 ObjectCreated (s3-event.json): data/landing/customers_20190821.csv + data/landing/notes.csv",
		"1 execution started on stepfunctions-local (the committed definition), input {year 2019, month 08, day 21, dataset customers, bucket, key}; notes.csv skipped")
	recordEffect(t, "ml-pipeline-invoke-step-function", "the same notification again", "duplicates = [the execution's name]; nothing started")
	runIn := "Task inputs of one execution of statemachine.asl.json (local ASL runner, virtual clock; execution input read back from stepfunctions-local)"
	recordEffect(t, "ml-pipeline-file-transfer", runIn+": LandingToRaw, LandingToArchive", "the file in data/raw/customers/year=2019/month=08/day=21/, then in data/archive/ and gone from landing")
	recordEffect(t, "ml-pipeline-transfer-status", runIn+": VerifyLandingToRaw, VerifyLandingToArchive", "success both times; the execution SUCCEEDED")
	recordEffect(t, "ml-pipeline-crawler-start", runIn+": StartRawCrawler, StartRefinedCrawler", "raw and refined crawlers started once each on gluetest")
	recordEffect(t, "ml-pipeline-crawler-status", runIn+": RawCrawlerStatus, RefinedCrawlerStatus after each Wait", "polled 3× per crawl (RUNNING, STOPPING, READY+SUCCEEDED): done=true ends each loop; the Glue job between ran with --dataset customers")
	recordEffect(t, "ml-pipeline-transfer-status", "VerifyLandingToRaw's task input of a second execution, whose landed file is gone",
		"errorType "+lakepipe.ErrNameTransferIncomplete+" 6 times: the state's Retry matches it by name (5 retries, "+waited.String()+" of virtual backoff), then its Catch: the execution FAILED with LandingToRawFailed")
	recordEffect(t, "ml-pipeline-crawler-status", `{"crawler": "never-ran"} (a crawler with no crawl)`, "errorType "+lakepipe.ErrNameCrawlerFailed+", which the state's Catch (States.ALL) sends to RawCrawlerFailed")
}

// deployedDefinition is the committed statemachine.asl.json with the
// template's DefinitionSubstitutions applied for the local servers.
func deployedDefinition(t *testing.T, bucket string, functions map[string]string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", "ml-pipeline", "statemachine.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	subs := map[string]string{"Region": awstest.Region, "AccountId": awstest.AccountID, "Bucket": bucket,
		"RawCrawler": "raw", "RefinedCrawler": "refined", "JobName": "raw-refined"}
	for k, v := range functions {
		subs[k] = v
	}
	s := string(data)
	for k, v := range subs {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	if i := strings.Index(s, "${"); i >= 0 {
		t.Fatalf("statemachine.asl.json has a substitution the template does not define: %.40s", s[i:])
	}
	return []byte(s)
}

// invokeCounts counts the emulated invokes per Lambda.
type invokeCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// handler is a local ASL runner Task handler that invokes e over the
// emulator's API, as Step Functions invokes a Lambda: the result is the
// response body, and a function error ({"errorType", "errorMessage"}) is
// the task's error by errorType, which Retry and Catch match.
func (c *invokeCounts) handler(t *testing.T, e *emulated) local.Handler {
	return func(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
		c.mu.Lock()
		c.n[e.pkg]++
		c.mu.Unlock()
		status, body := e.invoke(t, input)
		if status != 200 {
			return nil, &local.TaskError{Name: "Lambda.ServiceException", Cause: string(body)}
		}
		var fe struct{ ErrorType, ErrorMessage string }
		if json.Unmarshal(body, &fe) == nil && fe.ErrorType != "" && fe.ErrorMessage != "" {
			return nil, &local.TaskError{Name: fe.ErrorType, Cause: fe.ErrorMessage}
		}
		return body, nil
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
