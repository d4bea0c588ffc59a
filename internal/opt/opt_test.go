package opt

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

func TestRangeAndMin(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"in range", Range("p.XOptions", "N", 5, 1, 10), ""},
		{"low end", Range("p.XOptions", "N", 1, 1, 10), ""},
		{"below", Range("p.XOptions", "N", 0, 1, 10), "p.XOptions.N = 0: want between 1 and 10"},
		{"above", Range("p.XOptions", "N", 11, 1, 10), "p.XOptions.N = 11: want between 1 and 10"},
		{"duration", Min("p.XOptions", "Wait", -time.Second, 0), "p.XOptions.Wait = -1s: want at least 0s"},
		{"min ok", Min("p.XOptions", "Wait", time.Second, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				if tt.err != nil {
					t.Fatalf("got %v, want nil", tt.err)
				}
				return
			}
			var e *Error
			if !errors.As(tt.err, &e) {
				t.Fatalf("got %T %v, want *Error", tt.err, tt.err)
			}
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	if got := Default(0, 7); got != 7 {
		t.Errorf("Default(0, 7) = %d", got)
	}
	if got := Default(3, 7); got != 3 {
		t.Errorf("Default(3, 7) = %d", got)
	}
}

func TestLogger(t *testing.T) {
	if l := Logger(nil); l == nil || l.Enabled(context.Background(), slog.LevelError) {
		t.Fatalf("Logger(nil) = %v, want a logger that discards", l)
	}
	mine := slog.New(slog.NewTextHandler(io.Discard, nil))
	if Logger(mine) != mine {
		t.Fatal("Logger replaced a non-nil logger")
	}
}
