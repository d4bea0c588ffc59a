// Package s3cli is what the S3 copy commands share: `lakekit s3 cp` and
// `lakekit s3 sync` (cmd/lakekit) and the oms-copy example's command. It
// draws a run's progress bar (mpb), prints its summary (text or the --json
// form), reports each failed object with its key, and opens a resume
// manifest from a file name or an s3:// location.
package s3cli
