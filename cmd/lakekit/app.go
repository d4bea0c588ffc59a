package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// app holds what every command shares: the global flags, where output
// goes, and the AWS configuration they load.
type app struct {
	stdout, stderr io.Writer

	json        bool   // --json: a JSON summary on stdout instead of text
	quiet       bool   // --quiet: no progress, no text summary
	endpointURL string // --endpoint-url: one endpoint for every service
	region      string // --region
	profile     string // --profile
}

// addFlags registers the global flags on root.
func (a *app) addFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.BoolVar(&a.json, "json", false, "print a machine-readable JSON summary on stdout")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "print no progress and no text summary (errors still go to stderr)")
	f.StringVar(&a.endpointURL, "endpoint-url", "", "send every AWS request to `URL` (a local server, an S3-compatible store); AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> work too")
	f.StringVar(&a.region, "region", "", "AWS `REGION` (default: the AWS config chain, AWS_REGION, then the profile)")
	f.StringVar(&a.profile, "profile", "", "shared config `PROFILE` (default: AWS_PROFILE, then default)")
}

// terminal reports whether w is a terminal.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress reports whether a command shows live progress: only on a
// terminal, and not with --json or --quiet.
func (a *app) progress() bool { return !a.json && !a.quiet && terminal(a.stdout) }

// color reports whether output may use color: on a terminal, and not when
// NO_COLOR is set to anything (https://no-color.org).
func (a *app) color() bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	return terminal(a.stdout)
}

// summary prints a command's result: v as indented JSON with --json, else
// text (unless --quiet). text may be nil for commands whose only output is
// the JSON form.
func (a *app) summary(v any, text func(w io.Writer)) error {
	if a.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if !a.quiet && text != nil {
		text(a.stdout)
	}
	return nil
}

// configError marks a problem with the AWS configuration (no region, no
// credentials, an unreadable profile): exit code exitConfig.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// awsConfig loads the standard AWS config chain (environment, shared
// config and credentials files, SSO, IMDS) with the global flags on top,
// and checks that it has a region and credentials, so that a command
// fails before it starts work rather than at its first request.
func (a *app) awsConfig(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if a.region != "" {
		opts = append(opts, config.WithRegion(a.region))
	}
	if a.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, configError{fmt.Errorf("loading AWS config: %w", err)}
	}
	if a.endpointURL != "" {
		cfg.BaseEndpoint = aws.String(a.endpointURL)
	}
	if cfg.Region == "" {
		return aws.Config{}, configError{errors.New("no AWS region: pass --region or set AWS_REGION")}
	}
	if cfg.Credentials == nil {
		return aws.Config{}, configError{errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or pass --profile")}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, configError{fmt.Errorf("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or pass --profile (%w)", err)}
	}
	return cfg, nil
}

// s3Client is an S3 client for cfg. With a custom endpoint (--endpoint-url,
// AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3) it addresses buckets path-style,
// as local servers and most S3-compatible stores need.
func (a *app) s3Client(cfg aws.Config) *s3.Client {
	custom := a.endpointURL != "" || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom })
}
