package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/lakekit/lakekit/internal/awslocal"
	"github.com/lakekit/lakekit/kda/kinesistest"
	"github.com/lakekit/lakekit/kvs/kvslocal"
	"github.com/lakekit/lakekit/lakepipe/asl/sfntest"
	"github.com/lakekit/lakekit/lakepipe/gluetest"
	"github.com/lakekit/lakekit/rekog/rekogtest"
	"github.com/lakekit/lakekit/s3copy/s3test"
	"github.com/lakekit/lakekit/sqsbatch/sqstest"
)

// localService is one service `local up` can start.
type localService struct {
	name   string   // as --only names it
	server string   // what serves it
	envs   []string // the SDKs' service-specific endpoint variables it sets
	// start starts it and returns its endpoint and how to stop it.
	start func(ctx context.Context, s3Server string) (endpoint, server string, stop func() error, err error)
}

// localServices are the services of `local up`, in the order it starts
// and prints them. The variables are the AWS SDKs' and CLI's
// service-specific endpoints (AWS_ENDPOINT_URL_ + the service id in upper
// case, spaces as underscores).
var localServices = []localService{
	{"s3", "gofakes3", []string{"AWS_ENDPOINT_URL_S3"}, func(ctx context.Context, kind string) (string, string, func() error, error) {
		switch kind {
		case "gofakes3":
			s := s3test.Start()
			return s.Endpoint, kind, s.Close, nil
		case "s3rver":
			s, err := s3test.StartMultipart(ctx)
			if err != nil {
				return "", "", nil, err
			}
			return s.Endpoint, kind, s.Close, nil
		}
		return "", "", nil, usageError{fmt.Errorf("--s3 %q: want gofakes3 or s3rver", kind)}
	}},
	{"sqs", "fauxqs", []string{"AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SNS"}, func(ctx context.Context, _ string) (string, string, func() error, error) {
		s, err := sqstest.Start(ctx)
		if err != nil {
			return "", "", nil, err
		}
		return s.Endpoint, "fauxqs", s.Close, nil
	}},
	{"kinesis", "kinesis-local", []string{"AWS_ENDPOINT_URL_KINESIS"}, func(ctx context.Context, _ string) (string, string, func() error, error) {
		s, err := kinesistest.Start(ctx)
		if err != nil {
			return "", "", nil, err
		}
		return s.Endpoint, "kinesis-local", s.Close, nil
	}},
	{"dynamodb", "dynalite", []string{"AWS_ENDPOINT_URL_DYNAMODB"}, func(ctx context.Context, _ string) (string, string, func() error, error) {
		s, err := sqstest.StartDynamoDB(ctx)
		if err != nil {
			return "", "", nil, err
		}
		return s.Endpoint, "dynalite", s.Close, nil
	}},
	{"sfn", "stepfunctions-local", []string{"AWS_ENDPOINT_URL_SFN"}, func(ctx context.Context, _ string) (string, string, func() error, error) {
		s, err := sfntest.Start(ctx)
		if err != nil {
			return "", "", nil, err
		}
		return s.Endpoint, "stepfunctions-local", s.Close, nil
	}},
	{"glue", "lakepipe/gluetest", []string{"AWS_ENDPOINT_URL_GLUE"}, func(context.Context, string) (string, string, func() error, error) {
		s := gluetest.Start()
		return s.Endpoint, "lakepipe/gluetest", s.Close, nil
	}},
	{"rekognition", "rekog/rekogtest", []string{"AWS_ENDPOINT_URL_REKOGNITION"}, func(context.Context, string) (string, string, func() error, error) {
		w := rekogtest.Start()
		return w.Endpoint, "rekog/rekogtest", w.Close, nil
	}},
	{"firehose", "kda/kinesistest", []string{"AWS_ENDPOINT_URL_FIREHOSE"}, func(context.Context, string) (string, string, func() error, error) {
		s := kinesistest.StartFirehose()
		return s.Endpoint, "kda/kinesistest", s.Close, nil
	}},
	{"kinesisvideo", "kvs/kvslocal", []string{"AWS_ENDPOINT_URL_KINESIS_VIDEO"}, func(context.Context, string) (string, string, func() error, error) {
		s, err := kvslocal.Start()
		if err != nil {
			return "", "", nil, err
		}
		return s.Endpoint, "kvs/kvslocal", s.Close, nil
	}},
}

// localEndpoint is one started service, as --json prints it.
type localEndpoint struct {
	Service  string   `json:"service"`
	Server   string   `json:"server"`
	Endpoint string   `json:"endpoint"`
	Env      []string `json:"env"`
}

func newLocalUp(a *app) *cobra.Command {
	var only []string
	var s3Server, envFile string
	names := make([]string, len(localServices))
	for i, s := range localServices {
		names[i] = s.name
	}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local servers in the foreground and print their endpoint variables",
		Long: `Start lakekit's local servers on free 127.0.0.1 ports and print, for each
service, the export lines of the AWS SDKs' and CLI's service-specific endpoint
variables (AWS_ENDPOINT_URL_S3=…), with the static credentials and region the
servers accept. Paste them into another shell, or pass --env-file and source
the file. The servers run until Ctrl-C (SIGINT) or SIGTERM, which stops them
all. With --json the endpoints are printed as JSON.

Services: ` + strings.Join(names, ", ") + `. s3 is gofakes3 in this process
(--s3 s3rver: the npm server that implements UploadPartCopy); sqs (with sns),
kinesis, dynamodb and sfn are the npm servers that 'lakekit local install'
installs; glue, rekognition, firehose and kinesisvideo are lakekit's own
wire-protocol servers, in this process.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var picked []localService
			for _, s := range localServices {
				if len(only) == 0 || slices.Contains(only, s.name) || (s.name == "sqs" && slices.Contains(only, "sns")) {
					picked = append(picked, s)
				}
			}
			for _, n := range only {
				if n != "sns" && !slices.Contains(names, n) {
					return usageError{fmt.Errorf("--only %q: unknown service; want some of %s", n, strings.Join(names, ","))}
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.localUp(ctx, picked, s3Server, envFile)
		},
	}
	cmd.Flags().StringSliceVar(&only, "only", nil, "start only these `SERVICES` (comma-separated: "+strings.Join(names, ",")+")")
	cmd.Flags().StringVar(&s3Server, "s3", "gofakes3", "S3 server: gofakes3 (in process) or s3rver (npm, implements UploadPartCopy)")
	cmd.Flags().StringVar(&envFile, "env-file", "", "also write the export lines to `FILE` once every server is up")
	return cmd
}

// localUp starts the services, prints their endpoints, waits for ctx and
// stops them all.
func (a *app) localUp(ctx context.Context, services []localService, s3Server, envFile string) error {
	var (
		mu    sync.Mutex
		stops []func() error
	)
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	started := make([]localEndpoint, len(services))
	g, gctx := errgroup.WithContext(ctx)
	for i, s := range services {
		g.Go(func() error {
			endpoint, server, stop, err := s.start(gctx, s3Server)
			if err != nil {
				return fmt.Errorf("starting %s: %w", s.name, err)
			}
			mu.Lock()
			stops = append(stops, stop)
			mu.Unlock()
			started[i] = localEndpoint{s.name, server, endpoint, s.envs}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	var exports strings.Builder
	for _, kv := range [][2]string{{"AWS_ACCESS_KEY_ID", awslocal.AccessKeyID}, {"AWS_SECRET_ACCESS_KEY", awslocal.SecretAccessKey}, {"AWS_REGION", awslocal.Region}} {
		fmt.Fprintf(&exports, "export %s=%s\n", kv[0], kv[1])
	}
	for _, e := range started {
		for _, env := range e.Env {
			fmt.Fprintf(&exports, "export %s=%s\n", env, e.Endpoint)
		}
	}
	if envFile != "" {
		// Written whole and renamed, so that a reader polling for it never
		// sees half of it.
		if err := os.WriteFile(envFile+".tmp", []byte(exports.String()), 0o644); err != nil {
			return err
		}
		if err := os.Rename(envFile+".tmp", envFile); err != nil {
			return err
		}
	}
	sum := struct {
		Endpoints   []localEndpoint   `json:"endpoints"`
		Environment map[string]string `json:"environment"`
	}{started, map[string]string{"AWS_ACCESS_KEY_ID": awslocal.AccessKeyID, "AWS_SECRET_ACCESS_KEY": awslocal.SecretAccessKey, "AWS_REGION": awslocal.Region}}
	for _, e := range started {
		for _, env := range e.Env {
			sum.Environment[env] = e.Endpoint
		}
	}
	err := a.summary(sum, func(w io.Writer) {
		for _, e := range started {
			fmt.Fprintf(w, "# %-12s %-20s %s\n", e.Service, e.Server, e.Endpoint)
		}
		io.WriteString(w, exports.String())
		fmt.Fprintln(w, "# ready: Ctrl-C stops the servers")
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	if !a.json && !a.quiet {
		fmt.Fprintln(a.stderr, "stopping the local servers")
	}
	return nil
}
