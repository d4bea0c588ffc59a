package kda

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestOptionErrors: every constructor refuses an option it cannot honour
// with an *OptionError naming the options type and field, never a clamp.
func TestOptionErrors(t *testing.T) {
	tpl := MustParseTemplate(`x`)
	tests := []struct {
		typ, field string
		err        error
	}{
		{"kda.ConsumerOptions", "Limit", second(NewConsumer(nil, "s", func(context.Context, string, []KinesisRecord) error { return nil }, func(o *ConsumerOptions) { o.Limit = MaxGetRecordsLimit + 1 }))},
		{"kda.ConsumerOptions", "MaxRetryDelay", second(NewConsumer(nil, "s", func(context.Context, string, []KinesisRecord) error { return nil }, func(o *ConsumerOptions) { o.RetryDelay, o.MaxRetryDelay = time.Minute, time.Second }))},
		{"kda.ProducerOptions", "MaxRecordBytes", second(NewProducer(nil, "s", func(o *ProducerOptions) { o.MaxRecordBytes = MaxRecordBytesLimit + 1 }))},
		{"kda.ProducerOptions", "MaxInFlight", second(NewProducer(nil, "s", func(o *ProducerOptions) { o.MaxInFlight = -1 }))},
		{"kda.FirehoseSinkOptions", "MaxAttempts", second(NewFirehoseSink(nil, "d", func(o *FirehoseSinkOptions) { o.MaxAttempts = -1 }))},
		{"kda.DeliveryOptions", "BufferSize", second(NewDelivery(nil, "b", "d", func(o *DeliveryOptions) { o.BufferSize = MinBufferSize - 1 }))},
		{"kda.DeliveryOptions", "BufferInterval", second(NewDelivery(nil, "b", "d", func(o *DeliveryOptions) { o.BufferInterval = MaxBufferInterval + time.Second }))},
		{"kda.DeliveryOptions", "Compression", second(NewDelivery(nil, "b", "d", func(o *DeliveryOptions) { o.Compression = "ZIP" }))},
		{"kda.GeneratorOptions", "Rate", second(NewGenerator(tpl, func(o *GeneratorOptions) { o.Rate = -1 }))},
	}
	for _, tc := range tests {
		var oe *OptionError
		if !errors.As(tc.err, &oe) || oe.Type != tc.typ || oe.Field != tc.field {
			t.Errorf("%s.%s: got %v, want an *OptionError for it", tc.typ, tc.field, tc.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
