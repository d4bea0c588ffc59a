package awstest

import (
	"testing"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// Region is the region every local client is configured with.
const Region = awslocal.Region

// Static credentials the local servers accept. s3rver checks signatures
// against its own fixed key pair, so every client uses it.
const (
	AccessKeyID     = awslocal.AccessKeyID
	SecretAccessKey = awslocal.SecretAccessKey
)

// AccountID is the account id fauxqs and kinesis-local put in ARNs.
const AccountID = awslocal.AccountID

// Server is one running local server: its Name, Endpoint, an aws.Config
// for it, and client constructors (S3, SQS, SNS, Kinesis, StepFunctions,
// DynamoDB).
type Server = awslocal.Server

// Name returns a unique resource name for a test: lower-case, at most 63
// characters, made of [a-z0-9-], so it is valid as an S3 bucket, SQS queue,
// SNS topic, Kinesis stream or DynamoDB table name.
func Name(tb testing.TB, prefix string) string {
	tb.Helper()
	return awslocal.Name(tb, prefix)
}
