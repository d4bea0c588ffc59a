// Package rekog is the Rekognition side of seed systems 2 and 6.
//
// System 2 (text detection): [DecodeImage] turns a data URL or raw base64
// into a validated [Image] (JPEG or PNG by magic bytes, size and dimension
// limits), [ObjectKey] derives a safe S3 key from the caller's name, and a
// [TextService] stores the image and runs a [TextDetector]: Rekognition's
// DetectText ([RekognitionText]) or, offline, Tesseract (package
// rekog/tesseract, behind the `tesseract` build tag). Both return lines
// with their words, confidences and boxes as 0–1 ratios.
//
//	svc := rekog.NewTextService(s3Client, "detect-text-in-image",
//		rekog.NewRekognitionText(rekognitionClient),
//		func(o *rekog.TextOptions) { o.Prefix = "uploads/" })
//	det, err := svc.Detect(ctx, req.Name, req.Image)
//
// System 6 (face alerts): face collections ([CreateCollection],
// [IndexFace] with [ExternalImageID] to turn a person's name into a valid
// id, [SearchFacesByImage]), stream processors ([StreamProcessors]: create,
// start, stop, delete, describe, list, [StreamProcessors.Wait]), typed
// decoding of the records a stream processor writes to Kinesis
// ([DecodeFaceRecord]), known/unknown classification ([Classifier]) and an
// SNS [Alerter] with a per-person suppression window and an unknown-face
// rate limit; [Alerter.HandleKinesisEvent] is the seed's Lambda. The
// seed's cost note (call Rekognition on a snapshot only when a person is
// there) is [FaceGate], local face detection with pigo, and [GatedSearch],
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
// # Corrections to the seeds
//
//   - The text Lambda parsed the API Gateway event itself as JSON
//     (JSON.parse(event)); the request is the event's body.
//   - It stored the decoded bytes with Content-Encoding "base64" and
//     Content-Type "image/jpeg" whatever they were, and the app prefixed
//     every image with "data:image/jpeg;base64,". Here the bytes decide the
//     type (a PNG labelled JPEG is stored as PNG; TextOptions.Decode.StrictType
//     rejects the mismatch instead) and no Content-Encoding is sent.
//   - It used the caller's name as the object key unchecked, so "../x" or
//     another user's name overwrote objects; keys are now built under a
//     prefix from validated names only.
//   - Its prefix regexp left an unexpected prefix in the payload, which
//     Node's lenient base64 decoder turned into garbage bytes sent to
//     Rekognition; decoding is now strict and every rejection is a typed
//     error with a reason, answered as 4xx rather than a Lambda error (502).
//   - Its dead Textract parameters (FeatureTypes: ["TABLES" | "FORMS"],
//     which evaluates to [0]) are gone; DetectText's own WordFilter and
//     RegionsOfInterest are offered instead.
//   - The face Lambda sent one email per stream-processor record, that is
//     per analysed frame: a person standing at the door produced several
//     emails a second. The Alerter announces each person once per window
//     and rate-limits unknown faces, judged on the video's timestamps.
//   - index-faces was shown with --external-image-id "<name of the
//     person>", but ExternalImageId must match [a-zA-Z0-9_.\-:]+ ("Jane
//     Doe" is rejected); ExternalImageID encodes any name reversibly.
//
// # Errors
//
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
