// Package gluetest serves AWS Glue locally for the tests of code that
// starts crawlers and job runs or writes the Data Catalog, the way
// net/http/httptest starts HTTP servers: one line in a test gives a server
// on 127.0.0.1 and an SDK client configured for it, closed when the test
// ends.
//
//	func TestRefresh(t *testing.T) {
//		srv := gluetest.New(t)
//		srv.AddCrawler("raw-crawler")
//		err := refresh(ctx, srv.Client, "raw-crawler") // the code under test
//		…
//	}
//
// Glue has no local server, so this one speaks Glue's wire protocol (AWS
// JSON 1.1 with X-Amz-Target, SigV4 checked) in process and keeps state
// the way the service does:
//
//   - crawlers (StartCrawler, GetCrawler) go READY → RUNNING → STOPPING →
//     READY, one step per GetCrawler, and then report LastCrawl SUCCEEDED;
//     StartCrawler on a crawler that is not READY fails with
//     CrawlerRunningException;
//   - job runs (StartJobRun, GetJobRun) go STARTING → RUNNING → SUCCEEDED
//     or FAILED, running the job's Go function (the local stand-in for its
//     script) when a poll first sees it RUNNING;
//   - the Data Catalog's tables (GetTable, CreateTable, UpdateTable) and
//     partitions (BatchCreatePartition, GetPartitions without expressions).
//
// Unknown names fail with EntityNotFoundException, as on AWS.
//
// # Concurrency
//
// A Server and its Client may be used from parallel tests.
package gluetest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// JobFunc does a job run's work: args are the run's Arguments. A non-nil
// error makes the run FAILED with the error as its ErrorMessage.
type JobFunc func(ctx context.Context, args map[string]string) error

// Server is a local Glue.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint: region us-east-1, static
	// credentials, BaseEndpoint.
	Config aws.Config
	// Client is a Glue client for the server.
	Client *glue.Client

	w *awslocal.WireServer

	mu         sync.Mutex
	crawlers   map[string]*crawler
	jobs       map[string]JobFunc
	runs       map[string]*jobRun
	seq        int
	tables     map[string]json.RawMessage // database.table → TableInput
	partitions map[string][][]string      // database.table → values
}

type crawler struct {
	state, last string
	crawls      int
	result      string // LastCrawl.Status of the next crawls; "" is SUCCEEDED
}

type jobRun struct {
	job, state, errMsg string
	args               map[string]string
}

// New starts a local Glue, closed when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := Start()
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Start is [New] for programs that are not tests: the caller closes
// the server.
func Start() *Server {
	w := awslocal.StartWireServer("AWSGlue", "glue")
	s := &Server{Endpoint: w.Endpoint, Config: w.Config, Client: glue.NewFromConfig(w.Config), w: w,
		crawlers: map[string]*crawler{}, jobs: map[string]JobFunc{}, runs: map[string]*jobRun{},
		tables: map[string]json.RawMessage{}, partitions: map[string][][]string{}}
	for op, h := range map[string]awslocal.JSONHandler{
		"StartCrawler": s.startCrawler, "GetCrawler": s.getCrawler,
		"StartJobRun": s.startJobRun, "GetJobRun": s.getJobRun,
		"GetTable": s.getTable, "CreateTable": s.putTable(true), "UpdateTable": s.putTable(false),
		"BatchCreatePartition": s.batchCreatePartition, "GetPartitions": s.getPartitions,
	} {
		w.HandleJSON(op, h)
	}
	return s
}

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() error { return s.w.Close() }

// AddCrawler defines a crawler, READY.
func (s *Server) AddCrawler(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crawlers[name] = &crawler{state: "READY"}
}

// SetCrawlResult sets the LastCrawl.Status the crawler's next crawls end
// with: "SUCCEEDED" (the default), "FAILED" or "CANCELLED" — how a test
// makes a crawl fail.
func (s *Server) SetCrawlResult(name, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.crawlers[name]; c != nil {
		c.result = status
	}
}

// Calls returns how many requests for an operation ("StartJobRun") the
// server has answered.
func (s *Server) Calls(operation string) int { return s.w.Calls(operation) }

// Crawls returns how many times the crawler was started.
func (s *Server) Crawls(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.crawlers[name]; c != nil {
		return c.crawls
	}
	return 0
}

// AddJob defines a job whose runs call run.
func (s *Server) AddJob(name string, run JobFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[name] = run
}

// Table returns the TableInput a table was last created or updated with,
// as JSON, and whether the table exists.
func (s *Server) Table(database, table string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[database+"."+table]
	return t, ok
}

// Partitions returns the values of a table's partitions, in the order they
// were created.
func (s *Server) Partitions(database, table string) [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.partitions[database+"."+table]...)
}

func notFound(what string) error {
	return &awslocal.APIError{Code: "EntityNotFoundException", Message: what + " not found"}
}

func decode(body json.RawMessage, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &awslocal.APIError{Code: "InvalidInputException", Message: err.Error()}
	}
	return nil
}

// crawler returns the crawler a request names; s.mu is held.
func (s *Server) crawler(body json.RawMessage) (string, *crawler, error) {
	var in struct{ Name string }
	if err := decode(body, &in); err != nil {
		return "", nil, err
	}
	c := s.crawlers[in.Name]
	if c == nil {
		return in.Name, nil, notFound("Crawler " + in.Name)
	}
	return in.Name, c, nil
}

func (s *Server) startCrawler(_ context.Context, body json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, c, err := s.crawler(body)
	if err != nil {
		return nil, err
	}
	if c.state != "READY" {
		return nil, &awslocal.APIError{Code: "CrawlerRunningException", Message: "Crawler with name " + name + " has already started"}
	}
	c.state = "RUNNING"
	c.crawls++
	return struct{}{}, nil
}

func (s *Server) getCrawler(_ context.Context, body json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, c, err := s.crawler(body)
	if err != nil {
		return nil, err
	}
	state := c.state
	switch c.state {
	case "RUNNING":
		c.state = "STOPPING"
	case "STOPPING":
		c.state, c.last = "READY", cmp.Or(c.result, "SUCCEEDED")
	}
	out := map[string]any{"Name": name, "State": state, "Version": c.crawls}
	if c.last != "" && state == "READY" {
		out["LastCrawl"] = map[string]any{"Status": c.last, "LogGroup": "/aws-glue/crawlers", "LogStream": name}
	}
	return map[string]any{"Crawler": out}, nil
}

func (s *Server) startJobRun(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		JobName   string
		Arguments map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs[in.JobName] == nil {
		return nil, notFound("Job " + in.JobName)
	}
	s.seq++
	id := fmt.Sprintf("jr_%064x", s.seq)
	s.runs[id] = &jobRun{job: in.JobName, state: "STARTING", args: in.Arguments}
	return map[string]any{"JobRunId": id}, nil
}

func (s *Server) getJobRun(ctx context.Context, body json.RawMessage) (any, error) {
	var in struct{ JobName, RunId string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	r := s.runs[in.RunId]
	if r == nil || r.job != in.JobName {
		s.mu.Unlock()
		return nil, notFound("Job run " + in.RunId)
	}
	state, run := r.state, s.jobs[r.job]
	if state == "STARTING" {
		r.state = "RUNNING"
	}
	s.mu.Unlock()
	if state == "RUNNING" {
		// The work happens while the run is RUNNING; the next poll sees the
		// outcome. A job run outlives the request that noticed it.
		err := run(context.WithoutCancel(ctx), r.args)
		s.mu.Lock()
		r.state = "SUCCEEDED"
		if err != nil {
			r.state, r.errMsg = "FAILED", err.Error()
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{"Id": in.RunId, "JobName": r.job, "JobRunState": state, "Arguments": r.args}
	if r.errMsg != "" && state == "FAILED" {
		out["ErrorMessage"] = r.errMsg
	}
	return map[string]any{"JobRun": out}, nil
}

// tableRequest is the part of the catalog requests the server reads.
type tableRequest struct {
	DatabaseName, Name, TableName string
	TableInput                    json.RawMessage
	PartitionInputList            []struct{ Values []string }
}

func parseTable(body json.RawMessage) (tableRequest, string, error) {
	var r tableRequest
	if err := decode(body, &r); err != nil {
		return r, "", err
	}
	name := r.Name
	if r.TableInput != nil {
		var ti struct{ Name string }
		_ = json.Unmarshal(r.TableInput, &ti)
		name = ti.Name
	}
	if r.TableName != "" {
		name = r.TableName
	}
	return r, r.DatabaseName + "." + name, nil
}

var errNoTable = &awslocal.APIError{Code: "EntityNotFoundException", Message: "Table not found."}

func (s *Server) getTable(_ context.Context, body json.RawMessage) (any, error) {
	_, key, err := parseTable(body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[key]
	if !ok {
		return nil, errNoTable
	}
	db, _, _ := strings.Cut(key, ".")
	var table map[string]any
	_ = json.Unmarshal(t, &table)
	table["DatabaseName"] = db
	return map[string]any{"Table": table}, nil
}

func (s *Server) putTable(create bool) awslocal.JSONHandler {
	return func(_ context.Context, body json.RawMessage) (any, error) {
		r, key, err := parseTable(body)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.tables[key]; ok == create {
			if create {
				return nil, &awslocal.APIError{Code: "AlreadyExistsException", Message: "Table already exists."}
			}
			return nil, errNoTable
		}
		s.tables[key] = r.TableInput
		return struct{}{}, nil
	}
}

// existingTable parses a request about a table's partitions, failing with
// EntityNotFoundException when the table does not exist; s.mu is held.
func (s *Server) existingTable(body json.RawMessage) (tableRequest, string, error) {
	r, key, err := parseTable(body)
	if err != nil {
		return r, key, err
	}
	if _, ok := s.tables[key]; !ok {
		return r, key, errNoTable
	}
	return r, key, nil
}

func (s *Server) batchCreatePartition(_ context.Context, body json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, key, err := s.existingTable(body)
	if err != nil {
		return nil, err
	}
	errs := []any{}
next:
	for _, p := range r.PartitionInputList {
		for _, have := range s.partitions[key] {
			if strings.Join(have, "\x00") == strings.Join(p.Values, "\x00") {
				errs = append(errs, map[string]any{"PartitionValues": p.Values,
					"ErrorDetail": map[string]string{"ErrorCode": "AlreadyExistsException", "ErrorMessage": "Partition already exists."}})
				continue next
			}
		}
		s.partitions[key] = append(s.partitions[key], p.Values)
	}
	return map[string]any{"Errors": errs}, nil
}

func (s *Server) getPartitions(_ context.Context, body json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, key, err := s.existingTable(body)
	if err != nil {
		return nil, err
	}
	db, table, _ := strings.Cut(key, ".")
	parts := []any{}
	for _, v := range s.partitions[key] {
		parts = append(parts, map[string]any{"DatabaseName": db, "TableName": table, "Values": v})
	}
	return map[string]any{"Partitions": parts}, nil
}
