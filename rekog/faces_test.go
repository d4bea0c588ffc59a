package rekog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	rtypes "github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

func TestExternalImageID(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Jane Doe", "Jane_Doe"},
		{"Zoë Ní", "Zo:c3:ab_N:c3:ad"},
		{"o'brien_2", "o:27brien:5f2"},
		{"a:b", "a:3ab"},
		{"x.y-z", "x.y-z"},
		{"../../etc", "..:2f..:2fetc"},
	}
	for _, tt := range tests {
		got, err := rekog.ExternalImageID(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("ExternalImageID(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if err := rekog.ValidateExternalImageID(got); err != nil {
			t.Errorf("%q: %v", got, err)
		}
		if back := rekog.NameFromExternalImageID(got); back != tt.name {
			t.Errorf("round trip of %q gave %q", tt.name, back)
		}
	}
	if _, err := rekog.ExternalImageID(""); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := rekog.ExternalImageID(string(make([]byte, 100))); err == nil {
		t.Error("name encoding to 300 bytes accepted")
	}
	for _, bad := range []string{"", "a b", "a/b", "ü"} {
		var ie *rekog.InvalidIDError
		if err := rekog.ValidateExternalImageID(bad); !errors.As(err, &ie) {
			t.Errorf("ValidateExternalImageID(%q) = %v", bad, err)
		}
	}
}

func FuzzExternalImageID(f *testing.F) {
	for _, s := range []string{"Jane Doe", "Zoë", ":5f", "_", "a:zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		id, err := rekog.ExternalImageID(name)
		if err != nil {
			return
		}
		if err := rekog.ValidateExternalImageID(id); err != nil {
			t.Fatalf("%q → invalid id %q", name, id)
		}
		if back := rekog.NameFromExternalImageID(id); back != name {
			t.Fatalf("%q → %q → %q", name, id, back)
		}
	})
}

func TestFaces(t *testing.T) {
	ctx := context.Background()
	fake := rekogtest.New(t)
	rc := fake.Client
	_ = fake
	arn, err := rekog.CreateCollection(ctx, rc, "rekVideoBlog", false)
	if err != nil || arn == "" {
		t.Fatalf("arn %q err %v", arn, err)
	}
	if _, err := rekog.CreateCollection(ctx, rc, "rekVideoBlog", false); !errors.As(err, new(*rtypes.ResourceAlreadyExistsException)) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := rekog.CreateCollection(ctx, rc, "rekVideoBlog", true); err != nil {
		t.Fatalf("create if absent: %v", err)
	}
	if _, err := rekog.CreateCollection(ctx, rc, "bad id!", true); !errors.As(err, new(*rekog.InvalidIDError)) {
		t.Fatalf("bad id: %v", err)
	}
	for i := range 3 {
		if _, err := rekog.CreateCollection(ctx, rc, fmt.Sprintf("extra-%d", i), false); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := rekog.ListCollections(ctx, rc)
	if err != nil || len(ids) != 4 || !slices.Contains(ids, "rekVideoBlog") {
		t.Fatalf("ids %v err %v", ids, err)
	}

	jane, bob, stranger := pngBytes(t, 100, 100), pngBytes(t, 101, 100), pngBytes(t, 102, 100)
	id, _ := rekog.ExternalImageID("Jane Doe")
	res, err := rekog.IndexFace(ctx, rc, "rekVideoBlog", rekog.ImageRef{Bytes: jane}, id, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Faces) != 1 || res.Faces[0].ExternalImageID != "Jane_Doe" || res.Faces[0].FaceID == "" || res.Faces[0].Box.Width == 0 {
		t.Fatalf("indexed %+v", res)
	}
	if _, err := rekog.IndexFace(ctx, rc, "rekVideoBlog", rekog.ImageRef{Bytes: bob}, "Bob:1", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := rekog.IndexFace(ctx, rc, "rekVideoBlog", rekog.ImageRef{Bytes: bob}, "Bob Smith", 1); !errors.As(err, new(*rekog.InvalidIDError)) {
		t.Fatalf("space in id: %v", err)
	}
	if _, err := rekog.IndexFace(ctx, rc, "nope", rekog.ImageRef{Bytes: bob}, "Bob", 1); !errors.As(err, new(*rtypes.ResourceNotFoundException)) {
		t.Fatalf("missing collection: %v", err)
	}

	found, err := rekog.SearchFacesByImage(ctx, rc, "rekVideoBlog", rekog.ImageRef{Bytes: jane}, 85.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Matches) != 1 || found.Matches[0].Name != "Jane Doe" || found.Matches[0].Similarity < 99 {
		t.Fatalf("search = %+v", found)
	}
	found, err = rekog.SearchFacesByImage(ctx, rc, "rekVideoBlog", rekog.ImageRef{Bytes: stranger}, 0, 0)
	if err != nil || len(found.Matches) != 0 {
		t.Fatalf("stranger matched %+v, %v", found, err)
	}
	found, err = rekog.SearchFacesByImage(ctx, rc, "rekVideoBlog", rekog.ImageRef{Bytes: jane}, 99.5, 0)
	if err != nil || len(found.Matches) != 0 {
		t.Fatalf("threshold 99.5 matched %+v, %v", found, err)
	}

	if err := rekog.DeleteCollection(ctx, rc, "rekVideoBlog", false); err != nil {
		t.Fatal(err)
	}
	if err := rekog.DeleteCollection(ctx, rc, "rekVideoBlog", true); err != nil {
		t.Fatal(err)
	}
	if err := rekog.DeleteCollection(ctx, rc, "rekVideoBlog", false); !errors.As(err, new(*rtypes.ResourceNotFoundException)) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestStreamProcessorLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fake := rekogtest.New(t)
	rc := fake.Client
	if _, err := rekog.CreateCollection(ctx, rc, "rekVideoBlog", false); err != nil {
		t.Fatal(err)
	}
	sp, err := rekog.NewStreamProcessors(rc, func(o *rekog.ProcessorOptions) { o.PollInterval = time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	cfg := rekog.FaceSearchProcessor{
		Name:               "streamProcessorForRekognitionVideoBlog",
		VideoStreamARN:     "arn:aws:kinesisvideo:us-west-2:123456789012:stream/webcam/1",
		DataStreamARN:      "arn:aws:kinesis:us-west-2:123456789012:stream/AmazonRekognition-faces",
		RoleARN:            "arn:aws:iam::123456789012:role/RekognitionVideo",
		CollectionID:       "rekVideoBlog",
		FaceMatchThreshold: 85.5,
	}
	bad := cfg
	bad.Name, bad.RoleARN, bad.FaceMatchThreshold = "has space", "role", 120
	if err := bad.Validate(); err == nil {
		t.Fatal("bad config validated")
	}
	arn, err := sp.Create(ctx, cfg)
	if err != nil || arn == "" {
		t.Fatalf("create: %q %v", arn, err)
	}
	info, err := sp.Describe(ctx, cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != rtypes.StreamProcessorStatusStopped || info.CollectionID != "rekVideoBlog" || info.Threshold != 85.5 ||
		info.VideoStreamARN != cfg.VideoStreamARN || info.DataStreamARN != cfg.DataStreamARN {
		t.Fatalf("describe = %+v", info)
	}
	if err := sp.Start(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	if err := sp.Delete(ctx, cfg.Name); !errors.As(err, new(*rtypes.ResourceInUseException)) {
		t.Fatalf("delete while starting: %v", err)
	}
	if info, err = sp.Wait(ctx, cfg.Name, rtypes.StreamProcessorStatusRunning); err != nil || info.Status != rtypes.StreamProcessorStatusRunning {
		t.Fatalf("wait running: %+v %v", info, err)
	}
	list, err := sp.List(ctx)
	if err != nil || len(list) != 1 || list[0].Status != rtypes.StreamProcessorStatusRunning {
		t.Fatalf("list %+v %v", list, err)
	}
	if err := sp.Start(ctx, cfg.Name); !errors.As(err, new(*rtypes.ResourceInUseException)) {
		t.Fatalf("second start: %v", err)
	}
	if err := sp.Stop(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Wait(ctx, cfg.Name, rtypes.StreamProcessorStatusStopped); err != nil {
		t.Fatal(err)
	}

	// FAILED ends a wait with a typed error carrying the status message.
	if err := sp.Start(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	fake.FailStreamProcessor(cfg.Name, "Access denied to Kinesis Video stream")
	_, err = sp.Wait(ctx, cfg.Name, rtypes.StreamProcessorStatusRunning)
	var pf *rekog.ProcessorFailedError
	if !errors.As(err, &pf) || pf.Message != "Access denied to Kinesis Video stream" {
		t.Fatalf("wait on failed: %v", err)
	}

	// A wait that cannot end is bounded by its context.
	if err := sp.Start(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	if _, err := sp.Wait(short, cfg.Name, rtypes.StreamProcessorStatusStopping); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("bounded wait: %v", err)
	}

	if err := sp.Stop(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Wait(ctx, cfg.Name, rtypes.StreamProcessorStatusStopped); err != nil {
		t.Fatal(err)
	}
	if err := sp.Delete(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Describe(ctx, cfg.Name); !errors.As(err, new(*rtypes.ResourceNotFoundException)) {
		t.Fatalf("describe after delete: %v", err)
	}
	cfg.CollectionID = "missing"
	var apiErr smithy.APIError
	if _, err := sp.Create(ctx, cfg); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ResourceNotFoundException" {
		t.Fatalf("create with missing collection: %v", err)
	}
}
