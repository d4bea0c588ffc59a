package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/examples/text-detection/textapi"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog"
)

//go:embed page.html
var page []byte

// localBucket is the bucket local mode creates in its in-process S3.
const localBucket = "detect-text-in-image"

// localStack is the local backends: an in-process S3 with the bucket and a
// text detector (Tesseract with -tags tesseract, else the Rekognition wire
// server).
type localStack struct {
	api     *textapi.Handler
	backend string
	close   func()
}

// newLocalStack starts the backends; allowedOrigins is the API's CORS list
// (textapi.Handler.AllowedOrigins; none: same-origin only).
func newLocalStack(ctx context.Context, logger *slog.Logger, allowedOrigins ...string) (*localStack, error) {
	s3srv := awstest.StartS3()
	s3c := s3srv.S3()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(localBucket)}); err != nil {
		s3srv.Close()
		return nil, err
	}
	det, name, closeDet := localDetector()
	svc, err := rekog.NewTextService(s3c, localBucket, det, func(o *rekog.TextOptions) {
		o.Prefix = "uploads/"
		o.Logger = logger
	})
	if err != nil {
		closeDet()
		s3srv.Close()
		return nil, err
	}
	return &localStack{
		api:     &textapi.Handler{Service: svc, Logger: logger, AllowedOrigins: allowedOrigins},
		backend: name,
		close:   func() { closeDet(); s3srv.Close() },
	}, nil
}

// handler serves the page at / and the API at /detecttext, translating
// net/http requests into the API Gateway events the Lambda receives.
func (l *localStack) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("/detecttext", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, textapi.MaxBodyBytes+1))
		if err != nil && !errors.As(err, new(*http.MaxBytesError)) {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		headers := map[string]string{}
		for k := range r.Header {
			headers[k] = r.Header.Get(k)
		}
		resp, _ := l.api.Handle(r.Context(), events.APIGatewayProxyRequest{HTTPMethod: r.Method, Path: r.URL.Path, Headers: headers, Body: string(body)})
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.WriteString(w, resp.Body)
	})
	return mux
}

func runLocal(ctx context.Context, addr string, out io.Writer, allowedOrigins ...string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	l, err := newLocalStack(ctx, slog.Default(), allowedOrigins...)
	if err != nil {
		return err
	}
	defer l.close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: l.handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "text detection (%s backend) on http://%s/\n", l.backend, ln.Addr())
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
