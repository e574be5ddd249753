package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Config addresses an S3-compatible server.
type S3Config struct {
	Endpoint        string // base URL, e.g. http://127.0.0.1:7070
	Region          string // us-east-1 when empty
	AccessKeyID     string // empty: anonymous requests
	SecretAccessKey string
	PathStyle       bool
	// Timeout bounds one request; 60 s when zero.
	Timeout time.Duration
}

// String never shows the secret.
func (c S3Config) String() string {
	return fmt.Sprintf("s3 endpoint=%s region=%s path_style=%v", c.Endpoint, c.Region, c.PathStyle)
}

// S3 stores objects on an S3-compatible server.
type S3 struct {
	client  *s3.Client
	timeout time.Duration
}

// maxGetSize bounds Get: recordings' objects are segments, playlists and
// JSON files; anything larger is not one of ours.
const maxGetSize = 256 << 20

// NewS3 returns a store for the server in cfg. It makes no request.
func NewS3(cfg S3Config) *S3 {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	if cfg.AccessKeyID != "" {
		creds = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	opts := s3.Options{
		Region:       region,
		Credentials:  creds,
		UsePathStyle: cfg.PathStyle,
		// One attempt per Put: the recording uploader retries with its own
		// backoff and counts failures.
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Timeout: timeout},
		// Only send and check checksums when the operation requires them:
		// not every S3-compatible server understands the newer trailers.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	return &S3{client: s3.New(opts), timeout: timeout}
}

// Client returns the underlying SDK client (tests create buckets with it).
func (s *S3) Client() *s3.Client { return s.client }

// Put sends one PutObject.
func (s *S3) Put(ctx context.Context, bucket, key string, body []byte, contentType string) error {
	if err := checkName(bucket, key); err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Get reads an object.
func (s *S3) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	if err := checkName(bucket, key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) {
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, ErrNotFound)
		}
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxGetSize+1))
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	if len(b) > maxGetSize {
		return nil, fmt.Errorf("get s3://%s/%s: larger than %d bytes", bucket, key, maxGetSize)
	}
	return b, nil
}

// List pages through ListObjectsV2.
func (s *S3) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// CreateBucket creates a bucket; an existing bucket owned by the caller is
// not an error.
func (s *S3) CreateBucket(ctx context.Context, bucket string) error {
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}
