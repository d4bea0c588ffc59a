// Package awstest gives lakekit's own tests, benchmarks and local runners
// one-line access to local servers that speak the AWS wire protocols, so that
// the real aws-sdk-go-v2 clients, serializers and error paths run without an
// AWS account. It is a thin layer over the public test kit (s3copy/s3test,
// sqsbatch/sqstest, kda/kinesistest, lakepipe/asl/sfntest, lakepipe/gluetest,
// all started by internal/awslocal) that adds one shared server of each
// npm kind per test binary; a user's module uses the kit itself.
//
//	s3c := awstest.S3(t)          // in-process gofakes3, fresh per call
//	s3m := awstest.S3Multipart(t) // s3rver: the local server with UploadPartCopy
//	q := awstest.SQS(t)           // fauxqs (SQS and SNS)
//	k := awstest.Kinesis(t)       // kinesis-local
//	d := awstest.DynamoDB(t)      // dynalite
//
// The npm servers (s3rver, fauxqs, kinesis-local, dynalite,
// stepfunctions-local) are installed from the committed package.json and
// package-lock.json in the node directory beside this file (`make test-deps`),
// which lakekit also embeds for `lakekit local install`.
// Each is started on first use on a free 127.0.0.1 port, waited for until it
// accepts connections, shared by every test of one package binary, and stopped
// by process id when the binary ends. For that, a package whose tests use them
// declares
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
//
// A helper called without it fails the test and says so. Should the test
// binary die without reaching the end of Main, each server still exits: it is
// killed by the kernel when its parent goes (Pdeathsig) and it also leaves
// when its stdin, a pipe from the test binary, closes.
//
// When Node.js or the npm packages are missing, the helpers fail the test with
// the exact command that fixes it; they never skip.
//
// Services with no local server (Rekognition, Glue, Athena, Firehose, Kinesis
// Video) are served by a [WireServer]: a local HTTP server speaking the
// service's real protocol (AWS JSON 1.1 with X-Amz-Target dispatch) whose
// handlers answer with documented sample responses and keep
// state the way the service does.
//
// Programs that are not tests (examples/tour) use [Start] and [Server.Close].
//
// # Concurrency
//
// All helpers may be called from parallel tests. Shared servers are started
// once per binary.
package awstest
