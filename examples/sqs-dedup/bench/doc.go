// Package bench compares sqsbatch with its peers, the npm sqs-producer and
// sqs-consumer (BBC), side by side on one fauxqs in one run, as ratios to a
// raw Go loop (the server's ceiling). The peers are Node.js scripts in this
// directory run against internal/awstest's npm packages; nothing of theirs
// enters go.mod.
//
//	go test -run XXX -bench Peers -benchtime 3x ./examples/sqs-dedup/bench
package bench
