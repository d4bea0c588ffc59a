// Package kvs will hold a Kinesis Video Streams producer in pure Go for seed
// system 6: GetDataEndpoint, Matroska muxing of H.264 in keyframe-aligned
// fragments, streaming PutMedia with SigV4, the ACK event stream, reconnect
// and resend until PERSISTED, and, behind a build tag, a GStreamer camera
// source.
//
// Nothing is implemented yet (issue 9).
package kvs
