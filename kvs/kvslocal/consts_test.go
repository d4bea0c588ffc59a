package kvslocal

import (
	"testing"

	"github.com/lakekit/lakekit/internal/awstest"
)

// The server accepts what every other local server of the project accepts.
func TestCredentialsMatchAWSTest(t *testing.T) {
	if AccessKeyID != awstest.AccessKeyID || SecretAccessKey != awstest.SecretAccessKey ||
		Region != awstest.Region || AccountID != awstest.AccountID {
		t.Fatal("kvslocal's static credentials, region or account differ from internal/awstest's")
	}
}
