package sfntest_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakekit/lakekit/lakepipe/asl/sfntest"
)

// In a test, srv := sfntest.New(t) starts the server and the test's
// end stops it; outside a test, as here, Start gives the same server and
// the caller closes it.
func Example() {
	ctx := context.Background()
	srv, err := sfntest.Start(ctx)
	if err != nil {
		fmt.Println(err) // names the command that installs the npm servers
		return
	}
	defer srv.Close()
	_, err = srv.Client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("pipeline"), RoleArn: aws.String(sfntest.RoleARN),
		Definition: aws.String(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`)})
	fmt.Println("accepted:", err == nil)
	// Output: accepted: true
}
