package lakepipe

import (
	"errors"
	"fmt"

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
	// GlueStartJobRunSync is the Glue service integration that starts a job
	// run and waits for it to end.
	GlueStartJobRunSync = "arn:aws:states:::glue:startJobRun.sync"
	// LambdaMaxTimeoutSeconds is the longest a Lambda function may run.
	LambdaMaxTimeoutSeconds = 900
)

// PipelineFunctions are the Lambda function ARNs of the pipeline's steps.
type PipelineFunctions struct {
	FileTransfer   string // Transfers.Step
	TransferStatus string // TransferVerifier.Check
	CrawlerStart   string // Crawlers.StartStep
	CrawlerStatus  string // Crawlers.StatusStep
}

// SeedFunctions returns the ARNs of the seed's function names
// (generic-file-transfer, generic-file-transfer-status,
// generic-crawler-invoke, generic-crawler-status) in a region and account.
func SeedFunctions(region, account string) PipelineFunctions {
	arn := func(name string) string {
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
	}
	return PipelineFunctions{
		FileTransfer:   arn("generic-file-transfer"),
		TransferStatus: arn("generic-file-transfer-status"),
		CrawlerStart:   arn("generic-crawler-invoke"),
		CrawlerStatus:  arn("generic-crawler-status"),
	}
}

// PipelineConfig configures SeedPipeline. Zero fields take the defaults
// named on them.
type PipelineConfig struct {
	Bucket    string // required
	Functions PipelineFunctions

	LandingPrefix  string // DefaultLandingPrefix
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

func (c *PipelineConfig) defaults() error {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.LandingPrefix, DefaultLandingPrefix)
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
		return errors.New("lakepipe: pipeline config needs Bucket and the four function ARNs")
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

// SeedPipeline returns the seed's state machine, corrected (see the
// package documentation): landing → raw transfer, its verification
// retried on TransferIncompleteError (30 s × 2, 5 attempts), the raw
// crawler as a Wait/Choice polling loop that fails on a failed crawl, the
// Glue job through glue:startJobRun.sync, the refined crawler, and the
// move to the archive with its verification. Every failure is caught into
// a Fail state named after its stage, with {Error, Cause} at $.error.
func SeedPipeline(cfg PipelineConfig) (*asl.StateMachine, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	m := &asl.StateMachine{
		Comment:        "lakekit seed pipeline: landing → raw → Glue crawler → Glue job (CSV → Parquet) → refined crawler → archive",
		StartAt:        StateLandingToRaw,
		TimeoutSeconds: cfg.TimeoutSeconds,
	}
	catch := func(failed string) []asl.Catcher {
		return []asl.Catcher{{ErrorEquals: []string{asl.ErrorALL}, Next: failed, ResultPath: "$.error"}}
	}
	transfer := func(step, dest string) map[string]any {
		return map[string]any{
			"step": step, "bucket": cfg.Bucket, "source_prefix": cfg.LandingPrefix, "destination_prefix": dest,
			"key.$": "$.key", "dataset.$": "$.dataset", "year.$": "$.year", "month.$": "$.month", "day.$": "$.day",
		}
	}
	verifyRetry := func(errs ...string) []asl.Retrier {
		return []asl.Retrier{
			{ErrorEquals: errs, IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: asl.Int(5)},
			lambdaTransient,
		}
	}

	// transferStage adds a transfer task and its verification, both caught
	// into failed.
	transferStage := func(copyState, verifyState, failed, step, dest, result, copyComment, verifyComment string, verifyErrs []string, next string) {
		m.Add(copyState, &asl.Task{
			IO:             asl.IO{Comment: copyComment},
			Resource:       cfg.Functions.FileTransfer,
			Parameters:     transfer(step, dest),
			ResultPath:     asl.Path("$." + result + "_transfer"),
			TimeoutSeconds: LambdaMaxTimeoutSeconds,
			Retry:          []asl.Retrier{lambdaTransient},
			Catch:          catch(failed),
			Transition:     asl.Transition{Next: verifyState},
		})
		m.Add(verifyState, &asl.Task{
			IO:             asl.IO{Comment: verifyComment},
			Resource:       cfg.Functions.TransferStatus,
			Parameters:     transfer(step, dest),
			ResultPath:     asl.Path("$." + result + "_check"),
			TimeoutSeconds: LambdaMaxTimeoutSeconds,
			Retry:          verifyRetry(verifyErrs...),
			Catch:          catch(failed),
			Transition:     asl.Transition{Next: next},
		})
	}

	transferStage(StateLandingToRaw, StateVerifyRaw, StateLandingToRawFailed, StepLandingToRaw, cfg.RawPrefix, "raw",
		"Copies the landed file to its raw-zone Hive partition.", "Checks the raw copy by key and size.",
		[]string{ErrNameTransferIncomplete}, StateStartRawCrawler)
	m.Add(StateLandingToRawFailed, &asl.Fail{Error: "LandingToRawFailed", Cause: "the landed file could not be copied to the raw zone"})

	crawlerLoop := func(start, wait, status, done, failed, crawler, resultPath, next string) {
		params := map[string]any{"crawler": crawler}
		m.Add(start, &asl.Task{
			IO:             asl.IO{Comment: "Starts crawler " + crawler + " (joins it when already running)."},
			Resource:       cfg.Functions.CrawlerStart,
			Parameters:     params,
			ResultPath:     asl.Path(resultPath),
			TimeoutSeconds: 60,
			Retry:          []asl.Retrier{lambdaTransient},
			Catch:          catch(failed),
			Transition:     asl.Transition{Next: wait},
		})
		m.Add(wait, &asl.Wait{Seconds: cfg.CrawlerPollSeconds, Transition: asl.Transition{Next: status}})
		m.Add(status, &asl.Task{
			IO:             asl.IO{Comment: "Reads the crawler's State and LastCrawl.Status; a failed crawl is CrawlerFailedError."},
			Resource:       cfg.Functions.CrawlerStatus,
			Parameters:     params,
			ResultPath:     asl.Path(resultPath),
			TimeoutSeconds: 60,
			Retry:          []asl.Retrier{lambdaTransient},
			Catch:          catch(failed),
			Transition:     asl.Transition{Next: done},
		})
		m.Add(done, &asl.Choice{
			Choices: []asl.ChoiceRule{asl.Rule(resultPath+".done", "BooleanEquals", true).Then(next)},
			Default: wait,
		})
		m.Add(failed, &asl.Fail{Error: failed, Cause: "crawler " + crawler + " did not complete a successful crawl"})
	}
	crawlerLoop(StateStartRawCrawler, StateWaitRawCrawler, StateRawCrawlerStatus, StateRawCrawlerDone, StateRawCrawlerFailed,
		cfg.RawCrawler, "$.raw_crawl", StateGlueJob)

	args := map[string]any{"--year.$": "$.year", "--month.$": "$.month", "--day.$": "$.day", "--dataset.$": "$.dataset",
		"--refined_prefix": cfg.RefinedPrefix}
	for k, v := range cfg.JobArguments {
		args[k] = v
	}
	m.Add(StateGlueJob, &asl.Task{
		IO:             asl.IO{Comment: "Runs the Glue job (CSV → Parquet partitioned by year/month/day) and waits for it."},
		Resource:       GlueStartJobRunSync,
		Parameters:     map[string]any{"JobName": cfg.JobName, "Arguments": args},
		ResultSelector: map[string]any{"JobRunId.$": "$.Id", "JobRunState.$": "$.JobRunState"},
		ResultPath:     "$.glue_job",
		Retry: []asl.Retrier{{ErrorEquals: []string{"Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException"},
			IntervalSeconds: 60, BackoffRate: 2, MaxAttempts: asl.Int(5), JitterStrategy: "FULL"}},
		Catch:      catch(StateGlueJobFailed),
		Transition: asl.Transition{Next: StateStartRefinedCrawler},
	})
	m.Add(StateGlueJobFailed, &asl.Fail{Error: "GlueJobFailed", Cause: "the Glue job run did not succeed"})

	crawlerLoop(StateStartRefinedCrawler, StateWaitRefinedCrawler, StateRefinedCrawlerStatus, StateRefinedCrawlerDone, StateRefinedCrawlerFailed,
		cfg.RefinedCrawler, "$.refined_crawl", StateLandingToArchive)

	transferStage(StateLandingToArchive, StateVerifyArchive, StateArchiveFailed, StepLandingToArchive, cfg.ArchivePrefix, "archive",
		"Copies the landed file to the archive, verifies the copy, then deletes it from the landing zone.",
		"Checks the archive holds the file and the landing zone no longer does.",
		[]string{ErrNameTransferIncomplete, ErrNamePrefixNotEmpty}, StateSucceeded)
	m.Add(StateArchiveFailed, &asl.Fail{Error: "LandingToArchiveFailed", Cause: "the landed file could not be archived"})
	m.Add(StateSucceeded, &asl.Succeed{})

	if err := asl.Validate(m); err != nil {
		return nil, err
	}
	return m, nil
}
