package etl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/lakepipe/convert"
	"github.com/lakekit/lakekit/lakepipe/gluetest"
)

// RefinedPrefix is where the walkthrough writes the refined zone, and
// QuarantinePrefix the records that do not fit the mapping.
const (
	RefinedPrefix    = "refined/retail_sales"
	QuarantinePrefix = "quarantine/retail_sales"
)

// Walkthrough is what RunWalkthrough did.
type Walkthrough struct {
	Runs       []*convert.Result // day one, day two, day one again
	Partitions []string          // the catalog's partitions
	Columns    []string          // the catalog's columns, name type
}

// RunWalkthrough runs the seed's walkthrough against an S3 client and a
// local Glue catalog it starts: the 20-row CSV is processed on day one, the
// 5-row CSV (one impossible date among them) on day two, and day one again
// to show that a rerun replaces its partition. It writes one line per run
// to out.
func RunWalkthrough(ctx context.Context, client *s3.Client, bucket string, out io.Writer) (*Walkthrough, error) {
	cat := gluetest.Start() // a local Glue Data Catalog
	defer cat.Close()
	catalog, err := convert.NewCatalog(cat.Client)
	if err != nil {
		return nil, err
	}
	job := &Job{S3: client, Catalog: catalog, Bucket: bucket,
		RefinedPrefix: RefinedPrefix, Database: "merchandise", Table: "refined_retail_sales",
		// One bad record in the 5-row file is 20%, over lakepipe's default
		// of 10%: a small demo file, so tolerate up to a quarter.
		QuarantinePrefix: QuarantinePrefix, MaxQuarantineRatio: 0.25}
	day1, day2 := time.Date(2020, 3, 7, 9, 0, 0, 0, time.UTC), time.Date(2020, 3, 8, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		file string
		rows int
		day  time.Time
	}{{"retail_sales_1.csv", 20, day1}, {"retail_sales_2.csv", 5, day2}, {"retail_sales_1.csv", 20, day1}}
	w := &Walkthrough{}
	for i, st := range steps {
		var csv bytes.Buffer
		if err := GenerateRetail(&csv, st.rows, uint64(st.rows)); err != nil {
			return nil, err
		}
		data := csv.Bytes()
		if st.rows == 5 { // a date that does not exist: quarantined, not fatal
			lines := bytes.Split(data, []byte("\n"))
			f := bytes.Split(lines[3], []byte(","))
			f[len(f)-2] = []byte("31/02/2020")
			lines[3] = bytes.Join(f, []byte(","))
			data = bytes.Join(lines, []byte("\n"))
		}
		key := "raw/retail_sales/" + st.file
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)}); err != nil {
			return nil, err
		}
		res, err := job.Run(ctx, key, st.day)
		if err != nil {
			return nil, err
		}
		w.Runs = append(w.Runs, res)
		note := ""
		if i == 2 {
			note = " (rerun: the same file rewritten, no duplicate rows)"
		}
		fmt.Fprintf(out, "%s on %s: %d rows → %s (%d B), %d quarantined%s\n", key, st.day.Format("2006-01-02"),
			res.Rows, res.Files[0].Name, res.Files[0].Bytes, res.Quarantined, note)
	}
	for _, p := range cat.Partitions("merchandise", "refined_retail_sales") {
		w.Partitions = append(w.Partitions, strings.Join(p, "/"))
	}
	if w.Columns, err = columns(cat, "merchandise", "refined_retail_sales"); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "catalog merchandise.refined_retail_sales: columns %v, partitions %v\n", w.Columns, w.Partitions)
	return w, nil
}

// columns returns a catalog table's columns as "name type".
func columns(cat *gluetest.Server, database, table string) ([]string, error) {
	raw, ok := cat.Table(database, table)
	if !ok {
		return nil, fmt.Errorf("catalog: no table %s.%s", database, table)
	}
	var t struct {
		StorageDescriptor struct{ Columns []struct{ Name, Type string } }
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	var out []string
	for _, c := range t.StorageDescriptor.Columns {
		out = append(out, c.Name+" "+c.Type)
	}
	return out, nil
}

// Mirror copies every object under prefix to dir, keeping the relative
// paths (DuckDB reads local files; its httpfs extension is not bundled).
func Mirror(ctx context.Context, client *s3.Client, bucket, prefix, dir string) error {
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			rel := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			if !filepath.IsLocal(rel) {
				return fmt.Errorf("key %q escapes %q", aws.ToString(o.Key), prefix)
			}
			obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
			if err != nil {
				return err
			}
			dst := filepath.Join(dir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				obj.Body.Close()
				return err
			}
			f, err := os.Create(dst)
			if err == nil {
				_, err = io.Copy(f, obj.Body)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			obj.Body.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}
