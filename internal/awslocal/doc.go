// Package awslocal starts the local servers behind lakekit's public test
// kit (s3copy/s3test, sqsbatch/sqstest, kda/kinesistest, lakepipe/gluetest,
// lakepipe/asl/sfntest), internal/awstest and `lakekit local`: the npm
// servers as child processes on 127.0.0.1, stopped by process id, and
// wire-protocol servers for services with no local server.
//
// The npm servers are found by [NodeDir]: $LAKEKIT_NODE_DIR, else
// internal/awstest/node in a lakekit checkout (`make test-deps`), else the
// user's cache directory ([CacheDir], filled by `lakekit local install`,
// which calls [Install]).
package awslocal
