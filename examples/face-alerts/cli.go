package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	rtypes "github.com/aws/aws-sdk-go-v2/service/rekognition/types"

	"github.com/lakekit/lakekit/examples/face-alerts/localrun"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// faceAPI is what the setup and teardown commands call.
type faceAPI interface {
	rekog.CreateCollectionAPI
	rekog.DeleteCollectionAPI
	rekog.IndexFacesAPI
	rekog.StreamProcessorAPI
}

func runCLI(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: face-alerts setup|start|teardown|local [flags]")
	}
	if args[0] == "local" {
		return runLocal(ctx, out)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	return command(ctx, rekognition.NewFromConfig(cfg), args, out)
}

func command(ctx context.Context, rc faceAPI, args []string, out io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	collection := fs.String("collection", "rekVideoBlog", "face collection id")
	faces := fs.String("faces", "", "setup: folder of JPEG/PNG photos, one person each; the file name is the person's name")
	name := fs.String("name", "streamProcessorForRekognitionVideoBlog", "stream processor name")
	videoARN := fs.String("video-arn", "", "start: Kinesis Video stream ARN")
	dataARN := fs.String("data-arn", "", "start: Kinesis data stream ARN")
	roleARN := fs.String("role-arn", "", "start: IAM role ARN Rekognition assumes")
	threshold := fs.Float64("threshold", 85.5, "start: FaceMatchThreshold")
	keep := fs.Bool("keep-collection", false, "teardown: keep the collection")
	wait := fs.Duration("wait", 5*time.Minute, "how long to wait for status changes")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	sp, err := rekog.NewStreamProcessors(rc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	switch args[0] {
	case "setup":
		if _, err := rekog.CreateCollection(ctx, rc, *collection, true); err != nil {
			return err
		}
		n, err := indexFolder(ctx, rc, *collection, *faces, out)
		fmt.Fprintf(out, "collection %s: %d faces indexed\n", *collection, n)
		return err
	case "start":
		p := rekog.FaceSearchProcessor{Name: *name, VideoStreamARN: *videoARN, DataStreamARN: *dataARN, RoleARN: *roleARN,
			CollectionID: *collection, FaceMatchThreshold: *threshold}
		if _, err := sp.Create(ctx, p); err != nil {
			return err
		}
		if err := sp.Start(ctx, *name); err != nil {
			return err
		}
		info, err := sp.Wait(ctx, *name, rtypes.StreamProcessorStatusRunning)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "stream processor %s %s\n", info.Name, info.Status)
		return nil
	case "teardown":
		info, err := sp.Describe(ctx, *name)
		if err != nil {
			return err
		}
		if info.Status == rtypes.StreamProcessorStatusRunning || info.Status == rtypes.StreamProcessorStatusStarting {
			if err := sp.Stop(ctx, *name); err != nil {
				return err
			}
		}
		if _, err := sp.Wait(ctx, *name, rtypes.StreamProcessorStatusStopped, rtypes.StreamProcessorStatusFailed); err != nil {
			return err
		}
		if err := sp.Delete(ctx, *name); err != nil {
			return err
		}
		fmt.Fprintf(out, "stream processor %s deleted\n", *name)
		if !*keep {
			if err := rekog.DeleteCollection(ctx, rc, *collection, true); err != nil {
				return err
			}
			fmt.Fprintf(out, "collection %s deleted\n", *collection)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// indexFolder indexes every JPEG/PNG in dir under the person named by its
// file name ("Jane Doe.jpg" → ExternalImageId "Jane_Doe"). Files that fail
// are reported and skipped; the error lists them.
func indexFolder(ctx context.Context, c rekog.IndexFacesAPI, collection, dir string, out io.Writer) (int, error) {
	if dir == "" {
		return 0, errors.New("-faces is required")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".jpg" && ext != ".jpeg" && ext != ".png") {
			continue
		}
		person := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		id, err := rekog.ExternalImageID(person)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := rekog.ValidateImage(data, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
			continue
		}
		res, err := rekog.IndexFace(ctx, c, collection, rekog.ImageRef{Bytes: data}, id, 1)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
			continue
		}
		if len(res.Faces) == 0 {
			errs = append(errs, fmt.Errorf("%s: no face indexed (%s)", e.Name(), strings.Join(res.Unindexed, "; ")))
			continue
		}
		n++
		fmt.Fprintf(out, "%s → %s (face %s)\n", e.Name(), id, res.Faces[0].FaceID)
	}
	return n, errors.Join(errs...)
}

// runLocal runs the alert path on local servers: a Rekognition wire
// server, kinesis-local and fauxqs (npm, started and stopped here).
func runLocal(ctx context.Context, out io.Writer) error {
	kin, err := awstest.Start(ctx, awstest.KinesisLocal)
	if err != nil {
		return err
	}
	defer kin.Close()
	fq, err := awstest.Start(ctx, awstest.Fauxqs)
	if err != nil {
		return err
	}
	defer fq.Close()
	wire := rekogtest.Start()
	rc := wire.Client
	defer wire.Close()
	cfg := localrun.DefaultScene()
	sum, err := localrun.Run(ctx, localrun.Clients{Rekognition: rc, Kinesis: kin.Kinesis(), SNS: fq.SNS(), SQS: fq.SQS()}, cfg, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d stream-processor records → %d sightings → %d alerts (%d suppressed by window, %d by rate limit) in %s\n",
		sum.Records, sum.Stats.Sightings, sum.Stats.Published, sum.Stats.SuppressedWindow, sum.Stats.SuppressedRate, sum.HandlerTime.Round(time.Millisecond))
	for _, s := range sum.Delivered {
		fmt.Fprintln(out, "  inbox:", s)
	}
	return nil
}
