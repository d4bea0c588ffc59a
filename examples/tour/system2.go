package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// system2 runs the text-detection service: data-URL uploads are validated,
// stored in the tour's gofakes3 under safe keys and read by DetectText on a
// local Rekognition wire server (documented sample answer); bad uploads are
// rejected before anything is stored.
func system2(ctx context.Context, e *env, out io.Writer) error {
	s3c := e.S3().S3()
	bucket := "detect-text-in-image"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return err
	}
	wire := rekogtest.Start()
	rc := wire.Client
	defer wire.Close()
	svc, err := rekog.NewTextService(s3c, bucket, rekog.NewRekognitionText(rc), func(o *rekog.TextOptions) { o.Prefix = "uploads/" })
	if err != nil {
		return err
	}

	img := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 251)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	// The seed's app labels every image as JPEG; the bytes decide.
	upload := "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())

	const n = 20
	start := time.Now()
	var last *rekog.TextDetection
	for i := range n {
		det, err := svc.Detect(ctx, fmt.Sprintf("sign %02d", i), upload)
		if err != nil {
			return err
		}
		last = det
	}
	elapsed := time.Since(start)
	var lines []string
	for _, l := range last.Result.Lines {
		lines = append(lines, l.Text)
	}
	fmt.Fprintf(out, "%d uploads of %d KiB stored as %s (%s…), %.0f requests/s\n", n, buf.Len()>>10,
		last.Format, last.Key, float64(n)/elapsed.Seconds())
	fmt.Fprintf(out, "DetectText: %d lines, %d words: %s\n", len(last.Result.Lines), len(last.Result.Words()), strings.Join(lines, " | "))

	var reasons []string
	for _, bad := range []struct{ name, data string }{
		{"../../etc/passwd", upload},
		{"tiny", "data:image/png;base64," + base64.StdEncoding.EncodeToString(tinyPNG())},
		{"html", "data:text/html;base64,PGI+aGk8L2I+"},
		{"junk", "data:image/png;base64,@@@"},
	} {
		_, err := svc.Detect(ctx, bad.name, bad.data)
		var ie *rekog.InvalidImageError
		var ne *rekog.InvalidNameError
		switch {
		case errors.As(err, &ie):
			reasons = append(reasons, string(ie.Reason))
		case errors.As(err, &ne):
			reasons = append(reasons, string(ne.Reason))
		default:
			return fmt.Errorf("bad upload %q was not rejected: %v", bad.name, err)
		}
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		return err
	}
	st := svc.Stats()
	fmt.Fprintf(out, "rejected %d bad uploads (%s); bucket holds %d objects; stats %+v\n",
		len(reasons), strings.Join(reasons, ", "), len(list.Contents), st)
	if len(list.Contents) != n {
		return fmt.Errorf("bucket holds %d objects, want %d", len(list.Contents), n)
	}
	return nil
}

func tinyPNG() []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 10, 10)))
	return b.Bytes()
}
