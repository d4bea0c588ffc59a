package mlpipeline

import (
	"errors"
	"fmt"

	"github.com/lakekit/lakekit/lakepipe"
	"github.com/lakekit/lakekit/lakepipe/asl"
)

// Defaults of the seed pipeline.
const (
	DefaultRawPrefix      = "data/raw/"
	DefaultRefinedPrefix  = "data/refined/"
	DefaultArchivePrefix  = "data/archive/"
	DefaultRawCrawler     = "raw"
	DefaultRefinedCrawler = "refined"
	DefaultJobName        = "raw-refined"
	// DefaultCrawlerPollSeconds is the Wait between crawler status reads.
	DefaultCrawlerPollSeconds = 30
	// DefaultPipelineTimeoutSeconds bounds a whole execution (6 h): the
	// crawler polling loops have no count of their own.
	DefaultPipelineTimeoutSeconds = 6 * 3600
	// LambdaMaxTimeoutSeconds is the longest a Lambda function may run.
	LambdaMaxTimeoutSeconds = 900
)

// Functions are the Lambda function ARNs of the pipeline's steps.
type Functions struct {
	FileTransfer   string // lakepipe.Transfers.Step
	TransferStatus string // lakepipe.TransferVerifier.Check
	CrawlerStart   string // lakepipe.Crawlers.StartStep
	CrawlerStatus  string // lakepipe.Crawlers.StatusStep
}

// SeedFunctions returns the ARNs of the seed's function names
// (generic-file-transfer, generic-file-transfer-status,
// generic-crawler-invoke, generic-crawler-status) in a region and account.
func SeedFunctions(region, account string) Functions {
	arn := func(name string) string {
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
	}
	return Functions{
		FileTransfer:   arn("generic-file-transfer"),
		TransferStatus: arn("generic-file-transfer-status"),
		CrawlerStart:   arn("generic-crawler-invoke"),
		CrawlerStatus:  arn("generic-crawler-status"),
	}
}

// DefinitionConfig configures Definition. Zero fields take the defaults
// named on them.
type DefinitionConfig struct {
	Bucket    string // required
	Functions Functions

	LandingPrefix  string // lakepipe.DefaultLandingPrefix
	RawPrefix      string // DefaultRawPrefix
	RefinedPrefix  string // DefaultRefinedPrefix, passed to the job as --refined_prefix
	ArchivePrefix  string // DefaultArchivePrefix
	RawCrawler     string // DefaultRawCrawler
	RefinedCrawler string // DefaultRefinedCrawler
	JobName        string // DefaultJobName
	// JobArguments are extra Glue job arguments ("--enable-metrics": "").
	JobArguments map[string]string

	CrawlerPollSeconds int // DefaultCrawlerPollSeconds
	TimeoutSeconds     int // DefaultPipelineTimeoutSeconds
}

func (c *DefinitionConfig) defaults() error {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.LandingPrefix, lakepipe.DefaultLandingPrefix)
	set(&c.RawPrefix, DefaultRawPrefix)
	set(&c.RefinedPrefix, DefaultRefinedPrefix)
	set(&c.ArchivePrefix, DefaultArchivePrefix)
	set(&c.RawCrawler, DefaultRawCrawler)
	set(&c.RefinedCrawler, DefaultRefinedCrawler)
	set(&c.JobName, DefaultJobName)
	if c.CrawlerPollSeconds == 0 {
		c.CrawlerPollSeconds = DefaultCrawlerPollSeconds
	}
	if c.TimeoutSeconds == 0 {
		c.TimeoutSeconds = DefaultPipelineTimeoutSeconds
	}
	f := c.Functions
	if c.Bucket == "" || f.FileTransfer == "" || f.TransferStatus == "" || f.CrawlerStart == "" || f.CrawlerStatus == "" {
		return errors.New("mlpipeline: definition config needs Bucket and the four function ARNs")
	}
	return nil
}

// Names of the pipeline's states (the Fail states are where a failed
// execution ends).
const (
	StateLandingToRaw         = "LandingToRaw"
	StateVerifyRaw            = "VerifyLandingToRaw"
	StateLandingToRawFailed   = "LandingToRawFailed"
	StateStartRawCrawler      = "StartRawCrawler"
	StateWaitRawCrawler       = "WaitRawCrawler"
	StateRawCrawlerStatus     = "RawCrawlerStatus"
	StateRawCrawlerDone       = "RawCrawlerDone"
	StateRawCrawlerFailed     = "RawCrawlerFailed"
	StateGlueJob              = "GlueJob"
	StateGlueJobFailed        = "GlueJobFailed"
	StateStartRefinedCrawler  = "StartRefinedCrawler"
	StateWaitRefinedCrawler   = "WaitRefinedCrawler"
	StateRefinedCrawlerStatus = "RefinedCrawlerStatus"
	StateRefinedCrawlerDone   = "RefinedCrawlerDone"
	StateRefinedCrawlerFailed = "RefinedCrawlerFailed"
	StateLandingToArchive     = "LandingToArchive"
	StateVerifyArchive        = "VerifyLandingToArchive"
	StateArchiveFailed        = "LandingToArchiveFailed"
	StateSucceeded            = "Succeeded"
)

// lambdaTransient retries the Lambda service's own transient errors, as
// AWS advises for every Lambda task.
var lambdaTransient = asl.Retrier{
	ErrorEquals:     []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"},
	IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: asl.Int(6),
}

// Definition returns the seed's state machine, corrected (see README.md):
// landing → raw transfer, its verification retried on
// TransferIncompleteError (30 s × 2, 5 attempts), the raw crawler as a
// Wait/Choice polling loop that fails on a failed crawl, the Glue job
// through glue:startJobRun.sync, the refined crawler, and the move to the
// archive with its verification. Every failure is caught into a Fail state
// named after its stage, with {Error, Cause} at $.error.
func Definition(cfg DefinitionConfig) (*asl.StateMachine, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	b := builder{cfg: cfg, m: &asl.StateMachine{
		Comment:        "lakekit seed pipeline: landing → raw → Glue crawler → Glue job (CSV → Parquet) → refined crawler → archive",
		StartAt:        StateLandingToRaw,
		TimeoutSeconds: cfg.TimeoutSeconds,
	}}
	b.transfer(transferStage{
		Copy: StateLandingToRaw, Verify: StateVerifyRaw, Failed: StateLandingToRawFailed,
		Step: lakepipe.StepLandingToRaw, Dest: cfg.RawPrefix, Result: "raw",
		CopyComment:   "Copies the landed file to its raw-zone Hive partition.",
		VerifyComment: "Checks the raw copy by key and size.",
		VerifyErrors:  []string{lakepipe.ErrNameTransferIncomplete},
		Next:          StateStartRawCrawler,
	})
	b.m.Add(StateLandingToRawFailed, &asl.Fail{Error: "LandingToRawFailed", Cause: "the landed file could not be copied to the raw zone"})
	b.crawl(crawlerLoop{
		Start: StateStartRawCrawler, Wait: StateWaitRawCrawler, Status: StateRawCrawlerStatus, Done: StateRawCrawlerDone,
		Failed: StateRawCrawlerFailed, Crawler: cfg.RawCrawler, ResultPath: "$.raw_crawl", Next: StateGlueJob,
	})
	b.glueJob(StateStartRefinedCrawler)
	b.crawl(crawlerLoop{
		Start: StateStartRefinedCrawler, Wait: StateWaitRefinedCrawler, Status: StateRefinedCrawlerStatus, Done: StateRefinedCrawlerDone,
		Failed: StateRefinedCrawlerFailed, Crawler: cfg.RefinedCrawler, ResultPath: "$.refined_crawl", Next: StateLandingToArchive,
	})
	b.transfer(transferStage{
		Copy: StateLandingToArchive, Verify: StateVerifyArchive, Failed: StateArchiveFailed,
		Step: lakepipe.StepLandingToArchive, Dest: cfg.ArchivePrefix, Result: "archive",
		CopyComment:   "Copies the landed file to the archive, verifies the copy, then deletes it from the landing zone.",
		VerifyComment: "Checks the archive holds the file and the landing zone no longer does.",
		VerifyErrors:  []string{lakepipe.ErrNameTransferIncomplete, lakepipe.ErrNamePrefixNotEmpty},
		Next:          StateSucceeded,
	})
	b.m.Add(StateArchiveFailed, &asl.Fail{Error: "LandingToArchiveFailed", Cause: "the landed file could not be archived"})
	b.m.Add(StateSucceeded, &asl.Succeed{})

	if err := asl.Validate(b.m); err != nil {
		return nil, err
	}
	return b.m, nil
}

// builder adds the pipeline's stages to its state machine.
type builder struct {
	cfg DefinitionConfig
	m   *asl.StateMachine
}

// catch sends every error to the Fail state failed, with {Error, Cause}
// at $.error.
func catch(failed string) []asl.Catcher {
	return []asl.Catcher{{ErrorEquals: []string{asl.ErrorALL}, Next: failed, ResultPath: "$.error"}}
}

// transferStage is a transfer task and its verification, both caught into
// Failed.
type transferStage struct {
	Copy, Verify, Failed string // state names
	Step                 string // lakepipe.TransferRequest.Step
	Dest                 string // destination prefix
	// Result names the results: $.<Result>_transfer and $.<Result>_check.
	Result                     string
	CopyComment, VerifyComment string
	VerifyErrors               []string // the verification retries these
	Next                       string
}

func (b builder) transfer(s transferStage) {
	params := map[string]any{
		"step": s.Step, "bucket": b.cfg.Bucket, "source_prefix": b.cfg.LandingPrefix, "destination_prefix": s.Dest,
		"key.$": "$.key", "dataset.$": "$.dataset", "year.$": "$.year", "month.$": "$.month", "day.$": "$.day",
	}
	task := func(comment, resource, result string, retry []asl.Retrier, next string) *asl.Task {
		return &asl.Task{
			IO:             asl.IO{Comment: comment},
			Resource:       resource,
			Parameters:     params,
			ResultPath:     asl.Path("$." + s.Result + result),
			TimeoutSeconds: LambdaMaxTimeoutSeconds,
			Retry:          retry,
			Catch:          catch(s.Failed),
			Transition:     asl.Transition{Next: next},
		}
	}
	b.m.Add(s.Copy, task(s.CopyComment, b.cfg.Functions.FileTransfer, "_transfer", []asl.Retrier{lambdaTransient}, s.Verify))
	b.m.Add(s.Verify, task(s.VerifyComment, b.cfg.Functions.TransferStatus, "_check", []asl.Retrier{
		{ErrorEquals: s.VerifyErrors, IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: asl.Int(5)},
		lambdaTransient,
	}, s.Next))
}

// crawlerLoop starts a crawler and polls it with a Wait/Choice loop until
// its crawl is done; a failure ends in the Fail state Failed.
type crawlerLoop struct {
	Start, Wait, Status, Done, Failed string // state names
	Crawler                           string
	ResultPath                        string
	Next                              string
}

func (b builder) crawl(c crawlerLoop) {
	// Both Lambda tasks take {"crawler": name} and write the crawl's
	// status to ResultPath.
	task := func(comment, resource, next string) *asl.Task {
		return &asl.Task{
			IO:             asl.IO{Comment: comment},
			Resource:       resource,
			Parameters:     map[string]any{"crawler": c.Crawler},
			ResultPath:     asl.Path(c.ResultPath),
			TimeoutSeconds: 60,
			Retry:          []asl.Retrier{lambdaTransient},
			Catch:          catch(c.Failed),
			Transition:     asl.Transition{Next: next},
		}
	}
	b.m.Add(c.Start, task("Starts crawler "+c.Crawler+" (joins it when already running).", b.cfg.Functions.CrawlerStart, c.Wait))
	b.m.Add(c.Wait, &asl.Wait{Seconds: b.cfg.CrawlerPollSeconds, Transition: asl.Transition{Next: c.Status}})
	b.m.Add(c.Status, task("Reads the crawler's State and LastCrawl.Status; a failed crawl is CrawlerFailedError.", b.cfg.Functions.CrawlerStatus, c.Done))
	b.m.Add(c.Done, &asl.Choice{
		Choices: []asl.ChoiceRule{asl.Rule(c.ResultPath+".done", "BooleanEquals", true).Then(c.Next)},
		Default: c.Wait,
	})
	b.m.Add(c.Failed, &asl.Fail{Error: c.Failed, Cause: "crawler " + c.Crawler + " did not complete a successful crawl"})
}

// glueJob runs the Glue job through glue:startJobRun.sync, then goes to
// next.
func (b builder) glueJob(next string) {
	args := map[string]any{"--year.$": "$.year", "--month.$": "$.month", "--day.$": "$.day", "--dataset.$": "$.dataset",
		"--refined_prefix": b.cfg.RefinedPrefix}
	for k, v := range b.cfg.JobArguments {
		args[k] = v
	}
	b.m.Add(StateGlueJob, &asl.Task{
		IO:             asl.IO{Comment: "Runs the Glue job (CSV → Parquet partitioned by year/month/day) and waits for it."},
		Resource:       lakepipe.GlueStartJobRunSync,
		Parameters:     map[string]any{"JobName": b.cfg.JobName, "Arguments": args},
		ResultSelector: map[string]any{"JobRunId.$": "$.Id", "JobRunState.$": "$.JobRunState"},
		ResultPath:     "$.glue_job",
		Retry: []asl.Retrier{{ErrorEquals: []string{"Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException"},
			IntervalSeconds: 60, BackoffRate: 2, MaxAttempts: asl.Int(5), JitterStrategy: "FULL"}},
		Catch:      catch(StateGlueJobFailed),
		Transition: asl.Transition{Next: next},
	})
	b.m.Add(StateGlueJobFailed, &asl.Fail{Error: "GlueJobFailed", Cause: "the Glue job run did not succeed"})
}
