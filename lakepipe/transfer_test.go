package lakepipe

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
)

func transferReq(bucket, step string) TransferRequest {
	dest := "data/raw/"
	if step == StepLandingToArchive {
		dest = "data/archive/"
	}
	return TransferRequest{Step: step, Bucket: bucket, SourcePrefix: DefaultLandingPrefix, DestinationPrefix: dest,
		Key: "data/landing/customers_20190821.csv", Dataset: "customers", Year: "2019", Month: "08", Day: "21"}
}

func transferGet(t *testing.T, c *s3.Client, bucket, key string) (string, bool) {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return "", false
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b), true
}

func TestTransfersZones(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3(t)
	b := landingBucket(t, c)
	const csv = "email_id,retailer_name,units_purchased\na@example.com,Shop,3\n"
	landingPut(t, c, b, map[string]string{
		"data/landing/customers_20190821.csv": csv,
		"data/landing/customers_20190822.csv": "other day",
	})
	tr := must(NewTransfers(c))
	v := must(NewTransferVerifier(c))

	raw := transferReq(b, StepLandingToRaw)
	var inc *TransferIncompleteError
	if _, err := v.Check(ctx, raw); !errors.As(err, &inc) || inc.Missing[0] != "customers_20190821.csv" {
		t.Fatalf("check before copy: %v", err)
	}
	res, err := tr.Step(ctx, raw)
	if err != nil || res.Copied != 1 || res.Bytes != int64(len(csv)) {
		t.Fatalf("raw: %+v %v", res, err)
	}
	if got, _ := transferGet(t, c, b, "data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv"); got != csv {
		t.Fatalf("raw copy holds %q", got)
	}
	if res.Dest != "s3://"+b+"/data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv" {
		t.Fatalf("dest %s", res.Dest)
	}
	if chk, err := v.Check(ctx, raw); err != nil || chk.Objects != 1 {
		t.Fatalf("check after copy: %+v %v", chk, err)
	}
	// Idempotent: a second run copies nothing.
	again, err := tr.Step(ctx, raw)
	if err != nil || again.Copied != 0 || again.Skipped != 1 {
		t.Fatalf("raw again: %+v %v", again, err)
	}
	if st := tr.Stats(); st.Copied != 1 || st.Skipped != 1 {
		t.Fatalf("stats %+v", st)
	}

	arch := transferReq(b, StepLandingToArchive)
	var ne *PrefixNotEmptyError
	if _, err := v.Check(ctx, arch); !errors.As(err, &inc) {
		t.Fatalf("archive check before: %v", err)
	}
	res, err = tr.Step(ctx, arch)
	if err != nil || res.Copied != 1 || !res.Deleted {
		t.Fatalf("archive: %+v %v", res, err)
	}
	if got, _ := transferGet(t, c, b, "data/archive/2019-08-21/customers_20190821.csv"); got != csv {
		t.Fatalf("archive holds %q", got)
	}
	if _, ok := transferGet(t, c, b, "data/landing/customers_20190821.csv"); ok {
		t.Fatal("landing copy not deleted")
	}
	if _, ok := transferGet(t, c, b, "data/landing/customers_20190822.csv"); !ok {
		t.Fatal("another day's file was touched")
	}
	if _, err := v.Check(ctx, arch); err != nil {
		t.Fatalf("archive check after: %v", err)
	}
	// Re-run after the move: nothing to do, still verified.
	res, err = tr.Step(ctx, arch)
	if err != nil || !res.Absent || res.Deleted {
		t.Fatalf("archive again: %+v %v", res, err)
	}
	// The raw check still passes once the landing copy is archived.
	if _, err := v.Check(ctx, raw); err != nil {
		t.Fatalf("raw check after archive: %v", err)
	}
	// Put the file back in landing: the archive check now says not empty.
	landingPut(t, c, b, map[string]string{"data/landing/customers_20190821.csv": csv})
	if _, err := v.Check(ctx, arch); !errors.As(err, &ne) || ne.Count != 1 {
		t.Fatalf("archive check with file back: %v", err)
	}
}

func TestTransferRequestPlan(t *testing.T) {
	ok := transferReq("b", StepLandingToRaw)
	tests := []struct {
		name string
		edit func(*TransferRequest)
		want string // error substring; "" = valid
	}{
		{"valid", func(*TransferRequest) {}, ""},
		{"key outside landing", func(r *TransferRequest) { r.Key = "data/raw/x.csv" }, "not a file directly in"},
		{"nested key", func(r *TransferRequest) { r.Key = "data/landing/a/x.csv" }, "not a file directly in"},
		{"dot-dot key", func(r *TransferRequest) { r.Key = "data/landing/.." }, "not a file directly in"},
		{"dataset escapes", func(r *TransferRequest) { r.Dataset = "../archive" }, "dataset"},
		{"bad date", func(r *TransferRequest) { r.Month = "8" }, "yyyy-mm-dd"},
		{"date with slash", func(r *TransferRequest) { r.Day = "/1" }, "yyyy-mm-dd"},
		{"unclean prefix", func(r *TransferRequest) { r.DestinationPrefix = "data/../raw/" }, "clean"},
		{"same prefixes", func(r *TransferRequest) { r.DestinationPrefix = r.SourcePrefix }, "both"},
		{"unknown step", func(r *TransferRequest) { r.Step = "raw-to-moon" }, "unknown step"},
		{"no bucket", func(r *TransferRequest) { r.Bucket = "" }, "no bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			_, err := r.Plan()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzTransferRequestPlan: whatever a state machine passes, an accepted
// plan never leaves its prefixes.
func FuzzTransferRequestPlan(f *testing.F) {
	f.Add(StepLandingToRaw, "data/landing/", "data/raw/", "data/landing/customers_20190821.csv", "customers", "2019", "08", "21")
	f.Add(StepLandingToArchive, "data/landing/", "data/archive/", "data/landing/x.csv", "", "2019", "08", "21")
	f.Add(StepLandingToRaw, "data/landing/", "data/raw/", "data/landing/../x", "..", "2019", "08", "21")
	f.Add(StepLandingToRaw, "", "raw/", "a.csv", "a/b", "1", "2", "3")
	f.Fuzz(func(t *testing.T, step, src, dst, key, dataset, y, m, d string) {
		r := TransferRequest{Step: step, Bucket: "b", SourcePrefix: src, DestinationPrefix: dst, Key: key, Dataset: dataset, Year: y, Month: m, Day: d}
		plan, err := r.Plan()
		if err != nil {
			return
		}
		if !strings.HasPrefix(plan.Dest.Prefix, dst) || plan.Source.Prefix+plan.File != key || strings.Contains(plan.File, "/") {
			t.Fatalf("plan %+v escapes for %+v", plan, r)
		}
		for _, seg := range strings.Split(plan.Dest.Prefix+plan.File, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("plan %+v has a dot segment", plan)
			}
		}
	})
}

// TestTransferVerifierSizeMismatch: a raw copy whose size differs from the
// landed file's is incomplete, whatever else the zones hold.
func TestTransferVerifierSizeMismatch(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3(t)
	b := landingBucket(t, c)
	landingPut(t, c, b, map[string]string{
		"data/landing/customers_20190821.csv":                                   "full contents",
		"data/landing/customers_20190821.csv.bak":                               "other",
		"data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv":   "trunc",
		"data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv.x": "full contents",
	})
	v := must(NewTransferVerifier(c))
	var inc *TransferIncompleteError
	_, err := v.Check(ctx, transferReq(b, StepLandingToRaw))
	if !errors.As(err, &inc) || len(inc.Mismatched) != 1 || inc.Mismatched[0] != (SizeMismatch{Key: "customers_20190821.csv", SourceSize: 13, DestSize: 5}) {
		t.Fatalf("check: %v", err)
	}
}
