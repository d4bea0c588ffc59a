package rekog_test

import (
	"errors"
	"testing"
	"time"

	"github.com/lakekit/lakekit/rekog"
)

// TestOptionErrors: a value a constructor cannot honour is an
// *OptionError naming the field, never a silent clamp.
func TestOptionErrors(t *testing.T) {
	cascade := pigoFile(t, "cascade/facefinder")
	tests := []struct {
		name  string
		err   func() error
		field string
	}{
		{"alerter window", func() error {
			_, err := rekog.NewAlerter(nil, "t", func(o *rekog.AlertOptions) { o.KnownWindow = -time.Second })
			return err
		}, "KnownWindow"},
		{"alerter mode", func() error {
			_, err := rekog.NewAlerter(nil, "t", func(o *rekog.AlertOptions) { o.Mode = 9 })
			return err
		}, "Mode"},
		{"processor poll", func() error {
			_, err := rekog.NewStreamProcessors(nil, func(o *rekog.ProcessorOptions) { o.PollInterval = -1 })
			return err
		}, "PollInterval"},
		{"gate scale", func() error {
			_, err := rekog.NewFaceGate(cascade, func(o *rekog.GateOptions) { o.ScaleFactor = 0.5 })
			return err
		}, "ScaleFactor"},
		{"gate max face", func() error {
			_, err := rekog.NewFaceGate(cascade, func(o *rekog.GateOptions) { o.MinFace, o.MaxFace = 100, 50 })
			return err
		}, "MaxFace"},
		{"decode over the S3 limit", func() error {
			_, err := rekog.DecodeImage("aGVsbG8=", func(o *rekog.DecodeOptions) { o.MaxBytes = rekog.MaxS3ImageBytes + 1 })
			return err
		}, "MaxBytes"},
		{"text service decode", func() error {
			_, err := rekog.NewTextService(nil, "b", nil, func(o *rekog.TextOptions) { o.Decode.MinDimension = -1 })
			return err
		}, "MinDimension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var oe *rekog.OptionError
			if err := tt.err(); !errors.As(err, &oe) || oe.Field != tt.field {
				t.Fatalf("err = %v, want an OptionError on %s", err, tt.field)
			}
		})
	}
}
