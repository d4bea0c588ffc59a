// Package localrun runs seed system 6's alert path on local servers: the
// seed's setup (collection, indexed faces, stream processor created and
// started) against a Rekognition wire server, stream-processor output
// records written to kinesis-local, read back shard by shard and handed to
// the alert Lambda's handler as a Kinesis event, and alerts published to an
// SNS topic on fauxqs whose subscribed SQS queue plays the email inbox.
//
// The stream processor's analysis of video cannot run locally, so its
// output is scripted: a scene (who stands in front of the camera when) is
// turned into records in the documented format, one per analysed frame.
package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	rtypes "github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// Clients are the local service clients the run uses.
type Clients struct {
	Rekognition *rekognition.Client
	Kinesis     *kinesis.Client
	SNS         *sns.Client
	SQS         *sqs.Client
}

// Presence is one person in front of the camera from From to To seconds
// into the video. An empty Name is a stranger.
type Presence struct {
	Name     string
	From, To float64
}

// Config describes the run.
type Config struct {
	// Suffix makes resource names unique (streams, topics, queues).
	Suffix string
	// People are indexed into the collection, by name.
	People []string
	// Scene is what the camera sees; FPS frames per second are analysed.
	Scene []Presence
	FPS   int
	// Alert options for the Lambda's alerter.
	Alert func(*rekog.AlertOptions)
}

// DefaultScene is 60 s of video at a door: Jane lingers, a stranger passes
// twice, Bob arrives late.
func DefaultScene() Config {
	return Config{
		People: []string{"Jane Doe", "Bob Smith", "Zoë Ní"},
		Scene: []Presence{
			{"Jane Doe", 0, 25}, {"", 10, 14}, {"", 40, 44}, {"Bob Smith", 30, 60}, {"Jane Doe", 50, 60},
		},
		FPS: 5,
		Alert: func(o *rekog.AlertOptions) {
			o.KnownWindow = 20 * time.Second
			o.UnknownLimit = 1
			o.UnknownInterval = 30 * time.Second
		},
	}
}

// Summary is what happened.
type Summary struct {
	Indexed     int
	Processor   string
	Records     int
	Stats       rekog.AlertStats
	Delivered   []string // subjects received on the SQS inbox, in order
	HandlerTime time.Duration
}

// Run executes the pipeline and writes progress lines to out.
func Run(ctx context.Context, c Clients, cfg Config, out io.Writer) (*Summary, error) {
	sum := &Summary{}
	collection := "rekVideoBlog" + cfg.Suffix

	// The seed's Step 4: collection and faces (one synthetic photo each).
	ids, err := indexPeople(ctx, c, collection, cfg.People, sum)
	if err != nil {
		return nil, err
	}
	// Kinesis data stream for the processor's output, SNS topic and inbox.
	streamARN, err := createStream(ctx, c.Kinesis, "AmazonRekognition-faces"+cfg.Suffix)
	if err != nil {
		return nil, err
	}
	topicARN, queueURL, err := topicWithInbox(ctx, c.SNS, c.SQS, "face-alerts"+cfg.Suffix)
	if err != nil {
		return nil, err
	}

	// The seed's Step 5: create and start the stream processor.
	sp, err := rekog.NewStreamProcessors(c.Rekognition, func(o *rekog.ProcessorOptions) { o.PollInterval = 10 * time.Millisecond })
	if err != nil {
		return nil, err
	}
	proc := rekog.FaceSearchProcessor{
		Name:               "streamProcessorForRekognitionVideoBlog" + cfg.Suffix,
		VideoStreamARN:     "arn:aws:kinesisvideo:us-east-1:000000000000:stream/webcam/1",
		DataStreamARN:      streamARN,
		RoleARN:            "arn:aws:iam::000000000000:role/RekognitionVideo",
		CollectionID:       collection,
		FaceMatchThreshold: 85.5,
	}
	if err := startProcessor(ctx, sp, proc, sum); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "collection %s: %d faces indexed; stream processor %s\n", collection, sum.Indexed, sum.Processor)

	// What the running processor writes, one record per analysed frame.
	records := SceneRecords(proc.VideoStreamARN, cfg.Scene, cfg.FPS, ids)
	if err := putRecords(ctx, c.Kinesis, streamARN, records); err != nil {
		return nil, err
	}
	got, err := readAll(ctx, c.Kinesis, streamARN, len(records))
	if err != nil {
		return nil, err
	}
	sum.Records = len(got)
	if err := runAlertLambda(ctx, c, topicARN, cfg.Alert, got, sum); err != nil {
		return nil, err
	}
	if sum.Delivered, err = drain(ctx, c.SQS, queueURL, int(sum.Stats.Published)); err != nil {
		return nil, err
	}

	// The seed's Step 6: stop and delete the processor, delete the collection.
	if err := sp.Stop(ctx, proc.Name); err != nil {
		return nil, err
	}
	if _, err := sp.Wait(ctx, proc.Name, rtypes.StreamProcessorStatusStopped); err != nil {
		return nil, err
	}
	if err := sp.Delete(ctx, proc.Name); err != nil {
		return nil, err
	}
	if err := rekog.DeleteCollection(ctx, c.Rekognition, collection, false); err != nil {
		return nil, err
	}
	return sum, nil
}

// indexPeople creates the collection and indexes one synthetic photo per
// person, returning each person's external image id.
func indexPeople(ctx context.Context, c Clients, collection string, people []string, sum *Summary) (map[string]string, error) {
	if _, err := rekog.CreateCollection(ctx, c.Rekognition, collection, true); err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for i, name := range people {
		id, err := rekog.ExternalImageID(name)
		if err != nil {
			return nil, err
		}
		res, err := rekog.IndexFace(ctx, c.Rekognition, collection, rekog.ImageRef{Bytes: FacePhoto(i)}, id, 1)
		if err != nil {
			return nil, err
		}
		ids[name] = id
		sum.Indexed += len(res.Faces)
	}
	return ids, nil
}

// startProcessor creates and starts the stream processor and waits until it
// runs.
func startProcessor(ctx context.Context, sp *rekog.StreamProcessors, proc rekog.FaceSearchProcessor, sum *Summary) error {
	if _, err := sp.Create(ctx, proc); err != nil {
		return err
	}
	if err := sp.Start(ctx, proc.Name); err != nil {
		return err
	}
	info, err := sp.Wait(ctx, proc.Name, rtypes.StreamProcessorStatusRunning)
	if err != nil {
		return err
	}
	sum.Processor = string(info.Status)
	return nil
}

// runAlertLambda invokes the alert Lambda's handler with batches of the
// records, as the Kinesis trigger would.
func runAlertLambda(ctx context.Context, c Clients, topicARN string, optFn func(*rekog.AlertOptions), got []events.KinesisEventRecord, sum *Summary) error {
	alerter, err := rekog.NewAlerter(c.SNS, topicARN, optFn)
	if err != nil {
		return err
	}
	start := time.Now()
	const batch = 100
	for i := 0; i < len(got); i += batch {
		ev := events.KinesisEvent{Records: got[i:min(i+batch, len(got))]}
		resp, err := alerter.HandleKinesisEvent(ctx, ev)
		if err != nil {
			return err
		}
		if len(resp.BatchItemFailures) > 0 {
			return fmt.Errorf("%d records failed to alert", len(resp.BatchItemFailures))
		}
	}
	sum.HandlerTime = time.Since(start)
	sum.Stats = alerter.Stats()
	return nil
}

// FacePhoto returns a distinct synthetic 120×120 JPEG "photo" for person
// i. The local Rekognition recognises faces by identical bytes.
func FacePhoto(i int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 120, 120))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{uint8(40 * i), 128, uint8(255 - 40*i), 255}), image.Point{}, draw.Src)
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

// SceneRecords turns a scene into stream-processor output records.
func SceneRecords(videoARN string, scene []Presence, fps int, ids map[string]string) [][]byte {
	end := 0.0
	for _, p := range scene {
		end = max(end, p.To)
	}
	const t0 = 1.7e9
	var out [][]byte
	for f := 0; float64(f) < end*float64(fps); f++ {
		t := float64(f) / float64(fps)
		var faces []rekogtest.SeenFace
		for _, p := range scene {
			if t >= p.From && t < p.To {
				faces = append(faces, rekogtest.SeenFace{ExternalImageID: ids[p.Name], Similarity: 96.5})
			}
		}
		if len(faces) == 0 {
			continue // the processor writes records only for frames with faces
		}
		out = append(out, rekogtest.FaceRecordJSON(videoARN, int64(f/(2*fps)), t0+t, faces...))
	}
	return out
}

func createStream(ctx context.Context, k *kinesis.Client, name string) (string, error) {
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		return "", err
	}
	w := kinesis.NewStreamExistsWaiter(k, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second); err != nil {
		return "", err
	}
	s, err := k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		return "", err
	}
	return aws.ToString(s.StreamDescriptionSummary.StreamARN), nil
}

func putRecords(ctx context.Context, k *kinesis.Client, arn string, recs [][]byte) error {
	for i := 0; i < len(recs); i += 500 {
		var entries []kintypes.PutRecordsRequestEntry
		for _, r := range recs[i:min(i+500, len(recs))] {
			entries = append(entries, kintypes.PutRecordsRequestEntry{Data: r, PartitionKey: aws.String("webcam")})
		}
		out, err := k.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &arn, Records: entries})
		if err != nil {
			return err
		}
		if n := aws.ToInt32(out.FailedRecordCount); n > 0 {
			return fmt.Errorf("PutRecords: %d of %d failed", n, len(entries))
		}
	}
	return nil
}

// readAll reads want records from the stream's shards as Lambda's Kinesis
// poller would, converting them to the event records the handler gets.
func readAll(ctx context.Context, k *kinesis.Client, arn string, want int) ([]events.KinesisEventRecord, error) {
	shards, err := k.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: &arn})
	if err != nil {
		return nil, err
	}
	var out []events.KinesisEventRecord
	for _, sh := range shards.Shards {
		it, err := k.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &arn, ShardId: sh.ShardId, ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return nil, err
		}
		iter := it.ShardIterator
		for empty := 0; iter != nil && len(out) < want && empty < 20; {
			r, err := k.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: &arn, ShardIterator: iter, Limit: aws.Int32(1000)})
			if err != nil {
				return nil, err
			}
			if len(r.Records) == 0 {
				empty++
			}
			for _, rec := range r.Records {
				out = append(out, events.KinesisEventRecord{
					EventSource: "aws:kinesis", EventSourceArn: arn, EventName: "aws:kinesis:record", AwsRegion: "us-east-1",
					EventID: aws.ToString(sh.ShardId) + ":" + aws.ToString(rec.SequenceNumber),
					Kinesis: events.KinesisRecord{Data: rec.Data, PartitionKey: aws.ToString(rec.PartitionKey),
						SequenceNumber: aws.ToString(rec.SequenceNumber), KinesisSchemaVersion: "1.0",
						ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(rec.ApproximateArrivalTimestamp)}},
				})
			}
			iter = r.NextShardIterator
		}
	}
	if len(out) != want {
		return out, fmt.Errorf("read %d of %d records from %s", len(out), want, arn)
	}
	return out, nil
}

func topicWithInbox(ctx context.Context, n *sns.Client, q *sqs.Client, name string) (string, string, error) {
	topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name})
	if err != nil {
		return "", "", err
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-inbox")})
	if err != nil {
		return "", "", err
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", err
	}
	if _, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		return "", "", err
	}
	return aws.ToString(topic.TopicArn), aws.ToString(queue.QueueUrl), nil
}

// drain receives want notifications from the inbox, in delivery order.
func drain(ctx context.Context, q *sqs.Client, url string, want int) ([]string, error) {
	var subjects []string
	deadline := time.Now().Add(10 * time.Second)
	for len(subjects) < want {
		if time.Now().After(deadline) {
			return subjects, fmt.Errorf("inbox received %d of %d alerts", len(subjects), want)
		}
		r, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return subjects, err
		}
		for _, m := range r.Messages {
			var env struct{ Subject string }
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				return subjects, err
			}
			subjects = append(subjects, env.Subject)
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return subjects, err
			}
		}
	}
	return subjects, nil
}
