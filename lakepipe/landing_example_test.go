package lakepipe_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lakekit/lakekit/lakepipe"
)

func ExampleLandingParser_ParseKey() {
	p, err := lakepipe.NewLandingParser()
	if err != nil {
		panic(err)
	}
	l, err := p.ParseKey("bucketname", "data/landing/customers_20190821.csv", "0055AED6DCD90281E5")
	if err != nil {
		panic(err)
	}
	in, _ := json.Marshal(l.Input())
	fmt.Println(l.Dataset, l.ExecutionName)
	fmt.Println(string(in))

	_, err = p.ParseKey("bucketname", "data/landing/customers.csv", "")
	var km *lakepipe.KeyMismatchError
	fmt.Println(errors.As(err, &km), km.Key)
	// Output:
	// customers 20190821-bc4c8a0f
	// {"year":"2019","month":"08","day":"21","dataset":"customers","bucket":"bucketname","key":"data/landing/customers_20190821.csv"}
	// true data/landing/customers.csv
}

func ExampleTransferRequest_Plan() {
	req := lakepipe.TransferRequest{Step: lakepipe.StepLandingToRaw, Bucket: "lake",
		SourcePrefix: "data/landing/", DestinationPrefix: "data/raw/",
		Key: "data/landing/customers_20190821.csv", Dataset: "customers", Year: "2019", Month: "08", Day: "21"}
	plan, _ := req.Plan()
	fmt.Println(plan.Dest.String() + plan.File)
	req.Step, req.DestinationPrefix = lakepipe.StepLandingToArchive, "data/archive/"
	plan, _ = req.Plan()
	fmt.Println(plan.Dest.String() + plan.File)
	// Output:
	// s3://lake/data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv
	// s3://lake/data/archive/2019-08-21/customers_20190821.csv
}

// A landed file, the execution input it gives, and where the pipeline's
// first step copies it.
func Example() {
	p, err := lakepipe.NewLandingParser()
	if err != nil {
		panic(err)
	}
	l, err := p.ParseKey("lake", "data/landing/customers_20190821.csv", "0055AED6DCD90281E5")
	if err != nil {
		panic(err)
	}
	in := l.Input()
	plan, err := lakepipe.TransferRequest{Step: lakepipe.StepLandingToRaw, Bucket: in.Bucket,
		SourcePrefix: lakepipe.DefaultLandingPrefix, DestinationPrefix: "data/raw/",
		Key: in.Key, Dataset: in.Dataset, Year: in.Year, Month: in.Month, Day: in.Day}.Plan()
	if err != nil {
		panic(err)
	}
	fmt.Println(l.ExecutionName)
	fmt.Println(plan.Dest.String() + plan.File)
	// Output:
	// 20190821-b4ef653c
	// s3://lake/data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv
}
