package main

import (
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/lakekit/lakekit/s3copy"
)

func newS3List(a *app) *cobra.Command {
	var owner string
	cmd := &cobra.Command{
		Use:   "ls s3://bucket[/prefix]",
		Short: "List the objects under a prefix, recursively",
		Long: `List every object under s3://bucket/prefix, as 'aws s3 ls --recursive' does:
one line per object with its last-modified time (UTC), size and key; with
--json, one JSON array of {key, size, etag, last_modified, storage_class}.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("%s takes one s3://bucket/prefix, got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := s3copy.ParseLocation(args[0])
			if err != nil {
				return usageError{err}
			}
			cfg, err := a.awsConfig(cmd.Context())
			if err != nil {
				return err
			}
			client := a.s3Client(cfg)
			type object struct {
				Key          string    `json:"key"`
				Size         int64     `json:"size"`
				ETag         string    `json:"etag"`
				LastModified time.Time `json:"last_modified"`
				StorageClass string    `json:"storage_class"`
			}
			objs := []object{}
			in := &s3.ListObjectsV2Input{Bucket: &loc.Bucket, Prefix: &loc.Prefix}
			if owner != "" {
				in.ExpectedBucketOwner = &owner
			}
			for {
				out, err := client.ListObjectsV2(cmd.Context(), in)
				if err != nil {
					return fmt.Errorf("listing %s: %w", loc, err)
				}
				for _, o := range out.Contents {
					objs = append(objs, object{aws.ToString(o.Key), aws.ToInt64(o.Size), aws.ToString(o.ETag), aws.ToTime(o.LastModified).UTC(), string(o.StorageClass)})
				}
				more, err := s3copy.NextListPage(in, out)
				if err != nil {
					return err
				}
				if !more {
					break
				}
			}
			return a.summary(objs, func(w io.Writer) {
				for _, o := range objs {
					fmt.Fprintf(w, "%s %10d %s\n", o.LastModified.Format(time.DateTime), o.Size, o.Key)
				}
			})
		},
	}
	cmd.Flags().StringVar(&owner, "expected-bucket-owner", "", "`ACCOUNT` that must own the bucket")
	return cmd
}
