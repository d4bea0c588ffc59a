// Package asl is a typed Amazon States Language: state machine definitions
// written as Go values that marshal to the JSON AWS Step Functions accepts,
// a strict decoder for such JSON ([Parse]), and a validator ([Validate])
// that rejects the mistakes the service rejects at creation and those it
// lets through but that make a machine wrong.
//
//	m := &asl.StateMachine{StartAt: "Check"}
//	m.Add("Check", &asl.Task{
//		Resource: "arn:aws:lambda:us-west-2:123456789012:function:check",
//		Retry: []asl.Retrier{{ErrorEquals: []string{"TransferIncompleteError"},
//			IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: asl.Int(5)}},
//		Catch: []asl.Catcher{{ErrorEquals: []string{asl.ErrorALL}, Next: "Failed", ResultPath: "$.error"}},
//		Transition: asl.Transition{End: true},
//	})
//	m.Add("Failed", &asl.Fail{Error: "CheckFailed"})
//	if err := asl.Validate(m); err != nil { … }
//	def, _ := m.JSON()
//
// States keep their insertion order in the JSON. Supported state types:
// Task, Pass, Choice, Wait, Succeed, Fail and Parallel (not Map). The
// subpackage local runs definitions on this machine.
//
// # Errors
//
// [Validate] returns [ValidationErrors], a list of *[ValidationError], each
// naming the state and field ("Retry[1].ErrorEquals"); errors.As reaches
// either. [Parse] returns decoding errors naming the state; it rejects
// unknown fields, so a misspelt field name ("Retries") does not silently
// vanish. Before decoding, it refuses a definition over
// [MaxDefinitionBytes] (*[DefinitionTooLargeError]) and one with Parallel
// states nested deeper than [MaxParallelNest], Choice rules deeper than
// [MaxRuleNest] or JSON deeper than [MaxNestingDepth]
// (*[NestingTooDeepError]): parsing and validation are linear in the
// definition's size, and a 1 MB definition parses and validates in a
// fraction of a second.
//
// Among the mistakes the validator reports that the service accepts:
// "States.All" (the wildcard is "States.ALL", alone in its ErrorEquals and
// in the last retrier or catcher) and states unreachable from StartAt.
// Whether a retrier's error name is one a task actually returns cannot be
// seen in the definition: lakepipe derives those names from its Go error
// types.
//
// # Concurrency
//
// Definitions are plain values; Validate and marshalling only read them.
package asl
