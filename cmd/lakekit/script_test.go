package main

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lakekit/lakekit/internal/awslocal"
	"github.com/lakekit/lakekit/s3copy/s3test"
)

// TestMain makes the test binary the lakekit command too, so that scripts
// run `exec lakekit …` as a separate process, as a user's shell does.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"lakekit": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command-line tests in testdata/script, one txtar
// file per command or failure mode. Each script starts the local servers
// it needs with `server`, which points the AWS_ENDPOINT_URL_<SERVICE>
// variables of later commands at them; the credentials and region are the
// kit's static ones unless a script unsets them.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("AWS_ACCESS_KEY_ID", awslocal.AccessKeyID)
			env.Setenv("AWS_SECRET_ACCESS_KEY", awslocal.SecretAccessKey)
			env.Setenv("AWS_REGION", awslocal.Region)
			env.Setenv("AWS_CONFIG_FILE", env.WorkDir+"/.aws/config") // none: the user's own never leaks in
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", env.WorkDir+"/.aws/credentials")
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: scriptCmds,
	})
}

// scriptCmds are the script's own commands; a command's test file adds
// the ones it needs in an init func.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"server": cmdServer,
}

// scriptServers are the kinds of `server KIND [ARGS]`, each starting a
// local server for the rest of the script and setting its endpoint
// variable. A command's test file adds the kinds it needs in an init func.
var scriptServers = map[string]func(ts *testscript.TestScript, args []string){
	"s3": serverS3,
}

// cmdServer is the script command `server KIND [ARGS]`.
func cmdServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! server")
	}
	if len(args) < 1 {
		ts.Fatalf("usage: server KIND [ARGS]")
	}
	start, ok := scriptServers[args[0]]
	if !ok {
		ts.Fatalf("server: unknown kind %q", args[0])
	}
	start(ts, args[1:])
}

// serverS3 is `server s3 [BUCKET…]`: in-process gofakes3, its endpoint in
// AWS_ENDPOINT_URL_S3, with the buckets created.
func serverS3(ts *testscript.TestScript, buckets []string) {
	srv := s3test.Start()
	ts.Defer(func() { srv.Close() })
	ts.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
	for _, b := range buckets {
		if _, err := srv.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &b}); err != nil {
			ts.Fatalf("create bucket %s: %v", b, err)
		}
	}
}
