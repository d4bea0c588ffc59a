package mlpipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakekit/lakekit/lakepipe"
	"github.com/lakekit/lakekit/lakepipe/asl/local"
	"github.com/lakekit/lakekit/lakepipe/convert"
	"github.com/lakekit/lakekit/lakepipe/gluetest"
)

// LocalConfig configures RunLocal.
type LocalConfig struct {
	// S3 is a client on a local S3 server (required).
	S3 *s3.Client
	// Bucket is created if needed. Default "ml-pipeline-lake".
	Bucket string
	// Rows is the size of the landed customers file. Default 1000.
	Rows int
}

// LocalReport is what a local run did.
type LocalReport struct {
	Bucket      string
	Landed      string // the landed key
	Execution   *local.Execution
	States      int           // states entered
	VirtualTime time.Duration // the execution's duration on the virtual clock
	Rows        int64         // rows the Glue job stand-in wrote as Parquet
	Parquet     []string      // keys of the Parquet files in the refined zone
	Raw         []string      // keys in the raw zone
	Archive     []string      // keys in the archive
	Landing     []string      // keys left in the landing zone
}

// The local deployment's names; the ARNs are those SeedFunctions builds.
const (
	localRegion  = "us-east-1"
	localAccount = "000000000000"
	localSMArn   = "arn:aws:states:us-east-1:000000000000:stateMachine:Datapipeline-for-SageMaker"
)

// RunLocal runs the whole pipeline on this machine: it lands
// customers_20190821.csv in the local S3, hands the S3 notification to the
// invoke-step-function handler, whose StartExecution runs the state
// machine with the local runner on a virtual clock; the Lambda steps are
// the deployed handler functions, Glue is a local wire-protocol server,
// and the Glue job's PySpark script is stood in for by lakepipe's CSV →
// Parquet converter.
func RunLocal(ctx context.Context, cfg LocalConfig) (*LocalReport, error) {
	if cfg.S3 == nil {
		return nil, errors.New("mlpipeline: RunLocal needs an S3 client")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "ml-pipeline-lake"
	}
	if cfg.Rows == 0 {
		cfg.Rows = 1000
	}
	c := cfg.S3
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return nil, fmt.Errorf("mlpipeline: create bucket: %w", err)
		}
	}
	landed := lakepipe.DefaultLandingPrefix + "customers_20190821.csv"
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(landed), Body: bytes.NewReader(customersCSV(cfg.Rows))})
	if err != nil {
		return nil, fmt.Errorf("mlpipeline: land file: %w", err)
	}

	report := &LocalReport{Bucket: cfg.Bucket, Landed: landed}
	var mu sync.Mutex
	gw := startLocalGlue(map[string]gluetest.JobFunc{
		DefaultJobName: func(ctx context.Context, args map[string]string) error {
			rows, err := rawToRefined(ctx, c, cfg.Bucket, args)
			mu.Lock()
			report.Rows += rows
			mu.Unlock()
			return err
		},
	})
	defer gw.Close()
	runner, _, err := newLocalRunner(cfg.Bucket, c, glue.NewFromConfig(gw.Config))
	if err != nil {
		return nil, err
	}

	sf := local.NewService(runner, localSMArn)
	trigger, err := lakepipe.NewTrigger(sf, localSMArn)
	if err != nil {
		return nil, err
	}
	res, err := trigger.Handle(ctx, s3Notification(cfg.Bucket, landed, aws.ToString(put.ETag)))
	if err != nil {
		return nil, err
	}
	if len(res.Started) != 1 {
		return nil, fmt.Errorf("mlpipeline: trigger started %d executions (skipped %v)", len(res.Started), res.Skipped)
	}
	ex := sf.Execution(res.Started[0].ExecutionARN)
	report.Execution = ex
	report.VirtualTime = ex.Stop.Sub(ex.Start)
	for _, ev := range ex.History {
		if strings.HasSuffix(ev.Type, "StateEntered") {
			report.States++
		}
	}
	for _, z := range []struct {
		prefix string
		keys   *[]string
	}{{DefaultRefinedPrefix, &report.Parquet}, {DefaultRawPrefix, &report.Raw},
		{DefaultArchivePrefix, &report.Archive}, {lakepipe.DefaultLandingPrefix, &report.Landing}} {
		if *z.keys, err = listKeys(ctx, c, cfg.Bucket, z.prefix); err != nil {
			return nil, err
		}
	}
	if ex.Status != local.StatusSucceeded {
		return report, fmt.Errorf("mlpipeline: execution %s %s in %s: %s: %s", ex.Name, ex.Status, ex.FailedState, ex.Error, ex.Cause)
	}
	return report, nil
}

// newLocalRunner returns the local runner of the pipeline on bucket, on a
// virtual clock that starts on the seed's day, with the deployed handlers
// bound to SeedFunctions(localRegion, localAccount): S3 steps on s3c,
// crawler and job control on gc, polling on the runner's clock.
func newLocalRunner(bucket string, s3c *s3.Client, gc *glue.Client) (*local.Runner, *local.VirtualClock, error) {
	fns := SeedFunctions(localRegion, localAccount)
	def, err := Definition(DefinitionConfig{Bucket: bucket, Functions: fns})
	if err != nil {
		return nil, nil, err
	}
	clock := local.NewVirtualClock(time.Date(2019, 8, 21, 6, 0, 0, 0, time.UTC))
	runner, err := local.New(def, func(o *local.RunnerOptions) {
		o.Now, o.Sleep = clock.Now, clock.Sleep
		o.StateMachineARN = localSMArn
	})
	if err != nil {
		return nil, nil, err
	}
	onRunnerClock := func(o *lakepipe.PollOptions) { o.Sleep = local.Sleep }
	crawlers, err := lakepipe.NewCrawlers(gc, onRunnerClock)
	if err != nil {
		return nil, nil, err
	}
	jobs, err := lakepipe.NewJobs(gc, onRunnerClock)
	if err != nil {
		return nil, nil, err
	}
	transfers, err := lakepipe.NewTransfers(s3c)
	if err != nil {
		return nil, nil, err
	}
	verifier, err := lakepipe.NewTransferVerifier(s3c)
	if err != nil {
		return nil, nil, err
	}
	runner.Handle(fns.FileTransfer, local.Func(transfers.Step))
	runner.Handle(fns.TransferStatus, local.Func(verifier.Check))
	runner.Handle(fns.CrawlerStart, local.Func(crawlers.StartStep))
	runner.Handle(fns.CrawlerStatus, local.Func(crawlers.StatusStep))
	runner.Handle(lakepipe.GlueStartJobRunSync, jobs.SyncHandler())
	return runner, clock, nil
}

// rawToRefined is the local stand-in for the seed's PySpark job: it reads
// the day's raw partition and writes Parquet partitioned by
// year/month/day under the refined prefix, with lakepipe's converter.
func rawToRefined(ctx context.Context, c *s3.Client, bucket string, args map[string]string) (int64, error) {
	date, err := time.Parse("2006-01-02", args["--year"]+"-"+args["--month"]+"-"+args["--day"])
	if err != nil {
		return 0, fmt.Errorf("job arguments: %w", err)
	}
	dataset := args["--dataset"]
	rawPrefix := DefaultRawPrefix + dataset + "/" + lakepipe.HivePartition(args["--year"], args["--month"], args["--day"])
	keys, err := listKeys(ctx, c, bucket, rawPrefix)
	if err != nil {
		return 0, err
	}
	sink, err := convert.NewS3Sink(c, bucket, args["--refined_prefix"]+dataset+"/")
	if err != nil {
		return 0, err
	}
	conv, err := convert.NewConverter(sink, func(o *convert.ConverterOptions) {
		o.Partitions = convert.ProcessingDatePartitions(date)
	})
	if err != nil {
		return 0, err
	}
	var rows int64
	for _, key := range keys {
		obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return rows, err
		}
		res, err := conv.Convert(ctx, obj.Body)
		obj.Body.Close()
		if err != nil {
			return rows, fmt.Errorf("convert %s: %w", key, err)
		}
		rows += res.Rows
	}
	return rows, nil
}

func s3Notification(bucket, key, etag string) events.S3Event {
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: localRegion, EventName: "ObjectCreated:Put",
		EventTime: time.Date(2019, 8, 21, 6, 0, 0, 0, time.UTC),
		S3: events.S3Entity{SchemaVersion: "1.0", Bucket: events.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
			Object: events.S3Object{Key: key, ETag: strings.Trim(etag, `"`), Sequencer: "0055AED6DCD90281E5"}},
	}}}
}

func listKeys(ctx context.Context, c *s3.Client, bucket, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// customersCSV is the seed's dummy customers data: retailer information
// and units purchased.
func customersCSV(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("email_id,retailer_name,units_purchased,purchase_date,sale_id\n")
	retailers := []string{"Acme Retail", "Bright Mart", "Corner Shop", "Daily Goods"}
	for i := range rows {
		fmt.Fprintf(&b, "customer%04d@example.com,%s,%d,2019-08-%02d,S%06d\n", i, retailers[i%len(retailers)], 1+i*7%23, 1+i%21, 100000+i)
	}
	return b.Bytes()
}

// WriteReport prints a few lines about a local run.
func WriteReport(w io.Writer, r *LocalReport) {
	ex := r.Execution
	fmt.Fprintf(w, "landed s3://%s/%s → execution %s %s\n", r.Bucket, r.Landed, ex.Name, ex.Status)
	fmt.Fprintf(w, "%d states, %d history events, %s on the virtual clock\n", r.States, len(ex.History), r.VirtualTime)
	fmt.Fprintf(w, "raw: %s\n", strings.Join(r.Raw, ", "))
	fmt.Fprintf(w, "refined: %d rows in %d Parquet file(s)\n", r.Rows, len(r.Parquet))
	fmt.Fprintf(w, "archive: %s; landing now holds %d object(s)\n", strings.Join(r.Archive, ", "), len(r.Landing))
}
