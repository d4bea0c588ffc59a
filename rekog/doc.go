// Package rekog detects text in images and identifies faces in video with
// Amazon Rekognition, with the input checks, safe S3 keys and alert
// suppression an application around it needs.
//
// Text detection: [DecodeImage] turns a data URL or raw base64
// into a validated [Image] (JPEG or PNG by magic bytes, size and dimension
// limits), [ObjectKey] derives a safe S3 key from the caller's name, and a
// [TextService] stores the image and runs a [TextDetector]: Rekognition's
// DetectText ([RekognitionText]) or, offline, Tesseract (package
// rekog/tesseract, behind the `tesseract` build tag). Both return lines
// with their words, confidences and boxes as 0–1 ratios.
//
//	svc, err := rekog.NewTextService(s3Client, "detect-text-in-image",
//		rekog.NewRekognitionText(rekognitionClient),
//		func(o *rekog.TextOptions) { o.Prefix = "uploads/" })
//	if err != nil { … }
//	det, err := svc.Detect(ctx, req.Name, req.Image)
//
// ExampleTextService runs this against an in-process S3 and a local
// Rekognition server.
//
// Face identification: face collections ([CreateCollection],
// [IndexFace] with [ExternalImageID] to turn a person's name into a valid
// id, [SearchFacesByImage]), stream processors ([StreamProcessors]: create,
// start, stop, delete, describe, list, [StreamProcessors.Wait]), typed
// decoding of the records a stream processor writes to Kinesis
// ([DecodeFaceRecord]), known/unknown classification ([Classifier]) and an
// SNS [Alerter] with a per-person suppression window and an unknown-face
// rate limit ([Alerter.HandleKinesisEvent] is the Lambda handler for the
// processor's Kinesis stream). To call Rekognition only when a person is
// there, use [FaceGate] (local face detection with pigo) and [GatedSearch],
// which calls SearchFacesByImage only for frames with a face.
//
// The Tesseract backend needs cgo and the Debian packages tesseract-ocr,
// tesseract-ocr-eng, libtesseract-dev and libleptonica-dev; it builds only
// with `-tags tesseract` (go test -tags tesseract ./rekog/tesseract/).
//
// Package rekog/rekogtest serves Rekognition's wire protocol locally with
// documented sample responses and the service's state (collections, faces,
// stream processor statuses), for tests, examples and the tour.
//
// # Errors
//
// Constructors refuse invalid options with *OptionError naming the field.
// Invalid input is reported before any AWS call, as *InvalidImageError or
// *InvalidNameError (with a Reason an API maps to a 4xx answer; an
// InvalidImageError also carries the image's Width and Height once its
// header was read, and the Limit it crossed: a [GatedSearch] frame over
// GateOptions.MaxPixels is ReasonPixels, refused before any pixel is
// decoded),
// *InvalidIDError for collection ids, external image ids and processor
// names, and *RecordError for a stream-processor record that cannot be
// decoded (a poison record: retrying cannot help). A failed PutObject is a
// *StoreError, a failed detection a *DetectError; both unwrap to the SDK's
// error, so errors.As reaches Rekognition's modelled exceptions
// (types.InvalidS3ObjectException, types.ResourceNotFoundException, …).
// [StreamProcessors.Wait] returns *ProcessorFailedError when the processor
// goes FAILED. The Alerter reports per sighting ([AlertResult]); a failed
// Publish does not consume the person's window.
//
// # Concurrency
//
// TextService, RekognitionText, StreamProcessors, FaceGate, GatedSearch
// and Alerter are safe for
// concurrent use; the Alerter's suppression state is guarded by a mutex and
// a slot is reserved before Publish, so two goroutines never announce the
// same person in one window. Suppression state lives in the process: with
// several Lambda instances (one per Kinesis shard) each keeps its own.
// No function starts goroutines.
package rekog
