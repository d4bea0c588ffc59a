// Package rekog will hold the Rekognition side of seed systems 2 and 6: text
// detection from a validated data URL or S3 object behind a TextDetector
// interface (Rekognition and, behind a build tag, Tesseract), face
// collections, IndexFaces/SearchFacesByImage, stream-processor lifecycle,
// typed parsing of the stream processor's Kinesis output, and SNS alerts.
//
// Nothing is implemented yet (issue 8).
package rekog
