// Package mlpipeline is seed system 5 put together from lakepipe: the
// state machine definition as deployed (generated into
// statemachine.asl.json for the SAM template), the wiring of the Lambda
// handlers, and a local run of the whole pipeline on this machine.
//
// The Lambda mains are in lambda/ (built by `make lambdas`):
// invoke-step-function (S3 notification → StartExecution), file-transfer,
// transfer-status, crawler-start and crawler-status; local-run runs the
// pipeline locally.
package mlpipeline

//go:generate go run ./internal/gen

import (
	"github.com/lakekit/lakekit/lakepipe/asl"
)

// DefinitionFile is the generated definition, beside this file.
const DefinitionFile = "statemachine.asl.json"

// Deployed returns the definition as deployed by template.yaml: every
// account-specific value is a ${…} placeholder that SAM's
// DefinitionSubstitutions fills.
func Deployed() (*asl.StateMachine, error) {
	fn := func(name string) string {
		return "arn:aws:lambda:${Region}:${AccountId}:function:${" + name + "}"
	}
	return Definition(DefinitionConfig{
		Bucket: "${Bucket}",
		Functions: Functions{
			FileTransfer:   fn("FileTransferFunction"),
			TransferStatus: fn("TransferStatusFunction"),
			CrawlerStart:   fn("CrawlerStartFunction"),
			CrawlerStatus:  fn("CrawlerStatusFunction"),
		},
		RawCrawler:     "${RawCrawler}",
		RefinedCrawler: "${RefinedCrawler}",
		JobName:        "${JobName}",
	})
}

// DeployedJSON is Deployed as the committed file holds it.
func DeployedJSON() ([]byte, error) {
	m, err := Deployed()
	if err != nil {
		return nil, err
	}
	return m.JSON()
}
