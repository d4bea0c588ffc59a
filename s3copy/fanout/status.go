package fanout

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/sqsbatch"
)

// Status is a job's progress as the handlers recorded it.
type Status struct {
	ShardsDone    int64 // shard messages handled
	ObjectsListed int64 // objects the masters sent as tasks
	TasksDone     int64 // task messages handled
	Copied        int64
	Skipped       int64
	Failed        int64 // objects that failed for good
	Bytes         int64
	BadMessages   int64
	ShardsPending int64 // shard queue: visible + in flight + delayed
	TasksPending  int64 // task queue: visible + in flight + delayed
	Done          bool  // queues drained and every listed object accounted for
}

// Status reads the queues' depths and then a job's counts (one listing of
// its status objects). Done is the seed's missing "transfer finished" signal.
// SQS queue counts are approximate; Done also requires every listed
// object to be accounted for, so it never comes early.
func (f *Fanout) Status(ctx context.Context, jobID string) (Status, error) {
	var st Status
	if f.opts.StatusLocation.Bucket == "" {
		return st, errors.New("fanout: Status needs FanoutOptions.StatusLocation")
	}
	// The queue depths first, the records after: queues seen empty mean
	// every handler has finished, and so written its record, before the
	// listing starts. The other order could miss a shard that finished
	// between the two and say Done without its objects.
	var err error
	if st.ShardsPending, err = f.pending(ctx, f.shardQueue); err != nil {
		return st, err
	}
	if st.TasksPending, err = f.pending(ctx, f.taskQueue); err != nil {
		return st, err
	}
	loc := f.opts.StatusLocation
	base := loc.Prefix + jobID + "/"
	seen := map[string]bool{}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket), Prefix: aws.String(base),
		ExpectedBucketOwner: optString(f.opts.ExpectedBucketOwner)}
	// Not the SDK's paginator: it ends a broken listing in silence, and
	// counts missing from it could make Done come early.
	for more := true; more; {
		page, err := f.s3.ListObjectsV2(ctx, in)
		if err != nil {
			return st, err
		}
		if more, err = s3copy.NextListPage(in, page); err != nil {
			return st, err
		}
		for _, o := range page.Contents {
			parts := strings.Split(strings.TrimPrefix(aws.ToString(o.Key), base), "/")
			if len(parts) != 3 || seen[parts[0]+"/"+parts[1]] {
				continue // at-least-once delivery: count a message once
			}
			seen[parts[0]+"/"+parts[1]] = true
			n := parseCounts(parts[2])
			switch parts[0] {
			case "s":
				if len(n) == 2 {
					st.ShardsDone++
					st.ObjectsListed += n[0]
				}
			case "t":
				if len(n) == 4 {
					st.TasksDone++
					st.Copied += n[0]
					st.Skipped += n[1]
					st.Failed += n[2]
					st.Bytes += n[3]
				}
			case "bad":
				st.BadMessages++
			}
		}
	}
	st.Done = st.ShardsDone > 0 && st.ShardsPending == 0 && st.TasksPending == 0 &&
		st.Copied+st.Skipped+st.Failed == st.ObjectsListed
	return st, nil
}

func parseCounts(s string) []int64 {
	var out []int64
	for f := range strings.SplitSeq(s, "-") {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return nil
		}
		out = append(out, n)
	}
	return out
}

func (f *Fanout) pending(ctx context.Context, queue string) (int64, error) {
	out, err := f.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		}}, sqsbatch.SafeRequestBody)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, v := range out.Attributes {
		x, _ := strconv.ParseInt(v, 10, 64)
		n += x
	}
	return n, nil
}
