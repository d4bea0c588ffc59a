package rekog_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	rtypes "github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func newBucket(t *testing.T) (*s3.Client, string) {
	t.Helper()
	c := awstest.S3(t)
	bucket := awstest.Name(t, "text")
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return c, bucket
}

func s3Getter(c *s3.Client) func(ctx context.Context, bucket, key string) ([]byte, error) {
	return func(ctx context.Context, bucket, key string) ([]byte, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(out.Body)
	}
}

func TestTextServiceRekognition(t *testing.T) {
	ctx := context.Background()
	s3c, bucket := newBucket(t)
	fake := rekogtest.New(t)
	rc := fake.Client
	fake.SetS3(s3Getter(s3c))
	for _, passS3 := range []bool{false, true} {
		svc := mustTextService(t, s3c, bucket, rekog.NewRekognitionText(rc), func(o *rekog.TextOptions) {
			o.Prefix = "uploads/"
			o.PassS3 = passS3
		})
		png := pngBytes(t, 120, 100)
		det, err := svc.Detect(ctx, "monday sign", dataURL("image/jpeg", png))
		if err != nil {
			t.Fatal(err)
		}
		if det.Key != "uploads/monday sign.png" || det.Format != rekog.FormatPNG || det.Width != 120 {
			t.Fatalf("detection = %+v", det)
		}
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &det.Key})
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if !bytes.Equal(stored, png) || aws.ToString(obj.ContentType) != "image/png" {
			t.Fatalf("stored %d bytes as %s", len(stored), aws.ToString(obj.ContentType))
		}
		res := det.Result
		rekogtest.CheckTextResult(t, res)
		if got := res.Text(); got != "IT'S\nMONDAY\nbut keep\nSmiling" {
			t.Fatalf("text = %q", got)
		}
		if len(res.Lines[2].Words) != 2 || res.Lines[2].Words[0].Text != "but" || res.Lines[2].Words[1].LineID != 2 {
			t.Fatalf("line 2 = %+v", res.Lines[2])
		}
		if b := res.Lines[1].Box; b.Left < 0.22 || b.Left > 0.23 || b.Width < 0.35 || b.Width > 0.36 {
			t.Fatalf("MONDAY box = %+v", b)
		}
		if res.Backend != "rekognition" || res.ModelVersion != "3.0" {
			t.Fatalf("backend %q model %q", res.Backend, res.ModelVersion)
		}
	}
}

func TestTextServiceFilters(t *testing.T) {
	ctx := context.Background()
	s3c, bucket := newBucket(t)
	fake := rekogtest.New(t)
	rc := fake.Client
	filter := &rekog.TextFilter{MinConfidence: 96.5, Regions: []rekog.Box{{Left: 0.2, Top: 0.4, Width: 0.6, Height: 0.3}}}
	svc := mustTextService(t, s3c, bucket, rekog.NewRekognitionText(rc), func(o *rekog.TextOptions) { o.Filter = filter })
	det, err := svc.Detect(ctx, "x", dataURL("image/png", pngBytes(t, 100, 100)))
	if err != nil {
		t.Fatal(err)
	}
	// "but" (95.97) falls under the confidence floor; IT'S and MONDAY lie
	// outside the region.
	rekogtest.CheckTextResult(t, det.Result)
	if got := det.Result.Text(); got != "but keep\nSmiling" || len(det.Result.Lines[0].Words) != 1 {
		t.Fatalf("text = %q, lines %+v", got, det.Result.Lines)
	}
	if f := fake.LastTextFilters(); !strings.Contains(f, `"MinConfidence":96.5`) || !strings.Contains(f, `"Left":0.2`) {
		t.Fatalf("filters on the wire = %s", f)
	}

	// Applying the same filter locally to the unfiltered sample agrees.
	res := rekog.BuildTextResult(sampleDetections(t, rc))
	filter.Apply(res)
	if res.Text() != det.Result.Text() {
		t.Fatalf("local filter %q, service filter %q", res.Text(), det.Result.Text())
	}

	tooMany := &rekog.TextFilter{Regions: make([]rekog.Box, rekog.MaxRegionsOfInterest+1)}
	if _, err := rekog.NewRekognitionText(rc).DetectText(ctx, rekog.TextInput{Image: &rekog.Image{Bytes: []byte{1}}, Filter: tooMany}); err == nil {
		t.Fatal("11 regions accepted")
	}
}

func sampleDetections(t *testing.T, rc *rekognition.Client) []rtypes.TextDetection {
	out, err := rc.DetectText(context.Background(), &rekognition.DetectTextInput{Image: &rtypes.Image{Bytes: pngBytes(t, 90, 90)}})
	if err != nil {
		t.Fatal(err)
	}
	return out.TextDetections
}

func TestTextServiceRejects(t *testing.T) {
	ctx := context.Background()
	s3c, bucket := newBucket(t)
	rc := rekogtest.New(t).Client
	svc := mustTextService(t, s3c, bucket, rekog.NewRekognitionText(rc))
	good := dataURL("image/png", pngBytes(t, 100, 100))
	cases := []struct {
		name, who, img string
		image, nameErr bool
	}{
		{"traversal name", "../../x", good, false, true},
		{"control char", "a\x07", good, false, true},
		{"wrong prefix", "ok", "data:application/pdf;base64," + base64.StdEncoding.EncodeToString(pngBytes(t, 100, 100)), true, false},
		{"tiny", "ok", dataURL("image/png", pngBytes(t, 10, 10)), true, false},
	}
	for _, c := range cases {
		_, err := svc.Detect(ctx, c.who, c.img)
		var ie *rekog.InvalidImageError
		var ne *rekog.InvalidNameError
		if errors.As(err, &ie) != c.image || errors.As(err, &ne) != c.nameErr {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 0 {
		t.Fatalf("rejected uploads stored %d objects", len(list.Contents))
	}
	if st := svc.Stats(); st.Rejected != 4 || st.Detected != 0 {
		t.Fatalf("stats = %+v", st)
	}

	// A missing bucket is a StoreError; the detector is never called.
	bad := mustTextService(t, s3c, "no-such-bucket", rekog.NewRekognitionText(rc))
	var se *rekog.StoreError
	if _, err := bad.Detect(ctx, "ok", good); !errors.As(err, &se) {
		t.Fatalf("err = %v, want StoreError", err)
	}
}

func TestRekognitionErrorsSurface(t *testing.T) {
	ctx := context.Background()
	fake := rekogtest.New(t)
	rc := fake.Client
	s3c, bucket := newBucket(t)
	fake.SetS3(s3Getter(s3c))
	d := rekog.NewRekognitionText(rc)
	_, err := d.DetectText(ctx, rekog.TextInput{S3: &rekog.S3Location{Bucket: bucket, Key: "missing.png"}})
	var ise *rtypes.InvalidS3ObjectException
	if !errors.As(err, &ise) {
		t.Fatalf("err = %v, want InvalidS3ObjectException", err)
	}
	_, err = d.DetectText(ctx, rekog.TextInput{Image: &rekog.Image{Bytes: []byte("GIF89a....")}})
	var ife *rtypes.InvalidImageFormatException
	if !errors.As(err, &ife) {
		t.Fatalf("err = %v, want InvalidImageFormatException", err)
	}
}

// TestLargeImagesGoThroughS3: a 6 MB image is over Rekognition's byte
// limit; with PassS3 (and the S3 limit) it is read from the stored object.
func TestLargeImagesGoThroughS3(t *testing.T) {
	ctx := context.Background()
	s3c, bucket := newBucket(t)
	fake := rekogtest.New(t)
	rc := fake.Client
	fake.SetS3(s3Getter(s3c))
	big := noisyPNG(t, 6<<20)
	url := dataURL("image/png", big)
	bytesSvc := mustTextService(t, s3c, bucket, rekog.NewRekognitionText(rc), func(o *rekog.TextOptions) {
		o.Decode.MaxBytes = rekog.MaxS3ImageBytes
	})
	var ie *rekog.InvalidImageError
	if _, err := bytesSvc.Detect(ctx, "big", url); !errors.As(err, &ie) || ie.Reason != rekog.ReasonTooLarge {
		t.Fatalf("6 MB as bytes: %v", err)
	}
	s3Svc := mustTextService(t, s3c, bucket, rekog.NewRekognitionText(rc), func(o *rekog.TextOptions) {
		o.Decode.MaxBytes = rekog.MaxS3ImageBytes
		o.PassS3 = true
	})
	det, err := s3Svc.Detect(ctx, "big", url)
	if err != nil {
		t.Fatal(err)
	}
	if len(det.Result.Lines) != 4 {
		t.Fatalf("lines %+v", det.Result.Lines)
	}
}
