package deploycheck

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// TestSystem6Chain runs seed system 6 from the stream processor's output
// on: face search records (the Rekognition Developer Guide's shape) are put
// on a kinesis-local stream → read back as Lambda's poller hands them over
// (aws-lambda-go's Kinesis sample shape) → the alert Lambda, with the
// environment examples/face-alerts/template.yaml gives it → SNS on fauxqs →
// the email subscription stood in for by an SQS queue. Jane is seen twice
// within the 5-minute window (one alert), an unknown face once, and one
// record is not JSON (skipped, not retried). Then the same batch against a
// topic that does not exist: every record with an alert is a batch item
// failure, the first one first (where Lambda resumes).
func TestSystem6Chain(t *testing.T) {
	ctx := context.Background()
	kin := awstest.Shared(t, awstest.KinesisLocal)
	fq := awstest.Shared(t, awstest.Fauxqs)
	kc, nc, qc := kin.Kinesis(), fq.SNS(), fq.SQS()
	stream, streamARN := kinesisStream(t, kc, awstest.Name(t, "AmazonRekognition"))

	topic, err := nc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(awstest.Name(t, "alerts"))})
	if err != nil {
		t.Fatal(err)
	}
	inbox := subscribedQueue(t, nc, qc, aws.ToString(topic.TopicArn))

	video := "arn:aws:kinesisvideo:us-east-1:000000000000:stream/door-camera/1"
	ev := putAndRead(t, kc, stream, streamARN,
		rekogtest.FaceRecordJSON(video, 1, 1.7e9, rekogtest.SeenFace{ExternalImageID: "Jane_Doe"}),
		rekogtest.FaceRecordJSON(video, 2, 1.7e9+10, rekogtest.SeenFace{ExternalImageID: "Jane_Doe"}),
		rekogtest.FaceRecordJSON(video, 3, 1.7e9+20, rekogtest.SeenFace{}),
		[]byte("not a face record"))

	sdk := map[string]string{"AWS_ENDPOINT_URL_SNS": fq.Endpoint}
	env := templateEnv(t, "examples/face-alerts/template.yaml", "AlertFunction", map[string]string{"AlertTopic": aws.ToString(topic.TopicArn)})
	alert := startLambda(t, "face-alerts-alert", withEnv(env, sdk))
	status, body := alert.invoke(t, ev)
	assertBatchItemFailures(t, status, body)
	got := drainSubjects(t, qc, inbox, 2)
	if strings.Join(got, "|") != "Known face: Jane Doe|Unknown face detected" {
		t.Fatalf("the subscription received %q, want Jane once and the unknown face once", got)
	}
	if !alert.waitLog("skipping stream processor record") {
		t.Error("the record that is not JSON was not logged as skipped")
	}

	missing := startLambda(t, "face-alerts-alert", withEnv(templateEnv(t, "examples/face-alerts/template.yaml", "AlertFunction",
		map[string]string{"AlertTopic": aws.ToString(topic.TopicArn) + "-deleted"}), sdk))
	status, body = missing.invoke(t, ev)
	r := ev.Records
	assertBatchItemFailures(t, status, body, r[0].Kinesis.SequenceNumber, r[1].Kinesis.SequenceNumber, r[2].Kinesis.SequenceNumber)

	recordEffect(t, "face-alerts-alert", "Kinesis batch read back from kinesis-local (kinesis-event.json shape): Jane twice in 10 s, an unknown face, a record that is not JSON",
		"SNS (fauxqs) → subscribed queue gets \"Known face: Jane Doe\" once and \"Unknown face detected\" once; bad record skipped; batchItemFailures = []")
	recordEffect(t, "face-alerts-alert", "same batch, TOPIC_ARN of a topic that does not exist",
		"publish fails: batchItemFailures = the 3 records with alerts, first record first (Lambda resumes there)")
}

// subscribedQueue creates an SQS queue subscribed to topic (raw delivery
// off: the SNS envelope, as an email subscriber gets subject and message).
func subscribedQueue(t *testing.T, nc *sns.Client, qc *sqs.Client, topic string) string {
	t.Helper()
	url, arn := queue(t, qc, "inbox")
	if _, err := nc.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"),
		Endpoint: &arn}); err != nil {
		t.Fatal(err)
	}
	return url
}

// drainSubjects receives until want SNS notifications arrived and one more
// short poll finds nothing, and returns their subjects, sorted.
func drainSubjects(t *testing.T, qc *sqs.Client, url string, want int) []string {
	t.Helper()
	ctx := context.Background()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		wait := int32(1)
		if len(got) >= want {
			wait = 0
		}
		out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var n struct{ Subject string }
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &n); err != nil {
				t.Fatal(err)
			}
			got = append(got, n.Subject)
		}
		if len(got) >= want && len(out.Messages) == 0 {
			sort.Strings(got)
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %q, want %d notifications", got, want)
		}
	}
}
