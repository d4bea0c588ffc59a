// Command lakekit is lakekit's command-line tool: the packages as commands,
// for people who don't write the Go around them.
//
//	lakekit s3 cp|sync SRC DST      copy S3 trees server-side (s3copy)
//	lakekit s3 ls s3://b/prefix
//	lakekit sqs send-csv SRC --queue URL --key COLUMN
//	lakekit sqs dlq inspect|redrive --queue DLQ
//	lakekit parquet convert SRC DST  CSV → Parquet (lakepipe/convert)
//	lakekit parquet schema FILE
//	lakekit asl lint FILE…           Step Functions definitions, file:line:col
//	lakekit asl run FILE --handlers handlers.json
//	lakekit kda run …                replay records through a KDA SQL application
//	lakekit kda discover FILE
//	lakekit kvs put --stream NAME FILE.mkv|FILE.h264
//	lakekit local up                 the local servers, with export lines
//	lakekit local install [--dir DIR] [--force]
//
// `local install` installs the pinned npm servers behind lakekit's test kit
// (s3rver, fauxqs, kinesis-local, dynalite, stepfunctions-local) into the
// user's cache directory, os.UserCacheDir()/lakekit/npm-<version>, where
// the kit's helpers (s3copy/s3test, sqsbatch/sqstest, kda/kinesistest,
// lakepipe/asl/sfntest) find them. It needs Node.js 20 or later with npm.
// Install lakekit with
//
//	go install github.com/lakekit/lakekit/cmd/lakekit@latest
//
// # Global flags
//
// Every command takes --json (a machine-readable summary on stdout),
// --quiet, and the AWS flags --endpoint-url, --region and --profile on top
// of the standard AWS config chain (AWS_REGION, AWS_PROFILE, the shared
// config files, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>). Progress
// is shown only when stdout is a terminal; NO_COLOR turns color off.
//
// # Exit codes
//
//	0  success
//	1  the command failed, or found problems (a lint finding, a failed object)
//	2  bad usage: unknown command or flag, wrong arguments
//	3  AWS configuration: no region, no credentials, unreadable profile
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitConfig  = 3
)

// usageError marks an error in the command line, as opposed to one in
// doing what it asked.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "lakekit:", err)
	if ue := (usageError{}); errors.As(err, &ue) {
		return exitUsage
	}
	if ce := (configError{}); errors.As(err, &ce) {
		return exitConfig
	}
	return exitFailure
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := group(&cobra.Command{Use: "lakekit", Short: "lakekit's command-line tool", SilenceUsage: true, SilenceErrors: true})
	root.SetOut(stdout)
	root.SetErr(stderr)
	a.addFlags(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newLocal(a), newS3(a), newSQS(a), newASL(a), newParquet(a), newKVS(a), newKDA(a))
	return root
}

// group makes c a command that only holds subcommands: bare, it prints its
// help; with an unknown subcommand it is a usage error (cobra's own
// "unknown command" error is untyped, and it does not report one below the
// root).
func group(c *cobra.Command) *cobra.Command {
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
		}
		return cmd.Help()
	}
	return c
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}
