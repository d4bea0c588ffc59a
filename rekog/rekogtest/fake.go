// Package rekogtest serves Amazon Rekognition's wire protocol (AWS JSON 1.1)
// on a local wire-protocol server for tests, examples and the tour: there is no
// local Rekognition. Answers follow the documented sample responses of the
// Rekognition API reference; the server keeps the state the service keeps
// (collections and their faces, stream processors and their status), and
// validates requests the way the service does (ExternalImageId pattern, image
// format and size, status preconditions), answering with the service's
// modelled exceptions.
//
// It recognises faces by identity of image bytes: SearchFacesByImage matches
// a face indexed from the same bytes (similarity 99.2), which makes
// known/unknown flows testable without a model. DetectText answers with
// TextDetections (by default the documented sample), applying the request's
// WordFilter and RegionsOfInterest the way the service does.
//
// Stream processors move through the service's statuses without a clock:
// Start puts a processor in STARTING and the next DescribeStreamProcessor
// reports RUNNING; Stop gives STOPPING, then STOPPED.
package rekogtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// Server is a local Rekognition endpoint and the state behind it.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint: region us-east-1, static
	// credentials, BaseEndpoint. Build other clients from it.
	Config aws.Config
	// Client is a Rekognition client for the server.
	Client *rekognition.Client

	w          *awslocal.WireServer
	mu         sync.Mutex
	text       []TextDetection
	textModel  string
	collection map[string]*collection
	processors map[string]*processor
	seq        int
	lastText   *detectTextRequest
	// S3 answers whether an S3Object exists (bucket, key); nil accepts any.
	s3 func(ctx context.Context, bucket, key string) ([]byte, error)
}

type collection struct {
	arn   string
	faces []faceRecord
}

type faceRecord struct {
	Face     Face
	imageSum string
}

type processor struct {
	name, arn string
	status    string
	message   string
	req       json.RawMessage
	created   float64
}

// New starts a local Rekognition on 127.0.0.1, closed when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := Start()
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Start is [New] for programs that are not tests: the caller closes
// the server.
func Start() *Server {
	w := awslocal.StartWireServer("RekognitionService", "rekognition")
	f := &Server{Endpoint: w.Endpoint, Config: w.Config, Client: rekognition.NewFromConfig(w.Config), w: w,
		text: SampleTextDetections(), textModel: "3.0", collection: map[string]*collection{}, processors: map[string]*processor{}}
	for op, h := range map[string]awslocal.JSONHandler{
		"DetectText":       f.detectText,
		"CreateCollection": f.createCollection, "DeleteCollection": f.deleteCollection, "ListCollections": f.listCollections,
		"IndexFaces": f.indexFaces, "ListFaces": f.listFaces, "SearchFacesByImage": f.searchFacesByImage,
		"CreateStreamProcessor": f.createStreamProcessor, "StartStreamProcessor": f.startStreamProcessor,
		"StopStreamProcessor": f.stopStreamProcessor, "DeleteStreamProcessor": f.deleteStreamProcessor,
		"DescribeStreamProcessor": f.describeStreamProcessor, "ListStreamProcessors": f.listStreamProcessors,
	} {
		w.HandleJSON(op, h)
	}
	return f
}

// Close stops the server. It is safe to call more than once.
func (f *Server) Close() error { return f.w.Close() }

// Calls returns how many requests for an operation ("SearchFacesByImage")
// the server has answered.
func (f *Server) Calls(operation string) int { return f.w.Calls(operation) }

// SetTextDetections replaces what DetectText answers.
func (f *Server) SetTextDetections(d []TextDetection) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.text = d
}

// SetS3 makes DetectText, IndexFaces and SearchFacesByImage read S3Object
// images through get, answering InvalidS3ObjectException when it fails.
func (f *Server) SetS3(get func(ctx context.Context, bucket, key string) ([]byte, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.s3 = get
}

// FailStreamProcessor puts a processor in FAILED with a status message, as
// the service does when it loses access to its input.
func (f *Server) FailStreamProcessor(name, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.processors[name]; p != nil {
		p.status, p.message = "FAILED", message
	}
}

// LastTextFilters returns the Filters of the last DetectText request as JSON
// ("" when none was sent).
func (f *Server) LastTextFilters() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lastText == nil || f.lastText.Filters == nil {
		return ""
	}
	b, _ := json.Marshal(f.lastText.Filters)
	return string(b)
}

// --- shapes (only the fields the server reads or writes) ---

type boundingBox struct {
	Width, Height, Left, Top float64
}

type point struct{ X, Y float64 }

// Geometry is the wire shape of a detection's location.
type Geometry struct {
	BoundingBox boundingBox
	Polygon     []point
}

// TextDetection is the wire shape of one DetectText detection.
type TextDetection struct {
	DetectedText string
	Type         string
	Id           int
	ParentId     *int `json:",omitempty"`
	Confidence   float64
	Geometry     Geometry
}

// Face is the wire shape of an indexed face.
type Face struct {
	FaceId          string
	BoundingBox     boundingBox
	ImageId         string
	ExternalImageId string `json:",omitempty"`
	Confidence      float64
}

type imageRef struct {
	Bytes    []byte
	S3Object *struct{ Bucket, Name, Version string }
}

type detectTextRequest struct {
	Image   imageRef
	Filters *struct {
		WordFilter *struct {
			MinConfidence        *float64
			MinBoundingBoxHeight *float64
			MinBoundingBoxWidth  *float64
		}
		RegionsOfInterest []struct{ BoundingBox *boundingBox }
	}
}

func apiErr(code, msg string) error { return &awslocal.APIError{Code: code, Message: msg} }

// image resolves and validates an Image the way the service does.
func (f *Server) image(ctx context.Context, ref imageRef) ([]byte, error) {
	data := ref.Bytes
	f.mu.Lock()
	get := f.s3
	f.mu.Unlock()
	if ref.S3Object != nil {
		if get == nil {
			return []byte("s3://" + ref.S3Object.Bucket + "/" + ref.S3Object.Name), nil
		}
		b, err := get(ctx, ref.S3Object.Bucket, ref.S3Object.Name)
		if err != nil {
			return nil, apiErr("InvalidS3ObjectException", "Unable to get object metadata from S3. Check object key, region and/or access permissions.")
		}
		if len(b) > 15*1024*1024 {
			return nil, apiErr("ImageTooLargeException", "Image size is too large.")
		}
		data = b
	} else if len(data) > 5*1024*1024 {
		return nil, apiErr("ImageTooLargeException", "Image size is too large.")
	}
	if len(data) == 0 {
		return nil, apiErr("InvalidParameterException", "Request has invalid parameters")
	}
	if ref.S3Object == nil || get != nil {
		jpeg := len(data) > 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff
		png := len(data) > 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n"
		if !jpeg && !png {
			return nil, apiErr("InvalidImageFormatException", "Request has invalid image format")
		}
	}
	return data, nil
}

func (f *Server) detectText(ctx context.Context, body json.RawMessage) (any, error) {
	var req detectTextRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, apiErr("InvalidParameterException", err.Error())
	}
	if _, err := f.image(ctx, req.Image); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastText = &req
	if req.Filters != nil && len(req.Filters.RegionsOfInterest) > 10 {
		return nil, apiErr("InvalidParameterException", "Too many regions of interest")
	}
	keep := func(d TextDetection) bool {
		if req.Filters == nil {
			return true
		}
		if wf := req.Filters.WordFilter; wf != nil {
			minConf := 80.0
			if wf.MinConfidence != nil {
				minConf = *wf.MinConfidence
			}
			if d.Confidence < minConf {
				return false
			}
			if wf.MinBoundingBoxHeight != nil && d.Geometry.BoundingBox.Height < *wf.MinBoundingBoxHeight {
				return false
			}
			if wf.MinBoundingBoxWidth != nil && d.Geometry.BoundingBox.Width < *wf.MinBoundingBoxWidth {
				return false
			}
		}
		if len(req.Filters.RegionsOfInterest) == 0 {
			return true
		}
		for _, r := range req.Filters.RegionsOfInterest {
			if r.BoundingBox != nil && overlap(d.Geometry.BoundingBox, *r.BoundingBox) > 0.5 {
				return true
			}
		}
		return false
	}
	words := map[int]int{}
	var kept []TextDetection
	for _, d := range f.text {
		if d.Type == "WORD" && keep(d) {
			kept = append(kept, d)
			if d.ParentId != nil {
				words[*d.ParentId]++
			}
		}
	}
	var out []TextDetection
	for _, d := range f.text {
		if d.Type == "LINE" && words[d.Id] > 0 {
			out = append(out, d)
		}
	}
	out = append(out, kept...)
	return map[string]any{"TextDetections": out, "TextModelVersion": f.textModel}, nil
}

func overlap(b, r boundingBox) float64 {
	w := min(b.Left+b.Width, r.Left+r.Width) - max(b.Left, r.Left)
	h := min(b.Top+b.Height, r.Top+r.Height) - max(b.Top, r.Top)
	if w <= 0 || h <= 0 || b.Width*b.Height <= 0 {
		return 0
	}
	return w * h / (b.Width * b.Height)
}

var (
	collectionIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)
	externalIDPattern   = regexp.MustCompile(`^[a-zA-Z0-9_.\-:]+$`)
	processorPattern    = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)
)

func (f *Server) collectionArn(id string) string {
	return "aws:rekognition:" + awslocal.Region + ":" + awslocal.AccountID + ":collection/" + id
}

func (f *Server) createCollection(_ context.Context, body json.RawMessage) (any, error) {
	var req struct{ CollectionId string }
	_ = json.Unmarshal(body, &req)
	if len(req.CollectionId) == 0 || len(req.CollectionId) > 255 || !collectionIDPattern.MatchString(req.CollectionId) {
		return nil, apiErr("ValidationException", "1 validation error detected: Value at 'collectionId' failed to satisfy constraint")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.collection[req.CollectionId] != nil {
		return nil, apiErr("ResourceAlreadyExistsException", "The collection id: "+req.CollectionId+" already exists")
	}
	f.collection[req.CollectionId] = &collection{arn: f.collectionArn(req.CollectionId)}
	return map[string]any{"CollectionArn": f.collectionArn(req.CollectionId), "FaceModelVersion": "7.0", "StatusCode": 200}, nil
}

func (f *Server) deleteCollection(_ context.Context, body json.RawMessage) (any, error) {
	var req struct{ CollectionId string }
	_ = json.Unmarshal(body, &req)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.collection[req.CollectionId] == nil {
		return nil, apiErr("ResourceNotFoundException", "The collection id: "+req.CollectionId+" does not exist")
	}
	delete(f.collection, req.CollectionId)
	return map[string]any{"StatusCode": 200}, nil
}

func page(n int, token string, maxResults int) (start, end int, next string) {
	if token != "" {
		start, _ = strconv.Atoi(token)
	}
	if maxResults <= 0 {
		maxResults = 1000
	}
	start = max(0, min(start, n)) // a forged token must not index out of range
	end = min(start+maxResults, n)
	if end < n {
		next = strconv.Itoa(end)
	}
	return
}

func (f *Server) listCollections(_ context.Context, body json.RawMessage) (any, error) {
	var req struct {
		NextToken  string
		MaxResults int
	}
	_ = json.Unmarshal(body, &req)
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := slices.Sorted(maps.Keys(f.collection))
	s, e, next := page(len(ids), req.NextToken, req.MaxResults)
	versions := make([]string, e-s)
	for i := range versions {
		versions[i] = "7.0"
	}
	out := map[string]any{"CollectionIds": ids[s:e], "FaceModelVersions": versions}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (f *Server) uuid(kind string) string {
	f.seq++
	h := sha256.Sum256([]byte(kind + strconv.Itoa(f.seq)))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func (f *Server) indexFaces(ctx context.Context, body json.RawMessage) (any, error) {
	var req struct {
		CollectionId    string
		Image           imageRef
		ExternalImageId string
		MaxFaces        int
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, apiErr("InvalidParameterException", err.Error())
	}
	if req.ExternalImageId != "" && (len(req.ExternalImageId) > 255 || !externalIDPattern.MatchString(req.ExternalImageId)) {
		return nil, apiErr("ValidationException", "1 validation error detected: Value '"+req.ExternalImageId+
			"' at 'externalImageId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-:]+")
	}
	data, err := f.image(ctx, req.Image)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.collection[req.CollectionId]
	if c == nil {
		return nil, apiErr("ResourceNotFoundException", "The collection id: "+req.CollectionId+" does not exist")
	}
	face := Face{
		FaceId:          f.uuid("face"),
		BoundingBox:     boundingBox{Width: 0.3235, Height: 0.4382, Left: 0.3382, Top: 0.1991},
		ImageId:         f.uuid("image"),
		ExternalImageId: req.ExternalImageId,
		Confidence:      99.9991,
	}
	c.faces = append(c.faces, faceRecord{Face: face, imageSum: hex.EncodeToString(sum[:])})
	return map[string]any{
		"FaceRecords": []any{map[string]any{
			"Face": face,
			"FaceDetail": map[string]any{
				"BoundingBox": face.BoundingBox,
				"Landmarks": []any{
					map[string]any{"Type": "eyeLeft", "X": 0.4222, "Y": 0.3739},
					map[string]any{"Type": "eyeRight", "X": 0.5645, "Y": 0.3800},
					map[string]any{"Type": "nose", "X": 0.4963, "Y": 0.4618},
				},
				"Pose":       map[string]any{"Roll": -3.36, "Yaw": -2.56, "Pitch": 3.41},
				"Quality":    map[string]any{"Brightness": 63.56, "Sharpness": 86.86},
				"Confidence": 99.9991,
			},
		}},
		"OrientationCorrection": "ROTATE_0",
		"FaceModelVersion":      "7.0",
		"UnindexedFaces":        []any{},
	}, nil
}

func (f *Server) listFaces(_ context.Context, body json.RawMessage) (any, error) {
	var req struct {
		CollectionId string
		NextToken    string
		MaxResults   int
	}
	_ = json.Unmarshal(body, &req)
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.collection[req.CollectionId]
	if c == nil {
		return nil, apiErr("ResourceNotFoundException", "The collection id: "+req.CollectionId+" does not exist")
	}
	s, e, next := page(len(c.faces), req.NextToken, req.MaxResults)
	faces := make([]Face, 0, e-s)
	for _, r := range c.faces[s:e] {
		faces = append(faces, r.Face)
	}
	out := map[string]any{"Faces": faces, "FaceModelVersion": "7.0"}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (f *Server) searchFacesByImage(ctx context.Context, body json.RawMessage) (any, error) {
	var req struct {
		CollectionId       string
		Image              imageRef
		FaceMatchThreshold *float64
		MaxFaces           int
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, apiErr("InvalidParameterException", err.Error())
	}
	data, err := f.image(ctx, req.Image)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	threshold := 80.0
	if req.FaceMatchThreshold != nil {
		threshold = *req.FaceMatchThreshold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.collection[req.CollectionId]
	if c == nil {
		return nil, apiErr("ResourceNotFoundException", "The collection id: "+req.CollectionId+" does not exist")
	}
	const similarity = 99.2
	matches := []any{}
	for _, r := range c.faces {
		if r.imageSum == hex.EncodeToString(sum[:]) && similarity >= threshold {
			matches = append(matches, map[string]any{"Similarity": similarity, "Face": r.Face})
		}
	}
	if req.MaxFaces > 0 && len(matches) > req.MaxFaces {
		matches = matches[:req.MaxFaces]
	}
	return map[string]any{
		"SearchedFaceBoundingBox": boundingBox{Width: 0.3235, Height: 0.4382, Left: 0.3382, Top: 0.1991},
		"SearchedFaceConfidence":  99.9991,
		"FaceMatches":             matches,
		"FaceModelVersion":        "7.0",
	}, nil
}

func (f *Server) createStreamProcessor(_ context.Context, body json.RawMessage) (any, error) {
	var req struct {
		Name  string
		Input struct {
			KinesisVideoStream *struct{ Arn string }
		}
		Output struct {
			KinesisDataStream *struct{ Arn string }
		}
		RoleArn  string
		Settings struct {
			FaceSearch *struct {
				CollectionId       string
				FaceMatchThreshold *float64
			}
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, apiErr("InvalidParameterException", err.Error())
	}
	switch {
	case req.Name == "" || len(req.Name) > 128 || !processorPattern.MatchString(req.Name):
		return nil, apiErr("ValidationException", "Value at 'name' failed to satisfy constraint")
	case req.Input.KinesisVideoStream == nil || req.Input.KinesisVideoStream.Arn == "":
		return nil, apiErr("InvalidParameterException", "Input.KinesisVideoStream.Arn is required")
	case req.Output.KinesisDataStream == nil || req.Output.KinesisDataStream.Arn == "":
		return nil, apiErr("InvalidParameterException", "Output.KinesisDataStream.Arn is required for face search")
	case req.RoleArn == "":
		return nil, apiErr("InvalidParameterException", "RoleArn is required")
	case req.Settings.FaceSearch == nil:
		return nil, apiErr("InvalidParameterException", "Settings.FaceSearch is required")
	}
	if t := req.Settings.FaceSearch.FaceMatchThreshold; t != nil && (*t < 0 || *t > 100) {
		return nil, apiErr("ValidationException", "FaceMatchThreshold must be between 0 and 100")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.collection[req.Settings.FaceSearch.CollectionId] == nil {
		return nil, apiErr("ResourceNotFoundException", "The collection id: "+req.Settings.FaceSearch.CollectionId+" does not exist")
	}
	if f.processors[req.Name] != nil {
		return nil, apiErr("ResourceInUseException", "Stream processor "+req.Name+" already exists")
	}
	p := &processor{
		name:    req.Name,
		arn:     "arn:aws:rekognition:" + awslocal.Region + ":" + awslocal.AccountID + ":streamprocessor/" + req.Name,
		status:  "STOPPED",
		req:     body,
		created: 1.5e9 + float64(f.seq),
	}
	f.seq++
	f.processors[req.Name] = p
	return map[string]any{"StreamProcessorArn": p.arn}, nil
}

func (f *Server) named(body json.RawMessage) (*processor, error) {
	var req struct{ Name string }
	_ = json.Unmarshal(body, &req)
	p := f.processors[req.Name]
	if p == nil {
		return nil, apiErr("ResourceNotFoundException", "Stream processor "+req.Name+" not found")
	}
	return p, nil
}

func (f *Server) startStreamProcessor(_ context.Context, body json.RawMessage) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.named(body)
	if err != nil {
		return nil, err
	}
	if p.status != "STOPPED" && p.status != "FAILED" {
		return nil, apiErr("ResourceInUseException", fmt.Sprintf("Stream processor %s is in status %s", p.name, p.status))
	}
	p.status, p.message = "STARTING", ""
	return map[string]any{"SessionId": f.uuid("session")}, nil
}

func (f *Server) stopStreamProcessor(_ context.Context, body json.RawMessage) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.named(body)
	if err != nil {
		return nil, err
	}
	if p.status != "RUNNING" && p.status != "STARTING" {
		return nil, apiErr("ResourceInUseException", fmt.Sprintf("Stream processor %s is in status %s", p.name, p.status))
	}
	p.status = "STOPPING"
	return struct{}{}, nil
}

func (f *Server) deleteStreamProcessor(_ context.Context, body json.RawMessage) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.named(body)
	if err != nil {
		return nil, err
	}
	if p.status == "RUNNING" || p.status == "STARTING" {
		return nil, apiErr("ResourceInUseException", fmt.Sprintf("Stream processor %s is in status %s", p.name, p.status))
	}
	delete(f.processors, p.name)
	return struct{}{}, nil
}

func (f *Server) describeStreamProcessor(_ context.Context, body json.RawMessage) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.named(body)
	if err != nil {
		return nil, err
	}
	status := p.status
	switch p.status { // the transition completes by the next look
	case "STARTING":
		p.status = "RUNNING"
	case "STOPPING":
		p.status = "STOPPED"
	}
	var req map[string]json.RawMessage
	_ = json.Unmarshal(p.req, &req)
	out := map[string]any{
		"Name":                p.name,
		"StreamProcessorArn":  p.arn,
		"Status":              status,
		"CreationTimestamp":   p.created,
		"LastUpdateTimestamp": p.created + 1,
		"Input":               req["Input"],
		"Output":              req["Output"],
		"RoleArn":             req["RoleArn"],
		"Settings":            req["Settings"],
	}
	if p.message != "" {
		out["StatusMessage"] = p.message
	}
	return out, nil
}

func (f *Server) listStreamProcessors(_ context.Context, body json.RawMessage) (any, error) {
	var req struct {
		NextToken  string
		MaxResults int
	}
	_ = json.Unmarshal(body, &req)
	f.mu.Lock()
	defer f.mu.Unlock()
	names := slices.Sorted(maps.Keys(f.processors))
	s, e, next := page(len(names), req.NextToken, req.MaxResults)
	list := []any{}
	for _, n := range names[s:e] {
		list = append(list, map[string]any{"Name": n, "Status": f.processors[n].status})
	}
	out := map[string]any{"StreamProcessors": list}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func intp(i int) *int { return &i }

// SampleTextDetections is the DetectText response of the API reference's
// example, an image reading "IT'S" / "MONDAY" / "but keep" / "Smiling":
// four lines and five words, words pointing at their line by ParentId.
func SampleTextDetections() []TextDetection {
	box := func(l, t, w, h float64) Geometry {
		return Geometry{BoundingBox: boundingBox{Width: w, Height: h, Left: l, Top: t},
			Polygon: []point{{l, t}, {l + w, t}, {l + w, t + h}, {l, t + h}}}
	}
	return []TextDetection{
		{DetectedText: "IT'S", Type: "LINE", Id: 0, Confidence: 99.36, Geometry: box(0.3088, 0.1826, 0.1462, 0.0999)},
		{DetectedText: "MONDAY", Type: "LINE", Id: 1, Confidence: 99.69, Geometry: box(0.2269, 0.3004, 0.3537, 0.1078)},
		{DetectedText: "but keep", Type: "LINE", Id: 2, Confidence: 96.31, Geometry: box(0.3047, 0.4538, 0.2297, 0.0795)},
		{DetectedText: "Smiling", Type: "LINE", Id: 3, Confidence: 99.41, Geometry: box(0.2422, 0.5727, 0.3542, 0.1265)},
		{DetectedText: "IT'S", Type: "WORD", Id: 4, ParentId: intp(0), Confidence: 99.36, Geometry: box(0.3088, 0.1826, 0.1462, 0.0999)},
		{DetectedText: "MONDAY", Type: "WORD", Id: 5, ParentId: intp(1), Confidence: 99.69, Geometry: box(0.2269, 0.3004, 0.3537, 0.1078)},
		{DetectedText: "but", Type: "WORD", Id: 6, ParentId: intp(2), Confidence: 95.97, Geometry: box(0.3047, 0.4540, 0.0928, 0.0773)},
		{DetectedText: "keep", Type: "WORD", Id: 7, ParentId: intp(2), Confidence: 96.65, Geometry: box(0.4156, 0.4538, 0.1188, 0.0795)},
		{DetectedText: "Smiling", Type: "WORD", Id: 8, ParentId: intp(3), Confidence: 99.41, Geometry: box(0.2422, 0.5727, 0.3542, 0.1265)},
	}
}
