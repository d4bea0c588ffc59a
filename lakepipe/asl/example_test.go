package asl_test

import (
	"fmt"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

func ExampleValidate() {
	m := &asl.StateMachine{StartAt: "Check"}
	m.Add("Check", &asl.Task{
		Resource: "arn:aws:lambda:us-west-2:123456789012:function:check",
		Retry: []asl.Retrier{
			{ErrorEquals: []string{"States.All"}, IntervalSeconds: 30, BackoffRate: 0.5},
		},
		Transition: asl.Transition{Next: "Done"},
	})
	m.Add("Done", &asl.Succeed{})
	m.Add("Orphan", &asl.Pass{Transition: asl.Transition{End: true}})
	fmt.Println(asl.Validate(m))
	// Output:
	// asl: state "Check": Retry[0].ErrorEquals: "States.All" is not a predefined error (did you mean "States.ALL"?)
	// asl: state "Check": Retry[0].BackoffRate: 0.5 is less than 1.0
	// asl: state "Orphan": unreachable from StartAt "Check"
}

func ExampleStateMachine_JSON() {
	m := &asl.StateMachine{StartAt: "Wait"}
	m.Add("Wait", &asl.Wait{Seconds: 30, Transition: asl.Transition{Next: "Done?"}})
	m.Add("Done?", &asl.Choice{
		Choices: []asl.ChoiceRule{asl.Rule("$.crawl.done", "BooleanEquals", true).Then("Done")},
		Default: "Wait",
	})
	m.Add("Done", &asl.Succeed{})
	def, _ := m.JSON()
	fmt.Print(string(def))
	// Output:
	// {
	//   "StartAt": "Wait",
	//   "States": {
	//     "Wait": {
	//       "Type": "Wait",
	//       "Seconds": 30,
	//       "Next": "Done?"
	//     },
	//     "Done?": {
	//       "Type": "Choice",
	//       "Choices": [
	//         {
	//           "Variable": "$.crawl.done",
	//           "BooleanEquals": true,
	//           "Next": "Done"
	//         }
	//       ],
	//       "Default": "Wait"
	//     },
	//     "Done": {
	//       "Type": "Succeed"
	//     }
	//   }
	// }
}
