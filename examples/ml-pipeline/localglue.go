package mlpipeline

import "github.com/lakekit/lakekit/lakepipe/gluetest"

// startLocalGlue starts the Glue of the local run, served over Glue's real
// wire protocol by the test kit (lakepipe/gluetest) so that the deployed
// crawler and job code paths run: the pipeline's two crawlers, READY, and
// its jobs, each a Go function (the local stand-in for the PySpark script).
// The caller closes it.
func startLocalGlue(jobs map[string]gluetest.JobFunc) *gluetest.Server {
	g := gluetest.Start()
	g.AddCrawler(DefaultRawCrawler)
	g.AddCrawler(DefaultRefinedCrawler)
	for name, run := range jobs {
		g.AddJob(name, run)
	}
	return g
}
