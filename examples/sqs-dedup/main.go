// Command sqs-dedup runs seed system 1 on local servers (in-process
// gofakes3, fauxqs, dynalite) and prints what happened:
//
//	go run ./examples/sqs-dedup -rows 20000 -store dynamodb
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/lakekit/lakekit/examples/sqs-dedup/dedup"
	"github.com/lakekit/lakekit/internal/awstest"
)

func main() {
	rows := flag.Int("rows", 20000, "rows in the generated CSV")
	store := flag.String("store", "dynamodb", "idempotency store: dynamodb or memory")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, *rows, *store)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqs-dedup:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, rows int, store string) error {
	s3srv := awstest.StartS3()
	defer s3srv.Close()
	q, err := awstest.Start(ctx, awstest.Fauxqs)
	if err != nil {
		return err
	}
	defer q.Close()
	l := dedup.Local{S3: s3srv.S3(), SQS: q.SQS(), Rows: rows}
	if store == "dynamodb" {
		d, err := awstest.Start(ctx, awstest.Dynalite)
		if err != nil {
			return err
		}
		defer d.Close()
		l.DynamoDB = d.DynamoDB()
	}
	f, err := l.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("CSV rows %d (%d distinct orders, %d repeated rows, %d malformed row skipped per delivery)\n", f.CSVRows, f.UniqueKeys, f.DuplicateRowsInSource, f.Malformed)
	fmt.Printf("rows written to SQS %d (the S3 event delivered twice; %d bodies over 1 MiB offloaded to S3)\n", f.RowsWritten, f.Offloaded)
	fmt.Printf("messages processed %d in %d invocations\n", f.MessagesProcessed, f.Invocations)
	fmt.Printf("effects applied %d, duplicates suppressed %d, retried later %d (store: %s)\n", f.Applied, f.Duplicates, f.RetriedLater, f.Store)
	fmt.Printf("DLQ messages %d; every order applied exactly once; %s\n", f.DLQ, f.Elapsed.Round(1e6))
	return nil
}
