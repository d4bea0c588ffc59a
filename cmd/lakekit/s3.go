package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"

	"github.com/lakekit/lakekit/internal/s3cli"
	"github.com/lakekit/lakekit/s3copy"
)

func newS3(a *app) *cobra.Command {
	c := group(&cobra.Command{
		Use:   "s3",
		Short: "Copy and sync S3 trees (s3copy), list them",
	})
	c.AddCommand(newS3Copy(a, false), newS3Copy(a, true), newS3List(a))
	return c
}

// copyFlags are the flags of `s3 cp` and `s3 sync`.
type copyFlags struct {
	dryRun, del, verify, skipBucketCheck, recursive, noProgress bool
	manifest, summaryFile                                       string

	metadataDirective string
	metadata          map[string]string
	contentType       string
	cacheControl      string
	contentEncoding   string
	contentDisp       string
	contentLanguage   string
	tagging           string
	taggingSet        bool
	storageClass      string
	acl               string

	sse, sseKMSKeyID string
	ssePreserve      bool

	owner, srcOwner string

	concurrency, listConcurrency, shardDepth, maxFailures int
	multipartThresholdMiB, partSizeMiB                    int64
}

func newS3Copy(a *app, isSync bool) *cobra.Command {
	var f copyFlags
	use, short, long := "cp SRC DST", "Copy every object under SRC to DST, server-side",
		`Copy every object under SRC (s3://bucket/prefix) to DST, server-side: one
CopyObject per object (multipart UploadPartCopy from --multipart-threshold),
keeping metadata, content headers and tags unless flags replace them. A
prefix names a folder, as with 'aws s3 cp --recursive': s3://b/logs copies
the keys under logs/, never logs-old/. cp is always recursive (--recursive
is accepted for the AWS CLI's sake).

Progress (objects, bytes, rate, retries, ETA) is drawn when stdout is a
terminal; each failed object is reported on stderr with its key, and any
failure makes the exit code 1.`
	if isSync {
		use, short, long = "sync SRC DST", "Copy the objects under SRC that are missing or different under DST",
			`Sync DST with SRC (both s3://bucket/prefix): copy the objects that are
missing under DST or differ (size, ETag), skip the others, and with --delete
remove the objects under DST that SRC does not have. Source and destination
are listed side by side: an unchanged object costs no request.
Otherwise as 'lakekit s3 cp'.`
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("%s takes SRC and DST (s3://bucket/prefix), got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f.taggingSet = cmd.Flags().Changed("tagging")
			return a.runCopy(cmd, f, isSync, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.dryRun, "dry-run", false, "list and compare, print what would be copied or deleted, write nothing")
	if isSync {
		fl.BoolVar(&f.del, "delete", false, "delete objects under DST that have no source under SRC")
	} else {
		fl.BoolVarP(&f.recursive, "recursive", "r", true, "accepted for compatibility: cp always copies the whole tree")
	}
	fl.StringVar(&f.manifest, "manifest", "", "record completed objects in `FILE` (or s3://bucket/prefix/ outside both trees) and skip those it holds: run again with the same manifest to resume")
	fl.BoolVar(&f.verify, "verify", false, "read every copy back (HeadObject: size, ETag)")
	fl.BoolVar(&f.noProgress, "no-progress", false, "draw no progress bar")
	fl.StringVar(&f.summaryFile, "summary-file", "", "also write the --json summary to `FILE` (progress and text output stay as they are)")

	fl.StringVar(&f.metadataDirective, "metadata-directive", "", "COPY (default) keeps the source's user metadata and content headers; REPLACE takes them from the flags only")
	fl.StringToStringVar(&f.metadata, "metadata", nil, "user metadata `KEY=VALUE,…` to set on every copy (implies --metadata-directive REPLACE)")
	fl.StringVar(&f.contentType, "content-type", "", "Content-Type to set on every copy (implies REPLACE)")
	fl.StringVar(&f.cacheControl, "cache-control", "", "Cache-Control to set on every copy (implies REPLACE)")
	fl.StringVar(&f.contentEncoding, "content-encoding", "", "Content-Encoding to set on every copy (implies REPLACE)")
	fl.StringVar(&f.contentDisp, "content-disposition", "", "Content-Disposition to set on every copy (implies REPLACE)")
	fl.StringVar(&f.contentLanguage, "content-language", "", "Content-Language to set on every copy (implies REPLACE)")
	fl.StringVar(&f.tagging, "tagging", "", "replace every copy's tags with `K=V&K2=V2` (URL-encoded, as S3's x-amz-tagging header); --tagging '' removes them")
	fl.StringVar(&f.storageClass, "storage-class", "", "storage class of the copies (STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, …); default: each source's")
	fl.StringVar(&f.acl, "acl", "", "canned ACL of the copies (private, bucket-owner-full-control, …); default: none sent")

	fl.StringVar(&f.sse, "sse", "", "server-side encryption of the copies: AES256 or aws:kms (default: the destination bucket's default encryption)")
	fl.StringVar(&f.sseKMSKeyID, "sse-kms-key-id", "", "KMS key `ID` or ARN for --sse aws:kms (implies it)")
	fl.BoolVar(&f.ssePreserve, "sse-preserve", false, "give each copy its source's encryption and KMS key (one HeadObject per object)")

	fl.StringVar(&f.owner, "expected-bucket-owner", "", "`ACCOUNT` that must own the destination bucket (and an S3 manifest's)")
	fl.StringVar(&f.srcOwner, "source-expected-bucket-owner", "", "`ACCOUNT` that must own the source bucket")
	fl.BoolVar(&f.skipBucketCheck, "skip-bucket-check", false, "send no HeadBucket first (for a role without s3:ListBucket on the buckets)")

	fl.IntVarP(&f.concurrency, "concurrency", "c", 256, fmt.Sprintf("copy requests in flight (multipart parts included; 0: adapted to the latency, %d to %d)", s3copy.DefaultConcurrency, s3copy.DefaultMaxConcurrency))
	fl.IntVar(&f.listConcurrency, "list-concurrency", 0, fmt.Sprintf("listings in flight, one per shard (default: %d, more while copies wait, up to %d)", s3copy.DefaultListConcurrency, s3copy.DefaultMaxListConcurrency))
	fl.IntVar(&f.shardDepth, "shard-depth", 0, "folder levels below SRC the listing is split by (default: 1, deeper where a folder's first page shows large sub-folders; -1: one listing)")
	fl.Int64Var(&f.multipartThresholdMiB, "multipart-threshold", 0, "size in `MiB` from which objects are copied in parts (default 256)")
	fl.Int64Var(&f.partSizeMiB, "part-size", 0, "multipart part size in `MiB` (default 64)")
	fl.IntVar(&f.maxFailures, "max-consecutive-failures", 0, "stop after this many objects in a row failed (default 100; -1: never)")
	return cmd
}

// parseTree parses an s3://bucket/prefix argument. A non-empty prefix is
// a folder: "logs" becomes "logs/", as the AWS CLI's recursive commands
// read it.
func parseTree(what, s string) (s3copy.Location, error) {
	loc, err := s3copy.ParseLocation(s)
	if err != nil {
		return loc, usageError{fmt.Errorf("%s: %w", what, err)}
	}
	if loc.Prefix != "" && !strings.HasSuffix(loc.Prefix, "/") {
		loc.Prefix += "/"
	}
	return loc, nil
}

// options turns the flags into the copier's options (the manifest and
// callbacks aside).
func (f copyFlags) options(sync bool, o *s3copy.CopierOptions) error {
	o.Concurrency, o.ListConcurrency, o.ShardDepth = f.concurrency, f.listConcurrency, f.shardDepth
	o.MultipartThreshold, o.PartSize = f.multipartThresholdMiB<<20, f.partSizeMiB<<20
	o.MaxConsecutiveFailures = f.maxFailures
	o.SkipUnchanged, o.DeleteRemoved, o.DryRun, o.Verify = sync, f.del, f.dryRun, f.verify
	o.ExpectedBucketOwner, o.ExpectedSourceBucketOwner, o.SkipBucketCheck = f.owner, f.srcOwner, f.skipBucketCheck
	o.ACL = types.ObjectCannedACL(f.acl)
	o.Overrides.StorageClass = types.StorageClass(f.storageClass)

	replace := f.metadata != nil
	for _, h := range []struct {
		v   string
		dst **string
	}{{f.contentType, &o.Overrides.ContentType}, {f.cacheControl, &o.Overrides.CacheControl},
		{f.contentEncoding, &o.Overrides.ContentEncoding}, {f.contentDisp, &o.Overrides.ContentDisposition},
		{f.contentLanguage, &o.Overrides.ContentLanguage}} {
		if h.v != "" {
			*h.dst, replace = aws.String(h.v), true
		}
	}
	switch strings.ToUpper(f.metadataDirective) {
	case "", "COPY":
		if replace && f.metadataDirective != "" {
			return errors.New("--metadata-directive COPY keeps the source's metadata: drop --metadata and the --content-* flags, or use REPLACE")
		}
	case "REPLACE":
		replace = true
	default:
		return fmt.Errorf("--metadata-directive %q: want COPY or REPLACE", f.metadataDirective)
	}
	if replace {
		o.Overrides.Metadata = f.metadata
		if o.Overrides.Metadata == nil {
			o.Overrides.Metadata = map[string]string{} // REPLACE with none: the copies have none
		}
	}
	if f.taggingSet {
		q, err := url.ParseQuery(f.tagging)
		if err != nil {
			return fmt.Errorf("--tagging %q: %w", f.tagging, err)
		}
		o.Overrides.Tags = map[string]string{}
		for k, v := range q {
			o.Overrides.Tags[k] = v[len(v)-1]
		}
	}

	switch {
	case f.ssePreserve && (f.sse != "" || f.sseKMSKeyID != ""):
		return errors.New("--sse-preserve keeps each source's encryption: drop --sse and --sse-kms-key-id")
	case f.ssePreserve:
		o.Encryption = s3copy.EncryptionPreserve
	case f.sse != "" || f.sseKMSKeyID != "":
		sse := types.ServerSideEncryption(f.sse)
		if sse == "" {
			sse = types.ServerSideEncryptionAwsKms
		}
		switch sse {
		case types.ServerSideEncryptionAes256:
			if f.sseKMSKeyID != "" {
				return errors.New("--sse-kms-key-id needs --sse aws:kms")
			}
		case types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse:
		default:
			return fmt.Errorf("--sse %q: want AES256, aws:kms or aws:kms:dsse", f.sse)
		}
		o.Encryption, o.ServerSideEncryption, o.SSEKMSKeyID = s3copy.EncryptionSet, sse, f.sseKMSKeyID
	}
	return nil
}

func (a *app) runCopy(cmd *cobra.Command, f copyFlags, isSync bool, srcArg, dstArg string) error {
	ctx := cmd.Context()
	src, dst, opts, err := f.parse(isSync, srcArg, dstArg)
	if err != nil {
		return err
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	// The SDK's default pool keeps 10 idle connections per host.
	cfg.HTTPClient = s3copy.NewHTTPClient(f.concurrency) // 0: sized for the adaptive limit's cap
	client := a.s3Client(cfg)
	manifest, closeManifest, err := s3cli.OpenManifest(ctx, client, f.manifest, f.owner)
	if err != nil {
		return err
	}
	defer closeManifest()
	opts.Manifest = manifest

	var bar *s3cli.Progress
	if a.progress() && !f.noProgress {
		bar = s3cli.NewProgress(a.stdout, a.color())
		opts.Progress, opts.ProgressInterval = bar.Update, 100*time.Millisecond
		// The copy streams its listing; a count beside it gives the bar
		// its total (one request per 1,000 objects).
		countCtx, stopCount := context.WithCancel(ctx)
		defer stopCount()
		go func() {
			if n, err := s3cli.CountObjects(countCtx, client, src, f.srcOwner); err == nil {
				bar.SetTotal(n)
			}
		}()
	}
	if f.dryRun && !a.json && !a.quiet {
		opts.OnObject = dryRunPrinter(a.stdout, src, dst)
	}
	copier, err := s3copy.New(client, func(o *s3copy.CopierOptions) { *o = opts })
	if err != nil {
		bar.Done(s3copy.Stats{}, false)
		return usageError{err}
	}
	res, err := copier.Copy(ctx, src, dst)
	bar.Done(res.Stats, err == nil)
	return a.report(f, src, dst, res, err)
}

// parse checks the arguments and flags of a copy before anything is sent.
func (f copyFlags) parse(isSync bool, srcArg, dstArg string) (src, dst s3copy.Location, opts s3copy.CopierOptions, err error) {
	if src, err = parseTree("SRC", srcArg); err != nil {
		return
	}
	if dst, err = parseTree("DST", dstArg); err != nil {
		return
	}
	if err = f.options(isSync, &opts); err != nil {
		err = usageError{err}
		return
	}
	if strings.HasPrefix(f.manifest, "s3://") {
		if _, perr := s3copy.ParseLocation(f.manifest); perr != nil {
			err = usageError{fmt.Errorf("--manifest: %w", perr)}
		}
	}
	return
}

// dryRunPrinter is the OnObject callback of a dry run: one line per
// object it would copy or delete, as `aws s3 sync --dryrun` prints them.
func dryRunPrinter(w io.Writer, src, dst s3copy.Location) func(s3copy.ObjectResult) {
	var mu sync.Mutex // called from the copy goroutines
	return func(r s3copy.ObjectResult) {
		if r.Action != s3copy.ActionDryRun {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if r.SrcKey == "" {
			fmt.Fprintf(w, "(dryrun) delete: s3://%s/%s\n", dst.Bucket, r.DstKey)
		} else {
			fmt.Fprintf(w, "(dryrun) copy: s3://%s/%s to s3://%s/%s\n", src.Bucket, r.SrcKey, dst.Bucket, r.DstKey)
		}
	}
}

// report prints a finished run: each failed object on stderr, then the
// summary (text, --json, --summary-file), and turns err into the
// command's error.
func (a *app) report(f copyFlags, src, dst s3copy.Location, res s3copy.Result, err error) error {
	if errors.Is(err, s3copy.ErrOverlap) || errors.Is(err, s3copy.ErrDeleteNeedsPrefixMap) {
		return usageError{err}
	}
	s3cli.WriteFailures(a.stderr, "lakekit: ", src, res)
	st := res.Stats
	if err != nil && st.Listed == 0 && st.Failed == 0 {
		return err // nothing happened (a missing bucket, a refused listing): no figures of zeros
	}
	sum := s3cli.NewSummary(src, dst, f.dryRun, res, err)
	if f.summaryFile != "" {
		b, merr := json.MarshalIndent(sum, "", "  ")
		if merr == nil {
			merr = os.WriteFile(f.summaryFile, append(b, '\n'), 0o644)
		}
		if merr != nil {
			return fmt.Errorf("--summary-file: %w", merr)
		}
	}
	if serr := a.summary(sum, sum.WriteText); serr != nil {
		return serr
	}
	if ce := (*s3copy.CopyError)(nil); errors.As(err, &ce) {
		return fmt.Errorf("%d of %d objects failed", st.Failed, st.Listed)
	}
	return err
}
