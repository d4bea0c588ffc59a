// Command gen writes statemachine.asl.json from the typed definition:
// `go generate ./examples/ml-pipeline`.
package main

import (
	"log"
	"os"

	mlpipeline "github.com/lakekit/lakekit/examples/ml-pipeline"
)

func main() {
	def, err := mlpipeline.DeployedJSON()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(mlpipeline.DefinitionFile, def, 0o644); err != nil {
		log.Fatal(err)
	}
}
