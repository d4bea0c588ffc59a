package sfntest_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakekit/lakekit/lakepipe/asl/sfntest"
)

// Start is NewServer outside a test; in a test, write
// srv := sfntest.NewServer(t) and leave the stopping to the test.
func ExampleStart() {
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
