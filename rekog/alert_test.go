package rekog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// alertTopic creates an SNS topic on fauxqs with an SQS queue subscribed,
// and returns the clients, the topic ARN and the queue URL.
func alertTopic(t *testing.T) (*sns.Client, *sqs.Client, string, string) {
	t.Helper()
	ctx := context.Background()
	n, q := awstest.SNS(t), awstest.SQS(t)
	topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(awstest.Name(t, "faces"))})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "inbox"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	return n, q, aws.ToString(topic.TopicArn), aws.ToString(queue.QueueUrl)
}

type delivered struct{ Subject, Message string }

// drain receives until want messages arrived, then checks nothing more
// comes within a short wait.
func drain(t *testing.T, q *sqs.Client, url string, want int) []delivered {
	t.Helper()
	ctx := context.Background()
	var out []delivered
	deadline := time.Now().Add(10 * time.Second)
	for {
		wait := int32(1)
		if len(out) >= want {
			wait = 0 // one more look for extras
		}
		r, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Messages {
			var env struct{ Subject, Message string }
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatal(err)
			}
			out = append(out, delivered{env.Subject, env.Message})
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		if len(out) >= want && len(r.Messages) == 0 {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d messages, want %d", len(out), want)
		}
	}
}

// TestAlerterThousandRecords feeds 1,000 records covering 100 s of video:
// four known people seen over and over, and unknown faces in every tenth
// record. With a 30 s window, each person is announced once per window;
// unknown faces at most 2 per 60 s.
func TestAlerterThousandRecords(t *testing.T) {
	ctx := context.Background()
	n, q, topic, url := alertTopic(t)
	a := mustAlerter(t, n, topic, func(o *rekog.AlertOptions) {
		o.KnownWindow = 30 * time.Second
		o.UnknownLimit = 2
		o.UnknownInterval = time.Minute
	})
	people := []string{"Jane_Doe", "Bob", "Zo:c3:ab", "Lee"}
	start := 1.7e9
	var records []events.KinesisEventRecord
	for i := range 1000 {
		ts := start + float64(i)*0.1 // 10 frames per second
		faces := []rekogtest.SeenFace{{ExternalImageID: people[i%len(people)]}, {ExternalImageID: people[(i+1)%len(people)]}}
		if i%10 == 0 {
			faces = append(faces, rekogtest.SeenFace{})
		}
		records = append(records, events.KinesisEventRecord{Kinesis: events.KinesisRecord{
			SequenceNumber: fmt.Sprint(i), Data: rekogtest.FaceRecordJSON("arn:aws:kinesisvideo:us-east-1:0:stream/door/1", int64(i), ts, faces...)}})
	}
	resp, err := a.HandleKinesisEvent(ctx, events.KinesisEvent{Records: records})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp %+v err %v", resp, err)
	}
	// Video spans 0–99.9 s: windows open at 0, 30, 60 and 90 s for each
	// of 4 people = 16; unknown: 2 in [0,60) and 2 in [60,100) = 4.
	st := a.Stats()
	if st.Sightings != 2100 || st.Published != 20 || st.SuppressedRate != 96 || st.SuppressedWindow != 2000-16 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	msgs := drain(t, q, url, 20)
	perPerson := map[string]int{}
	unknown := 0
	for _, m := range msgs {
		if name, ok := strings.CutPrefix(m.Subject, "Known face: "); ok {
			perPerson[name]++
		} else if m.Subject == "Unknown face detected" {
			unknown++
		} else {
			t.Fatalf("subject %q", m.Subject)
		}
	}
	for _, p := range []string{"Jane Doe", "Bob", "Zo?", "Lee"} {
		if perPerson[p] != 4 {
			t.Errorf("%s announced %d times, want 4 (%v)", p, perPerson[p], perPerson)
		}
	}
	if unknown != 4 {
		t.Errorf("%d unknown alerts, want 4", unknown)
	}
	if !strings.Contains(msgs[0].Message, "Stream: arn:aws:kinesisvideo") {
		t.Errorf("body %q", msgs[0].Message)
	}
}

func TestAlerterModes(t *testing.T) {
	ctx := context.Background()
	n, q, topic, url := alertTopic(t)
	rec := func(ts float64) *rekog.FaceRecord {
		r, err := rekog.DecodeFaceRecord(rekogtest.FaceRecordJSON("arn:s", 1, ts, rekogtest.SeenFace{ExternalImageID: "Jane_Doe"}, rekogtest.SeenFace{}))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tt := range []struct {
		mode    rekog.AlertMode
		subject string
	}{
		{rekog.AlertKnown, "Known face: Jane Doe"},
		{rekog.AlertUnknown, "Unknown face detected"},
	} {
		a := mustAlerter(t, n, topic, func(o *rekog.AlertOptions) { o.Mode = tt.mode })
		res := a.HandleRecord(ctx, rec(1.7e9))
		if len(res) != 2 || a.Stats().Published != 1 || a.Stats().Ignored != 1 {
			t.Fatalf("mode %d: %+v", tt.mode, a.Stats())
		}
		msgs := drain(t, q, url, 1)
		if len(msgs) != 1 || msgs[0].Subject != tt.subject {
			t.Fatalf("mode %d delivered %+v", tt.mode, msgs)
		}
	}
}

// TestAlerterPublishFailure: a failed Publish is not an announcement, so
// the person is announced by the next sighting; the Kinesis handler
// reports the record as a batch item failure.
func TestAlerterPublishFailure(t *testing.T) {
	ctx := context.Background()
	n, _, topic, _ := alertTopic(t)
	missing := topic + "-missing"
	a := mustAlerter(t, n, missing)
	data := rekogtest.FaceRecordJSON("arn:s", 1, 1.7e9, rekogtest.SeenFace{ExternalImageID: "Jane_Doe"})
	ev := events.KinesisEvent{Records: []events.KinesisEventRecord{
		{Kinesis: events.KinesisRecord{SequenceNumber: "1", Data: []byte("not json")}},
		{Kinesis: events.KinesisRecord{SequenceNumber: "2", Data: data}},
	}}
	resp, err := a.HandleKinesisEvent(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "2" {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	if st := a.Stats(); st.Failed != 1 || st.Published != 0 {
		t.Fatalf("stats %+v", st)
	}
	ok := mustAlerter(t, n, topic)
	r, _ := rekog.DecodeFaceRecord(data)
	// Same alerter state semantics on a working topic: first is published.
	if res := ok.HandleRecord(ctx, r); res[0].Decision != rekog.Published || res[0].MessageID == "" {
		t.Fatalf("result %+v", res[0])
	}
	// The failing alerter did not consume Jane's window.
	res := a.HandleRecord(ctx, r)
	if res[0].Decision != rekog.Failed {
		t.Fatalf("retry decision %s", res[0].Decision)
	}
	if st := a.Stats(); st.SuppressedWindow != 0 {
		t.Fatalf("failed publish consumed the window: %+v", st)
	}
}

func TestAlertMessageSubjectIsClean(t *testing.T) {
	s := rekog.Sighting{Known: true, Name: "Eve\r\nBcc: x@example.com " + strings.Repeat("x", 200)}
	subj, _ := rekog.AlertMessage(s)
	if strings.ContainsAny(subj, "\r\n") || len(subj) > rekog.MaxSubjectLen {
		t.Fatalf("subject %q", subj)
	}
}

// TestAlerterConcurrentSamePerson: goroutines racing to announce the same
// person within one window publish exactly once.
func TestAlerterConcurrentSamePerson(t *testing.T) {
	ctx := context.Background()
	n, q, topic, url := alertTopic(t)
	a := mustAlerter(t, n, topic, func(o *rekog.AlertOptions) { o.UnknownLimit = 2 })
	at := time.Unix(1.7e9, 0)
	done := make(chan []rekog.AlertResult)
	for i := range 16 {
		go func() {
			done <- a.Alert(ctx, []rekog.Sighting{
				{Known: true, Name: "Jane Doe", ExternalImageID: "Jane_Doe", Time: at.Add(time.Duration(i) * time.Millisecond)},
				{Time: at.Add(time.Duration(i) * time.Millisecond)},
			})
		}()
	}
	published := 0
	for range 16 {
		for _, r := range <-done {
			if r.Decision == rekog.Published {
				published++
			}
		}
	}
	if published != 3 { // Jane once, two unknowns
		t.Fatalf("published %d, want 3 (stats %+v)", published, a.Stats())
	}
	if msgs := drain(t, q, url, 3); len(msgs) != 3 {
		t.Fatalf("inbox %d", len(msgs))
	}
}

// TestUnknownRateLimitOutOfOrder: a retried batch can replay older
// sightings; the limit holds on either side of each sighting.
func TestUnknownRateLimitOutOfOrder(t *testing.T) {
	ctx := context.Background()
	n, _, topic, _ := alertTopic(t)
	a := mustAlerter(t, n, topic, func(o *rekog.AlertOptions) { o.UnknownLimit, o.UnknownInterval = 1, 30*time.Second })
	base := time.Unix(1.7e9, 0)
	var got []rekog.Decision
	for _, sec := range []int{100, 90, 0, 125, 131} {
		got = append(got, a.Alert(ctx, []rekog.Sighting{{Time: base.Add(time.Duration(sec) * time.Second)}})[0].Decision)
	}
	want := []rekog.Decision{rekog.Published, rekog.SuppressedRate, rekog.Published, rekog.SuppressedRate, rekog.Published}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("decisions %v, want %v", got, want)
	}
}

// TestAlertAttributesDriveFilterPolicies: a subscription with a filter
// policy on the face attribute receives only unknown-face alerts.
func TestAlertAttributesDriveFilterPolicies(t *testing.T) {
	ctx := context.Background()
	n, q, topic, allURL := alertTopic(t)
	strangers, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "strangers"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: strangers.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"),
		Endpoint:   aws.String(attrs.Attributes["QueueArn"]),
		Attributes: map[string]string{"FilterPolicy": `{"face":["unknown"]}`}}); err != nil {
		t.Fatal(err)
	}
	a := mustAlerter(t, n, topic)
	r, err := rekog.DecodeFaceRecord(rekogtest.FaceRecordJSON("arn:s", 1, 1.7e9, rekogtest.SeenFace{ExternalImageID: "Jane_Doe"}, rekogtest.SeenFace{}))
	if err != nil {
		t.Fatal(err)
	}
	a.HandleRecord(ctx, r)
	if all := drain(t, q, allURL, 2); len(all) != 2 {
		t.Fatalf("unfiltered inbox got %d", len(all))
	}
	only := drain(t, q, aws.ToString(strangers.QueueUrl), 1)
	if len(only) != 1 || only[0].Subject != "Unknown face detected" {
		t.Fatalf("filtered inbox got %+v", only)
	}
}
