package main

import (
	"context"
	"fmt"
	"io"

	"github.com/lakekit/lakekit/examples/sqs-dedup/dedup"
	"github.com/lakekit/lakekit/internal/awstest"
)

// system1 runs seed system 1: a CSV in S3 (with quoted newlines, repeated
// rows and a malformed row) is written to an SQS queue by the Writer
// handler — invoked twice, as S3 may deliver its event twice — and drained
// by the idempotent Processor handler through a local event source mapping,
// with the idempotency keys in DynamoDB (dynalite).
func system1(ctx context.Context, env *env, out io.Writer) error {
	q, err := env.Node(ctx, awstest.Fauxqs)
	if err != nil {
		return err
	}
	d, err := env.Node(ctx, awstest.Dynalite)
	if err != nil {
		return err
	}
	fig, err := dedup.Local{S3: env.S3().S3(), SQS: q.SQS(), DynamoDB: d.DynamoDB(), Rows: 400}.Run(ctx)
	if err != nil {
		return err
	}
	printFigures(out, fig)
	return nil
}

func printFigures(out io.Writer, f dedup.Figures) {
	fmt.Fprintf(out, "CSV rows %d (%d distinct orders, %d repeated rows, %d malformed row skipped per delivery)\n", f.CSVRows, f.UniqueKeys, f.DuplicateRowsInSource, f.Malformed)
	fmt.Fprintf(out, "rows written to SQS %d (S3 event delivered twice; %d bodies over 1 MiB offloaded to S3)\n", f.RowsWritten, f.Offloaded)
	fmt.Fprintf(out, "messages processed %d in %d invocations; effects applied %d, duplicates suppressed %d, retried later %d (store: %s)\n",
		f.MessagesProcessed, f.Invocations, f.Applied, f.Duplicates, f.RetriedLater, f.Store)
	fmt.Fprintf(out, "DLQ messages %d; every order applied exactly once\n", f.DLQ)
}
