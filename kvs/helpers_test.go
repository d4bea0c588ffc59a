package kvs_test

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

type awsCreds = aws.Credentials

// credentialsFunc adapts a function to aws.CredentialsProvider.
type credentialsFunc func(context.Context) (aws.Credentials, error)

func (f credentialsFunc) Retrieve(ctx context.Context) (aws.Credentials, error) { return f(ctx) }

// kvsCredentialsCacheFree wraps a provider in a cache with no expiry
// window, so that the producer sees exactly the provider's expiry.
func kvsCredentialsCacheFree(p aws.CredentialsProvider) aws.CredentialsProvider {
	return aws.NewCredentialsCache(p)
}
