package rekog

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	rtypes "github.com/aws/aws-sdk-go-v2/service/rekognition/types"
)

// Face collection limits.
const (
	// MaxExternalImageIDLen is the longest ExternalImageId Rekognition
	// accepts.
	MaxExternalImageIDLen = 255
	// MaxCollectionIDLen is the longest collection id.
	MaxCollectionIDLen = 255
	// DefaultFaceMatchThreshold is Rekognition's default similarity floor
	// for SearchFacesByImage and face-search stream processors.
	DefaultFaceMatchThreshold = 80
)

// The Rekognition calls the face functions make, one interface each.
type (
	CreateCollectionAPI interface {
		CreateCollection(ctx context.Context, in *rekognition.CreateCollectionInput, optFns ...func(*rekognition.Options)) (*rekognition.CreateCollectionOutput, error)
	}
	DeleteCollectionAPI interface {
		DeleteCollection(ctx context.Context, in *rekognition.DeleteCollectionInput, optFns ...func(*rekognition.Options)) (*rekognition.DeleteCollectionOutput, error)
	}
	ListCollectionsAPI interface {
		ListCollections(ctx context.Context, in *rekognition.ListCollectionsInput, optFns ...func(*rekognition.Options)) (*rekognition.ListCollectionsOutput, error)
	}
	IndexFacesAPI interface {
		IndexFaces(ctx context.Context, in *rekognition.IndexFacesInput, optFns ...func(*rekognition.Options)) (*rekognition.IndexFacesOutput, error)
	}
	SearchFacesByImageAPI interface {
		SearchFacesByImage(ctx context.Context, in *rekognition.SearchFacesByImageInput, optFns ...func(*rekognition.Options)) (*rekognition.SearchFacesByImageOutput, error)
	}
)

var (
	externalIDPattern   = regexp.MustCompile(`^[a-zA-Z0-9_.\-:]+$`)
	collectionIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)
)

// InvalidIDError reports an identifier Rekognition would reject.
type InvalidIDError struct {
	Kind string // "ExternalImageId", "CollectionId", "stream processor name"
	ID   string
}

func (e *InvalidIDError) Error() string {
	return fmt.Sprintf("rekog: invalid %s %q", e.Kind, truncate(e.ID, 64))
}

// ValidateExternalImageID checks id against Rekognition's pattern
// [a-zA-Z0-9_.\-:]+ and length limit.
func ValidateExternalImageID(id string) error {
	if len(id) > MaxExternalImageIDLen || !externalIDPattern.MatchString(id) {
		return &InvalidIDError{Kind: "ExternalImageId", ID: id}
	}
	return nil
}

// ValidateCollectionID checks id against Rekognition's pattern
// [a-zA-Z0-9_.\-]+ and length limit.
func ValidateCollectionID(id string) error {
	if len(id) > MaxCollectionIDLen || !collectionIDPattern.MatchString(id) {
		return &InvalidIDError{Kind: "CollectionId", ID: id}
	}
	return nil
}

// ExternalImageID turns a person's name into a valid ExternalImageId,
// reversibly (NameFromExternalImageID undoes it): ASCII letters, digits,
// '.' and '-' are kept, a space becomes '_', and every other byte of the
// UTF-8 name becomes ':' and two lower-case hex digits ("Zoë Ní" →
// "Zo:c3:ab_N:c3:ad"). The id stays readable in the console and in alerts.
// It fails for an empty name or one whose id would exceed
// MaxExternalImageIDLen.
func ExternalImageID(name string) (string, error) {
	if name == "" {
		return "", &InvalidIDError{Kind: "ExternalImageId", ID: name}
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('_')
		default:
			b.WriteByte(':')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	id := b.String()
	if len(id) > MaxExternalImageIDLen {
		return "", &InvalidIDError{Kind: "ExternalImageId", ID: name}
	}
	return id, nil
}

// NameFromExternalImageID reverses ExternalImageID. An id made some other
// way (a file name, say) decodes best-effort: '_' becomes a space and
// malformed escapes are kept as they are.
func NameFromExternalImageID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c == '_':
			b.WriteByte(' ')
		case c == ':' && i+2 < len(id) && isHex(id[i+1]) && isHex(id[i+2]):
			b.WriteByte(unhex(id[i+1])<<4 | unhex(id[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// ImageRef is an image given to Rekognition by bytes or by S3 object.
type ImageRef struct {
	Bytes []byte
	S3    *S3Location
}

func (r ImageRef) sdk() (*rtypes.Image, error) {
	switch {
	case r.S3 != nil:
		o := &rtypes.S3Object{Bucket: aws.String(r.S3.Bucket), Name: aws.String(r.S3.Key)}
		if r.S3.Version != "" {
			o.Version = aws.String(r.S3.Version)
		}
		return &rtypes.Image{S3Object: o}, nil
	case len(r.Bytes) > MaxImageBytes:
		return nil, &InvalidImageError{Reason: ReasonTooLarge, Detail: "images over 5 MB must be passed as an S3 object"}
	case len(r.Bytes) > 0:
		return &rtypes.Image{Bytes: r.Bytes}, nil
	}
	return nil, &InvalidImageError{Reason: ReasonEmpty, Detail: "ImageRef has neither bytes nor S3 object"}
}

// CreateCollection creates a face collection and returns its ARN. An
// existing collection is not an error when ifAbsent is set: the seed's
// setup can be re-run.
func CreateCollection(ctx context.Context, c CreateCollectionAPI, id string, ifAbsent bool) (string, error) {
	if err := ValidateCollectionID(id); err != nil {
		return "", err
	}
	out, err := c.CreateCollection(ctx, &rekognition.CreateCollectionInput{CollectionId: aws.String(id)})
	if err != nil {
		var exists *rtypes.ResourceAlreadyExistsException
		if ifAbsent && errors.As(err, &exists) {
			return "", nil
		}
		return "", fmt.Errorf("rekog: CreateCollection %s: %w", id, err)
	}
	return aws.ToString(out.CollectionArn), nil
}

// DeleteCollection deletes a collection. A missing collection is not an
// error when ifExists is set.
func DeleteCollection(ctx context.Context, c DeleteCollectionAPI, id string, ifExists bool) error {
	_, err := c.DeleteCollection(ctx, &rekognition.DeleteCollectionInput{CollectionId: aws.String(id)})
	if err != nil {
		var nf *rtypes.ResourceNotFoundException
		if ifExists && errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("rekog: DeleteCollection %s: %w", id, err)
	}
	return nil
}

// ListCollections returns every collection id, following NextToken.
func ListCollections(ctx context.Context, c ListCollectionsAPI) ([]string, error) {
	var ids []string
	p := rekognition.NewListCollectionsPaginator(c, &rekognition.ListCollectionsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return ids, fmt.Errorf("rekog: ListCollections: %w", err)
		}
		ids = append(ids, out.CollectionIds...)
	}
	return ids, nil
}

// IndexedFace is one face IndexFaces added.
type IndexedFace struct {
	FaceID, ImageID, ExternalImageID string
	Confidence                       float64
	Box                              Box
}

// IndexResult is what IndexFace did with one image.
type IndexResult struct {
	Faces []IndexedFace
	// Unindexed counts faces detected but not indexed (quality filter or
	// MaxFaces), with their reasons.
	Unindexed []string
}

// IndexFace indexes the faces of img in a collection under externalID,
// which must match Rekognition's pattern (see ExternalImageID). maxFaces 0
// leaves the service's default (all faces up to 100); the seed indexes one
// person per photo, so 1 keeps only the largest face.
func IndexFace(ctx context.Context, c IndexFacesAPI, collection string, img ImageRef, externalID string, maxFaces int) (*IndexResult, error) {
	if err := ValidateExternalImageID(externalID); err != nil {
		return nil, err
	}
	image, err := img.sdk()
	if err != nil {
		return nil, err
	}
	in := &rekognition.IndexFacesInput{CollectionId: aws.String(collection), Image: image, ExternalImageId: aws.String(externalID)}
	if maxFaces > 0 {
		in.MaxFaces = aws.Int32(int32(maxFaces))
	}
	out, err := c.IndexFaces(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("rekog: IndexFaces %s into %s: %w", externalID, collection, err)
	}
	res := &IndexResult{}
	for _, r := range out.FaceRecords {
		if r.Face == nil {
			continue
		}
		res.Faces = append(res.Faces, IndexedFace{
			FaceID: aws.ToString(r.Face.FaceId), ImageID: aws.ToString(r.Face.ImageId),
			ExternalImageID: aws.ToString(r.Face.ExternalImageId), Confidence: float64(aws.ToFloat32(r.Face.Confidence)),
			Box: box(r.Face.BoundingBox),
		})
	}
	for _, u := range out.UnindexedFaces {
		reasons := make([]string, len(u.Reasons))
		for i, r := range u.Reasons {
			reasons[i] = string(r)
		}
		res.Unindexed = append(res.Unindexed, strings.Join(reasons, ","))
	}
	return res, nil
}

func box(b *rtypes.BoundingBox) Box {
	if b == nil {
		return Box{}
	}
	return Box{float64(aws.ToFloat32(b.Left)), float64(aws.ToFloat32(b.Top)), float64(aws.ToFloat32(b.Width)), float64(aws.ToFloat32(b.Height))}
}

// FaceMatch is one collection face similar to the searched face.
type FaceMatch struct {
	Similarity      float64
	FaceID          string
	ExternalImageID string
	// Name is NameFromExternalImageID(ExternalImageID).
	Name string
}

// FaceSearch is SearchFacesByImage's answer: the largest face of the image
// and its matches, most similar first.
type FaceSearch struct {
	SearchedFace Box
	Confidence   float64
	Matches      []FaceMatch
}

// SearchFacesByImage searches a collection for the largest face in img.
// threshold 0 uses the service's default (DefaultFaceMatchThreshold).
func SearchFacesByImage(ctx context.Context, c SearchFacesByImageAPI, collection string, img ImageRef, threshold float64, maxFaces int) (*FaceSearch, error) {
	image, err := img.sdk()
	if err != nil {
		return nil, err
	}
	in := &rekognition.SearchFacesByImageInput{CollectionId: aws.String(collection), Image: image}
	if threshold > 0 {
		in.FaceMatchThreshold = aws.Float32(float32(threshold))
	}
	if maxFaces > 0 {
		in.MaxFaces = aws.Int32(int32(maxFaces))
	}
	out, err := c.SearchFacesByImage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("rekog: SearchFacesByImage in %s: %w", collection, err)
	}
	res := &FaceSearch{SearchedFace: box(out.SearchedFaceBoundingBox), Confidence: float64(aws.ToFloat32(out.SearchedFaceConfidence))}
	for _, m := range out.FaceMatches {
		fm := FaceMatch{Similarity: float64(aws.ToFloat32(m.Similarity))}
		if m.Face != nil {
			fm.FaceID = aws.ToString(m.Face.FaceId)
			fm.ExternalImageID = aws.ToString(m.Face.ExternalImageId)
			fm.Name = NameFromExternalImageID(fm.ExternalImageID)
		}
		res.Matches = append(res.Matches, fm)
	}
	return res, nil
}
