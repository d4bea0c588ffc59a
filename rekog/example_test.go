package rekog_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	pngenc "image/png"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

func ExampleExternalImageID() {
	id, _ := rekog.ExternalImageID("Zoë O'Neil")
	fmt.Println(id)
	fmt.Println(rekog.NameFromExternalImageID(id))
	// Output:
	// Zo:c3:ab_O:27Neil
	// Zoë O'Neil
}

func ExampleObjectKey() {
	for _, name := range []string{"receipt.jpg", "../../etc/passwd"} {
		key, err := rekog.ObjectKey("uploads/", name, rekog.FormatPNG)
		fmt.Printf("%q %v\n", key, err)
	}
	// Output:
	// "uploads/receipt.png" <nil>
	// "" rekog: invalid name (bad_name): name contains a dot-dot sequence
}

func ExampleDecodeImage() {
	_, err := rekog.DecodeImage("data:image/jpeg;base64,R0lGODlhAQABAAAAACw=")
	fmt.Println(err)
	// Output:
	// rekog: invalid image (bad_format): bytes are neither JPEG nor PNG
}

func ExampleClassifier_Classify() {
	r, _ := rekog.DecodeFaceRecord([]byte(rekogtest.SampleFaceRecord))
	for _, s := range (rekog.Classifier{Threshold: 85}).Classify(nil, r) {
		fmt.Printf("known=%v name=%s similarity=%.1f at %s\n", s.Known, s.Name, s.Similarity, s.Time.Format("15:04:05.000"))
	}
	// Output:
	// known=true name=matchedImage.jpeg similarity=88.9 at 05:56:35.193
}

func ExampleTextService() {
	ctx := context.Background()
	s3srv := awstest.StartS3() // in-process S3
	defer s3srv.Close()
	s3c := s3srv.S3()
	_, _ = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("detect-text-in-image")})
	wire := rekogtest.Start() // local Rekognition: the documented DetectText sample
	rc := wire.Client
	defer wire.Close()

	svc, err := rekog.NewTextService(s3c, "detect-text-in-image", rekog.NewRekognitionText(rc),
		func(o *rekog.TextOptions) { o.Prefix = "uploads/" })
	if err != nil {
		fmt.Println(err)
		return
	}
	var png bytes.Buffer
	_ = pngenc.Encode(&png, image.NewGray(image.Rect(0, 0, 100, 100)))
	det, err := svc.Detect(ctx, "monday", "data:image/jpeg;base64,"+base64.StdEncoding.EncodeToString(png.Bytes()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(det.Key, det.Format)
	for _, l := range det.Result.Lines {
		fmt.Printf("%q with %d word(s)\n", l.Text, len(l.Words))
	}
	// Output:
	// uploads/monday.png png
	// "IT'S" with 1 word(s)
	// "MONDAY" with 1 word(s)
	// "but keep" with 2 word(s)
	// "Smiling" with 1 word(s)
}
