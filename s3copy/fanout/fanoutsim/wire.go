package fanoutsim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// The JSON shapes of the requests the SQS simulation answers (AWS JSON 1.0,
// as the SDK's sqs client writes them).
type wireRequest struct {
	QueueURL                    string            `json:"QueueUrl"`
	QueueName                   string            `json:"QueueName"`
	Attributes                  map[string]string `json:"Attributes"`
	MessageBody                 *string           `json:"MessageBody"`
	DelaySeconds                int32             `json:"DelaySeconds"`
	Entries                     []wireEntry       `json:"Entries"`
	MaxNumberOfMessages         int32             `json:"MaxNumberOfMessages"`
	WaitTimeSeconds             int32             `json:"WaitTimeSeconds"`
	VisibilityTimeout           *int32            `json:"VisibilityTimeout"`
	ReceiptHandle               string            `json:"ReceiptHandle"`
	AttributeNames              []string          `json:"AttributeNames"`
	MessageSystemAttributeNames []string          `json:"MessageSystemAttributeNames"`
}

type wireEntry struct {
	ID            string  `json:"Id"`
	MessageBody   *string `json:"MessageBody"`
	DelaySeconds  int32   `json:"DelaySeconds"`
	ReceiptHandle string  `json:"ReceiptHandle"`
}

type wireMessage struct {
	MessageID     string            `json:"MessageId"`
	ReceiptHandle string            `json:"ReceiptHandle"`
	MD5OfBody     string            `json:"MD5OfBody"`
	Body          string            `json:"Body"`
	Attributes    map[string]string `json:"Attributes,omitempty"`
}

type batchFailure struct {
	ID          string `json:"Id"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
	SenderFault bool   `json:"SenderFault"`
}

// maxMessageBytes is SQS's largest message body (1 MiB).
const maxMessageBytes = 1 << 20

// decodeRequest parses a request body: outside input.
func decodeRequest(body []byte) (wireRequest, error) {
	var in wireRequest
	if len(body) == 0 {
		return in, nil
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return in, &apiError{"SerializationException", err.Error()}
	}
	if in.DelaySeconds < 0 || in.DelaySeconds > 900 || in.WaitTimeSeconds < 0 || in.WaitTimeSeconds > 20 ||
		in.MaxNumberOfMessages < 0 || in.MaxNumberOfMessages > MaxReceiveMessages ||
		in.VisibilityTimeout != nil && (*in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200) {
		return in, &apiError{"InvalidParameterValue", "a parameter is out of range"}
	}
	if len(in.Entries) > MaxReceiveMessages {
		return in, &apiError{"TooManyEntriesInBatchRequest", fmt.Sprintf("%d entries", len(in.Entries))}
	}
	for _, e := range in.Entries {
		if e.DelaySeconds < 0 || e.DelaySeconds > 900 {
			return in, &apiError{"InvalidParameterValue", "DelaySeconds"}
		}
	}
	return in, nil
}

// call executes one operation.
func (s *SQS) call(ctx context.Context, op string, body []byte) (any, error) {
	in, err := decodeRequest(body)
	if err != nil {
		return nil, err
	}
	switch op {
	case "CreateQueue":
		url, err := s.CreateQueue(in.QueueName, in.Attributes)
		return map[string]string{"QueueUrl": url}, err
	case "ReceiveMessage":
		n := int(in.MaxNumberOfMessages)
		if n == 0 {
			n = 1
		}
		vis := time.Duration(-1)
		if in.VisibilityTimeout != nil {
			vis = time.Duration(*in.VisibilityTimeout) * time.Second
		}
		ms, err := s.receive(ctx, in.QueueURL, n, time.Duration(in.WaitTimeSeconds)*time.Second, vis)
		if err != nil {
			return nil, err
		}
		out := make([]wireMessage, len(ms))
		for i, m := range ms {
			out[i] = wireMessage{MessageID: m.MessageID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body}
			if len(in.AttributeNames)+len(in.MessageSystemAttributeNames) > 0 {
				out[i].Attributes = m.Attributes
			}
		}
		return map[string]any{"Messages": out}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "GetQueueUrl" {
		url := Endpoint + "/000000000000/" + in.QueueName
		if s.queues[url] == nil {
			return nil, &apiError{"QueueDoesNotExist", "The specified queue does not exist."}
		}
		return map[string]string{"QueueUrl": url}, nil
	}
	q := s.queues[in.QueueURL]
	if q == nil {
		return nil, &apiError{"QueueDoesNotExist", "The specified queue does not exist."}
	}
	now := s.o.Now()
	s.promote(q, now)
	return s.queueCall(q, op, in, now)
}

// queueCall executes an operation on one queue, under s.mu.
func (s *SQS) queueCall(q *queue, op string, in wireRequest, now time.Time) (any, error) {
	switch op {
	case "SendMessage":
		if in.MessageBody == nil || len(*in.MessageBody) > maxMessageBytes {
			return nil, &apiError{"InvalidParameterValue", "MessageBody missing or over 1 MiB"}
		}
		m := s.send(q, *in.MessageBody, time.Duration(in.DelaySeconds)*time.Second, now)
		return map[string]string{"MessageId": m.id, "MD5OfMessageBody": m.md5}, nil
	case "SendMessageBatch":
		return s.sendBatch(q, in.Entries, now)
	case "DeleteMessage":
		if !s.remove(q, in.ReceiptHandle) {
			return nil, &apiError{"ReceiptHandleIsInvalid", "The receipt handle is not valid."}
		}
		return struct{}{}, nil
	case "DeleteMessageBatch":
		var ok []map[string]string
		var failed []batchFailure
		for _, e := range in.Entries {
			if s.remove(q, e.ReceiptHandle) {
				ok = append(ok, map[string]string{"Id": e.ID})
			} else {
				failed = append(failed, batchFailure{ID: e.ID, Code: "ReceiptHandleIsInvalid", Message: "not in flight", SenderFault: true})
			}
		}
		return map[string]any{"Successful": ok, "Failed": failed}, nil
	case "ChangeMessageVisibility":
		m := q.inflight[in.ReceiptHandle]
		if m == nil || in.VisibilityTimeout == nil {
			return nil, &apiError{"MessageNotInflight", "The message is not in flight."}
		}
		m.visibleAt = now.Add(time.Duration(*in.VisibilityTimeout) * time.Second)
		q.timed.fix(m)
		return struct{}{}, nil
	case "GetQueueAttributes":
		attrs := q.attributes(in.AttributeNames)
		return map[string]any{"Attributes": attrs}, nil
	}
	return nil, &apiError{"InvalidAction", "fanoutsim does not implement " + op}
}

// attributes answers GetQueueAttributes for names ("All" for every one).
func (q *queue) attributes(names []string) map[string]string {
	all := map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(len(q.visible)),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(len(q.inflight)),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(q.delayed),
		"QueueArn":                              q.arn,
		"VisibilityTimeout":                     strconv.Itoa(int(q.visibility / time.Second)),
	}
	attrs := map[string]string{}
	for _, n := range names {
		if n == "All" {
			return all
		}
		if v, ok := all[n]; ok {
			attrs[n] = v
		}
	}
	return attrs
}

func (s *SQS) sendBatch(q *queue, entries []wireEntry, now time.Time) (any, error) {
	if len(entries) == 0 {
		return nil, &apiError{"EmptyBatchRequest", "no entries"}
	}
	total := 0
	for _, e := range entries {
		if e.MessageBody != nil {
			total += len(*e.MessageBody)
		}
	}
	if total > maxMessageBytes {
		return nil, &apiError{"BatchRequestTooLong", fmt.Sprintf("%d bytes", total)}
	}
	type ok struct {
		ID               string `json:"Id"`
		MessageID        string `json:"MessageId"`
		MD5OfMessageBody string `json:"MD5OfMessageBody"`
	}
	var sent []ok
	var failed []batchFailure
	for _, e := range entries {
		if e.MessageBody == nil || *e.MessageBody == "" {
			failed = append(failed, batchFailure{ID: e.ID, Code: "MissingParameter", Message: "MessageBody", SenderFault: true})
			continue
		}
		m := s.send(q, *e.MessageBody, time.Duration(e.DelaySeconds)*time.Second, now)
		sent = append(sent, ok{ID: e.ID, MessageID: m.id, MD5OfMessageBody: m.md5})
	}
	return map[string]any{"Successful": sent, "Failed": failed}, nil
}
