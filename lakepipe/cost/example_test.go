package cost_test

import (
	"fmt"
	"os"

	"github.com/lakekit/lakekit/lakepipe/cost"
)

// A small query and a four-query dashboard refreshed hourly into SPICE,
// the same dashboard queried directly at 1000 views an hour, and the
// QuickSight user bills. The small query is billed at Athena's 10 MB
// minimum.
func Example() {
	a := cost.Athena{} // $5 per TB
	_ = cost.WriteAthenaTable(os.Stdout, a, []cost.Scenario{
		{Name: "small", Queries: 1, BytesPerQuery: 210 * cost.KB},
		{Name: "dashboard", Queries: 4, BytesPerQuery: 200 * cost.MB},
		{Name: "no SPICE", Queries: 4, BytesPerQuery: 200 * cost.MB, ViewsPerHour: 1000},
	})
	fmt.Println()
	_ = cost.WriteUserTable(os.Stdout, cost.Pricing(cost.Standard), cost.Users{Authors: 1, Readers: 3})
	fmt.Println()
	_ = cost.WriteUserTable(os.Stdout, cost.Pricing(cost.Enterprise), cost.Users{Authors: 1, Readers: 3, SessionsPerReader: 40, SPICEGB: 25})
	// Output:
	// scenario   queries  scan/query  schedule              billed/month  monthly    annual
	// small      1        210 KB      SPICE hourly          7.2 GB        $0.04      $0.43
	// dashboard  4        200 MB      SPICE hourly          576 GB        $2.88      $34.56
	// no SPICE   4        200 MB      direct, 1000 views/h  576 TB        $2,880.00  $34,560.00
	//
	// QuickSight Standard  users  monthly  annual
	// author               1      $9.00    $108.00
	// reader               3      $0.00    $0.00
	// total                       $9.00    $108.00
	//
	// QuickSight Enterprise  users  monthly  annual
	// author                 1      $18.00   $216.00
	// reader                 3      $15.00   $180.00
	// extra SPICE            25 GB  $5.70    $68.40
	// total                         $38.70   $464.40
}
